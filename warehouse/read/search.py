"""Ranked search over titles and bodies in both languages, with snippets.

Korean is agglutinative: the word a reader types (`수소`) sits inside longer words on the page
(`수소경제`, `수소를`). So Hangul is matched as character bigrams (a one-syllable query as itself) and
Latin script as whole words; an article matches when at least 70% of the query's terms occur in it,
and ranks by BM25 over those terms (titles count double), plus a bonus where the whole Korean run or
the whole English phrase occurs verbatim. The terms are counted at query time by DuckDB over the
articles table, so there is no index to build or keep in step with ingest and re-extraction; see
bench/README.md for the recall and speed this gives against a Korean morphological analyser.

The cost is one scan of the articles per term, so linear in the query's length; a query of more than
`MAX_PIECES` pieces (Hangul syllable pairs and Latin-script words) is refused rather than left to run
for minutes (bench/bench_search.py times queries up to the cap).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import duckdb

from breaknews.warehouse.errors import BreaknewsError, UsageError

_TOKEN = re.compile(r"[\uac00-\ud7a3]+|[0-9A-Za-z]+(?:['’.\-][0-9A-Za-z]+)*")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_K1, _B = 1.2, 0.75
_SNIPPET = 80  # characters each side of the first match
# Pieces a query may have: two-syllable Hangul pieces and Latin-script words, counted once each.
MAX_PIECES = 200


class SearchError(BreaknewsError):
    """A search that cannot run: nothing searchable in the text, or an unknown language."""


class SearchTextError(SearchError, UsageError):
    """The query text itself cannot be searched (nothing searchable, or too long): a usage error."""


@dataclass(frozen=True)
class Term:
    needle: str  # Hangul: the text counted; Latin: lower-case, for the snippet
    pattern: str  # the term's identity; for Latin terms the RE2 pattern counted
    hangul: bool
    counts: bool  # counts toward the terms an article must match (phrases are a bonus only)
    weight: float


@dataclass(frozen=True)
class Hit:
    article_id: str
    url: str | None
    published_at: datetime | None
    title_ko: str
    title_en: str | None
    score: float
    snippet: str


def query_terms(text: str) -> list[Term]:
    terms: dict[str, Term] = {}
    latin_words: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        if _HANGUL.match(token):
            grams = [token] if len(token) == 1 else [token[i : i + 2] for i in range(len(token) - 1)]
            for gram in grams:
                terms.setdefault(gram, Term(gram, gram, True, True, 1.0))
            if len(token) > 2:
                terms.setdefault(f"run:{token}", Term(token, f"run:{token}", True, False, 2.0))
        else:
            latin_words.append(token)
            terms.setdefault(token, Term(token, rf"(?i)\b{re.escape(token)}\b", False, True, 1.0))
    if len(latin_words) > 1:
        phrase = r"(?i)\b" + r"\W+".join(re.escape(w) for w in latin_words) + r"\b"
        terms.setdefault("phrase", Term(latin_words[0], phrase, False, False, 3.0))
    return list(terms.values())


# One block per query term, UNION ALL'd. Each term's text goes in as its own parameter so DuckDB sees
# a constant and compiles its regex once; a pattern taken from a joined column is compiled per row
# (measured: 40x slower). Hangul has no case and needs no word boundaries: plain substring counts over
# the Korean fields, the cheapest string work DuckDB does. Latin terms: a case-insensitive
# word-boundary regex over the English fields and the Korean ones (which spell names in Latin too).
_KOREAN_TERM = """
SELECT article_id, $term_{i} AS term, $counts_{i} AS counts, $weight_{i} AS weight, dl,
       2 * (len(string_split(title_ko, $needle_{i})) - 1) + len(string_split(body_ko, $needle_{i})) - 1 AS tf
FROM docs
WHERE $lang <> 'en' AND (contains(body_ko, $needle_{i}) OR contains(title_ko, $needle_{i}))
"""
_LATIN_TERM = """
SELECT article_id, $term_{i} AS term, $counts_{i} AS counts, $weight_{i} AS weight, dl,
       CASE WHEN $lang = 'en' THEN 0
            ELSE 2 * len(regexp_extract_all(title_ko, $pattern_{i})) + len(regexp_extract_all(body_ko, $pattern_{i}))
       END
       + CASE WHEN $lang = 'ko' THEN 0
            ELSE 2 * len(regexp_extract_all(title_en, $pattern_{i})) + len(regexp_extract_all(body_en, $pattern_{i}))
       END AS tf
FROM docs
WHERE ($lang <> 'en' AND (contains(lower(body_ko), $needle_{i}) OR contains(lower(title_ko), $needle_{i})))
   OR ($lang <> 'ko' AND (contains(lower(body_en), $needle_{i}) OR contains(lower(title_en), $needle_{i})))
