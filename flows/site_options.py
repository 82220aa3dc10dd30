"""The `breaknews ingest` options for live ingestion, kept apart from flows/site.py so the CLI can
parse them without importing Prefect."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any
from urllib.parse import urlsplit

from tasks.fetch import DEFAULT_MAX_BYTES, FetchConfig
from tasks.sources import SourceError

DEFAULT_SITE = "https://www.breaknews.com"
DEFAULT_LIST_PAGES = 3


def add_site_options(ingest: argparse.ArgumentParser) -> None:
    live = ingest.add_argument_group("live ingestion")
    live.add_argument(
        "--site",
        nargs="?",
        const=DEFAULT_SITE,
        default=None,
        metavar="BASE_URL",
        help=f"discover and fetch new articles from the site's feed and list pages (default {DEFAULT_SITE})",
    )
    live.add_argument(
        "--feed", action="append", default=[], metavar="URL", help="an RSS/Atom feed of articles (repeatable)"
    )
    live.add_argument(
        "--list-pages",
        type=_non_negative,
        default=DEFAULT_LIST_PAGES,
        metavar="N",
        help=f"read this many pages of the all-articles list (default {DEFAULT_LIST_PAGES}; 0: feed only)",
    )
    live.add_argument(
        "--refresh",
        action="store_true",
        help="revalidate already-stored articles (If-None-Match/If-Modified-Since) instead of skipping them",
    )
    live.add_argument(
        "--contact",
        default=os.environ.get("BREAKNEWS_CONTACT"),
        metavar="URL_OR_EMAIL",
        help="how the site can reach you, sent in the User-Agent (default $BREAKNEWS_CONTACT)",
    )
    live.add_argument("--concurrency", type=_positive, default=4, metavar="N", help="requests in flight (default 4)")
    live.add_argument(
        "--rate", type=_non_negative_float, default=2.0, metavar="PER_SECOND", help="requests per second (default 2)"
    )
    live.add_argument(
        "--max-bytes",
        type=_positive,
        default=DEFAULT_MAX_BYTES,
        metavar="BYTES",
        help="largest page accepted (default 10 MiB)",
    )
    live.add_argument(
        "--timeout", type=_positive_float, default=60.0, metavar="SECONDS", help="per request attempt (default 60)"
    )
    live.add_argument(
        "--retries", type=_non_negative, default=3, metavar="N", help="retries after a failed attempt (default 3)"
    )


def fetch_config(args: argparse.Namespace) -> FetchConfig:
    return FetchConfig(
        concurrency=args.concurrency,
        rate=args.rate,
        connect_timeout=min(10.0, args.timeout),
        read_timeout=min(30.0, args.timeout),
        total_timeout=args.timeout,
        retries=args.retries,
        max_bytes=args.max_bytes,
        contact=args.contact,
    )


def site_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"not an http(s) URL: {value}")
    return value.strip()


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


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value}")
    return number


def _non_negative_float(value: str) -> float:
    number = float(value)
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return number
