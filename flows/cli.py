"""The `breaknews` command. Thin: parse arguments, call a flow or the warehouse, turn typed errors
into one clean line and an exit code (0 done, 1 warehouse or run failure, 2 usage error)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import flows  # noqa: F401  (sets Prefect's telemetry switches before Prefect can load)
from tasks.errors import BreaknewsError
from tasks.sources import SourceError, check_paths
from warehouse.connect import connect, open_migrated, resolve_db_path
from warehouse.errors import WarehouseError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_FAILURES_SHOWN = 20


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="breaknews",
        description="Turn BreakNews pages into a queryable Korean–English archive in DuckDB.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser("ingest", help="ingest saved pages (files or folders) into the warehouse")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="a saved page, or a folder searched recursively")
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
    ingest.set_defaults(handler=cmd_ingest)

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
    return parser


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
    paths = check_paths(args.paths)
    db = str(resolve_db_path(args.db))
    open_migrated(db)  # fail fast, with one clean line, before Prefect starts
    _quiet_prefect(args.verbose)
    from flows.server import prefect_api

    task_runner = "dask" if args.dask_address else args.task_runner
    with prefect_api(ephemeral=args.ephemeral):  # before Prefect loads: it reads its API URL at import
        from flows.runners import ingest_flow

        flow = ingest_flow(task_runner, dask_address=args.dask_address, workers=args.workers)
        summary = flow(
            paths=paths,
            db=db,
            batch_size=args.batch_size,
            workers=args.workers,
            show_progress=sys.stderr.isatty(),
            lock_wait_seconds=args.wait,
            task_runner=task_runner,
        )
    print_summary(summary)
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
    out.write(f"  failures:     {c.failures}\n")
    for source, stage, reason in summary.failures[:_FAILURES_SHOWN]:
        out.write(f"    [{stage}] {source}: {reason}\n")
    if len(summary.failures) > _FAILURES_SHOWN:
        out.write(
            f"    … and {len(summary.failures) - _FAILURES_SHOWN} more: breaknews query "
            f"\"SELECT source, stage, reason FROM ingest_failures WHERE run_id = '{summary.run_id}'\"\n"
        )


def cmd_query(args: argparse.Namespace) -> int:
    con = connect(resolve_db_path(args.db), read_only=True, wait_seconds=10.0)
    try:
        import duckdb

        try:
            relation = con.sql(args.sql)
        except duckdb.Error as exc:
            raise WarehouseError(f"query failed: {exc}") from exc
        if relation is None:
            return EXIT_OK
        if args.format == "table":
            relation.show(max_width=_terminal_width(), max_rows=10_000)
            return EXIT_OK
        columns = relation.columns
        rows = relation.fetchall()
    finally:
        con.close()
    if args.format == "csv":
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


if __name__ == "__main__":
    sys.exit(main())
