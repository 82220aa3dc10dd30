"""Search over a real warehouse: Korean inside longer words, English phrases, ranking, languages."""

from __future__ import annotations

import pytest

from breaknews.flows.cli import main
from breaknews.warehouse.connect import connect
from breaknews.warehouse.read.search import MAX_PIECES, SearchError, make_snippet, query_terms, search_articles
from tests.corpus import build_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("search") / "corpus.duckdb")


@pytest.fixture
def con(corpus):
    con = connect(corpus, read_only=True)
    yield con
    con.close()


def test_a_korean_word_is_found_inside_a_longer_word(con):
    # 수소경제 and 편의점업계-style compounds: the page never has 수소 or 그린철강 as a separate word only.
    hits = search_articles(con, "그린철강")
    assert {h.article_id for h in hits} == {"www:1063522", "www:1063999"}
    assert "«그린철강»" in hits[0].snippet
    hits = search_articles(con, "수소", lang="ko")
    assert {"www:1063522", "www:1063999"} <= {h.article_id for h in hits}
    economy = search_articles(con, "경제", lang="ko")
    assert any("수소경제" in h.snippet or "경제" in h.snippet for h in economy)


def test_korean_with_a_particle_still_matches(con):
    # 편의점을 (with the object particle) is not on the page; 편의점 is.
    hits = search_articles(con, "편의점을")
    assert hits and hits[0].article_id == "www:948261"


def test_an_english_phrase_ranks_the_article_that_has_it_first(con):
    hits = search_articles(con, "convenience store", lang="en")
    assert hits[0].article_id == "www:948261"
    assert "«convenience store»" in hits[0].snippet.lower()
    assert search_articles(con, "convenience store", lang="ko") == []


def test_ranking_prefers_more_and_title_occurrences(con):
    hits = search_articles(con, "hydrogen")
    assert hits[0].article_id in {"www:1063522", "www:1063999"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(search_articles(con, "hydrogen", limit=1)) == 1


def test_unmatched_and_empty_queries(con):
    assert search_articles(con, "존재하지않는단어조합") == []
    with pytest.raises(SearchError, match="nothing to search"):
        search_articles(con, "…!?")


def test_query_terms_are_bigrams_for_hangul_and_words_for_latin():
    needles = [(t.needle, t.counts) for t in query_terms("수소경제 Green steel")]
    assert ("수소", True) in needles and ("소경", True) in needles and ("경제", True) in needles
    assert ("수소경제", False) in needles  # the whole run is a bonus, not required
    assert ("green", True) in needles and ("steel", True) in needles
    assert [t.needle for t in query_terms("수")] == ["수"]
    assert make_snippet(["가나다 수소 라마"], query_terms("수소")) == "가나다 «수소» 라마"


def test_cli_search_prints_ranked_hits(corpus, capsys):
    assert main(["search", "수소", "--db", str(corpus), "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(" 1. [") and "«수소»" in out and " 2. " not in out
    for nothing in ("!!!", "", "%", "   "):
        assert main(["search", nothing, "--db", str(corpus)]) == 2  # a usage error, not a failed search
        err = capsys.readouterr().err
        assert err.startswith("breaknews: error: nothing to search") and err.count("\n") == 1


def _prefixes(con) -> list[tuple[int, str]]:
    """Growing prefixes of the longest article's text, with how many pieces (Hangul pairs, words) each has."""
    [(text,)] = con.execute(
        "SELECT body_ko || ' ' || coalesce(body_en, '') FROM articles ORDER BY length(body_ko) DESC LIMIT 1"
    ).fetchall()
    words = text.split()
    return [(sum(t.counts for t in query_terms(" ".join(words[:n]))), " ".join(words[:n])) for n in range(1, 400)]


def test_a_query_up_to_the_cap_runs_and_a_longer_one_is_refused(con, corpus, capsys):
    """Time per query is linear in its pieces (bench/bench_search.py measures it); past the cap
    search says so at once instead of running for minutes."""
    prefixes = _prefixes(con)
    pieces, at_cap = max(p for p in prefixes if p[0] <= MAX_PIECES)
    assert pieces > MAX_PIECES - 10
    hits = search_articles(con, at_cap)
    assert hits and hits[0].score > 0  # the article the text comes from, at least
    over = min(p for p in prefixes if p[0] > MAX_PIECES)[1]
    assert main(["search", over, "--db", str(corpus)]) == 2
    err = capsys.readouterr().err
    assert f"search takes at most {MAX_PIECES}" in err and err.count("\n") == 1
    every_syllable = "".join(chr(code) for code in range(0xAC00, 0xD7A4))  # 11,171 pieces: refused at once
    code = main(["search", every_syllable, "--db", str(corpus)])
    assert code == 2 and "11171 pieces" in capsys.readouterr().err
