"""Search: recall of bigram matching vs a Korean morphological analyser, and speed vs a plain scan.

    .venv/bin/python bench/bench_search.py [PAGES]          (default 5000 generated pages)

Recall: for Korean nouns that the bundled samples and fixtures use inside longer words, the articles
that contain the noun as text are the truth; we compare `breaknews search` (Hangul bigrams) with
matching kiwipiepy's tokens (when kiwipiepy is importable; it is not a dependency).
Speed: a generated corpus of PAGES articles (tests/sitegen.py), loaded with the real loader; each
figure is a ratio to a plain `ILIKE '%word%'` count over the same table, measured in the same run.
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

from breaknews.tasks.pipeline import process_item  # noqa: E402
from breaknews.tasks.versions import EXTRACTOR_VERSION  # noqa: E402
from breaknews.warehouse import runs  # noqa: E402
from breaknews.warehouse.connect import connect, writer  # noqa: E402
from breaknews.warehouse.migrate import open_migrated  # noqa: E402
from breaknews.warehouse.read.search import search_articles  # noqa: E402
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


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        recall(build_corpus(Path(tmp) / "recall.duckdb"))
    speed(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
