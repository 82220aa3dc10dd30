"""The HTML report: self-contained, with its charts and tables, and every page-derived string escaped."""

from __future__ import annotations

import re
from datetime import date

import pytest
from lxml import html as lxml_html

from breaknews.flows.cli import main
from breaknews.warehouse.connect import connect
from breaknews.warehouse.read.destination import DestinationError
from breaknews.warehouse.read.report import ReportData, collect, render, write_report
from tests.corpus import HOSTILE_TITLE, build_corpus

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("report") / "corpus.duckdb")


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)


def test_report_has_charts_tables_and_fetches_nothing(corpus, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", "--out", str(out), "--db", str(corpus)]) == 0
    page = out.read_text(encoding="utf-8")
    tree = lxml_html.fromstring(page)
    assert len(tree.xpath("//div[contains(@class, 'plotly-graph-div')]")) == 3
    # Everything inline: no script, stylesheet or image is loaded from anywhere.
    assert not tree.xpath("//script[@src] | //link[@href] | //img[@src] | //iframe")
    assert "Plotly.newPlot" in page and len(page) > 1_000_000  # plotly.js itself is in the page
    headings = [h.text_content() for h in tree.xpath("//h2")]
    assert headings == ["Top reporters", "Top sections", "Latest articles"]
    reporters = [td.text_content() for td in tree.xpath("//section[h2='Top reporters']//tr/td[1]")]
    assert reporters[0] == "박영재"  # the only reporter with two articles
    for title in ("Articles per month, by bureau", "Translation coverage by month", "Alignment scores"):
        assert title in page


def test_page_text_is_escaped_everywhere(corpus, tmp_path):
    con = connect(corpus, read_only=True)
    data = collect(con)
    con.close()
    assert any(r[1] == HOSTILE_TITLE for r in data.recent)
    # Hostile names in the chart data (legend), the tables and a javascript: URL, too.
    data = ReportData(
        totals=data.totals,
        per_day_bureau=[(date(2024, 12, 3), HOSTILE, 2), *data.per_day_bureau],
        period=data.period,
        coverage=data.coverage,
        scores=data.scores,
        reporters=[(HOSTILE, "기자", 3, 3, "</td><b>x</b>"), *data.reporters],
        sections=[(HOSTILE, 1, 1, 1), *data.sections],
        recent=[("2024-12-03 13:57", HOSTILE, "a & b", "r", "b", "javascript:alert(3)"), *data.recent],
    )
    page = render(data, "x.duckdb")
    tree = lxml_html.fromstring(page)
    # Only plotly's own scripts run: none of them carries the hostile text unescaped.
    assert all("alert(1)" not in s or "\\u003cscript" in s for s in _scripts(page))
    assert page.count("<script>alert(1)") == 0
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not tree.xpath("//b[.='x']") and not tree.xpath("//a[starts-with(@href, 'javascript:')]")
    cells = [td.text_content() for td in tree.xpath("//td")]
    assert HOSTILE in cells and HOSTILE_TITLE in " ".join(cells)


def test_report_on_an_empty_warehouse_and_a_bad_destination(tmp_path):
    from breaknews.warehouse.migrate import open_migrated

    db = tmp_path / "empty.duckdb"
    open_migrated(db)
    write_report(db, tmp_path / "empty.html")
    with pytest.raises(DestinationError, match="does not exist"):
        write_report(db, tmp_path / "no" / "r.html")
    page = (tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "<b>0</b>articles" in page and "<b>0</b>page failures" in page


def test_one_failure_is_singular_and_the_first_chart_names_its_period(corpus, tmp_path):
    from breaknews.warehouse.read.query import read_connection

    with read_connection(str(corpus)) as con:
        data = collect(con)
    one = ReportData(**{**vars(data), "totals": {**data.totals, "failures": 1}})
    page = render(one, "x.duckdb")
    assert "<b>1</b>page failure</div>" in page
    # The corpus spans years: bars per month, and the chart says so (the README explains the choice).
    assert data.period == "month" and "Articles per month, by bureau" in page
    recent = ReportData(**{**vars(data), "period": "day"})
    assert "Articles per day, by bureau" in render(recent, "x.duckdb")
