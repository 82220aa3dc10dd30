"""The shared models, at the bottom of the import graph: plain data that flows from stage to stage
and into the warehouse. It imports nothing of breaknews; everything else may import it.

Everything here pickles, so a process pool or a Dask cluster can carry it between workers and the
loader.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import get_type_hints


@dataclass(frozen=True)
class Page:
    """Page bytes as received, and where they came from."""

    source: str  # file path or URL, as the user would recognise it
    source_kind: str  # "file" | "http" | "warc"
    content: bytes
    url: str | None = None  # the URL the bytes were fetched from, when known
    header_charset: str | None = None  # charset named by an HTTP Content-Type header
    fetched_at: datetime | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    # The article live ingestion fetched the page as (discovery found it under this host family and
    # uid), whatever the host it was fetched from: a mirror or the loopback imitation of the site.
    article_family: str | None = None
    article_uid: int | None = None


@dataclass(frozen=True)
class Block:
    """One line of article text in page order, as extraction hands it to the split; captions carry
    their photo."""

    text: str
    is_caption: bool = False
    image_url: str | None = None


@dataclass(frozen=True)
class Caption:
    lang: str  # "ko" | "en"
    position: int
    text: str
    credit: str | None
    image_url: str | None


@dataclass(frozen=True)
class ParagraphPair:
    """Korean paragraphs ko_first..ko_last (inclusive) and their English translation en_first..en_last."""

    kind: str  # "body" | "caption" | "title"
    position: int  # 0-based order among the article's pairs of this kind
    ko_first: int
    ko_last: int
    en_first: int
    en_last: int
    ko_text: str
    en_text: str
    score: float
    bead: str  # "1-1" | "2-1" | "1-2"
    method: str  # the aligner version


@dataclass(frozen=True)
class Article:
    """One extracted, split article, ready to load."""

    article_id: str
    host_family: str | None
    uid: int | None
    url: str | None
    identity_source: str
    title_ko: str
    title_en: str | None
    subtitle: str | None
    reporter: str | None
    reporter_role: str | None
    reporter_email: str | None
    bureau: str | None
    section: str | None
    section_code: str | None
    published_at: datetime | None
    modified_at: datetime | None
    paragraphs_ko: tuple[str, ...]
    paragraphs_en: tuple[str, ...]
    byline_en: str | None
    split_method: str  # "marker" | "latin_tail" | "none"
    captions: tuple[Caption, ...]
    lead_image_url: str | None
    skin: str  # "modern" | "old" | "generic"
    extractor_version: str
    content_sha256: str
    # Derived from the paragraphs by tasks.align, so not part of content_sha256.
    pairs: tuple[ParagraphPair, ...] = ()

    @property
    def has_translation(self) -> bool:
        return bool(self.paragraphs_en)

    @property
    def body_ko(self) -> str:
        return "\n\n".join(self.paragraphs_ko)

    @property
    def body_en(self) -> str | None:
        return "\n\n".join(self.paragraphs_en) if self.paragraphs_en else None


@dataclass(frozen=True)
class StoredPage:
    """What the warehouse keeps of a page: compressed bytes plus provenance."""

    page_sha256: str
    source: str
    source_kind: str
    url: str | None
    byte_size: int
    compressed: bytes
    charset: str | None
    charset_source: str | None
    fetched_at: datetime
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class PageResult:
    """The outcome of processing one page: an article, a failure, or a skip."""

    source: str
    page_sha256: str | None
    stored: StoredPage | None = None  # None when the page was skipped as unchanged
    article: Article | None = None
    stage: str | None = None  # set on failure
    reason: str | None = None  # set on failure
    skipped: bool = False  # bytes already in the warehouse and extracted by this version
    url: str | None = None

    @property
    def failed(self) -> bool:
        return self.stage is not None


@dataclass(frozen=True)
class ArchiveRead:
    """An archive file read to its end: it follows the file's last page in the stream of work items and
    is written with the batch that loads that page, so the warehouse records a file as read only once
    everything it gave is stored (`archive_files`)."""

    location: str  # the path or URL as read
    hosts: str  # the host filter it was read with (`HostFilter.key`)
    size: int | None  # bytes in the file, when known
    bytes_read: int  # bytes read from the disk or the network (a resumed download counts once)
    records_read: int  # response, resource and revisit records
    records_kept: int  # records that became pages
    failures: int  # records (or stretches of bytes) that could not be read
    kept_by_host: dict[str, int] = field(default_factory=dict)


# What the stages take: a file path (read when its batch is prepared), a Page already in memory, or a
# PageResult an earlier step already decided (a fetch failure, a broken archive record).
PageItem = str | Page | PageResult
# What the ingest engine takes: page items, and the marker of each archive file read to its end.
WorkItem = PageItem | ArchiveRead


@dataclass
class LoadCounts:
    """What a run (or one batch of it) did. The page counts count pages, duplicates included: every page
    is exactly one of new, updated, unchanged (skipped pages among them) or failed. The translation
    counts count distinct articles: a batch's are its change to the run's totals, given the articles
    the run saw before it (`translation_seen` of the earlier batches), so they add up exactly."""

    pages_seen: int = 0
    pages_skipped: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_retired: int = 0  # articles whose current page now yields another article (not a page count)
    failures: int = 0
    with_translation: int = 0
    without_translation: int = 0
    new_article_ids: list[str] = field(default_factory=list)
    # article_id -> has an English version, as last seen, for the articles of one batch's pages (the
    # run keeps the union; `add` leaves it alone so a run's summary does not carry every article id)
    translation_seen: dict[str, bool] = field(default_factory=dict)

    def add(self, other: LoadCounts) -> None:
        for name in COUNT_COLUMNS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.new_article_ids.extend(other.new_article_ids)

    def as_columns(self) -> dict[str, int]:
        """The counters by their `ingest_runs` column names."""
        return {name: getattr(self, name) for name in COUNT_COLUMNS}


def int_fields(cls: type) -> tuple[str, ...]:
    """The names of a dataclass's ``int`` fields, in order. From the resolved annotations: a field's own
    ``type`` is the string "int" under ``from __future__ import annotations`` and the class ``int``
    without it, so a test of either alone would find no field at all in the other case."""
    hints = get_type_hints(cls)
    return tuple(f.name for f in fields(cls) if hints[f.name] is int)


# The ledger's count columns (`ingest_runs`) are these counters, in this order (tests/test_ledger_counts.py
# checks them against the table).
COUNT_COLUMNS = int_fields(LoadCounts)


@dataclass
class SourceStats:
    """Counts and progress of what the sources yielded, kept by the reader as it goes. Lives in the
    process that reads the sources (the flow's, or a Dask worker's for one archive, merged back), so
    the ledger and progress bar can read it."""

    bytes_total: int = 0
    bytes_done: int = 0  # bytes of the sources read so far (archives: from the disk or the network)
    records_read: int = 0
    records_other_host: int = 0
    records_revisit: int = 0
    records_not_html: int = 0
    records_not_ok: int = 0
    warc_files: int = 0  # archive files opened
    archives_read: int = 0  # archive files read to their end
    archives_skipped: int = 0  # archive files left out: already read completely by an earlier run
    kept_by_host: dict[str, int] = field(default_factory=dict)  # records that became pages, by host

    @property
    def records_kept(self) -> int:
        return sum(self.kept_by_host.values())

    def counts(self) -> dict[str, int]:
        return {
            "records_read": self.records_read,
            "records_other_host": self.records_other_host,
            "records_revisit": self.records_revisit,
            "records_not_html": self.records_not_html,
            "records_not_ok": self.records_not_ok,
        }

    def ledger_counts(self) -> dict[str, int]:
        """The counts `ingest_runs` records, by column name."""
        return {
            **self.counts(),
            "archives_read": self.archives_read,
            "archives_skipped": self.archives_skipped,
            "records_kept": self.records_kept,
            "bytes_read": self.bytes_done,
        }

    def merge(self, other: SourceStats) -> None:
        """Add another reader's counts (one archive scanned elsewhere) to these."""
        for name in (*self.counts(), "bytes_total", "bytes_done", "warc_files", "archives_read", "archives_skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for host, kept in other.kept_by_host.items():
            self.kept_by_host[host] = self.kept_by_host.get(host, 0) + kept
