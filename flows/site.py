"""Live ingestion: discover articles on the site (feed + list pages), fetch the ones not yet stored,
and feed them, with saved files if any, to the shared `run_ingest`. The work is `ingest_site_into`,
given the opened warehouse; the `ingest-site` flow is a thin layer over it.

Fetching is async (httpx) inside a few Prefect tasks: one `discover` task, then one `fetch-batch` task
per batch of URLs. Two batches are in flight at a time on the fetcher's shared per-host limits, so
there is no lull at batch edges, and the batches feed `run_ingest` through a generator, so
extraction and loading of earlier batches overlap fetching of later ones.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from breaknews.flows import signals
from breaknews.flows.engine import DEFAULT_BATCH_SIZE, IngestSummary, quiet_failure, run_ingest
from breaknews.flows.ingest import list_pages
from breaknews.tasks.decode import charset_from_content_type
from breaknews.tasks.discover import Discovery, Target, article_target, discover
from breaknews.tasks.fetch import Fetched, FetchOutcome, FetchStats, NotModified, SiteFetcher, Validators
from breaknews.tasks.http import FetchConfig
from breaknews.tasks.identify import DEFAULT_LIST_PAGES, ArticleRef
from breaknews.warehouse.connect import connect
from breaknews.warehouse.handle import Warehouse, writing
from breaknews.warehouse.models import Page, PageResult, WorkItem
from breaknews.warehouse.stored import StoredArticle, stored_articles

FETCH_BATCH_SIZE = 100
_BATCHES_IN_FLIGHT = 2


@dataclass
class SiteSummary(IngestSummary):
    discovered: int = 0  # distinct articles found (feeds, lists, named URLs)
    not_fetched: int = 0  # already stored, not downloaded again
    fetch: FetchStats = field(default_factory=FetchStats)
    unreachable: str | None = None  # set when the site could not be reached at all


@dataclass(frozen=True)
class _Job:
    url: str
    ref: ArticleRef | None  # None for a named URL that is not an article URL: fetched, never skipped

    @property
    def article_id(self) -> str | None:
        return self.ref.article_id if self.ref else None


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(fetcher: SiteFetcher, site: str | None, feeds: list[str], pages: int) -> Discovery:
    return fetcher.run(discover(fetcher, site, feeds, pages))


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_batch(fetcher: SiteFetcher, urls: list[str], validators: dict[str, Validators]) -> list[FetchOutcome]:
    return fetcher.fetch_many(urls, validators)


def _named_jobs(urls: Sequence[str]) -> list[_Job]:
    jobs = []
    for url in urls:
        target = article_target(url, url, "command line")
        if isinstance(target, Target):
            jobs.append(_Job(target.url, target.ref))
        else:
            jobs.append(_Job(url, None))
    return jobs


def _stored(warehouse: Warehouse, ids: list[str]) -> dict[str, StoredArticle]:
    with connect(warehouse, read_only=True, wait_seconds=30.0) as con:
        return stored_articles(con, ids)


def to_work_item(outcome: FetchOutcome, stored: StoredArticle | None, ref: ArticleRef | None = None) -> WorkItem:
    """The work item of a fetch outcome. A fetched page carries ``ref``, the article discovery found it
    as: identity keeps that uid whatever host the site was fetched from (a mirror, the loopback
    imitation), where the page's URL names no BreakNews article."""
    if isinstance(outcome, Fetched):
        return Page(
            source=outcome.url,
            source_kind="http",
            content=outcome.content,
            url=outcome.final_url,
            header_charset=charset_from_content_type(outcome.content_type),
            fetched_at=outcome.fetched_at,
            http_status=outcome.status,
            etag=outcome.etag,
            last_modified=outcome.last_modified,
            content_type=outcome.content_type,
            article_family=ref.family if ref else None,
            article_uid=ref.uid if ref else None,
        )
    if isinstance(outcome, NotModified):
        # 304: the stored page is still current; counted as a skipped page and an unchanged article.
        sha = stored.page_sha256 if stored else None
        return PageResult(source=outcome.url, page_sha256=sha, skipped=True, url=outcome.url)
    return PageResult(source=outcome.url, page_sha256=None, stage=outcome.stage, reason=outcome.reason, url=outcome.url)


