"""Write a batch of page results into the warehouse in one transaction: the SQL of the load stage
(`tasks/load.py` decides what to write and when; this module knows the tables).

Idempotent by construction: an article whose extracted content is unchanged (or matches one of its
earlier revisions) gets only its last_seen_at (and the extractor version that vouched for it)
touched; a changed article gets a new revision, its paragraphs and captions replaced, and its old
text kept in article_revisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from breaknews.warehouse import runs
from breaknews.warehouse.models import ArchiveRead, Article, LoadCounts, PageResult
from breaknews.warehouse.rows import append_rows, ids_param, pair_row

_ARTICLE_COLUMNS = [
    "article_id",
    "host_family",
    "uid",
    "url",
    "identity_source",
    "title_ko",
    "title_en",
    "subtitle",
    "reporter",
    "reporter_role",
    "reporter_email",
    "bureau",
    "section",
    "section_code",
    "published_at",
    "modified_at",
    "body_ko",
    "body_en",
    "byline_en",
    "has_translation",
    "split_method",
    "lead_image_url",
    "skin",
    "paragraphs_ko",
    "paragraphs_en",
    "content_sha256",
    "revision",
    "page_sha256",
    "extractor_version",
    "first_seen_at",
    "last_seen_at",
    "updated_at",
    "run_id",
]
_RAW_COLUMNS = [
    "page_sha256",
    "source",
    "source_kind",
    "url",
    "byte_size",
    "compression",
    "content",
    "charset",
    "charset_source",
    "http_status",
    "etag",
    "last_modified",
    "content_type",
    "status",
    "article_id",
    "extractor_version",
    "fetched_at",
    "first_seen_at",
    "last_seen_at",
    "run_id",
]


@dataclass
class _State:
    content_sha256: str
    revision: int
    first_seen_at: datetime


def write_batch(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    results: Sequence[PageResult],
    extractor_version: str,
    seen: Mapping[str, bool] | None = None,
    archives: Sequence[ArchiveRead] = (),
) -> LoadCounts:
    """Write one batch atomically: raw pages, articles and parts, revisions, failures, run counts, and
    the archive files whose last pages are in it. ``extractor_version`` is the version the run
    extracts with: it vouches for the pages it saw. ``seen`` is what the run's earlier batches saw
    (article_id -> has an English version): the batch's translation counts are its change to the run's
    distinct-article totals."""
    now = datetime.now(UTC)
    counts = LoadCounts(pages_seen=len(results))
    con.execute("BEGIN")
    try:
        _load(con, run_id, results, now, counts, extractor_version)
        _count_translations(counts, seen or {})
        runs.add_counts(con, run_id, counts.as_columns())
        runs.record_archive_files(con, run_id, archives, now)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def _count_translations(counts: LoadCounts, seen: Mapping[str, bool]) -> None:
    """The batch's change to the run's count of distinct articles with and without an English
    version: new to the run, +1 on one side; seen before with the other answer, moved across."""
    for article_id, translated in counts.translation_seen.items():
        before = seen.get(article_id)
        if before is translated:
            continue
        if before is not None:
            counts.with_translation -= before
            counts.without_translation -= not before
        counts.with_translation += translated
        counts.without_translation += not translated


def _load(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    results: Sequence[PageResult],
    now: datetime,
    counts: LoadCounts,
    extractor_version: str,
) -> None:
    """The batch's writes, in order: skipped pages seen again, the raw pages, new and changed articles
    (their parts and revisions), unchanged ones vouched for, moved ones retired, the failures."""
    _count_skipped(con, results, now, counts)
    ok = [r for r in results if r.article is not None]
    state, past = _stored_state(con, ok)
    plan = _plan(ok, state, past, counts, now, run_id)
    page_articles = _store_raw_pages(con, run_id, results, now, extractor_version)
    _write_plan(con, run_id, plan, state, now, extractor_version)
    _retire_moved(con, page_articles, counts)
    _record_failures(con, run_id, results, now, counts)


@dataclass
class _Plan:
    """What a batch's articles need: which to (re)write, their revisions, which had parts before."""

    final: dict[str, tuple[Article, str]] = field(default_factory=dict)  # article_id -> (article, page sha)
    revisions: list[tuple[object, ...]] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)  # changed articles: their old parts go
    touched: set[str] = field(default_factory=set)  # unchanged articles seen again


def _count_skipped(
    con: duckdb.DuckDBPyConnection, results: Sequence[PageResult], now: datetime, counts: LoadCounts
) -> None:
    # Every skipped page counts as an unchanged article (a 304 whose stored page is unknown included);
    # the stored ones are touched and tell which article they are.
    counts.pages_skipped += sum(r.skipped for r in results)
    counts.articles_unchanged += sum(r.skipped for r in results)
    skipped = [r.page_sha256 for r in results if r.skipped and r.page_sha256]
    if skipped:
        _touch_skipped(con, skipped, now, counts)


