"""The `breaknews` argument parser: every command and option, with its help. That help is the single
source of the command reference (docs/cli.md is rendered from it by `flows/cli/reference.py`).

Importing it loads neither Prefect nor the parsing libraries (lxml, feedparser, trafilatura), so `--help`,
`--version` and usage errors are quick.
"""

from __future__ import annotations

import argparse
import os
import platform
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from breaknews.flows.cli import commands
from breaknews.tasks.http import DEFAULT_MAX_BYTES, package_version
from breaknews.tasks.identify import DEFAULT_LIST_PAGES, SITE_URL
from breaknews.tasks.versions import ALIGNER_VERSION, EXTRACTOR_VERSION

PROG = "breaknews"
DESCRIPTION = "Turn BreakNews pages into a queryable Korean–English archive in DuckDB."
EPILOG = (
    "Every command has its own --help, with examples. Exit status: 0 done (page failures included), 1 the"
    " warehouse cannot be opened or written or a query fails, 2 usage error, 3 try again later (the site or"
    " an archive could not be reached), 130 interrupted (Ctrl-C); docs/exit-status.md has the details. The"
    " command reference is docs/cli.md; the guides start at docs/README.md."
)
# Descriptions are written as one paragraph and filled to this width (argparse keeps them as given, so
# that the examples below them keep their lines).
TEXT_WIDTH = 78


@dataclass(frozen=True)
class Command:
    """One command: its name (`export pairs` for a nested one), what `breaknews --help` says of it, the
    paragraph its own `--help` starts with, the examples it ends with, and what adds its arguments
    (None for a group of commands such as `export`)."""

    name: str
    summary: str
    description: str
    examples: tuple[str, ...]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None


def build_parser() -> argparse.ArgumentParser:
    """The parser of `breaknews` and every command."""
    return _build()[0]


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser by its full name (`ingest`, `export`, `export pairs`), in the order of
    COMMANDS; the top-level parser under `""`."""
    return _build()[1]


def _build() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG, description=DESCRIPTION, epilog=textwrap.fill(EPILOG, TEXT_WIDTH), formatter_class=formatter
    )
    parser.add_argument(
        "--version",
        action=_Version,
        help="print the version of breaknews, of its extractor and aligner, and of Prefect, DuckDB and"
        " trafilatura, then exit",
    )
    parsers = {"": parser}
    groups = {"": parser.add_subparsers(dest="command", required=True, metavar="COMMAND")}
    for command in COMMANDS:
        group, _, leaf = command.name.rpartition(" ")
        child = groups[group].add_parser(
            leaf,
            help=command.summary,
            description=textwrap.fill(command.description, TEXT_WIDTH),
            epilog=examples(command.examples),
            formatter_class=formatter,
        )
        if command.add_arguments is None:
            groups[command.name] = child.add_subparsers(dest="what", required=True, metavar="WHAT")
        else:
            command.add_arguments(child)
        parsers[command.name] = child
    return parser, parsers


def examples(lines: Sequence[str]) -> str:
    """A command's examples, as the end of its `--help` shows them."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


