"""A Prefect artifact per run: counts, failures with reasons, new articles in both languages.

Titles and reasons come from pages, which are untrusted input: they are escaped before they reach
Prefect's Markdown renderer.
"""

from __future__ import annotations

import re
from typing import Any

from prefect.artifacts import create_markdown_artifact

from breaknews.warehouse.connect import connect

_LISTED = 50
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&~])")


def escape_markdown(text: str | None) -> str:
    """Text shown literally in Markdown: specials backslash-escaped, HTML and newlines neutralised."""
    if not text:
        return ""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def summary_markdown(summary: Any, new_articles: list[tuple[str, str, str | None]]) -> str:
    c = summary.counts
    lines = [
        f"## breaknews {escape_markdown(summary.status)} run",
        "",
        "| pages seen | skipped | new | updated | unchanged | failures | with translation | without |",
        "|---|---|---|---|---|---|---|---|",
        f"| {c.pages_seen} | {c.pages_skipped} | {c.articles_new} | {c.articles_updated} | "
        f"{c.articles_unchanged} | {c.failures} | {c.with_translation} | {c.without_translation} |",
        "",
        f"Run id `{summary.run_id}`, warehouse {escape_markdown(summary.db)}, {summary.seconds:.1f} s.",
    ]
    if summary.failures:
        lines += ["", f"### Failures ({len(summary.failures)})", "", "| source | stage | reason |", "|---|---|---|"]
        for source, stage, reason in summary.failures[:_LISTED]:
            lines.append(f"| {escape_markdown(source)} | {escape_markdown(stage)} | {escape_markdown(reason)} |")
        if len(summary.failures) > _LISTED:
            lines.append(f"\n… and {len(summary.failures) - _LISTED} more in `ingest_failures`.")
    if new_articles:
        lines += [
            "",
            f"### New articles ({c.articles_new})",
            "",
            "| article | title | English title |",
            "|---|---|---|",
        ]
        for article_id, title_ko, title_en in new_articles:
            lines.append(
                f"| {escape_markdown(article_id)} | {escape_markdown(title_ko)} | {escape_markdown(title_en)} |"
            )
        if c.articles_new > len(new_articles):
            lines.append(f"\n… and {c.articles_new - len(new_articles)} more.")
    return "\n".join(lines) + "\n"


def publish_summary(summary: Any) -> None:
    """Attach the run's summary to its Prefect flow run (visible in Prefect's UI under Artifacts)."""
    ids = summary.counts.new_article_ids[:_LISTED]
    new_articles: list[tuple[str, str, str | None]] = []
    if ids:
        with connect(summary.db, read_only=True, wait_seconds=10.0) as con:
            new_articles = con.execute(
                "SELECT article_id, title_ko, title_en FROM articles WHERE article_id IN (SELECT unnest(?))"
                " ORDER BY published_at DESC NULLS LAST, article_id",
                [ids],
            ).fetchall()
    create_markdown_artifact(
        summary_markdown(summary, new_articles),
        key="breaknews-ingest-summary",
        description=f"breaknews {summary.status} run {summary.run_id}",
    )
