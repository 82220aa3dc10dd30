"""The `breaknews` command. Thin: parse arguments, call a flow or the warehouse, turn typed errors
into one clean line and an exit code (0 done, 1 warehouse or run failure, 2 usage error)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import flows  # noqa: F401  (sets Prefect's telemetry switches before Prefect can load)
from tasks.errors import BreaknewsError
from tasks.sources import SourceError, check_paths
from warehouse.connect import connect, ingest_lock, open_migrated, resolve_db_path, writer
from warehouse.errors import WarehouseError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_UNREACHABLE = 3  # live ingestion: the site could not be reached at all (the run is still recorded)
_FAILURES_SHOWN = 20


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
        help="a saved page, a .warc/.warc.gz file, a folder searched recursively, or an article URL",
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
    ingest.add_argument(
        "--host",
        action="append",
        default=None,
        metavar="HOST",
        help="from WARC files, keep pages of this host and its subdomains (repeatable; '*' for all;"
        " default: the BreakNews hosts)",
    )
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
    _add_site_options(ingest)
    ingest.set_defaults(handler=cmd_ingest, parser=ingest)

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
    reextract.set_defaults(handler=cmd_reextract)

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
    _add_site_options(serve)
    serve.set_defaults(handler=cmd_serve)

    runs = sub.add_parser("runs", help="show recent runs from the ledger")
    _add_db(runs)
    runs.add_argument("--limit", type=_positive, default=20, metavar="N", help="how many runs (default 20)")
    runs.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    runs.set_defaults(handler=cmd_runs)

    server = sub.add_parser("server", help="start, stop or show the local Prefect server kept between runs")
    server.add_argument("action", choices=("start", "stop", "status"))
    server.set_defaults(handler=cmd_server)

    query = sub.add_parser("query", help="run SQL on a read-only connection")
    query.add_argument("sql", metavar="SQL")
    _add_db(query)
    query.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format (default table)"
    )
    query.set_defaults(handler=cmd_query)
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
    pairs.set_defaults(handler=cmd_export_pairs)
    articles = what.add_parser("articles", help="the articles table")
    articles.add_argument("--format", choices=("jsonl", "parquet"), required=True, help="file format")
    articles.add_argument(
        "--out", metavar="PATH", required=True, help="a file (jsonl), or a new folder partitioned by month (parquet)"
    )
    _add_db(articles)
    articles.set_defaults(handler=cmd_export_articles)

    align = sub.add_parser("align", help="recompute the paragraph pairs of every translated article")
    _add_db(align)
    align.set_defaults(handler=cmd_align)

    search = sub.add_parser("search", help="ranked search over titles and bodies, Korean and English")
    search.add_argument("text", metavar="TEXT", help="Korean and/or English words")
    search.add_argument("--lang", choices=("ko", "en"), default=None, help="search one language only")
    search.add_argument("--limit", type=_positive, default=10, metavar="N", help="show the best N (default 10)")
    _add_db(search)
    search.set_defaults(handler=cmd_search)

    report = sub.add_parser("report", help="write a self-contained HTML report with charts and tables")
    report.add_argument("--out", metavar="FILE", required=True, help="the HTML file to write (overwritten)")
    _add_db(report)
    report.set_defaults(handler=cmd_report)


def cmd_search(args: argparse.Namespace) -> int:
    from tasks.search import search_articles

    con = connect(resolve_db_path(args.db), read_only=True, wait_seconds=10.0)
    try:
        hits = search_articles(con, args.text, lang=args.lang, limit=args.limit)
    finally:
        con.close()
    if not hits:
        print(f"no articles match {args.text!r}")
    for rank, hit in enumerate(hits, 1):
        day = hit.published_at.strftime("%Y-%m-%d") if hit.published_at else "----------"
        print(f"{rank:>2}. [{hit.score:.2f}] {day} {hit.article_id}  {hit.title_ko}")
        if hit.title_en:
            print(f"    {hit.title_en}")
        print(f"    {hit.snippet}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from tasks.report import write_report

    db = resolve_db_path(args.db)
    con = connect(db, read_only=True, wait_seconds=10.0)
    try:
        write_report(con, Path(args.out), db.name)
    finally:
        con.close()
    print(f"report → {args.out}")
    return EXIT_OK


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from exc


def cmd_export_pairs(args: argparse.Namespace) -> int:
    from tasks.export import PairFilter, export_pairs

    con = connect(resolve_db_path(args.db), read_only=True, wait_seconds=10.0)
    try:
        count = export_pairs(con, args.format, Path(args.out), PairFilter(args.min_score, args.since))
    finally:
        con.close()
    print(f"{count} pairs → {args.out}")
    return EXIT_OK


def cmd_export_articles(args: argparse.Namespace) -> int:
    from tasks.export import export_articles

    con = connect(resolve_db_path(args.db), read_only=True, wait_seconds=10.0)
    try:
        count = export_articles(con, args.format, Path(args.out))
    finally:
        con.close()
    print(f"{count} articles → {args.out}")
    return EXIT_OK


def cmd_align(args: argparse.Namespace) -> int:
    from tasks.realign import realign

    db = str(resolve_db_path(args.db))
    open_migrated(db)
    with ingest_lock(db), writer(db) as con:
        articles, pairs = realign(con)
    print(f"{pairs} pairs for {articles} translated articles")
    return EXIT_OK


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="FILE", default=None, help="warehouse file (default: $BREAKNEWS_DB, else ./breaknews.duckdb)"
    )


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _quiet_prefect(verbose: bool) -> None:
    # Set before Prefect loads: its INFO lines would bury the summary and fill pipes.
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_LEVEL", "WARNING")


def cmd_ingest(args: argparse.Namespace) -> int:
    urls = [p for p in args.paths if _is_url(p)]
    if not args.paths and not args.site and not args.feed:
        args.parser.error("nothing to ingest: name a PATH or an article URL, or use --site or --feed")
    if urls or args.site or args.feed:
        return _ingest_live(args, urls)
    paths = check_paths(args.paths)
    db = str(resolve_db_path(args.db))
    open_migrated(db)  # fail fast, with one clean line, before Prefect starts
    _quiet_prefect(args.verbose)
    from flows.server import prefect_api, without_heartbeats

    task_runner = "dask" if args.dask_address else args.task_runner
    # prefect_api before Prefect loads: it reads its API URL at import.
    with prefect_api(ephemeral=args.ephemeral), without_heartbeats():
        from flows.runners import ingest_flow

        flow = ingest_flow(task_runner, dask_address=args.dask_address, workers=args.workers)
        summary = flow(
            paths=paths,
            db=db,
            batch_size=args.batch_size,
            workers=args.workers,
            show_progress=sys.stderr.isatty(),
            lock_wait_seconds=args.wait,
            hosts=args.host,
            task_runner=task_runner,
        )
    print_summary(summary)
    return EXIT_OK


def _add_site_options(ingest: argparse.ArgumentParser) -> None:
    from flows.site_options import add_site_options

    add_site_options(ingest)


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _ingest_live(args: argparse.Namespace, urls: list[str]) -> int:
    from flows.site_options import fetch_config, print_site_summary, site_url

    site = site_url(args.site) if args.site else None
    feeds = [site_url(f) for f in args.feed]
    urls = [site_url(u) for u in urls]
    paths = check_paths([p for p in args.paths if not _is_url(p)])
    db = str(resolve_db_path(args.db))
    open_migrated(db)
    _quiet_prefect(args.verbose)
    from flows.server import prefect_api, without_heartbeats

    with prefect_api(ephemeral=args.ephemeral), without_heartbeats():
        from flows.site import ingest_site

        summary = ingest_site(
            site=site,
            feeds=feeds,
            urls=urls,
            paths=paths,
            db=db,
            list_pages_limit=args.list_pages,
            refresh=args.refresh,
            config=fetch_config(args),
            batch_size=args.batch_size,
            workers=args.workers,
            show_progress=sys.stderr.isatty(),
            lock_wait_seconds=args.wait,
        )
    print_summary(summary)
    print_site_summary(summary)
    if summary.unreachable:
        print(f"breaknews: site unreachable, nothing fetched: {summary.unreachable}", file=sys.stderr)
        return EXIT_UNREACHABLE
    return EXIT_OK


def cmd_server(args: argparse.Namespace) -> int:
    from flows import server

    if args.action == "start":
        info, started = server.start()
        verb = "started" if started else "already running"
        print(f"Prefect server {verb} at {info.ui} (pid {info.pid}); API {info.url}; log {info.log}")
        return EXIT_OK
    if args.action == "stop":
        stopped = server.stop()
        print(f"Prefect server (pid {stopped.pid}) stopped" if stopped else "no kept Prefect server was running")
        return EXIT_OK
    running = server.status()
    if running is None:
        print("no kept Prefect server is running (the next `breaknews ingest` starts one)")
        return EXIT_FAILED
    print(f"Prefect server running at {running.ui} (pid {running.pid}); API {running.url}; log {running.log}")
    return EXIT_OK


def print_summary(summary: Any) -> None:
    c = summary.counts
    out = sys.stdout
    out.write(f"ingest run {summary.run_id} {summary.status} in {summary.seconds:.1f} s → {summary.db}\n")
    out.write(f"  pages seen:   {c.pages_seen} ({c.pages_skipped} skipped as already stored)\n")
    out.write(f"  articles:     {c.articles_new} new, {c.articles_updated} updated, {c.articles_unchanged} unchanged\n")
    out.write(f"  translation:  {c.with_translation} with, {c.without_translation} without\n")
    records = getattr(summary, "source_counts", None) or {}
    if records:
        out.write(
            f"  warc records: {records['records_read']} read; skipped {records['records_other_host']} of other hosts,"
            f" {records['records_revisit']} revisits, {records['records_not_html']} not HTML,"
            f" {records['records_not_ok']} not HTTP 2xx\n"
        )
    out.write(f"  failures:     {c.failures}\n")
    for source, stage, reason in summary.failures[:_FAILURES_SHOWN]:
        out.write(f"    [{stage}] {source}: {reason}\n")
    if len(summary.failures) > _FAILURES_SHOWN:
        out.write(
            f"    … and {len(summary.failures) - _FAILURES_SHOWN} more: breaknews query "
            f"\"SELECT source, stage, reason FROM ingest_failures WHERE run_id = '{summary.run_id}'\"\n"
        )


def cmd_reextract(args: argparse.Namespace) -> int:
    db = str(resolve_db_path(args.db))
    if not os.path.exists(db):
        raise WarehouseError(f"no warehouse at {db}: nothing to re-extract")
    open_migrated(db)
    _quiet_prefect(args.verbose)
    from flows.server import prefect_api, without_heartbeats

    with prefect_api(), without_heartbeats():
        from flows.reextract import reextract_pages

        summary = reextract_pages(
            db=db, everything=args.everything, workers=args.workers, show_progress=sys.stderr.isatty()
        )
    print_summary(summary)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from flows.site_options import DEFAULT_SITE, fetch_config, site_url

    paths = check_paths(args.paths)
    if args.interval is not None and args.interval <= 0:
        raise SourceError("--interval must be a positive number of seconds")
    site = args.site or (None if paths or args.feed else DEFAULT_SITE)  # nothing named: the live site
    live = {
        "site": site_url(site) if site else None,
        "feeds": [site_url(f) for f in args.feed],
        "list_pages": args.list_pages,
        "refresh": args.refresh,
        "fetch": asdict(fetch_config(args)),
    }
    db = str(resolve_db_path(args.db))
    open_migrated(db)
    _quiet_prefect(args.verbose)
    from flows.serve import serve

    # Ctrl-C, or SIGTERM handled by Prefect's runner: in-flight runs are cancelled, the server stopped.
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        serve(
            db=db,
            paths=[os.path.abspath(p) for p in paths],
            cron=args.cron,
            interval=args.interval,
            live=live,
        )
    print("breaknews serve: stopped", file=sys.stderr)
    return EXIT_OK


_RUNS_SQL = """
SELECT run_id, command, status, started_at, ended_at, pages_seen, pages_skipped, articles_new, articles_updated,
       articles_unchanged, failures, with_translation, without_translation, flow_run_id, message