class _Version(argparse.Action):
    """`--version`, computed only when asked: reading the installed versions costs a few milliseconds."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option: str | None = None) -> None:
        print(version_text())  # on stdout, as argparse's own version action prints
        parser.exit()


def version_text() -> str:
    others = ", ".join(f"{name} {_installed(name)}" for name in ("prefect", "duckdb", "trafilatura"))
    return (
        f"breaknews {package_version()} (extractor {EXTRACTOR_VERSION}, aligner {ALIGNER_VERSION})\n"
        f"{others}, Python {platform.python_version()}"
    )


def _installed(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


# ---- the commands, in the order `breaknews --help` and the reference list them ----------------------


def _ingest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="a saved page (any name, any encoding), a WARC file (.warc, .warc.gz) or a folder, searched"
        " recursively for .html, .htm, .shtml and .xhtml files and WARC files; an http(s) URL whose path ends"
        " .warc or .warc.gz is an archive to stream, any other URL an article to fetch from the site. Only"
        " regular files (or symlinks to them) are read: a FIFO, socket or device is skipped unopened and"
        " named in the summary (`not files:`)",
    )
    _add_db(parser)
    parser.add_argument(
        "--batch-size",
        type=_positive,
        default=200,
        metavar="N",
        help="pages per extract/load batch (default 200); each batch is loaded in one short transaction",
    )
    _add_workers(parser)
    _add_wait(parser)
    _add_archive_options(parser)
    _add_runner_options(parser)
    _add_verbose(parser)
    add_site_options(parser)
    parser.set_defaults(handler=commands.cmd_ingest, parser=parser)


def _reextract(parser: argparse.ArgumentParser) -> None:
    _add_db(parser)
    parser.add_argument(
        "--all",
        dest="everything",
        action="store_true",
        help="re-extract every article's current page and every failed page, whatever version made it",
    )
    _add_workers(parser)
    _add_verbose(parser)
    parser.set_defaults(handler=commands.cmd_reextract)


def _serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="saved pages or folders to ingest on each run instead of the site (or as well, with --site)",
    )
    _add_db(parser)
    when = parser.add_mutually_exclusive_group()
    when.add_argument(
        "--cron",
        metavar="EXPR",
        default=None,
        help="a cron schedule in Korea time, e.g. '0 */2 * * *' (default '*/30 * * * *': every 30 minutes)",
    )
    when.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        default=None,
        help="run every SECONDS instead of on a cron schedule",
    )
    _add_verbose(parser)
    add_site_options(parser)
    parser.set_defaults(handler=commands.cmd_serve)


def _runs(parser: argparse.ArgumentParser) -> None:
    _add_db(parser, read_only=True)
    parser.add_argument("--limit", type=_positive, default=20, metavar="N", help="how many runs (default 20)")
    _add_format(parser)
    parser.set_defaults(handler=commands.cmd_runs)


def _server(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=("start", "stop", "status"),
        help="start: start the kept server now (or say it is already running); stop: stop it; status: print"
        " its address and pid (exit status 1 when none is running)",
    )
    parser.set_defaults(handler=commands.cmd_server)


def _query(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sql", metavar="SQL", help="the SQL to run, on the tables and views of docs/schema.md")
    _add_db(parser, read_only=True)
    _add_format(parser)
    parser.add_argument(
        "--allow-files",
        action="store_true",
        help="let the SQL read local files with functions such as read_csv, read_parquet or read_json"
        " (SELECT ... FROM read_csv('mine.csv') JOIN articles ...); nothing is written even then",
    )
    parser.set_defaults(handler=commands.cmd_query)


def _convert(parser: argparse.ArgumentParser) -> None:
    _add_db(parser)
    _add_wait(parser)
    parser.set_defaults(handler=commands.cmd_convert)


def _export_pairs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("jsonl", "parquet", "tmx"),
        required=True,
        help="jsonl: one JSON object per line; parquet: one Parquet file; tmx: TMX 1.4, UTF-8, srclang"
        " 'ko', one tu per pair (docs/exports.md says what it holds)",
    )
    _add_out(parser, "the file to write; its folder must exist")
    _add_db(parser, read_only=True)
    parser.add_argument(
        "--min-score",
        type=float,
        default=0.0,
        metavar="X",
        help="only pairs with a score of at least X (default 0: all); 0.6 drops most doubtful pairs (see"
        " paragraph_pairs.score)",
    )
    parser.add_argument(
        "--since",
        type=_date,
        default=None,
        metavar="DATE",
        help="only articles published on or after DATE (YYYY-MM-DD, Korea time)",
    )
    parser.set_defaults(handler=commands.cmd_export_pairs)


def _export_articles(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("jsonl", "parquet"),
        required=True,
        help="jsonl: one JSON object per line, in one file; parquet: a folder partitioned by month"
        " (PATH/month=2024-12/data_0.parquet): read it back with read_parquet('PATH/**/*.parquet',"
        " hive_partitioning = true)",
    )
    _add_out(
        parser,
        "the file (jsonl), or a new or empty folder (parquet: a folder with files in it is refused, nothing"
        " is deleted)",
    )
    _add_db(parser, read_only=True)
    parser.set_defaults(handler=commands.cmd_export_articles)


def _align(parser: argparse.ArgumentParser) -> None:
    _add_db(parser)
    parser.set_defaults(handler=commands.cmd_align)


def _search(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", metavar="TEXT", help="Korean and/or English words (at most 200 pieces)")
    parser.add_argument(
        "--lang",
        choices=("ko", "en"),
        default=None,
        help="ko: search the Korean title and body only; en: the English title and body only (Korean query"
        " words then match nothing)",
    )
    parser.add_argument("--limit", type=_positive, default=10, metavar="N", help="show the best N hits (default 10)")
    _add_db(parser, read_only=True)
    parser.set_defaults(handler=commands.cmd_search)


def _report(parser: argparse.ArgumentParser) -> None:
    _add_out(parser, "the HTML file to write; its folder must exist", metavar="FILE")
    _add_db(parser, read_only=True)
    parser.set_defaults(handler=commands.cmd_report)


COMMANDS: tuple[Command, ...] = (
    Command(
        "ingest",
        "ingest saved pages, WARC files, article URLs or the live site into the warehouse",
        "Ingest saved pages, web archives, article URLs, or the live site's new articles, and print a "
        "summary: articles new, updated and unchanged, with and without translation, and the pages that "
        "failed, with their stage and reason. Files and URLs mix freely in one run, but archive URLs and "
        "--warc-list run apart from live ingestion (--site, --feed, article URLs). Running the same pages"
        " again changes nothing. Guides: docs/ingesting.md, docs/live-site.md, docs/web-archives.md.",
        (
            "breaknews ingest samples                                   # the bundled sample pages",
            "breaknews ingest --site --contact you@example.org          # new articles from the site",
            "breaknews ingest https://www.breaknews.com/1063522 saved/  # one article and a folder",
            "breaknews ingest --warc-list https://data.commoncrawl.org/crawl-data/CC-NEWS/2024/03/warc.paths.gz \\",
            "    --warc-base https://data.commoncrawl.org/ --contact you@example.org  # a CC-NEWS month",
        ),
        _ingest,
    ),
    Command(
        "reextract",
        "re-extract stored raw pages with the current extractor (no network)",
        "Re-extract stored raw pages with the current extractor, without the network, and update the "
        "articles whose extraction changed (a new revision each; an unchanged article only records that "
        "the current extractor version vouched for it). This is how a parser fix reaches articles already"
        " in the warehouse. By default it re-reads the page behind each article's current revision that "
        "an older extractor version made, plus every page that failed under an older version. The run "
        "appears in ingest_runs with command 'reextract'. See docs/ingesting.md (after upgrading "
        "breaknews).",
        ("breaknews reextract", "breaknews reextract --all --db archive.duckdb"),
        _reextract,
    ),
    Command(
        "serve",
        "run the ingest on a schedule (Prefect), until Ctrl-C or SIGTERM",
        "Run the ingest on a schedule with Prefect until Ctrl-C or SIGTERM: one run at once, then by "
        "default every 30 minutes ('*/30 * * * *'), cron expressions read in Korea time (Asia/Seoul). "
        "Each run is what `breaknews ingest --site BASE_URL` does, with the fetching options below "
        "applied to every run; with no PATH or --feed, it serves https://www.breaknews.com. What it "
        "guarantees (no overlaps, catch-up, stopping): docs/serve.md.",
        (
            "breaknews serve --contact you@example.org",
            'breaknews serve --site https://www.breaknews.com --cron "0 * * * *" --db /srv/breaknews.duckdb',
            "breaknews serve saved/ --interval 600",
        ),
        _serve,
    ),
    Command(
        "runs",
        "show recent runs from the ledger",
        "Print the most recent runs from the ledger (ingest_runs), newest first: status, start and end, "
        "counts, the Prefect flow-run id and, for a failed run, why.",
        ("breaknews runs", "breaknews runs --limit 5 --format json"),
        _runs,
    ),
    Command(
        "server",
        "start, stop or show the local Prefect server kept between runs",
        "Runs are Prefect flows, and Prefect needs an API server: the one PREFECT_API_URL names (in the "
        "environment or your Prefect profile), else the local server breaknews keeps between runs, which "
        "the first run starts. This command starts, stops or shows the kept one; it has no options. See "
        "docs/serve.md.",
        ("breaknews server status", "breaknews server stop"),
        _server,
    ),
    Command(
        "query",
        "run SQL on a read-only connection",
        "Run SQL on a read-only connection and print the result; safe to hand to a colleague: the query "
        "can read the warehouse and nothing else. Writes, COPY, EXPORT DATABASE, ATTACH/DETACH, INSTALL "
        "and LOAD are refused, no extension is ever loaded, files outside the warehouse are not readable "
        "(unless --allow-files), and the connection's settings are locked before the SQL runs. Timestamps"
        " come back in Korea time. See docs/querying.md.",
        (
            'breaknews query "SELECT title_ko, title_en, published_at FROM articles ORDER BY published_at DESC"',
            'breaknews query "SELECT source, stage, reason FROM ingest_failures" --format csv',
        ),
        _query,
    ),
    Command(
        "convert",
        "rewrite the warehouse in the storage format every DuckDB client since 1.4 reads",
        "Rewrite a warehouse in the storage format every DuckDB client since 1.4 LTS reads (v1.4.0). A "
        "file created before breaknews set this format is copied whole into a new file (COPY FROM "
        "DATABASE: every table, view, row and comment), the row counts of every table are compared, and "
        "the new file takes the old one's place; the old file is kept beside it as FILE.v2.0.0-backup "
        "(delete it once you are satisfied). It holds the warehouse's write lock while it works and "
        "prints what it did; a warehouse already in the format is left untouched. See docs/warehouse.md.",
        ("breaknews convert", "breaknews convert --db old.duckdb --wait 60"),
        _convert,
    ),
    Command(
        "export",
        "write the corpus or the articles to JSON Lines, Parquet or TMX",
        "Write the parallel corpus (export pairs) or the articles (export articles) for other tools. An "
        "existing destination is replaced only once the export is complete, and never the warehouse: see "
        "docs/exports.md.",
        ("breaknews export pairs --format tmx --out corpus.tmx", "breaknews export articles --help"),
        None,
    ),
    Command(
        "export pairs",
        "aligned Korean–English pairs",
        "Write the aligned Korean–English pairs (paragraph_pairs, with each article's url and "
        "published_at) and print how many pairs it wrote.",
        (
            "breaknews export pairs --format tmx --out corpus.tmx --min-score 0.6",
            "breaknews export pairs --format parquet --out pairs.parquet --since 2024-01-01",
        ),
        _export_pairs,
    ),
    Command(
        "export articles",
        "the articles table",
        "Write the articles table (every column, plus month: YYYY-MM of publication in Korea time, or "
        "'unknown') and print how many articles it wrote.",
        (
            "breaknews export articles --format jsonl --out articles.jsonl",
            "breaknews export articles --format parquet --out articles/",
        ),
        _export_articles,
    ),
    Command(
        "align",
        "recompute the paragraph pairs of every translated article",
        "Recompute the pairs of every translated article from the paragraphs and captions already stored,"
        " in one transaction (for a warehouse loaded before paragraph_pairs existed, or after an aligner "
        "upgrade), and print how many pairs and articles. Ingest aligns new and changed articles by "
        "itself. See docs/alignment.md.",
        ("breaknews align", "breaknews align --db archive.duckdb"),
        _align,
    ),
    Command(
        "search",
        "ranked search over titles and bodies, Korean and English",
        "Search article titles and bodies, Korean and English, best first. Each hit shows its score, day,"
        " article_id, both titles and a snippet with the match in «». Korean words are found inside "
        "longer words and despite a particle on the query; English words match whole, case-insensitive. A"
        " query with more than 200 pieces, or with nothing searchable in it, is a usage error (exit "
        "status 2). How it matches and ranks: docs/querying.md.",
        ("breaknews search 수소", 'breaknews search "convenience store" --lang en --limit 5'),
        _search,
    ),
    Command(
        "report",
        "write a self-contained HTML report with charts and tables",
        "Write one self-contained HTML page (plotly.js and the styles are inside it, ~5 MB; it fetches "
        "nothing, so it opens offline and can be mailed) with totals, articles per day by bureau, "
        "translation coverage by month, pair scores, the top reporters and sections, and the latest "
        "articles. An existing file is replaced only once the report is complete. What it shows: "
        "docs/querying.md.",
        ("breaknews report --out report.html",),
        _report,
    ),
)


# ---- options shared by several commands -----------------------------------------------------------


def _add_db(parser: argparse.ArgumentParser, read_only: bool = False) -> None:
    parser.add_argument(
        "--db",
        metavar="FILE",
        default=None,
        help="the warehouse file (default: $BREAKNEWS_DB if set, else ./breaknews.duckdb; --db beats the"
        " variable). Its folder must exist" + ("; opened read-only" if read_only else ""),
    )


def _add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=_positive,
        default=None,
        metavar="N",
        help="extraction processes (default: all cores when there are 400 pages or more, one process below"
        " that: starting workers costs more than it saves on a few pages)",
    )


def _add_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="if another breaknews run is writing the same warehouse, wait up to this long for it instead"
        " of failing at once (default 0)",
    )


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show Prefect's own log lines (by default only its warnings) and those of the libraries"
        " extraction uses, such as trafilatura's 'discarding data: None' on a page it cannot read (by"
        " default none: such a page is named in the summary with its stage and reason anyway); passed on"
        " to the extraction processes in the environment variable BREAKNEWS_QUIET_LIBRARIES",
    )


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="table: a boxed table sized to the terminal (default); csv: CSV with a header row; json: a JSON"
        " array of objects, timestamps as text",
    )


def _add_out(parser: argparse.ArgumentParser, what: str, metavar: str = "PATH") -> None:
    parser.add_argument(
        "--out",
        metavar=metavar,
        required=True,
        help=f"{what}; an existing one is replaced only once the new one is complete, and the warehouse"
        " itself is refused (docs/exports.md)",
    )


def _add_runner_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task-runner",
        choices=("processes", "threads", "dask"),
        default="processes",
        help="where extraction runs. processes (default): a pool of worker processes owned by the run;"
        " threads: the flow's own threads (one core, no worker start-up); dask: each extract batch, and each"
        " archive file's scan, is a Prefect task run on a Dask cluster (Prefect's DaskTaskRunner; needs pip"
        " install 'breaknews[dask]'): the cluster at --dask-address, else a local cluster of --workers"
        " processes started for the run (docs/scaling.md)",
    )
    parser.add_argument(
        "--dask-address",
        metavar="ADDRESS",
        default=None,
        help="the scheduler of an existing Dask cluster (tcp://10.0.0.5:8786); implies --task-runner dask",
    )
    parser.add_argument(
        "--ephemeral",
        action="store_true",
        help="run on a temporary Prefect server started for this run only (Prefect's own default; 8-20 s"
        " slower to start, leaves nothing running) instead of the kept local one;"
        " BREAKNEWS_PREFECT_SERVER=ephemeral does the same for every run",
    )


def _add_archive_options(parser: argparse.ArgumentParser) -> None:
    archives = parser.add_argument_group("web archives (WARC)")
    archives.add_argument(
        "--host",
        action="append",
        default=None,
        metavar="HOST",
        help="from WARC files, keep the pages of HOST and its subdomains; repeat for several; '*' keeps"
        " every host. Default: the BreakNews hosts (breaknews.com, www., m., the regional and sister hosts)."
        " --host honam.breaknews.com narrows to one; --host breaknews.com --host example.com widens",
    )
    archives.add_argument(
        "--warc-list",
        action="append",
        default=[],
        metavar="FILE_OR_URL",
        help="also read the WARC files this list names: one path or URL a line, gzipped or not, blank"
        " lines and # comments ignored (the format of Common Crawl's warc.paths.gz); a file or an http(s)"
        " URL; repeatable (docs/web-archives.md)",
    )
    archives.add_argument(
        "--warc-base",
        default=None,
        metavar="URL",
        help="resolve the relative paths of --warc-list against this URL (for Common Crawl:"
        " https://data.commoncrawl.org/) or folder; without it they are relative to the list's own location",
    )
    archives.add_argument(
        "--rescan",
        action="store_true",
        help="read archive files again that an earlier run read to their end with the same --host filter"
        " (by default they are left out)",
    )


def add_site_options(parser: argparse.ArgumentParser) -> None:
    live = parser.add_argument_group("fetching (the live site, article URLs, archive URLs and lists)")
    live.add_argument(
        "--site",
        nargs="?",
        const=SITE_URL,
        default=None,
        metavar="BASE_URL",
        help="discover articles on the live site and fetch the ones not yet stored: from the feed"
        " BASE_URL/rss/rss_news.php and the all-articles list BASE_URL/sub_view.html and its numbered pages."
        f" Without a value: {SITE_URL} (then put it after any PATH, or argparse takes the path for the URL)",
    )
    live.add_argument(
        "--feed",
        action="append",
        default=[],
        metavar="URL",
        help="also read this RSS or Atom feed of articles (repeatable); its links must be on the --site host"
        " family (or, without --site, on the feed's own)",
    )
    live.add_argument(
        "--list-pages",
        type=_non_negative,
        default=DEFAULT_LIST_PAGES,
        metavar="N",
        help=f"how many pages of the all-articles list to read (default {DEFAULT_LIST_PAGES}, about 60"
        " articles; 0 reads the feed only); a backfill may ask for hundreds",
    )
    live.add_argument(
        "--refresh",
        action="store_true",
        help="revalidate already-stored articles instead of skipping them: ask with"
        " If-None-Match/If-Modified-Since; a 304 Not Modified counts as unchanged, a changed page makes a"
        " new revision",
    )
    live.add_argument(
        "--contact",
        default=os.environ.get("BREAKNEWS_CONTACT"),
        metavar="URL_OR_EMAIL",
        help="how the site's operators can reach you; sent in the User-Agent ('breaknews/VERSION"
        " (Korean-English news archiver; +you@example.org)'), also when streaming archives. Default:"
        " $BREAKNEWS_CONTACT",
    )
    live.add_argument(
        "--concurrency",
        type=_positive,
        default=4,
        metavar="N",
        help="requests in flight per host (default 4); for archive URLs, archive files streamed at once (on"
        " a Dask cluster; one at a time otherwise)",
    )
    live.add_argument(
        "--rate",
        type=_non_negative_float,
        default=2.0,
        metavar="PER_SECOND",
        help="request starts per second per host (default 2; 0 for no limit, for a local mirror only); a"
        " Crawl-delay in robots.txt slows this further",
    )
    live.add_argument(
        "--max-bytes",
        type=_positive,
        default=DEFAULT_MAX_BYTES,
        metavar="BYTES",
        help="largest page accepted (default 10 MiB), fetched, read from a file or in an archive record: a"
        " larger fetched page is cut off while streaming; a larger file is not read at all (stage read); a"
        " larger WARC record of a wanted host (its Content-Length, or its payload once decoded) fails with"
        " stage warc. Each is recorded as a failure before any parsing",
    )
    live.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="time limit of one request attempt, first byte to last (default 60; connecting gets at most"
        " 10 s, a silence in the body at most 30 s). An archive stream (hours for a CC-NEWS file) has no total"
        " limit; instead it must average 8 KiB/s over every window of SECONDS spent waiting on the network,"
        " or it is reopened where it stopped, and recorded as failed after --retries + 1 slow windows in a row",
    )
    live.add_argument(
        "--retries",
        type=_non_negative,
        default=3,
        metavar="N",
        help="further attempts after a connection error, a timeout, a 429 or a 5xx (default 3), with"
        " exponential backoff and jitter, waiting at least as long as Retry-After asks (up to 5 minutes; a"
        " longer wait fails the page). An archive stream that breaks is resumed where it broke; N attempts"
        " in a row without a byte of progress fail the file",
    )


# ---- value types ----------------------------------------------------------------------------------


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from exc


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
