"""One self-contained HTML page about the warehouse: charts and tables an analyst would otherwise query.

Charts are plotly figures with plotly.js inlined once (the page fetches nothing), tables are rendered by
Jinja2 with autoescaping on. Titles, names and sections come from pages and are untrusted: Jinja2
escapes them in the tables, and plotly's JSON encoder writes `<` as `\\u003c` inside its scripts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import jinja2
import plotly.graph_objects as go
from markupsafe import Markup

from breaknews.warehouse.connect import resolve_db_path
from breaknews.warehouse.errors import BreaknewsError
from breaknews.warehouse.read.destination import destination, refuse_warehouse_files, written_whole
from breaknews.warehouse.read.query import read_connection

TOP_BUREAUS = 8
TOP_ROWS = 15


class ReportError(BreaknewsError):
    """The report could not be written."""


@dataclass(frozen=True)
class ReportData:
    totals: dict[str, Any]
    per_day_bureau: list[tuple[Any, str, int]]  # (period start, bureau, articles)
    period: str  # "day", "week" or "month": days while the archive spans ~3 months, coarser beyond
    coverage: list[tuple[Any, int, int, float]]
    scores: list[float]
    reporters: list[tuple[Any, ...]]
    sections: list[tuple[Any, ...]]
    recent: list[tuple[Any, ...]]


def collect(con: duckdb.DuckDBPyConnection) -> ReportData:
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE has_translation), min(published_at), max(published_at),"
        " (SELECT count(*) FROM paragraph_pairs), (SELECT count(*) FROM ingest_failures)"
        " FROM articles"
    ).fetchone()
    assert row is not None
    totals = dict(
        zip(("articles", "translated", "first", "last", "pairs", "failures"), row, strict=True),
    )
    span = (row[3] - row[2]).days if row[2] is not None and row[3] is not None else 0
    period = "day" if span <= 92 else "week" if span <= 730 else "month"
    # The biggest bureaus by name, the rest together, and articles without a bureau on their own.
    per_day_bureau = con.execute(
        """
        WITH top AS (
            SELECT bureau FROM articles_per_bureau WHERE bureau IS NOT NULL ORDER BY articles DESC, bureau LIMIT $top
        )
        SELECT CAST(date_trunc($period, timezone('Asia/Seoul', a.published_at)) AS DATE) AS day,
               CASE WHEN a.bureau IS NULL THEN '(no bureau)'
                    WHEN a.bureau IN (SELECT bureau FROM top) THEN a.bureau
                    ELSE '(other bureaus)' END AS bureau,
               count(*) AS articles
        FROM articles a WHERE a.published_at IS NOT NULL
        GROUP BY ALL ORDER BY day, bureau
        """,
        {"top": TOP_BUREAUS, "period": period},
    ).fetchall()
    coverage = con.execute(
        "SELECT month, articles, with_translation, coverage FROM translation_coverage_by_month ORDER BY month"
    ).fetchall()
    scores = [s for (s,) in con.execute("SELECT score FROM paragraph_pairs WHERE kind = 'body'").fetchall()]
    reporters = con.execute(
        "SELECT reporter, reporter_role, articles, with_translation, bureaus FROM articles_per_reporter"
        " ORDER BY articles DESC, reporter LIMIT $n",
        {"n": TOP_ROWS},
    ).fetchall()
    sections = con.execute(
        "SELECT coalesce(section, '(none)'), articles, with_translation, reporters FROM articles_per_section"
        " ORDER BY articles DESC LIMIT $n",
        {"n": TOP_ROWS},
    ).fetchall()
    recent = con.execute(
        "SELECT strftime(timezone('Asia/Seoul', published_at), '%Y-%m-%d %H:%M'), title_ko, title_en, reporter,"
        " bureau, url FROM articles ORDER BY published_at DESC NULLS LAST, article_id LIMIT $n",
        {"n": TOP_ROWS},
    ).fetchall()
    return ReportData(totals, per_day_bureau, period, _every_month(coverage), scores, reporters, sections, recent)


def _every_month(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Months without articles as gaps (None), so the line breaks there instead of drawing 0% or a slope."""
    if not rows:
        return []
    known = {r[0]: r for r in rows}
    month, last = rows[0][0], rows[-1][0]
    filled = []
    while month <= last:
        filled.append(known.get(month, (month, 0, 0, None)))
        month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    return filled


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        template="plotly_white",
        font={"family": "system-ui, 'Noto Sans KR', 'Malgun Gothic', sans-serif"},
    )
    return fig


