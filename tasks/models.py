"""Plain data that flows between the stages. Everything here pickles, so a
process pool can carry it between workers and the loader."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from warehouse.runs import COUNT_COLUMNS  # the ledger's count columns are these counters


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


@dataclass
class LoadCounts:
    pages_seen: int = 0
    pages_skipped: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    failures: int = 0
    with_translation: int = 0
    without_translation: int = 0
    new_article_ids: list[str] = field(default_factory=list)

    def add(self, other: LoadCounts) -> None:
        for name in COUNT_COLUMNS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.new_article_ids.extend(other.new_article_ids)
