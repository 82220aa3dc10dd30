"""Pages of other Korean news sites (the generic path): the title without the site's name whatever the
separator, the body by trafilatura, a page with no text an `extract` failure; and trafilatura's own log
lines stay out of the command's output unless `-v`, also from worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from breaknews.tasks.extract import extract_article
from breaknews.tasks.pipeline import process_page
from breaknews.warehouse.models import Page
from tests.conftest import ROOT

GENERIC = ROOT / "tests" / "fixtures" / "generic"
SLUGS = sorted(p.name[: -len(".expected.json")] for p in GENERIC.glob("*.expected.json"))


def _expected(slug: str) -> dict:
    return json.loads((GENERIC / f"{slug}.expected.json").read_text(encoding="utf-8"))


def _process(slug: str):
    path = GENERIC / f"{slug}.html"
    return process_page(Page(source=str(path), source_kind="file", content=path.read_bytes()))


@pytest.mark.parametrize("slug", SLUGS)
def test_generic_page(slug):
    want, result = _expected(slug), _process(slug)
    if want["outcome"] == "failure":
        assert result.article is None and result.stage == want["failure_stage"] and result.reason
        return
    assert not result.failed, f"{result.stage}: {result.reason}"
    article = result.article
    for name, value in want["fields"].items():
        got = getattr(article, name)
        assert (got.isoformat() if isinstance(got, datetime) else got) == value, name
    for snippet in want["must_ko"]:
        assert snippet in article.body_ko
    for snippet in want["must_not_ko"]:
        assert snippet not in article.body_ko
    assert article.title_ko not in article.paragraphs_ko  # the headline is not repeated as a paragraph


def _page(title: str, og_title: str | None = None, site_name: str | None = None, h1: str | None = None) -> str:
    head = f"<title>{title}</title>"
    head += f'<meta property="og:title" content="{og_title}">' if og_title else ""
    head += f'<meta property="og:site_name" content="{site_name}">' if site_name else ""
    body = f"<article><h1>{h1}</h1>" if h1 else "<article>"
    body += "".join(
        f"<p>{n}번째 문단은 기사 본문으로 충분히 길게 쓴 문장입니다. 시는 이날 계획을 밝혔다.</p>" for n in range(5)
    )
    return f"<html><head>{head}</head><body>{body}</article></body></html>"


@pytest.mark.parametrize(
    ("page", "title"),
    [
        (_page("지하철 요금 인상 | 한국일보", site_name="한국일보"), "지하철 요금 인상"),
        (_page("지하철 요금 인상 -사회ㅣ한국일보"), "지하철 요금 인상"),
        (_page("지하철 요금 인상-정치ㅣ한국일보", site_name="한국일보"), "지하철 요금 인상"),
        (_page("반도체 수출 증가 - 매일경제"), "반도체 수출 증가"),
        (_page("x", og_title="반도체 수출 증가 - 매일경제 - 매일경제"), "반도체 수출 증가"),
        (_page("낙석 주의 :: 노컷뉴스"), "낙석 주의"),
        (_page("낙석 주의 » 제주의소리", site_name="제주의소리"), "낙석 주의"),
        (_page("Seoul subway fares rise | Korea JoongAng Daily"), "Seoul subway fares rise"),
        (_page("한국일보 | 지하철 요금 인상", site_name="한국일보"), "지하철 요금 인상"),
        (_page("x", og_title="한국일보", site_name="한국일보", h1="지하철 요금 인상"), "지하철 요금 인상"),
        # Separators inside a title stay: only the site's name (and a section before it) goes.
        (_page("K-pop 공연 D-30 - 한국일보", site_name="한국일보"), "K-pop 공연 D-30"),
        (_page("코스피 반등 - 한국 경제 흐름"), "코스피 반등 - 한국 경제 흐름"),
        (_page("한·미 정상회담 - 외교 - 한국일보"), "한·미 정상회담"),
        (_page("인터뷰 - 한국일보 사장이 말하는 지역신문의 미래"), "인터뷰 - 한국일보 사장이 말하는 지역신문의 미래"),
    ],
)
def test_generic_title_without_the_sites_name(page, title):
    assert extract_article(page).title == title


def _ingest(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from breaknews.tasks.library_logs import QUIET_LIBRARIES_ENV

    command = [str(Path(sys.executable).parent / "breaknews"), "ingest", *args]
    env = {k: v for k, v in env.items() if k != QUIET_LIBRARIES_ENV}  # as a user's shell has it
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_library_log_lines_stay_out_unless_verbose(shared_prefect_env, tmp_path):
    """trafilatura discards the script-rendered page with a warning of its own, which the summary does
    not need: it names the page, its stage and why. `-v` shows the warning."""
    quiet = _ingest([str(GENERIC), "--db", str(tmp_path / "quiet.duckdb")], shared_prefect_env)
    assert quiet.returncode == 0, quiet.stderr
    assert "script-rendered.html" in quiet.stdout and "[extract]" in quiet.stdout
    assert "discarding data" not in quiet.stdout + quiet.stderr
    assert "trafilatura.core" not in quiet.stdout + quiet.stderr

    verbose = _ingest([str(GENERIC), "--db", str(tmp_path / "verbose.duckdb"), "-v"], shared_prefect_env)
    assert verbose.returncode == 0, verbose.stderr
    assert "trafilatura.core - discarding data: None" in verbose.stdout + verbose.stderr


def test_extraction_processes_started_by_the_command_stay_quiet():
    """Worker processes (a process pool, a local Dask cluster, `serve`'s flow runs) inherit the
    environment the command set: a new process that extracts the script-rendered page, with Prefect's
    logging set up as on a Dask worker, prints nothing of trafilatura's."""
    from breaknews.tasks.library_logs import QUIET_LIBRARIES_ENV

    script = (
        "import logging, sys; logging.basicConfig(level=logging.WARNING);"
        "from breaknews.tasks.pipeline import process_item; r = process_item(sys.argv[1]); print(r.stage)"
    )
    page = str(GENERIC / "script-rendered.html")
    for quiet in (False, True):
        env = {**os.environ, QUIET_LIBRARIES_ENV: "1" if quiet else ""}
        done = subprocess.run([sys.executable, "-c", script, page], env=env, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "extract"
        assert ("discarding data" in done.stderr) is not quiet, done.stderr
