"""Search: recall of bigram matching vs a Korean morphological analyser, and speed vs a plain scan.

    .venv/bin/python bench/bench_search.py [PAGES]          (default 5000 generated pages)

Recall: for Korean nouns that the bundled samples and fixtures use inside longer words, the articles
that contain the noun as text are the truth; we compare `breaknews search` (Hangul bigrams) with
matching kiwipiepy's tokens (when kiwipiepy is importable; it is not a dependency).
Speed: a generated corpus of PAGES articles (tests/sitegen.py), loaded with the real loader; each
figure is a ratio to a plain `ILIKE '%word%'` count over the same table, measured in the same run.
Long queries (issue 15): queries of 25 to MAX_PIECES pieces cut from real article text, on the
samples and on the generated corpus; time per piece stays flat (linear cost), and every query up to
the cap must take ≤ 1 s on the samples. Before the fix a 400-piece query took 3-5 s on 11 articles.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from breaknews.tasks.pipeline import process_item, process_page  # noqa: E402
from breaknews.tasks.versions import EXTRACTOR_VERSION  # noqa: E402
from breaknews.warehouse import runs  # noqa: E402
from breaknews.warehouse.connect import connect, writer  # noqa: E402
from breaknews.warehouse.migrate import open_migrated  # noqa: E402
from breaknews.warehouse.models import Page  # noqa: E402
from breaknews.warehouse.read.search import MAX_PIECES, query_terms, search_articles  # noqa: E402
from breaknews.warehouse.write import write_batch  # noqa: E402
from tests.corpus import build_corpus  # noqa: E402
from tests.sitegen import write_corpus  # noqa: E402

# Nouns that occur on the pages both alone and inside compounds (수소 in 수소경제, 철강 in 그린철강, ...).
QUERIES = [
    "수소",
    "철강",
    "경제",
    "공급",
    "편의점",
    "채소",
    "청년",
    "주거",
    "전력",
    "축제",
    "에너지",
    "교통",
    "관광",
    "지원",
]


def _timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def recall(db: Path) -> None:
    con = connect(db, read_only=True)
    docs = con.execute("SELECT article_id, title_ko || ' ' || body_ko FROM articles").fetchall()
    try:
        from kiwipiepy import Kiwi

        kiwi: Kiwi | None = Kiwi()
    except ImportError:
        kiwi = None
    tokens = {}
    if kiwi is not None:
        kiwi.tokenize("모델을 미리 불러 둔다")  # the first call loads the model: not an index cost
        start = time.perf_counter()
        tokens = {a: {t.form for t in kiwi.tokenize(text)} for a, text in docs}
        per_doc = (time.perf_counter() - start) / len(docs)
        print(f"kiwipiepy tokenize: {per_doc * 1000:.2f} ms per article (index build cost)")
    truth_total = ours_total = kiwi_total = ours_extra = 0
    for word in QUERIES:
        truth = {a for a, text in docs if word in text}
        ours = {h.article_id for h in search_articles(con, word, lang="ko", limit=1000)}
        truth_total += len(truth)
        ours_total += len(truth & ours)
        ours_extra += len(ours - truth)
        if kiwi is not None:
            kiwi_total += len({a for a, toks in tokens.items() if word in toks} & truth)
    con.close()
    print(f"recall over {len(QUERIES)} nouns, {truth_total} (noun, article) matches in {len(docs)} articles:")
    print(f"  bigram search: {ours_total / truth_total:.0%} (plus {ours_extra} matches without the noun as text)")
    if kiwi is not None:
        print(f"  kiwipiepy tokens: {kiwi_total / truth_total:.0%}")
    else:
        print("  kiwipiepy not importable: skipped")


def speed(pages: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        paths = write_corpus(folder, pages)
        db = Path(tmp) / "bench.duckdb"
        open_migrated(db)
        run_id = str(uuid.uuid4())
        with writer(db) as con:
            runs.start_run(con, run_id, command="bench", sources="-", flow_run_id=None, extractor_version="b")
            for i in range(0, len(paths), 500):
                write_batch(con, run_id, [process_item(str(p)) for p in paths[i : i + 500]], EXTRACTOR_VERSION)
            runs.finish_run(con, run_id, "completed")
        long_queries(db, "generated")
        con = connect(db, read_only=True)
        n = con.execute("SELECT count(*) FROM articles").fetchone()
        print(f"speed on {n[0] if n else 0} generated articles (median of 5):")

        def scan(word: str) -> None:
            con.execute(
                "SELECT count(*) FROM articles WHERE title_ko ILIKE ? OR body_ko ILIKE ? OR body_en ILIKE ?",
                [f"%{word}%"] * 3,
            ).fetchall()

        for query, lang in (
            ("편의점", None),
            ("소포장채소", None),
            ("convenience store", "en"),
            ("편의점 채소 매출", "ko"),
        ):
            first_word = query.split()[0]
            baseline = _timed(lambda q=first_word: scan(q))
            ours = _timed(lambda q=query, lang=lang: search_articles(con, q, lang=lang))
            print(f"  {query!r:24} search {ours * 1000:7.1f} ms = {ours / baseline:5.1f}x a plain ILIKE scan")
        con.close()


def _cut(words: list[str], pieces: int) -> str:
    """The longest prefix of ``words`` with at most ``pieces`` pieces."""
    query = ""
    for end in range(1, len(words) + 1):
        candidate = " ".join(words[:end])
        if sum(t.counts for t in query_terms(candidate)) > pieces:
            break
        query = candidate
    return query


def long_queries(db: Path, label: str) -> float:
    """Queries of growing length from the warehouse's own text (Korean, English, both); returns the
    slowest time at the cap."""
    con = connect(db, read_only=True)
    [(ko, en)] = con.execute(
        "SELECT string_agg(body_ko, ' '), string_agg(coalesce(body_en, ''), ' ') FROM"
        " (SELECT body_ko, body_en FROM articles ORDER BY article_id LIMIT 20)"
    ).fetchall()
    n = con.execute("SELECT count(*) FROM articles").fetchone()
    print(f"long queries on {n[0] if n else 0} articles ({label}), median of 3, per piece relative to 25 pieces:")
    slowest = 0.0
    # Mixed: Korean and English words alternate, so every prefix has the same mix (an English piece
    # costs more than a Korean one: a word-boundary regex instead of a substring count).
    mixed = [w for pair in zip(ko.split(), en.split(), strict=False) for w in pair]
    for kind, words in (("korean", ko.split()), ("english", en.split()), ("mixed", mixed)):
        base = None
        for pieces in (25, 50, 100, MAX_PIECES):
            query = _cut(words, pieces)
            got = sum(t.counts for t in query_terms(query))
            seconds = _timed(lambda q=query: search_articles(con, q), repeat=3)
            per_piece = seconds / got
            base = base or per_piece
            if pieces == MAX_PIECES:
                slowest = max(slowest, seconds)
            print(f"  {kind:8} {got:4} pieces {seconds * 1000:7.1f} ms  per piece {per_piece / base:4.2f}x")
    con.close()
    return slowest


def samples_warehouse(db: Path) -> Path:
    open_migrated(db)
    run_id = str(uuid.uuid4())
    pages = [Page(str(p), "file", p.read_bytes()) for p in sorted((ROOT / "samples").glob("*.html"))]
    with writer(db) as con:
        runs.start_run(con, run_id, command="bench", sources="-", flow_run_id=None, extractor_version="b")
        write_batch(con, run_id, [process_page(page) for page in pages], EXTRACTOR_VERSION)
        runs.finish_run(con, run_id, "completed")
    return db


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        recall(build_corpus(Path(tmp) / "recall.duckdb"))
        at_cap = long_queries(samples_warehouse(Path(tmp) / "samples.duckdb"), "samples/")
        print(f"  slowest query at the cap of {MAX_PIECES} pieces on the samples: {at_cap:.2f} s (goal ≤ 1 s)")
    speed(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