"""
_SEARCH_SQL = """
WITH docs AS (
    SELECT article_id, title_ko, body_ko, coalesce(title_en, '') AS title_en, coalesce(body_en, '') AS body_en,
           CASE WHEN $lang = 'en' THEN 0 ELSE length(body_ko) END
           + CASE WHEN $lang = 'ko' THEN 0 ELSE length(coalesce(body_en, '')) END AS dl
    FROM articles
),
stats AS (SELECT count(*) AS n, avg(dl) + 1 AS avgdl FROM docs),
-- MATERIALIZED: inlined into the query below, the union of one block per term made DuckDB's
-- optimiser (projection pull-up) quadratic in the number of terms: 400 terms planned for 3-5 s.
hits AS MATERIALIZED ({blocks}),
matched AS (SELECT * FROM hits WHERE tf > 0),
df AS (SELECT term, count(*) AS df FROM matched GROUP BY term),
scored AS (
    SELECT m.article_id,
           sum(m.weight * ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5))
               * m.tf * ($k1 + 1) / (m.tf + $k1 * (1 - $b + $b * m.dl / s.avgdl))) AS score,
           count(*) FILTER (WHERE m.counts) AS matched_terms
    FROM matched m JOIN df USING (term), stats s
    GROUP BY m.article_id
)
SELECT a.article_id, a.url, a.published_at, a.title_ko, a.title_en, sc.score, a.body_ko, a.body_en
FROM scored sc JOIN articles a USING (article_id)
WHERE sc.matched_terms >= $min_terms
ORDER BY sc.score DESC, a.published_at DESC NULLS LAST, a.article_id
LIMIT $limit
"""


def search_articles(
    con: duckdb.DuckDBPyConnection, text: str, *, lang: str | None = None, limit: int = 10
) -> list[Hit]:
    """The best ``limit`` articles for ``text``, best first; ``lang`` 'ko' or 'en' searches one language."""
    if lang not in (None, "ko", "en"):
        raise SearchError(f"unknown language {lang!r}: use ko or en")
    terms = query_terms(text)
    counted = [t for t in terms if t.counts]
    if not counted:
        raise SearchTextError(f"nothing to search for in {text!r}: give Korean or Latin-script words")
    if len(counted) > MAX_PIECES:
        raise SearchTextError(
            f"the query has {len(counted)} pieces (two-syllable Hangul pieces and words); search takes at most"
            f" {MAX_PIECES}: shorten it to its most telling words"
        )
    blocks = []
    params: dict[str, object] = {}
    for i, term in enumerate(terms):
        blocks.append((_KOREAN_TERM if term.hangul else _LATIN_TERM).format(i=i))
        params.update(
            {
                f"term_{i}": term.pattern,
                f"needle_{i}": term.needle,
                f"counts_{i}": term.counts,
                f"weight_{i}": term.weight,
            }
        )
        if not term.hangul:
            params[f"pattern_{i}"] = term.pattern
    sql = _SEARCH_SQL.format(blocks=" UNION ALL ".join(blocks))
    params |= {
        "lang": lang or "",
        "k1": _K1,
        "b": _B,
        "min_terms": len(counted) - len(counted) // 3,
        "limit": limit,
    }
    try:
        found = con.execute(sql, params).fetchall()
    except duckdb.Error as exc:
        raise SearchError(f"search failed: {exc}") from exc
    hits = []
    for article_id, url, published_at, title_ko, title_en, score, body_ko, body_en in found:
        bodies = [b for b, code in ((body_ko, "ko"), (body_en, "en")) if b and lang in (None, code)]
        hits.append(
            Hit(article_id, url, published_at, title_ko, title_en, round(score, 3), make_snippet(bodies, terms))
        )
    return hits


def make_snippet(bodies: list[str], terms: list[Term]) -> str:
    """The text around the first place the most specific term occurs, the match in «»."""
    ordered = sorted(terms, key=lambda t: (-t.weight, -len(t.needle)))
    for term in ordered:
        pattern = re.compile(_python_pattern(term))
        for body in bodies:
            match = pattern.search(body)
            if match:
                start, end = match.span()
                left = max(0, start - _SNIPPET)
                right = min(len(body), end + _SNIPPET)
                text = f"{body[left:start]}«{body[start:end]}»{body[end:right]}"
                text = " ".join(text.split())
                return ("…" if left else "") + text + ("…" if right < len(body) else "")
    return " ".join(bodies[0][: 2 * _SNIPPET].split()) if bodies else ""


def _python_pattern(term: Term) -> str:
    if term.hangul:
        return re.escape(term.needle)
    # RE2 and Python agree on (?i), \b, \W and re.escape output for the patterns we build.
    return term.pattern
