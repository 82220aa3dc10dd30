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
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

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
from breaknews.tasks.identify import ArticleRef, PageClues, identify
from breaknews.tasks.read import read_page_file
from breaknews.tasks.split import SplitResult, split_bilingual
from breaknews.warehouse.models import Article, Caption, Page, PageItem, PageResult, StoredPage


def page_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def process_page(page: Page, known_pages: Collection[str] = ()) -> PageResult:
    """Turn one page into an article or a recorded failure. Pages whose bytes are in
    ``known_pages`` (already extracted by this extractor version) are skipped unread."""
    sha = page_sha256(page.content)
    if sha in known_pages:
        return PageResult(source=page.source, page_sha256=sha, skipped=True, url=page.url)
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
        article = build_article(extracted, split, page)
    except PageError as exc:
        return PageResult(page.source, sha, stored, stage=exc.stage, reason=exc.reason, url=page.url)
    except _StageBug as bug:
        return PageResult(page.source, sha, stored, stage=bug.stage, reason=bug.reason, url=page.url)
    except Exception as exc:  # a bug or an input we never imagined: record it, keep the run going
        return PageResult(
            page.source, sha, stored, stage=stage, reason=f"unexpected {type(exc).__name__}: {exc}", url=page.url
        )
    return PageResult(page.source, sha, stored, article=article, url=page.url)


_T = TypeVar("_T")


class _StageBug(Exception):
    """An unexpected error inside a later stage, carrying that stage's name."""

    def __init__(self, stage: str, exc: Exception) -> None:
        super().__init__(stage)
        self.stage, self.reason = stage, f"unexpected {type(exc).__name__}: {exc}"


def _in_stage(stage: str, call: Callable[[], _T]) -> _T:
    """``call()``, with an unexpected error in it recorded as a failure of ``stage``, not of extract."""
    try:
        return call()
    except PageError:
        raise
    except Exception as exc:
        raise _StageBug(stage, exc) from exc


def build_article(extracted: Extracted, split: SplitResult, page: Page) -> Article:
    """The article of an extracted, split page: its content, its identity (stage identify) and its
    paragraph pairs (stage align)."""
    ko_paragraphs = tuple(b.text for b in split.ko if not b.is_caption)
    en_paragraphs = tuple(b.text for b in split.en if not b.is_caption)
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
        "ko": ko_paragraphs,
        "en": en_paragraphs,
        "byline_en": split.byline_en,
        "captions": [(c.lang, c.text, c.credit, c.image_url) for c in captions],
    }
    if extracted.reporter_email:
        # Only when there is one: the articles without an address keep the content hash they had
        # before the field existed, so re-extracting them makes no new revision.
        content["reporter_email"] = extracted.reporter_email
    content_sha = hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    fetched_as = (
        ArticleRef(page.article_family, page.article_uid)
        if page.article_family is not None and page.article_uid is not None
        else None
    )
    clues = PageClues(
        fetch_url=page.url,
        saved_from_url=extracted.saved_from_url,
        canonical_url=extracted.canonical_url,
        og_url=extracted.og_url,
        self_refs=extracted.self_refs,
        fetched_as=fetched_as,
    )
    who = _in_stage(IdentifyError.stage, lambda: identify(clues, extracted.title, ko_paragraphs))
    pairs = _in_stage(
        AlignError.stage,
        lambda: align_article(ko_paragraphs, en_paragraphs, captions, extracted.title, split.title_en),
    )
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
        paragraphs_ko=ko_paragraphs,
        paragraphs_en=en_paragraphs,
        byline_en=split.byline_en,
        split_method=split.method,
        captions=captions,
        lead_image_url=extracted.lead_image_url,
        skin=extracted.skin,
        extractor_version=versions.EXTRACTOR_VERSION,
        content_sha256=content_sha,
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


def process_item(item: PageItem, known_pages: Collection[str] = (), max_bytes: int | None = None) -> PageResult:
    """A work item is a file path (read here, in the worker; larger than ``max_bytes`` it fails
    unread), a Page already fetched, or a PageResult that an upstream stage (fetch, archive reading)
    already decided, passed through."""
    page = _as_page(item, max_bytes)
    return page if isinstance(page, PageResult) else process_page(page, known_pages)


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


def skip_known(item: PageItem, known_pages: Collection[str], max_bytes: int | None = None) -> PageItem:
    """Read and hash an item here, before any worker sees it: a page already extracted by this
    version (or an unreadable or oversized file) is decided at once, so an unchanged re-run needs no
    workers at all. Returns a PageResult when decided, else the Page (bytes read) to extract."""
    page = _as_page(item, max_bytes)
    if isinstance(page, PageResult):
        return page
    sha = page_sha256(page.content)
    if sha in known_pages:
        return PageResult(source=page.source, page_sha256=sha, skipped=True, url=page.url)
    return page


# Worker processes get the run's known page hashes once, at start, instead of with every batch.
_worker_known: frozenset[str] = frozenset()


def init_worker(known_pages: frozenset[str]) -> None:
    global _worker_known
    _worker_known = known_pages


def process_item_in_worker(item: PageItem) -> PageResult:
    return process_item(item, _worker_known)