def charts(data: ReportData) -> list[go.Figure]:
    per_day = go.Figure()
    bureaus = sorted({b for _, b, _ in data.per_day_bureau})
    for bureau in bureaus:
        points = [(day, n) for day, b, n in data.per_day_bureau if b == bureau]
        per_day.add_trace(go.Bar(x=[d for d, _ in points], y=[n for _, n in points], name=bureau))
    per_day.update_layout(barmode="stack", yaxis_title="articles", legend_title_text="bureau")
    _layout(per_day, f"Articles per {data.period}, by bureau")

    coverage = go.Figure(
        go.Scatter(
            x=[m for m, *_ in data.coverage],
            y=[c for *_, c in data.coverage],
            customdata=[[n, t] for _, n, t, _ in data.coverage],
            mode="lines+markers",
            connectgaps=False,
            hovertemplate="%{x|%Y-%m}: %{y:.0%} (%{customdata[1]} of %{customdata[0]})<extra></extra>",
        )
    )
    coverage.update_layout(yaxis={"tickformat": ".0%", "range": [0, 1.05], "title": "articles with English"})
    _layout(coverage, "Translation coverage by month")

    scores = go.Figure(go.Histogram(x=data.scores, xbins={"start": 0, "end": 1.0001, "size": 0.05}))
    scores.update_layout(xaxis={"title": "pair score", "range": [0, 1]}, yaxis_title="body pairs", bargap=0.05)
    _layout(scores, "Alignment scores of body paragraph pairs")
    return [per_day, coverage, scores]


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BreakNews archive report</title>
<style>
body { font-family: system-ui, "Noto Sans KR", "Malgun Gothic", sans-serif; margin: 2rem auto; max-width: 1180px;
       color: #222; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .meta { color: #666; margin-top: 0; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1.2rem 0; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: .7rem 1.1rem; min-width: 130px; }
.card b { display: block; font-size: 1.5rem; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f6f6f6; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.en { color: #555; font-size: .85rem; }
</style></head><body>
<h1>BreakNews archive</h1>
<p class="meta">Generated {{ generated }} from {{ db }}.
{% if totals.first %}Articles published {{ totals.first }} – {{ totals.last }} (Korea time).{% endif %}</p>
<div class="cards">
  <div class="card"><b>{{ totals.articles }}</b>articles</div>
  <div class="card"><b>{{ totals.translated }}</b>with English</div>
  <div class="card"><b>{{ totals.pairs }}</b>aligned pairs</div>
  <div class="card"><b>{{ totals.failures }}</b>page failure{{ "" if totals.failures == 1 else "s" }}</div>
</div>
{% for chart in charts %}<section>{{ chart }}</section>{% endfor %}
<div class="grid">
<section><h2>Top reporters</h2>
<table><tr><th>reporter</th><th>role</th><th>articles</th><th>with English</th><th>bureaus</th></tr>
{% for name, role, n, t, bureaus in reporters %}<tr><td>{{ name }}</td><td>{{ role or "" }}</td>
<td class="n">{{ n }}</td><td class="n">{{ t }}</td><td>{{ bureaus or "" }}</td></tr>
{% endfor %}</table></section>
<section><h2>Top sections</h2>
<table><tr><th>section</th><th>articles</th><th>with English</th><th>reporters</th></tr>
{% for name, n, t, r in sections %}<tr><td>{{ name }}</td><td class="n">{{ n }}</td><td class="n">{{ t }}</td>
<td class="n">{{ r }}</td></tr>
{% endfor %}</table></section>
</div>
<section><h2>Latest articles</h2>
<table><tr><th>published</th><th>title</th><th>reporter</th><th>bureau</th></tr>
{% for when, title_ko, title_en, reporter, bureau, url in recent %}<tr><td>{{ when or "" }}</td>
<td>{% if url %}<a href="{{ url }}">{{ title_ko }}</a>{% else %}{{ title_ko }}{% endif %}
{% if title_en %}<div class="en">{{ title_en }}</div>{% endif %}</td><td>{{ reporter or "" }}</td>
<td>{{ bureau or "" }}</td></tr>
{% endfor %}</table></section>
</body></html>
"""


def render(data: ReportData, db_label: str) -> str:
    figures = charts(data)
    # plotly.js goes into the page once, with the first chart; the others reuse it.
    parts = [
        Markup(fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False}))
        for i, fig in enumerate(figures)
    ]
    env = jinja2.Environment(autoescape=True)
    totals = dict(data.totals)
    for key in ("first", "last"):
        if totals[key] is not None:
            totals[key] = totals[key].strftime("%Y-%m-%d")
    return env.from_string(_TEMPLATE).render(
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        db=db_label,
        totals=totals,
        charts=parts,
        reporters=data.reporters,
        sections=data.sections,
        recent=[(*r[:5], _safe_url(r[5])) for r in data.recent],
    )


def _safe_url(url: str | None) -> str | None:
    # Autoescaping stops markup, not a javascript: link; only the site's own http(s) URLs become links.
    return url if url and url.startswith(("https://", "http://")) else None


def write_report(db: str | os.PathLike[str] | None, out: str | os.PathLike[str]) -> None:
    """Write the report of the warehouse ``db`` to ``out``, whole or not at all, never over the warehouse."""
    target = destination(out)
    with read_connection(None if db is None else str(db)) as con:
        refuse_warehouse_files(target, con)
        try:
            html = render(collect(con), resolve_db_path(None if db is None else str(db)).name)
        except duckdb.Error as exc:
            raise ReportError(f"report failed: {exc}") from exc
    with written_whole(target) as partial:
        partial.write_text(html, encoding="utf-8")
