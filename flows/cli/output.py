"""What the commands print: run summaries and query results."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

FAILURES_SHOWN = 20
NOT_REGULAR_SHOWN = 5


def print_summary(summary: Any) -> None:
    c = summary.counts
    out = sys.stdout
    out.write(f"ingest run {summary.run_id} {summary.status} in {summary.seconds:.1f} s → {summary.db}\n")
    out.write(f"  pages seen:   {c.pages_seen} ({c.pages_skipped} skipped as already stored)\n")
    retired = f", {c.articles_retired} retired (their page is now another article)" if c.articles_retired else ""
    articles = f"{c.articles_new} new, {c.articles_updated} updated, {c.articles_unchanged} unchanged{retired}"
    out.write(f"  articles:     {articles}\n")
    out.write(f"  translation:  {c.with_translation} articles with English, {c.without_translation} without\n")
    records = summary.source_counts
    if records:
        out.write(
            f"  warc records: {records['records_read']} read; skipped {records['records_other_host']} of other hosts,"
            f" {records['records_revisit']} revisits, {records['records_not_html']} not HTML,"
            f" {records['records_not_ok']} not HTTP 2xx\n"
        )
    if records.get("archives_read") or records.get("archives_skipped"):
        out.write(
            f"  archives:     {records['archives_read']} read, {records['archives_skipped']} already read (left out);"
            f" {records['bytes_read'] / 1e6:,.1f} MB read\n"
        )
        by_host = summary.kept_by_host
        hosts = ", ".join(f"{host} {kept}" for host, kept in sorted(by_host.items(), key=lambda hk: (-hk[1], hk[0])))
        out.write(f"  kept:         {records['records_kept']} records{': ' + hosts if hosts else ''}\n")
    not_regular = summary.not_regular
    if not_regular:
        shown = ", ".join(not_regular[:NOT_REGULAR_SHOWN]) + (" …" if len(not_regular) > NOT_REGULAR_SHOWN else "")
        out.write(f"  not files:    {len(not_regular)} skipped unopened (FIFOs, sockets, devices): {shown}\n")
    out.write(f"  failures:     {c.failures}\n")
    for source, stage, reason in summary.failures[:FAILURES_SHOWN]:
        out.write(f"    [{stage}] {source}: {reason}\n")
    if len(summary.failures) > FAILURES_SHOWN:
        out.write(
            f"    … and {len(summary.failures) - FAILURES_SHOWN} more: breaknews query "
            f"\"SELECT source, stage, reason FROM ingest_failures WHERE run_id = '{summary.run_id}'\"\n"
        )


def print_nothing_found(summary: Any, paths: Sequence[str]) -> None:
    """A hint when an ingest of files found no page at all (an empty folder, the wrong folder)."""
    counts = summary.source_counts
    if summary.counts.pages_seen or counts.get("records_read") or counts.get("archives_skipped"):
        return
    print(
        f"breaknews: no pages found in {', '.join(paths)}: folders are searched for .html, .htm, .shtml, .xhtml,"
        " .warc and .warc.gz files",
        file=sys.stderr,
    )


def print_site_summary(summary: Any) -> None:
    f = summary.fetch
    out = sys.stdout
    out.write(
        f"  site:         {summary.discovered} articles found, {summary.not_fetched} already stored (not fetched),"
        f" {f.not_modified} not modified (304)\n"
    )
    out.write(
        f"  requests:     {f.requests} ({f.retries} retries), {f.bytes:,} bytes,"
        f" {f.robots_denied} refused by robots.txt\n"
    )
    if summary.unreachable:
        out.write(f"  SITE UNREACHABLE: {summary.unreachable}; nothing was fetched. Try again later.\n")


def print_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    """Rows as CSV with a header, or as a JSON array of objects (timestamps as text)."""
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
        return
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    json.dump(records, sys.stdout, ensure_ascii=False, default=str, indent=1)
    sys.stdout.write("\n")


def terminal_width() -> int:
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except OSError:
        return 160
