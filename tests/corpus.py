"""A small warehouse for the corpus tests: the samples, the translated fixtures, and one hostile page.

Loaded with the real loader (no Prefect), so building it costs about a second.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from breaknews.tasks.pipeline import process_page
from breaknews.tasks.versions import EXTRACTOR_VERSION
from breaknews.warehouse import runs
from breaknews.warehouse.connect import writer
from breaknews.warehouse.migrate import open_migrated
from breaknews.warehouse.models import Page
from breaknews.warehouse.write import write_batch
from tests.conftest import FIXTURES, SAMPLES

HOSTILE_TITLE = "<script>alert(1)</script> 수소 & 철강"


def hostile_page() -> bytes:
    """modern-marker1 as another article (uid 1063999) whose title and text carry markup characters."""
    html = (FIXTURES / "breaknews.modern-marker1.html").read_text(encoding="utf-8")
    html = html.replace("1063522", "1063999")
    html = html.replace(
        "<h1 class=\"read_title\">포항시, 수소 그린철강 국제 컨퍼런스 성과 공유…'수소경제 선도도시' 도약 박차</h1>",
        '<h1 class="read_title">&lt;script&gt;alert(1)&lt;/script&gt; 수소 &amp; 철강</h1>',
    )
    html = html.replace("12개국 600여 명이", "R&amp;D &lt;연구&gt; 12개국 600여 명이")
    html = html.replace("About 600 people", "R&amp;D &lt;research&gt; About 600 people")
    return html.encode()


def build_corpus(db: Path) -> Path:
    pages = [Page(source=str(p), source_kind="file", content=p.read_bytes()) for p in sorted(SAMPLES.glob("*.html"))]
    pages += [
        Page(source=str(p), source_kind="file", content=p.read_bytes())
        for p in sorted(FIXTURES.glob("*.html"))
        if "mobile-url-forms" not in p.name
    ]
    pages.append(Page(source="hostile.html", source_kind="file", content=hostile_page()))
    open_migrated(db)
    run_id = str(uuid.uuid4())
    with writer(db) as con:
        runs.start_run(con, run_id, command="test", sources="-", flow_run_id=None, extractor_version="t")
        write_batch(con, run_id, [process_page(page) for page in pages], EXTRACTOR_VERSION)
        runs.finish_run(con, run_id, "completed")
    return db
