"""Re-extraction from stored raw pages, the run ledger command, and the per-run Prefect artifact."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from breaknews.flows.artifacts import escape_markdown
from breaknews.flows.cli import main
from breaknews.flows.ingest import ingest_pages
from breaknews.flows.reextract import reextract_pages
from breaknews.tasks import split as split_stage
from breaknews.tasks import versions
from tests.conftest import FIXTURES, rows

pytestmark = pytest.mark.usefixtures("prefect_api")
SNAPSHOT = "SELECT * EXCLUDE (last_seen_at) FROM articles ORDER BY article_id"


def test_reextract_changes_nothing_when_the_extractor_did_not_change(db_path):
    ingest_pages(paths=[str(FIXTURES)], db=str(db_path))
    before = rows(db_path, SNAPSHOT), rows(db_path, "SELECT * FROM paragraphs ORDER BY ALL")
    stale = reextract_pages(db=str(db_path))
    assert stale.counts.pages_seen == 0  # nothing was made by an older extractor
    everything = reextract_pages(db=str(db_path), everything=True)
    c = everything.counts
    assert c.pages_seen == rows(db_path, "SELECT count(*) FROM articles")[0][0] + 4  # + the failed pages
    assert (c.articles_new, c.articles_updated) == (0, 0)
    assert (rows(db_path, SNAPSHOT), rows(db_path, "SELECT * FROM paragraphs ORDER BY ALL")) == before
    assert rows(db_path, "SELECT command FROM ingest_runs ORDER BY started_at") == [
        ("ingest",),
        ("reextract",),
        ("reextract",),
    ]


def test_reextract_applies_a_parser_fix_without_the_network(db_path, monkeypatch):
    # An "old" extractor with a bug: it does not recognise English bylines, so they land in the body.
    with monkeypatch.context() as old:
        old.setattr(versions, "EXTRACTOR_VERSION", "2000.01.01.0")
        old.setattr(split_stage, "_BYLINE_EN", re.compile(r"(?!)"))
        ingest_pages(paths=[str(FIXTURES)], db=str(db_path), workers=1)
    [(body_en, version)] = rows(
        db_path, "SELECT body_en, extractor_version FROM articles WHERE reporter_role = '발행인'"
    )
    assert "Il-suk Moon" in body_en and version == "2000.01.01.0"

    summary = reextract_pages(db=str(db_path), workers=1)
    assert summary.counts.articles_updated == 1  # only the column with the byline changed
    [(body_en, byline, version, revision)] = rows(
        db_path,
        "SELECT body_en, byline_en, extractor_version, revision FROM articles WHERE reporter_role = '발행인'",
    )
    assert "Il-suk Moon" not in body_en and byline == "Publisher Il-suk Moon"
    assert version == versions.EXTRACTOR_VERSION and revision == 2
    assert rows(db_path, "SELECT count(DISTINCT extractor_version) FROM articles") == [(1,)]
    assert rows(db_path, "SELECT count(*) FROM raw_pages WHERE extractor_version = '2000.01.01.0'") == [(1,)]


def test_reextract_cli_and_runs_cli(db_path, capsys):
    assert main(["ingest", str(FIXTURES), "--db", str(db_path)]) == 0
    assert main(["reextract", "--all", "--db", str(db_path)]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", str(db_path), "--format", "json", "--limit", "5"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["command"] for r in listed] == ["reextract", "ingest"]
    assert all(r["status"] == "completed" and r["flow_run_id"] for r in listed)
    assert main(["reextract", "--db", str(db_path.parent / "none.duckdb")]) == 1


def test_each_run_publishes_an_artifact(db_path):
    summary = ingest_pages(paths=[str(FIXTURES)], db=str(db_path))
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def latest() -> str:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["breaknews-ingest-summary"])),
            )
            return next(a for a in found if summary.run_id in (a.description or "")).data

    markdown = asyncio.run(latest())
    assert f"| {summary.counts.pages_seen} |" in markdown
    assert "breaknews\\.garbage\\.html" in markdown  # failures with reasons
    assert "Pohang City shares results" in markdown  # new articles with English titles


def test_markdown_escaping_neutralises_page_text():
    escaped = escape_markdown("<script>alert(1)</script> | [x](javascript:y)")
    assert "<" not in escaped.replace("\\<", "") and "|" not in escaped.replace("\\|", "")
    assert "](" not in escaped