def _work_items(
    files: list[str],
    found: Discovery,
    jobs: list[_Job],
    stored: dict[str, StoredArticle],
    refresh: bool,
    fetcher: SiteFetcher,
    summary_box: dict[str, int],
    batch_size: int,
) -> Iterator[WorkItem]:
    yield from files
    yield from found.failures
    to_fetch: list[_Job] = []
    validators: dict[str, Validators] = {}
    for job in jobs:
        known = stored.get(job.article_id) if job.article_id else None
        if known is None or known.page_sha256 is None:
            to_fetch.append(job)
        elif refresh:
            to_fetch.append(job)
            validators[job.url] = Validators(known.etag, known.last_modified)
        else:
            summary_box["not_fetched"] += 1
            yield PageResult(source=job.url, page_sha256=known.page_sha256, skipped=True, url=job.url)
    by_url = {job.url: job for job in to_fetch}

    def item(outcome: FetchOutcome) -> WorkItem:
        job = by_url.get(outcome.url)
        known = stored.get(job.article_id) if job and job.article_id else None
        return to_work_item(outcome, known, job.ref if job else None)

    in_flight: deque[Any] = deque()
    for start in range(0, len(to_fetch), batch_size):
        urls = [job.url for job in to_fetch[start : start + batch_size]]
        in_flight.append(fetch_batch.submit(fetcher, urls, {u: validators[u] for u in urls if u in validators}))
        if len(in_flight) >= _BATCHES_IN_FLIGHT:
            yield from (item(outcome) for outcome in signals.result(in_flight.popleft()))
    while in_flight:
        yield from (item(outcome) for outcome in signals.result(in_flight.popleft()))


@flow(name="ingest-site", validate_parameters=False)
@quiet_failure
def ingest_site(
    site: str | None = None,
    feeds: Sequence[str] = (),
    urls: Sequence[str] = (),
    paths: Sequence[str] = (),
    db: str | Warehouse | None = None,
    list_pages_limit: int = DEFAULT_LIST_PAGES,
    refresh: bool = False,
    config: FetchConfig | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    fetch_batch_size: int = FETCH_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
    lock_wait_seconds: float = 0.0,
) -> SiteSummary:
    """`ingest_site_into` as a flow run, into ``db``: the warehouse the caller holds, or a path opened
    (locked, waiting up to ``lock_wait_seconds``, and migrated) for the run."""
    with writing(db, lock_wait_seconds) as warehouse:
        return ingest_site_into(
            warehouse,
            site=site,
            feeds=feeds,
            urls=urls,
            paths=paths,
            list_pages_limit=list_pages_limit,
            refresh=refresh,
            config=config,
            batch_size=batch_size,
            fetch_batch_size=fetch_batch_size,
            workers=workers,
            show_progress=show_progress,
        )


def ingest_site_into(
    warehouse: Warehouse,
    *,
    site: str | None = None,
    feeds: Sequence[str] = (),
    urls: Sequence[str] = (),
    paths: Sequence[str] = (),
    list_pages_limit: int = DEFAULT_LIST_PAGES,
    refresh: bool = False,
    config: FetchConfig | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    fetch_batch_size: int = FETCH_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
) -> SiteSummary:
    """Ingest new articles from the live site (``site``), feeds, named article URLs and saved pages."""
    files, not_regular = list_pages(list(paths)) if paths else ([], [])
    allowed = [u for u in (site, *feeds, *urls) if u]
    with SiteFetcher(allowed, config) as fetcher:
        found = discover_task(fetcher, site, list(feeds), list_pages_limit) if (site or feeds) else Discovery()
        jobs = [_Job(t.url, t.ref) for t in found.targets]
        seen = {job.article_id for job in jobs}
        jobs += [job for job in _named_jobs(urls) if job.article_id is None or job.article_id not in seen]
        stored = _stored(warehouse, [job.article_id for job in jobs if job.article_id])
        box = {"not_fetched": 0}
        summary = run_ingest(
            warehouse,
            command="ingest",
            sources=" ".join([*(["--site " + site] if site else []), *(f"--feed {f}" for f in feeds), *urls, *paths]),
            items=_work_items(files, found, jobs, stored, refresh, fetcher, box, fetch_batch_size),
            total=len(files) + len(found.failures) + len(jobs),
            batch_size=batch_size,
            workers=workers,
            show_progress=show_progress,
            max_bytes=(config or FetchConfig()).max_bytes,
            not_regular=not_regular,
        )
        return SiteSummary(
            **vars(summary),
            discovered=len(jobs),
            not_fetched=box["not_fetched"],
            fetch=fetcher.stats,
            unreachable=found.unreachable,
        )


__all__ = ["SiteSummary", "ingest_site", "ingest_site_into"]