FROM ingest_runs ORDER BY started_at DESC LIMIT ?
"""


def cmd_runs(args: argparse.Namespace) -> int:
    return _print_query(args.db, _RUNS_SQL, [args.limit], args.format)


def cmd_query(args: argparse.Namespace) -> int:
    return _print_query(args.db, args.sql, None, args.format)


def _print_query(db: str | None, sql: str, params: list[Any] | None, fmt: str) -> int:
    con = connect(resolve_db_path(db), read_only=True, wait_seconds=10.0)
    try:
        import duckdb

        try:
            relation = con.sql(sql, params=params) if params else con.sql(sql)
        except duckdb.Error as exc:
            raise WarehouseError(f"query failed: {exc}") from exc
        if relation is None:
            return EXIT_OK
        if fmt == "table":
            relation.show(max_width=_terminal_width(), max_rows=10_000)
            return EXIT_OK
        columns = relation.columns
        rows = relation.fetchall()
    finally:
        con.close()
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        json.dump(records, sys.stdout, ensure_ascii=False, default=str, indent=1)
        sys.stdout.write("\n")
    return EXIT_OK


def _terminal_width() -> int:
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except OSError:
        return 160


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except SourceError as exc:
        print(f"breaknews: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (BreaknewsError, WarehouseError) as exc:
        print(f"breaknews: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("breaknews: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # e.g. Prefect's API failing to start: one line, unless debugging
        if os.environ.get("BREAKNEWS_DEBUG"):
            raise
        print(f"breaknews: error: {type(exc).__name__}: {exc} (set BREAKNEWS_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_FAILED


def run() -> NoReturn:
    """The `breaknews` console script: main(), then exit without the last garbage collection.
    Python's shutdown walks every object Prefect and pydantic created (0.3-0.4 s of every command
    here); frozen, they are left to the process's end. Files and connections are closed by then."""
    code = main()
    sys.stdout.flush()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