def _stored_state(
    con: duckdb.DuckDBPyConnection, ok: Sequence[PageResult]
) -> tuple[dict[str, _State], set[tuple[str, str]]]:
    """The stored state of the batch's articles, and every (article, content) they ever had."""
    ids = sorted({r.article.article_id for r in ok if r.article})
    state: dict[str, _State] = {}
    past: set[tuple[str, str]] = set()
    if ids:
        for article_id, sha, revision, first_seen in con.execute(
            "SELECT article_id, content_sha256, revision, first_seen_at FROM articles"
            " WHERE article_id IN (SELECT unnest(?))",
            ids_param(ids),
        ).fetchall():
            state[article_id] = _State(sha, revision, first_seen)
        past = set(
            con.execute(
                "SELECT article_id, content_sha256 FROM article_revisions WHERE article_id IN (SELECT unnest(?))",
                ids_param(ids),
            ).fetchall()
        )
    return state, past


def _plan(
    ok: Sequence[PageResult],
    state: dict[str, _State],
    past: set[tuple[str, str]],
    counts: LoadCounts,
    now: datetime,
    run_id: str,
) -> _Plan:
    """Each article judged new, changed (a new revision) or unchanged (its content now or once before) and
    counted; ``state`` and ``past`` are updated as it goes, so an article twice in the batch is judged
    against what its first page made of it."""
    plan = _Plan()
    seen_translation = counts.translation_seen
    for result in ok:
        article = result.article
        assert article is not None and result.page_sha256 is not None
        current = state.get(article.article_id)
        key = (article.article_id, article.content_sha256)
        if current is None:
            counts.articles_new += 1
            counts.new_article_ids.append(article.article_id)
            state[article.article_id] = _State(article.content_sha256, 1, now)
        elif article.content_sha256 == current.content_sha256 or key in past:
            counts.articles_unchanged += 1
            plan.touched.add(article.article_id)
            seen_translation[article.article_id] = article.has_translation
            continue
        else:
            counts.articles_updated += 1
            current.content_sha256 = article.content_sha256
            current.revision += 1
            plan.replaced.add(article.article_id)
        past.add(key)
        seen_translation[article.article_id] = article.has_translation
        plan.final[article.article_id] = (article, result.page_sha256)
        plan.revisions.append(
            _revision_row(article, state[article.article_id].revision, result.page_sha256, now, run_id)
        )
    return plan


def _revision_row(article: Article, revision: int, page_sha: str, now: datetime, run_id: str) -> tuple[object, ...]:
    return (
        article.article_id,
        revision,
        article.content_sha256,
        page_sha,
        article.extractor_version,
        article.title_ko,
        article.title_en,
        article.body_ko,
        article.body_en,
        now,
        run_id,
    )


def _write_plan(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    plan: _Plan,
    state: dict[str, _State],
    now: datetime,
    extractor_version: str,
) -> None:
    """New and changed articles written (a changed one's old parts deleted first) with their revisions;
    unchanged ones vouched for by this extractor."""
    replaced_ids = sorted(plan.replaced & state.keys())
    if replaced_ids:
        _delete_articles(con, replaced_ids, _PART_TABLES)
    if plan.final:
        _write_articles(con, run_id, plan.final, state, now)
        append_rows(con, "article_revisions", plan.revisions)
    seen_unchanged = sorted(plan.touched - plan.final.keys())
    if seen_unchanged:
        # The current extractor produced the same content: it now vouches for the article.
        con.execute(
            "UPDATE articles SET last_seen_at = ?, extractor_version = ? WHERE article_id IN (SELECT unnest(?))",
            [now, extractor_version, seen_unchanged],
        )


def _record_failures(
    con: duckdb.DuckDBPyConnection, run_id: str, results: Sequence[PageResult], now: datetime, counts: LoadCounts
) -> None:
    failures = [(run_id, r.source, r.url, r.page_sha256, r.stage, r.reason, now) for r in results if r.failed]
    counts.failures += len(failures)
    append_rows(con, "ingest_failures", failures)


# An article's parts, replaced wholesale when it changes.
_PART_TABLES = ("paragraphs", "captions", "paragraph_pairs")


def _delete_articles(con: duckdb.DuckDBPyConnection, ids: Sequence[str], tables: Sequence[str]) -> None:
    for table in tables:
        con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT unnest(?))", ids_param(ids))


def _retire_moved(con: duckdb.DuckDBPyConnection, page_articles: Mapping[str, str | None], counts: LoadCounts) -> None:
    """Articles whose current page now yields another article are retired: a newer extractor found the page's
    real identity (a mirror's page once stored as ``content:…`` is ``www:878313`` now), so the old row would be
    the same article twice. Their rows and parts go; `article_revisions` keeps their history. A page that now
    fails retires nothing: a failure is no better identity, and an extractor bug must not empty the warehouse.
    ``page_articles``: the batch's stored pages and the article each yields now (None: it failed)."""
    articles_now = {sha: article_id for sha, article_id in page_articles.items() if article_id is not None}
    if not articles_now:
        return
    moved = [
        article_id
        for article_id, sha in con.execute(
            "SELECT article_id, page_sha256 FROM articles WHERE page_sha256 IN (SELECT unnest(?))",
            ids_param(sorted(articles_now)),
        ).fetchall()
        if articles_now[sha] != article_id
    ]
    if not moved:
        return
    _delete_articles(con, moved, (*_PART_TABLES, "articles"))
    counts.articles_retired += len(moved)


