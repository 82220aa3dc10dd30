"""What alignment adds to extraction: the aligner's time per article as a ratio of the whole pipeline's.

    .venv/bin/python bench/bench_align.py

Runs every translated page of samples/ and the fixtures through process_item (decode → extract →
split → align) and, separately, through align_article alone on the same paragraphs.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from breaknews.tasks.align import align_article  # noqa: E402
from breaknews.tasks.pipeline import process_item  # noqa: E402


def main() -> None:
    paths = sorted(str(p) for p in [*ROOT.glob("samples/*.html"), *ROOT.glob("tests/fixtures/pages/*.html")])
    articles = [a for a in (process_item(p).article for p in paths) if a is not None and a.has_translation]
    keep = {a.article_id for a in articles}
    paths = [p for p in paths if (r := process_item(p).article) is not None and r.article_id in keep]
    rounds = 20
    pipeline, align = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for p in paths:
            process_item(p)
        pipeline.append((time.perf_counter() - start) / len(paths))
        start = time.perf_counter()
        for a in articles:
            align_article(a.paragraphs_ko, a.paragraphs_en, a.captions, a.title_ko, a.title_en)
        align.append((time.perf_counter() - start) / len(articles))
    p, a = statistics.median(pipeline), statistics.median(align)
    print(f"{len(paths)} translated pages, median of {rounds} rounds")
    print(f"  whole pipeline per page: {p * 1000:.2f} ms")
    print(f"  alignment per article:   {a * 1000:.3f} ms = {a / p:.1%} of the pipeline")


if __name__ == "__main__":
    main()
