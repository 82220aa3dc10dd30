"""One page through the stages, as a plain function a worker process or a Dask worker can run:
read → decode → extract → split → identify → align. (Load, the last stage, runs in the flow's
process: the warehouse has one writer.)

Every failure comes back as a PageResult naming the stage that really failed and why; the raw page is
kept either way, so a later extractor can try again without fetching.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from breaknews.tasks import versions
from breaknews.tasks.align import align_article
from breaknews.tasks.decode import decode_page
from breaknews.tasks.errors import (
    AlignError,
    DecodeError,
    ExtractError,
    IdentifyError,
    PageError,
    ReadError,
    SplitError,
)
from breaknews.tasks.extract import Extracted, extract_article, split_caption
from breaknews.tasks.identify import ArticleRef, Identity, PageClues, identify
from breaknews.tasks.read import read_page_file
from breaknews.tasks.split import SplitResult, split_bilingual
from breaknews.warehouse.models import Article, Caption, Page, PageItem, PageResult, ParagraphPair, StoredPage


def page_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def process_page(page: Page) -> PageResult:
    """Turn one page into an article or a recorded failure. (Whether a page needs it at all is the
    caller's question: see `skip_known`.)"""
    sha = page_sha256(page.content)
    stored = StoredPage(
        page_sha256=sha,
        source=page.source,
        source_kind=page.source_kind,
        url=page.url,
        byte_size=len(page.content),
        compressed=zlib.compress(page.content, 6),
        charset=None,
        charset_source=None,
        fetched_at=page.fetched_at or datetime.now(UTC),
        http_status=page.http_status,
        etag=page.etag,
        last_modified=page.last_modified,
        content_type=page.content_type,
    )
    stage = DecodeError.stage
    try:
        decoded = decode_page(page.content, page.header_charset)
        stored = replace(stored, charset=decoded.charset, charset_source=decoded.charset_source)
        stage = ExtractError.stage
        extracted = extract_article(decoded.text, page.url)
        stage = SplitError.stage
        split = split_bilingual(extracted.blocks)
        content = _Content.of(extracted, split)
        stage = IdentifyError.stage
        who = identify(_clues(extracted, page), extracted.title, content.ko)
        stage = AlignError.stage
        pairs = align_article(content.ko, content.en, content.captions, extracted.title, split.title_en)
        article = _article(extracted, split, content, who, pairs)
    except PageError as exc:
        return PageResult(page.source, sha, stored, stage=exc.stage, reason=exc.reason, url=page.url)
    except Exception as exc:  # a bug or an input we never imagined: record it at its stage, keep the run going
        return PageResult(
            page.source, sha, stored, stage=stage, reason=f"unexpected {type(exc).__name__}: {exc}", url=page.url
        )
    return PageResult(page.source, sha, stored, article=article, url=page.url)


@dataclass(frozen=True)
class _Content:
    """What an extracted, split page says: its paragraphs, captions, and the hash a revision is made on."""

    ko: tuple[str, ...]
    en: tuple[str, ...]
    captions: tuple[Caption, ...]
    sha256: str

    @classmethod
    def of(cls, extracted: Extracted, split: SplitResult) -> _Content:
        ko = tuple(b.text for b in split.ko if not b.is_caption)
        en = tuple(b.text for b in split.en if not b.is_caption)
        captions = _captions(split)
        content = {
            "title_ko": extracted.title,
            "title_en": split.title_en,
            "subtitle": extracted.subtitle,
            "reporter": extracted.reporter,
            "reporter_role": extracted.reporter_role,
            "bureau": extracted.bureau,
            "section": extracted.section,
            "published_at": extracted.published_at.isoformat() if extracted.published_at else None,
            "modified_at": extracted.modified_at.isoformat() if extracted.modified_at else None,
            "ko": ko,
            "en": en,
            "byline_en": split.byline_en,
            "captions": [(c.lang, c.text, c.credit, c.image_url) for c in captions],
        }
        if extracted.reporter_email:
            # Only when there is one: the articles without an address keep the content hash they had
            # before the field existed, so re-extracting them makes no new revision.
            content["reporter_email"] = extracted.reporter_email
        sha = hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        return cls(ko, en, captions, sha)


def _clues(extracted: Extracted, page: Page) -> PageClues:
    """What tells which article the page is (stage identify), the uid live ingestion fetched it as included."""
    fetched_as = (
        ArticleRef(page.article_family, page.article_uid)
        if page.article_family is not None and page.article_uid is not None
        else None
    )
    return PageClues(
        fetch_url=page.url,
        saved_from_url=extracted.saved_from_url,
        canonical_url=extracted.canonical_url,
        og_url=extracted.og_url,
        self_refs=extracted.self_refs,
        fetched_as=fetched_as,
    )


def _article(
    extracted: Extracted, split: SplitResult, content: _Content, who: Identity, pairs: tuple[ParagraphPair, ...]
) -> Article:
    return Article(
        article_id=who.article_id,
        host_family=who.family,
        uid=who.uid,
        url=who.url,
        identity_source=who.source,
        title_ko=extracted.title,
        title_en=split.title_en,
        subtitle=extracted.subtitle,
        reporter=extracted.reporter,
        reporter_role=extracted.reporter_role,
        reporter_email=extracted.reporter_email,
        bureau=extracted.bureau,
        section=extracted.section,
        section_code=extracted.section_code,
        published_at=extracted.published_at,
        modified_at=extracted.modified_at,
        paragraphs_ko=content.ko,
        paragraphs_en=content.en,
        byline_en=split.byline_en,
        split_method=split.method,
        captions=content.captions,
        lead_image_url=extracted.lead_image_url,
        skin=extracted.skin,
        extractor_version=versions.EXTRACTOR_VERSION,
        content_sha256=content.sha256,
        pairs=pairs,
    )


def _captions(split: SplitResult) -> tuple[Caption, ...]:
    captions: list[Caption] = []
    ko_images: list[str | None] = []
    for lang, blocks in (("ko", split.ko), ("en", split.en)):
        position = 0
        for block in blocks:
            if not block.is_caption:
                continue
            text, credit = split_caption(block.text)
            image = block.image_url
            if lang == "ko":
                ko_images.append(image)
            elif image is None and position < len(ko_images):
                image = ko_images[position]  # a translated caption shows the same photo
            captions.append(Caption(lang=lang, position=position, text=text, credit=credit, image_url=image))
            position += 1
    return tuple(captions)


def process_item(item: PageItem, max_bytes: int | None = None) -> PageResult:
    """A work item through every stage: a file path (read here; larger than ``max_bytes`` it fails
    unread), a Page already fetched, or a PageResult that an upstream stage (fetch, archive reading)
    already decided, passed through."""
    page = _as_page(item, max_bytes)
    return page if isinstance(page, PageResult) else process_page(page)


def _as_page(item: PageItem, max_bytes: int | None = None) -> Page | PageResult:
    """The item's Page (reading a file path), or a PageResult when it is already decided."""
    if isinstance(item, PageResult):
        return item
    if isinstance(item, str):
        try:
            return read_page_file(item, max_bytes)
        except ReadError as exc:
            return PageResult(source=item, page_sha256=None, stage=exc.stage, reason=exc.reason)
    return item


def skip_known(item: PageItem, known_pages: Collection[str], max_bytes: int | None = None) -> Page | PageResult:
    """Read and hash an item where the run is orchestrated, before any worker sees it: a page already
    extracted by this version (or an unreadable or oversized file) is decided at once, so an unchanged
    re-run needs no workers at all and workers get only pages to extract. Returns a PageResult when
    decided, else the Page (bytes read) to extract."""
    page = _as_page(item, max_bytes)
    if isinstance(page, PageResult):
        return page
    sha = page_sha256(page.content)
    if sha in known_pages:
        return PageResult(source=page.source, page_sha256=sha, skipped=True, url=page.url)
    return page
