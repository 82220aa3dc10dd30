"""One page through decode → extract → split → identify, as a plain function a worker can run.

Every failure comes back as a PageResult naming its stage and reason; the raw page is kept either
way, so a later extractor can try again without fetching.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime

from tasks.align import align_article
from tasks.decode import decode_page
from tasks.errors import PageError, ReadError
from tasks.extract import EXTRACTOR_VERSION, Extracted, extract_article, split_caption
from tasks.identity import ArticleRef, parse_article_url
from tasks.models import Article, Caption, Page, PageResult, StoredPage
from tasks.sources import read_page_file
from tasks.split import SplitResult, split_bilingual

WorkItem = str | Page | PageResult


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
    stage = "decode"
    try:
        decoded = decode_page(page.content, page.header_charset)
        stored = _with_charset(stored, decoded.charset, decoded.charset_source)
        stage = "extract"
        extracted = extract_article(decoded.text, page.url)
        stage = "split"
        split = split_bilingual(extracted.blocks)
        stage = "extract"
        article = build_article(extracted, split, page.url)
    except PageError as exc:
        return PageResult(page.source, sha, stored, stage=exc.stage, reason=exc.reason, url=page.url)
    except Exception as exc:  # a bug or an input we never imagined: record it, keep the run going
        return PageResult(
            page.source, sha, stored, stage=stage, reason=f"unexpected {type(exc).__name__}: {exc}", url=page.url
        )
    return PageResult(page.source, sha, stored, article=article, url=page.url)


def _with_charset(stored: StoredPage, charset: str, source: str) -> StoredPage:
    return replace(stored, charset=charset, charset_source=source)


def resolve_identity(extracted: Extracted, fetch_url: str | None) -> tuple[ArticleRef | None, str]:
    """Fetch URL, then the browser's saved-from URL, canonical, og:url, then the page's own share links."""
    for source, candidate in (
        ("url", fetch_url),
        ("saved_from", extracted.saved_from_url),
        ("canonical", extracted.canonical_url),
        ("og_url", extracted.og_url),
    ):
        ref = parse_article_url(candidate)
        if ref:
            return ref, source
    if extracted.self_refs:
        return extracted.self_refs[0], "self_link"
    return None, "content"


def build_article(extracted: Extracted, split: SplitResult, fetch_url: str | None) -> Article:
    ko_paragraphs = tuple(b.text for b in split.ko if not b.is_caption)
    en_paragraphs = tuple(b.text for b in split.en if not b.is_caption)
    captions = _captions(split)
    ref, identity_source = resolve_identity(extracted, fetch_url)
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
    content_sha = hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    if ref is None:
        # No uid anywhere: key by what the article says, so the same text saved twice is one row.
        key = hashlib.sha256("\n".join((extracted.title, *ko_paragraphs[:3])).encode()).hexdigest()[:20]
        article_id, family, uid, url = f"content:{key}", None, None, None
    else:
        article_id, family, uid, url = ref.article_id, ref.family, ref.uid, ref.url
    return Article(
        article_id=article_id,
        host_family=family,
        uid=uid,
        url=url,
        identity_source=identity_source,
        title_ko=extracted.title,
        title_en=split.title_en,
        subtitle=extracted.subtitle,
        reporter=extracted.reporter,
        reporter_role=extracted.reporter_role,
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
        extractor_version=EXTRACTOR_VERSION,
        content_sha256=content_sha,
        pairs=align_article(ko_paragraphs, en_paragraphs, captions, extracted.title, split.title_en),
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


def process_item(item: WorkItem, known_pages: Collection[str] = ()) -> PageResult:
    """A work item is a file path (read here, in the worker), a Page already fetched, or a
    PageResult that an upstream stage (fetch, archive reading) already decided, passed through."""
    page = _as_page(item)
    return page if isinstance(page, PageResult) else process_page(page, known_pages)


def _as_page(item: WorkItem) -> Page | PageResult:
    """The item's Page (reading a file path), or a PageResult when it is already decided."""
    if isinstance(item, PageResult):
        return item
    if isinstance(item, str):
        try:
            return read_page_file(item)
        except ReadError as exc:
            return PageResult(source=item, page_sha256=None, stage=exc.stage, reason=exc.reason)
    return item


def skip_known(item: WorkItem, known_pages: Collection[str]) -> WorkItem:
    """Read and hash an item here, before any worker sees it: a page already extracted by this
    version (or an unreadable file) is decided at once, so an unchanged re-run needs no workers
    at all. Returns a PageResult when decided, else the Page (bytes read) to extract."""
    page = _as_page(item)
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


def process_item_in_worker(item: WorkItem) -> PageResult:
    return process_item(item, _worker_known)
