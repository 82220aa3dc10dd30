"""One handler per command: turn parsed arguments into one call, print what it returns.

Handlers import what they run only when called, so `breaknews --help` and a usage error cost no
Prefect import. Prefect's logging settings are set before the first Prefect import (it reads them then).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from urllib.parse import urlsplit

from breaknews.flows.cli import output
from breaknews.tasks.http import FetchConfig
from breaknews.tasks.read import check_paths, is_warc_path, is_warc_url
from breaknews.tasks.remote import is_remote
from breaknews.warehouse.connect import resolve_db_path
from breaknews.warehouse.errors import UsageError, WarehouseError
from breaknews.warehouse.handle import Warehouse, open_warehouse
from breaknews.warehouse.migrate import open_migrated

EXIT_OK = 0
EXIT_FAILED = 1
# Try again later: live ingestion could not reach the site at all, or an archive's download broke off or was
# refused (the run is still recorded, with what it did; the same command again resumes what is missing).
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130  # as a shell reports a command that SIGINT (Ctrl-C) stopped
# Prefect's background services log "Still processing items: N items remaining..." as a WARNING
# while they drain at exit (events and logs still queued for the API): noise, not a problem of the run.
_DRAINING_SERVICES = ("EventsWorker", "APILogWorker")


def _quiet_prefect() -> None:
    """Before Prefect loads, through Prefect's documented logging settings: no INFO records (they would
    bury the summary, fill pipes and the API), and nothing of Prefect's on the terminal below CRITICAL.
    The command prints its one line for every outcome itself: a failure, or on Ctrl-C and SIGTERM the
    run recorded cancelled (Prefect's run loggers would add "Crash detected!" ERROR blocks). The run
    loggers still send warnings and errors to Prefect's API, so the UI keeps them; `-v` shows all."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    for name in _DRAINING_SERVICES:
        logging.getLogger(name).setLevel(logging.ERROR)


@contextmanager
def _command_warehouse(db: str | None, wait_seconds: float = 0.0) -> Iterator[Warehouse]:
    """The warehouse the command writes, opened here (locked, created, migrated) before Prefect is
    even imported: a busy or broken warehouse fails in well under a second, in one line. The command
    hands it to its flow, which neither locks nor migrates it again."""
    with open_warehouse(resolve_db_path(db), wait_seconds) as warehouse:
        _hint_old_storage(warehouse, warehouse.storage_version)
        yield warehouse


@contextmanager
def _flow_run(*, verbose: bool, ephemeral: bool = False) -> Iterator[None]:
    """The Prefect a command's flow runs under: quiet unless ``verbose``, on the kept server (or an
    ephemeral one), and without heartbeats for a run that ends with the command."""
    _set_logging(verbose)
    from breaknews.flows.heartbeats import without_heartbeats
    from breaknews.flows.prefect_api import prefect_api

    with prefect_api(ephemeral=ephemeral), without_heartbeats():
        yield


def _set_logging(verbose: bool) -> None:
    """Unless ``verbose``: Prefect quiet on the terminal (`_quiet_prefect`, before Prefect loads), nothing
    from the libraries extraction uses (trafilatura's `discarding data: None` says less than the failure
    the summary names)."""
    if not verbose:
        _quiet_prefect()
    from breaknews.tasks.library_logs import show_library_logs

    show_library_logs(verbose)


def _migrated_db(db: str | None) -> str:
    """The warehouse path, created and migrated (fails fast, one line), for a command that does not
    write it itself: `serve`, whose runs open it in processes of their own."""
    path = str(resolve_db_path(db))
    _hint_old_storage(path, open_migrated(path))
    return path


def _hint_old_storage(path: str, version: str | None) -> None:
    from breaknews.warehouse.connect import STORAGE_VERSION

    if version and version != STORAGE_VERSION:
        print(
            f"breaknews: note: {path} is in DuckDB's {version} storage format, which DuckDB clients before"
            f" {version.lstrip('v')} cannot open; `breaknews convert --db {path}` rewrites it as {STORAGE_VERSION}",
            file=sys.stderr,
        )


def cmd_convert(args: argparse.Namespace) -> int:
    from breaknews.warehouse.convert import convert_storage

    done = convert_storage(resolve_db_path(args.db), wait_seconds=args.wait)
    if done.backup is None:
        print(f"{done.path} is already in storage format {done.old_version}: nothing to do")
    else:
        print(
            f"{done.path}: {done.tables} tables, {done.rows} rows rewritten from storage format {done.old_version}"
            f" to {done.new_version}; the old file is kept as {done.backup}"
        )
    return EXIT_OK


def site_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL: {value}")
    return value.strip()


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


def cmd_ingest(args: argparse.Namespace) -> int:
    if not args.paths and not args.site and not args.feed and not args.warc_list:
        args.parser.error("nothing to ingest: name a PATH or an article URL, or use --site, --feed or --warc-list")
    archive_urls = [site_url(u) for u in args.paths if is_warc_url(u)]
    article_urls = [u for u in args.paths if is_remote(u) and not is_warc_path(u)]
    if article_urls or args.site or args.feed:
        if archive_urls or args.warc_list:
            raise UsageError(
                "archive URLs and --warc-list cannot share a run with live ingestion (--site, --feed,"
                " article URLs): run them one after the other"
            )
        return _ingest_live(args, article_urls)
    if args.warc_base and not args.warc_list:
        raise UsageError("--warc-base resolves the paths of a --warc-list: give one")
    check_paths([p for p in args.warc_list if not is_remote(p)])
    warc_lists = [site_url(p) if is_remote(p) else p for p in args.warc_list]
    paths = check_paths([p for p in args.paths if not is_remote(p)]) + archive_urls
    task_runner = "dask" if args.dask_address else args.task_runner
    with _command_warehouse(args.db, args.wait) as warehouse, _flow_run(verbose=args.verbose, ephemeral=args.ephemeral):
        from breaknews.flows.runners import ingest_flow

        flow = ingest_flow(task_runner, dask_address=args.dask_address, workers=args.workers)
        summary = flow(
            paths=paths,
            db=warehouse,
            batch_size=args.batch_size,
            workers=args.workers,
            show_progress=sys.stderr.isatty(),
            hosts=args.host,
            task_runner=task_runner,
            warc_lists=warc_lists,
            warc_base=args.warc_base,
            fetch=fetch_config(args),
            max_bytes=args.max_bytes,
            rescan=args.rescan,
        )
    output.print_summary(summary)
    output.print_nothing_found(summary, paths)
    not_downloaded = [source for source, stage, _ in summary.failures if stage == "fetch"]
    if not_downloaded:
        print(
            f"breaknews: {len(not_downloaded)} archive{'s' if len(not_downloaded) != 1 else ''} not read whole"
            f" (download failed: {not_downloaded[0]}{', …' if len(not_downloaded) > 1 else ''}); the same command"
            " again reads them, skipping the archives already read",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    return EXIT_OK


def _ingest_live(args: argparse.Namespace, urls: list[str]) -> int:
    site = site_url(args.site) if args.site else None
    feeds = [site_url(f) for f in args.feed]
    urls = [site_url(u) for u in urls]
    paths = check_paths([p for p in args.paths if not is_remote(p)])
    with _command_warehouse(args.db, args.wait) as warehouse, _flow_run(verbose=args.verbose, ephemeral=args.ephemeral):
        from breaknews.flows.site import ingest_site

        summary = ingest_site(
            site=site,
            feeds=feeds,
            urls=urls,
            paths=paths,
            db=warehouse,
            list_pages_limit=args.list_pages,
            refresh=args.refresh,
            config=fetch_config(args),
            batch_size=args.batch_size,
            workers=args.workers,
            show_progress=sys.stderr.isatty(),
        )
    output.print_summary(summary)
    output.print_site_summary(summary)
    if summary.unreachable:
        print(f"breaknews: site unreachable, nothing fetched: {summary.unreachable}", file=sys.stderr)
        return EXIT_UNREACHABLE
    return EXIT_OK


def cmd_reextract(args: argparse.Namespace) -> int:
    db = str(resolve_db_path(args.db))
    if not os.path.exists(db):
        raise WarehouseError(f"no warehouse at {db}: nothing to re-extract")
    with _command_warehouse(db) as warehouse, _flow_run(verbose=args.verbose):
        from breaknews.flows.reextract import reextract_pages

        summary = reextract_pages(
            db=warehouse, everything=args.everything, workers=args.workers, show_progress=sys.stderr.isatty()
        )
    output.print_summary(summary)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from breaknews.flows.cli.serve_session import in_own_session, run_in_own_session
    from breaknews.tasks.identify import SITE_URL

    if not in_own_session():  # the command in the terminal: the serve runs in a session of its own, at once
        ended = run_in_own_session(args.argv)
        if ended.signum is None and ended.code != EXIT_OK:
            return ended.code  # it failed, and said why
        print("breaknews serve: stopped", file=sys.stderr)
        return EXIT_INTERRUPTED if ended.signum == signal.SIGINT else EXIT_OK
    paths = check_paths(args.paths)
    if args.interval is not None and args.interval <= 0:
        raise UsageError("--interval must be a positive number of seconds")
    site = args.site or (None if paths or args.feed else SITE_URL)  # nothing named: the live site
    live = {
        "site": site_url(site) if site else None,
        "feeds": [site_url(f) for f in args.feed],
        "list_pages": args.list_pages,
        "refresh": args.refresh,
        "fetch": asdict(fetch_config(args)),
    }
    db = _migrated_db(args.db)
    _set_logging(args.verbose)
    from breaknews.flows.prefect_api import serving_api

    with serving_api():
        from breaknews.flows.schedule import plan, serve  # after serving_api: the API it serves on is set

        paths = [os.path.abspath(p) for p in paths]
        stopped_by = serve(plan(db=db, paths=paths, cron=args.cron, interval=args.interval, live=live))
    return EXIT_INTERRUPTED if stopped_by == signal.SIGINT else EXIT_OK


def cmd_server(args: argparse.Namespace) -> int:
    from breaknews.flows import kept_server as server

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


def cmd_runs(args: argparse.Namespace) -> int:
    from breaknews.warehouse.read.query import RECENT_RUNS_SQL

    return _print_query(args.db, RECENT_RUNS_SQL, [args.limit], args.format)


def cmd_query(args: argparse.Namespace) -> int:
    return _print_query(args.db, args.sql, None, args.format, allow_files=args.allow_files)


def _print_query(db: str | None, sql: str, params: list[object] | None, fmt: str, *, allow_files: bool = False) -> int:
    from breaknews.warehouse.read.query import read_connection, run_query

    with read_connection(db, allow_files=allow_files) as con:
        relation = run_query(con, sql, params)
        if relation is None:
            return EXIT_OK
        if fmt == "table":
            relation.show(max_width=output.terminal_width(), max_rows=10_000)
            return EXIT_OK
        columns, rows = relation.columns, relation.fetchall()
    output.print_rows(columns, rows, fmt)
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    from breaknews.warehouse.read.query import read_connection
    from breaknews.warehouse.read.search import search_articles

    with read_connection(args.db) as con:
        hits = search_articles(con, args.text, lang=args.lang, limit=args.limit)
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
    from breaknews.warehouse.read.report import write_report

    write_report(args.db, args.out)
    print(f"report → {args.out}")
    return EXIT_OK


def cmd_export_pairs(args: argparse.Namespace) -> int:
    from breaknews.warehouse.read.export import PairFilter, export_pairs

    count = export_pairs(args.db, args.format, args.out, PairFilter(args.min_score, args.since))
    print(f"{count} pairs → {args.out}")
    return EXIT_OK


def cmd_export_articles(args: argparse.Namespace) -> int:
    from breaknews.warehouse.read.export import export_articles

    count = export_articles(args.db, args.format, args.out)
    print(f"{count} articles → {args.out}")
    return EXIT_OK


def cmd_align(args: argparse.Namespace) -> int:
    from breaknews.flows.realign import realign

    with _command_warehouse(args.db) as warehouse:
        articles, pairs = realign(warehouse)
    print(f"{pairs} pairs for {articles} translated articles")
    return EXIT_OK