def _touch_skipped(con: duckdb.DuckDBPyConnection, shas: list[str], now: datetime, counts: LoadCounts) -> None:
    """Pages skipped as already extracted: their articles are unchanged and were seen again."""
    con.execute("UPDATE raw_pages SET last_seen_at = ? WHERE page_sha256 IN (SELECT unnest(?))", [now, shas])
    rows = con.execute(
        "SELECT a.article_id, a.has_translation FROM raw_pages p JOIN articles a USING (article_id)"
        " WHERE p.page_sha256 IN (SELECT unnest(?))",
        [shas],
    ).fetchall()
    counts.translation_seen.update(rows)
    ids = sorted({article_id for article_id, _ in rows})
    if ids:
        con.execute("UPDATE articles SET last_seen_at = ? WHERE article_id IN (SELECT unnest(?))", [now, ids])


def _store_raw_pages(
    con: duckdb.DuckDBPyConnection, run_id: str, results: Sequence[PageResult], now: datetime, extractor_version: str
) -> dict[str, str | None]:
    """Upsert the batch's pages; return each stored page's article now (None: the page failed)."""
    pages = {}
    for result in results:
        if result.stored is not None and result.stored.page_sha256 not in pages:
            pages[result.stored.page_sha256] = result
    if not pages:
        return {}
    # A page seen before keeps when it was fetched, first stored, and by which run.
    earlier = {
        sha: (fetched, first_seen, first_run)
        for sha, fetched, first_seen, first_run in con.execute(
            "SELECT page_sha256, fetched_at, first_seen_at, run_id FROM raw_pages"
            " WHERE page_sha256 IN (SELECT unnest(?))",
            [sorted(pages)],
        ).fetchall()
    }
    rows = []
    for sha, result in pages.items():
        page = result.stored
        assert page is not None
        fetched_at, first_seen_at, first_run_id = earlier.get(sha, (page.fetched_at, now, run_id))
        rows.append(
            (
                sha,
                page.source,
                page.source_kind,
                page.url,
                page.byte_size,
                "zlib",
                page.compressed,
                page.charset,
                page.charset_source,
                page.http_status,
                page.etag,
                page.last_modified,
                page.content_type,
                "article" if result.article is not None else "failed",
                result.article.article_id if result.article is not None else None,
                extractor_version,
                fetched_at,
                first_seen_at,
                now,
                first_run_id,
            )
        )
    append_rows(con, "raw_pages", rows, upsert=True, columns=_RAW_COLUMNS)
    return {sha: result.article.article_id if result.article is not None else None for sha, result in pages.items()}


def _write_articles(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    final: dict[str, tuple[Article, str]],
    state: dict[str, _State],
    now: datetime,
) -> None:
    article_rows: list[tuple[object, ...]] = []
    paragraph_rows: list[tuple[object, ...]] = []
    caption_rows: list[tuple[object, ...]] = []
    pair_rows: list[tuple[object, ...]] = []
    for article_id, (a, page_sha) in final.items():
        st = state[article_id]
        article_rows.append(
            (
                a.article_id,
                a.host_family,
                a.uid,
                a.url,
                a.identity_source,
                a.title_ko,
                a.title_en,
                a.subtitle,
                a.reporter,
                a.reporter_role,
                a.reporter_email,
                a.bureau,
                a.section,
                a.section_code,
                a.published_at,
                a.modified_at,
                a.body_ko,
                a.body_en,
                a.byline_en,
                a.has_translation,
                a.split_method,
                a.lead_image_url,
                a.skin,
                len(a.paragraphs_ko),
                len(a.paragraphs_en),
                a.content_sha256,
                st.revision,
                page_sha,
                a.extractor_version,
                st.first_seen_at,
                now,
                now,
                run_id,
            )
        )
        for lang, paragraphs in (("ko", a.paragraphs_ko), ("en", a.paragraphs_en)):
            paragraph_rows.extend((a.article_id, lang, i, text) for i, text in enumerate(paragraphs))
        caption_rows.extend((a.article_id, c.lang, c.position, c.text, c.credit, c.image_url) for c in a.captions)
        pair_rows.extend(pair_row(a.article_id, p) for p in a.pairs)
    append_rows(con, "articles", article_rows, upsert=True, columns=_ARTICLE_COLUMNS)
    append_rows(con, "paragraphs", paragraph_rows)
    append_rows(con, "captions", caption_rows)
    append_rows(con, "paragraph_pairs", pair_rows)
