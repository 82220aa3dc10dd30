"""Re-extraction from stored raw pages, the run ledger command, and the per-run Prefect artifact."""

from __future__ import annotations

import asyncio
import json
import re

import duckdb
import pytest

from breaknews.flows.artifacts import escape_markdown
from breaknews.flows.cli import main
from breaknews.flows.ingest import ingest_pages
from breaknews.flows.reextract import reextract_pages
from breaknews.tasks import split as split_stage
from breaknews.tasks import versions
from breaknews.tasks.extract import lines as extract_lines
from breaknews.tasks.extract import metadata as extract_metadata
from breaknews.tasks.extract import xpaths as extract_xpaths
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


def test_an_extractor_that_fails_every_page_retires_no_article(db_path, monkeypatch):
    """Only a page that now yields another article retires the old one: a broken extractor records
    failures and leaves the warehouse's articles as they were."""
    from breaknews.tasks import pipeline
    from breaknews.tasks.errors import ExtractError

    ingest_pages(paths=[str(FIXTURES)], db=str(db_path), workers=1)
    before = rows(db_path, SNAPSHOT)

    def broken(*args, **kwargs):
        raise ExtractError("the new extractor is broken")

    monkeypatch.setattr(pipeline, "extract_article", broken)
    summary = reextract_pages(db=str(db_path), everything=True, workers=1)
    assert summary.counts.failures == summary.counts.pages_seen > len(before)
    assert summary.counts.articles_retired == 0
    assert rows(db_path, SNAPSHOT) == before


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


def test_reextract_brings_a_warehouse_of_the_previous_version_up_to_date(db_path, tmp_path, monkeypatch):
    """A warehouse the previous breaknews made: no `reporter_email` column (schema before migration 0004),
    e-mail lines and table debris in the bodies, the sister sites' cell-body page read as an unknown skin.
    One reextract migrates it and re-reads the stored pages."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for slug in ("old-email-debris", "sister-h2-textinput", "sister-cell-body", "modern-nomarker"):
        (pages / f"breaknews.{slug}.html").write_bytes((FIXTURES / f"breaknews.{slug}.html").read_bytes())
    with monkeypatch.context() as old:
        old.setattr(versions, "EXTRACTOR_VERSION", "2026.11.25.1")
        old.setattr(extract_metadata, "take_email_lines", lambda extracted, every_line: None)
        old.setattr(extract_lines, "_HAS_WORD", re.compile(r"\S"))  # debris lines were paragraphs
        old.setattr(extract_xpaths, "BODY", extract_xpaths.BODY[:-1])  # no body-cell fallback
        ingest_pages(paths=[str(pages)], db=str(db_path), workers=1)
    con = duckdb.connect(str(db_path))
    con.execute("ALTER TABLE articles DROP COLUMN reporter_email")
    con.execute("DELETE FROM schema_migrations WHERE version = 4")
    con.close()
    assert rows(db_path, "SELECT body_ko LIKE '%thj2012@naver.com%' FROM articles WHERE uid = 223871") == [(True,)]
    assert rows(db_path, "SELECT skin FROM articles WHERE uid = 1180233") == [("generic",)]

    summary = reextract_pages(db=str(db_path), workers=1)
    assert (summary.counts.articles_updated, summary.counts.articles_new) == (3, 0)
    assert summary.counts.articles_unchanged == 1  # modern-nomarker: same content, same revision
    found = rows(db_path, "SELECT uid, reporter_email, revision, extractor_version FROM articles ORDER BY uid")
    assert found == [
        (223871, "thj2012@naver.com", 2, versions.EXTRACTOR_VERSION),
        (1063590, None, 1, versions.EXTRACTOR_VERSION),
        (1180233, "smj@naver.com", 2, versions.EXTRACTOR_VERSION),
        (1190512, "kdy@breaknews.com", 2, versions.EXTRACTOR_VERSION),
    ]
    assert rows(db_path, "SELECT count(*) FROM articles WHERE body_ko LIKE '%@%' OR body_ko LIKE '%|%'") == [(0,)]
    # The previous text stays in the revisions.
    assert rows(
        db_path,
        "SELECT body_ko LIKE '%thj2012@naver.com%' FROM article_revisions WHERE revision = 1 AND article_id = ?",
        ["www:223871"],
    ) == [(True,)]
