"""The `breaknews` argument parser: every command and option, with the help the README mirrors.

Importing it loads neither Prefect nor the parsing libraries (lxml, feedparser, trafilatura), so `--help`
and usage errors are quick.
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from typing import Any

from breaknews.flows.cli import commands
from breaknews.tasks.http import DEFAULT_MAX_BYTES
from breaknews.tasks.identify import DEFAULT_LIST_PAGES, SITE_URL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="breaknews",
        description="Turn BreakNews pages into a queryable Korean–English archive in DuckDB.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser(
        "ingest", help="ingest saved pages, WARC files, article URLs or the live site into the warehouse"
    )
    ingest.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="a saved page, a .warc/.warc.gz file or URL, a folder searched recursively, or an article URL",
    )
    _add_db(ingest)
    ingest.add_argument(
        "--batch-size", type=_positive, default=200, metavar="N", help="pages per extract/load batch (default 200)"
    )
    ingest.add_argument(
        "--workers",
        type=_positive,
        default=None,
        metavar="N",
        help="extraction processes (default: all cores for large runs, 1 for small ones)",
    )
    ingest.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another run's write lock instead of failing at once",
    )
    _add_archive_options(ingest)
    ingest.add_argument(
        "--task-runner",
        choices=("processes", "threads", "dask"),
        default="processes",
        help="where extraction runs: a process pool (default), the flow's threads, or a Dask cluster",
    )
    ingest.add_argument(
        "--dask-address",
        metavar="ADDRESS",
        default=None,
        help="scheduler of an existing Dask cluster (tcp://host:8786); implies --task-runner dask",
    )
    ingest.add_argument(
        "--ephemeral",
        action="store_true",
        help="run on a temporary Prefect server for this run only, instead of the kept local one",
    )
    ingest.add_argument("-v", "--verbose", action="store_true", help="show Prefect's own log lines")
    add_site_options(ingest)
    ingest.set_defaults(handler=commands.cmd_ingest, parser=ingest)

    reextract = sub.add_parser("reextract", help="re-extract stored raw pages with the current extractor (no network)")
    _add_db(reextract)
    reextract.add_argument(
        "--all",
        dest="everything",
        action="store_true",
        help="re-extract every article's page, not only those from older extractor versions",
    )
    reextract.add_argument("--workers", type=_positive, default=None, metavar="N", help="extraction processes")
    reextract.add_argument("-v", "--verbose", action="store_true", help="show Prefect's own log lines")
    reextract.set_defaults(handler=commands.cmd_reextract)

    serve = sub.add_parser("serve", help="run the ingest on a schedule (Prefect), until Ctrl-C or SIGTERM")
    serve.add_argument(
        "paths", nargs="*", metavar="PATH", help="saved pages or folders to ingest on each run (instead of the site)"
    )
    _add_db(serve)
    when = serve.add_mutually_exclusive_group()
    when.add_argument(
        "--cron",
        metavar="EXPR",
        default=None,
        help="cron schedule in Korea time (default '*/30 * * * *': every 30 minutes)",
    )
    when.add_argument("--interval", type=float, metavar="SECONDS", default=None, help="run every SECONDS instead")
    serve.add_argument("-v", "--verbose", action="store_true", help="show Prefect's own log lines")
    add_site_options(serve)
    serve.set_defaults(handler=commands.cmd_serve)

    runs = sub.add_parser("runs", help="show recent runs from the ledger")
    _add_db(runs)
    runs.add_argument("--limit", type=_positive, default=20, metavar="N", help="how many runs (default 20)")
    runs.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    runs.set_defaults(handler=commands.cmd_runs)

    server = sub.add_parser("server", help="start, stop or show the local Prefect server kept between runs")
    server.add_argument("action", choices=("start", "stop", "status"))
    server.set_defaults(handler=commands.cmd_server)

    query = sub.add_parser("query", help="run SQL on a read-only connection")
    query.add_argument("sql", metavar="SQL")
    _add_db(query)
    query.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format (default table)"
    )
    query.add_argument(
        "--allow-files",
        action="store_true",
        help="let the SQL read files outside the warehouse (read_csv, read_parquet, ...); it still writes none",
    )
    query.set_defaults(handler=commands.cmd_query)

    convert = sub.add_parser(
        "convert", help="rewrite the warehouse in the storage format every DuckDB client since 1.4 reads"
    )
    _add_db(convert)
    convert.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another run's write lock instead of failing at once",
    )
    convert.set_defaults(handler=commands.cmd_convert)
    _add_corpus_commands(sub)
    return parser


def _add_corpus_commands(sub: Any) -> None:
    """The parallel corpus and analysis: export, align, search, report."""
    export = sub.add_parser("export", help="write the corpus or the articles to JSON Lines, Parquet or TMX")
    what = export.add_subparsers(dest="what", required=True, metavar="WHAT")
    pairs = what.add_parser("pairs", help="aligned Korean–English pairs")
    pairs.add_argument("--format", choices=("jsonl", "parquet", "tmx"), required=True, help="file format")
    pairs.add_argument("--out", metavar="PATH", required=True, help="the file to write (overwritten)")
    _add_db(pairs)
    pairs.add_argument("--min-score", type=float, default=0.0, metavar="X", help="only pairs scoring at least X")
    pairs.add_argument(
        "--since", type=_date, default=None, metavar="DATE", help="only articles published on or after DATE"
    )
    pairs.set_defaults(handler=commands.cmd_export_pairs)
    articles = what.add_parser("articles", help="the articles table")
    articles.add_argument("--format", choices=("jsonl", "parquet"), required=True, help="file format")
    articles.add_argument(
        "--out", metavar="PATH", required=True, help="a file (jsonl), or a new folder partitioned by month (parquet)"
    )
    _add_db(articles)
    articles.set_defaults(handler=commands.cmd_export_articles)

    align = sub.add_parser("align", help="recompute the paragraph pairs of every translated article")
    _add_db(align)
    align.set_defaults(handler=commands.cmd_align)

    search = sub.add_parser("search", help="ranked search over titles and bodies, Korean and English")
    search.add_argument("text", metavar="TEXT", help="Korean and/or English words")
    search.add_argument("--lang", choices=("ko", "en"), default=None, help="search one language only")
    search.add_argument("--limit", type=_positive, default=10, metavar="N", help="show the best N (default 10)")
    _add_db(search)
    search.set_defaults(handler=commands.cmd_search)

    report = sub.add_parser("report", help="write a self-contained HTML report with charts and tables")
    report.add_argument("--out", metavar="FILE", required=True, help="the HTML file to write (overwritten)")
    _add_db(report)
    report.set_defaults(handler=commands.cmd_report)


def _add_archive_options(ingest: argparse.ArgumentParser) -> None:
    archives = ingest.add_argument_group("web archives (WARC)")
    archives.add_argument(
        "--host",
        action="append",
        default=None,
        metavar="HOST",
        help="from WARC files, keep pages of this host and its subdomains (repeatable; '*' for all;"
        " default: the BreakNews hosts)",
    )
    archives.add_argument(
        "--warc-list",
        action="append",
        default=[],
        metavar="FILE_OR_URL",
        help="a list of WARC files, one path or URL a line, gzipped or not (Common Crawl's warc.paths.gz)",
    )
    archives.add_argument(
        "--warc-base",
        default=None,
        metavar="URL",
        help="resolve relative paths of --warc-list against this URL or folder"
        " (for Common Crawl: https://data.commoncrawl.org/)",
    )
    archives.add_argument(
        "--rescan",
        action="store_true",
        help="read archive files again that an earlier run read to their end (default: leave them out)",
    )


def add_site_options(ingest: argparse.ArgumentParser) -> None:
    live = ingest.add_argument_group("fetching (the live site, article URLs, archive URLs and lists)")
    live.add_argument(
        "--site",
        nargs="?",
        const=SITE_URL,
        default=None,
        metavar="BASE_URL",
        help=f"discover and fetch new articles from the site's feed and list pages (default {SITE_URL})",
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
        help="largest page accepted: fetched, read from a file, or in an archive record (default 10 MiB)",
    )
    live.add_argument(
        "--timeout", type=_positive_float, default=60.0, metavar="SECONDS", help="per request attempt (default 60)"
    )
    live.add_argument(
        "--retries", type=_non_negative, default=3, metavar="N", help="retries after a failed attempt (default 3)"
    )


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from exc


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="FILE", default=None, help="warehouse file (default: $BREAKNEWS_DB, else ./breaknews.duckdb)"
    )


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
