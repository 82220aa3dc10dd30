"""Extract (stage 3): one BreakNews article from decoded HTML: metadata from the site's markup, the body from
its container with paragraph boundaries kept, photo captions with their credits and images.

Two skins are known (BREAKNEWS.md): the modern "ins_news" skin (``div#CLtag`` inside
``td.td_sub_read_contents``) and the old table skin (``td.read_body div#CLtag``). trafilatura 2.3
flattens the table cell that holds the body into one ``| … |`` line, so the body container is cut
out of its table first and handed to trafilatura on its own; pages in an unknown skin go to
trafilatura whole.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin

import lxml.html
import trafilatura
from lxml import etree

from breaknews.tasks.errors import ExtractError, NotAnArticleError, TruncatedPageError
from breaknews.tasks.identify import ArticleRef, host_family, parse_article_url, refs_in_self_link, section_params
from breaknews.warehouse.models import Block

KST = timezone(timedelta(hours=9), "KST")

SECTION_NAMES = {
    "sc1": "정치",
    "sc2": "사회",
    "sc3": "경제",
    "sc4": "연예",
    "sc5": "생활/문화",
    "sc7": "해외화제",
    "sc11": "칼럼",
    "sc116": "보도자료",
    "sc120": "스포츠",
}

ROLES = (
    "객원 칼럼니스트",
    "객원칼럼니스트",
    "칼럼니스트",
    "편집국장",
    "편집위원",
    "논설위원",
    "논설주간",
    "대표기자",
    "선임기자",
    "전문기자",
    "객원기자",
    "수습기자",
    "발행인",
    "특파원",
    "기자",
    "주필",
    "대표",
)
_ROLE = "|".join(re.escape(r).replace(r"\ ", r"\s*") for r in ROLES)
_WRITER = re.compile(rf"^\s*(?P<name>[가-힣]{{2,5}})\s*(?P<role>{_ROLE})?(?![가-힣])")
_WRITER_REVERSED = re.compile(rf"^\s*(?P<role>{_ROLE})\s+(?P<name>[가-힣]{{2,5}})(?![가-힣])")
_DATELINE_BUREAU = re.compile(r"^\s*[【\[]\s*브레이크뉴스\s*(?P<bureau>[^】\]=]*?)\s*[】\]]")
_DATELINE_WRITER = re.compile(rf"(?P<name>[가-힣]{{2,5}})\s*(?P<role>{_ROLE})\s*[=\]]")
_DATETIME = re.compile(
    r"(?P<y>(?:19|20)\d\d)\s*[/.\-년]\s*(?P<m>\d{1,2})\s*[/.\-월]\s*(?P<d>\d{1,2})\s*일?\s*"
    r"\[?\s*(?:(?P<H>\d{1,2})\s*:\s*(?P<M>\d{2})(?:\s*:\s*(?P<S>\d{2}))?)?\s*\]?"
)
_PUBLISHED = re.compile(r"기사\s*입력\s*:?\s*")
_MODIFIED = re.compile(r"(?:최종\s*편집|최종\s*수정|수정\s*일?)\s*:?\s*")
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.I)
_RELATED = re.compile(r"<!--\s*관련기사\s*:\s*시작\s*-->.*?<!--\s*//\s*관련기사\s*:\s*끝\s*-->", re.S)
_PAGE_END = re.compile(r"</(?:html|body)\s*>", re.I)
_TITLE_SUFFIX = re.compile(r"\s*(?:[-|:–]\s*)?(?:브레이크뉴스|BreakNews|breaknews\.com)\s*$", re.I)
_DELETED = re.compile(r"(삭제[된되]|존재하지\s*않는|없는\s*기사|찾을\s*수\s*없|기사가\s*없)")
_SHARE_HINT = re.compile(r"print|sharer|share|intent/tweet|kakao|band\.us|mailto:|scrap", re.I)
_CAPTION_START = re.compile(r"^\s*[▲△▶]\s*")
_CREDIT = re.compile(r"\s*(?:[©ⓒ]|\(c\)|&copy;)\s*(?P<credit>[^©ⓒ]{1,80}?)\s*$", re.I)
_SOURCE_CREDIT = re.compile(r"\s*<\s*사진\s*(?:출처|제공)?\s*=\s*(?P<credit>[^>]{1,80}?)\s*>\s*$")
_PAREN_CREDIT = re.compile(r"\s*\(\s*사진\s*(?:출처|제공)?\s*=\s*(?P<credit>[^)]{1,80}?)\s*\)\s*$")
_BOILERPLATE = re.compile(
    r"(기사\s*제보|보도\s*자료.*@|무단\s*전재|재\s*배포\s*금지|All rights reserved|^Copyright\b|"
    r"^[ⓒ©]\s*브레이크뉴스|저작권자\s*[ⓒ©]|^\s*(?:광고|AD|advertisement)\s*$|^기사\s*입력\s*:|^최종\s*편집\s*:)",
    re.I,
)
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "ins",
    "iframe",
    "object",
    "embed",
    "form",
    "button",
    "input",
    "select",
    "textarea",
    "svg",
    "video",
    "audio",
)
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "table",
        "tbody",
        "thead",
        "tr",
        "td",
        "th",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "section",
        "article",
        "center",
        "dl",
        "dt",
        "dd",
        "hr",
        "pre",
        "figure",
        "figcaption",
        "header",
        "footer",
        "aside",
        "nav",
    ]
)
_BODY_XPATHS = (
    ("modern", "//td[contains(concat(' ', normalize-space(@class), ' '), ' td_sub_read_contents ')]//div[@id='CLtag']"),
    ("modern", "//div[@id='textinput']//div[@id='CLtag']"),
    ("old", "//td[contains(concat(' ', normalize-space(@class), ' '), ' read_body ')]//div[@id='CLtag']"),
    ("old", "//td[contains(concat(' ', normalize-space(@class), ' '), ' read_body ')]"),
    ("modern", "//div[@id='CLtag']"),
    ("modern", "//div[@id='textinput']"),
)


@dataclass
class Extracted:
    title: str
    skin: str
    blocks: list[Block]
    subtitle: str | None = None
    reporter: str | None = None
    reporter_role: str | None = None
    bureau: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None
    section: str | None = None
    section_code: str | None = None
    canonical_url: str | None = None
    og_url: str | None = None
    saved_from_url: str | None = None
    self_refs: list[ArticleRef] = field(default_factory=list)
    lead_image_url: str | None = None


def clean_text(text: str) -> str:
    """Collapse runs of white space (including NBSP and ideographic space) to single spaces."""
    return " ".join(text.replace("\u200b", "").split())


def extract_article(html: str, url: str | None = None) -> Extracted:
    """Extract the article from a decoded page, or raise an ExtractError saying why there is none."""
    if not _PAGE_END.search(html):
        raise TruncatedPageError(
            f"page stops after {len(html)} characters without </body> or </html>: cut off, "
            "so its article may be incomplete"
        )
    saved_from = _SAVED_FROM.search(html[:2048])
    html = _RELATED.sub("", html)
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractError(f"HTML does not parse: {exc}") from exc

    # Script and style text is never article text, and notices quoted from it would mislead.
    etree.strip_elements(tree, "script", "style", "noscript", etree.Comment, with_tail=False)
    base = url or (saved_from.group(1) if saved_from else None) or "https://www.breaknews.com/"
    skin, container = _find_body(tree)
    title = _title(tree)
    if container is None or not title:
        _reject_non_article(tree, title)
        return _generic(tree, html, url, base, title, saved_from.group(1) if saved_from else None)

    blocks = _body_blocks(container, base)
    if not any(not b.is_caption for b in blocks):
        raise NotAnArticleError("the article body is empty (no text in the body container)")

    extracted = Extracted(title=title, skin=skin, blocks=blocks)
    extracted.saved_from_url = saved_from.group(1) if saved_from else None
    _fill_metadata(extracted, tree, url)
    return extracted


def _find_body(tree: lxml.html.HtmlElement) -> tuple[str, lxml.html.HtmlElement | None]:
    for skin, xpath in _BODY_XPATHS:
        found = tree.xpath(xpath)
        if found:
            return skin, found[0]
    return "generic", None


@functools.lru_cache(maxsize=128)
def _compiled(xpath: str) -> etree.XPath:
    return etree.XPath(xpath)  # compiled once per process instead of once per page


def _first_text(tree: lxml.html.HtmlElement, *xpaths: str) -> str | None:
    for xpath in xpaths:
        for node in _compiled(xpath)(tree):
            value = node if isinstance(node, str) else node.text_content()
            text = clean_text(str(value))
            if text:
                return text
    return None


def _cls(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _title(tree: lxml.html.HtmlElement) -> str | None:
    title = _first_text(
        tree,
        f"//h1[{_cls('read_title')}]",
        f"//td[{_cls('read_title')}]",
        f"//*[{_cls('read_title')}]",
        "//meta[@property='og:title']/@content",
    )
    if title:
        return title
    head_title = _first_text(tree, "//title")
    return _TITLE_SUFFIX.sub("", head_title) if head_title else None


def _reject_non_article(tree: lxml.html.HtmlElement, title: str | None) -> None:
    """Raise NotAnArticleError for the pages we know are not articles: notices and lists."""
    article_links = {
        ref
        for ref in (parse_article_url(urljoin("https://www.breaknews.com/", h)) for h in tree.xpath("//a/@href"))
        if ref
    }
    for element in tree.iter():
        own_text = clean_text(element.text or "") if isinstance(element.tag, str) else ""
        if own_text and len(own_text) < 200 and _DELETED.search(own_text):
            raise NotAnArticleError(f"deleted-article notice, not an article: “{own_text}”")
    if len(article_links) >= 5:
        raise NotAnArticleError(
            f"a list page ({len(article_links)} article links) without an article body, not an article"
        )
    if not title:
        raise NotAnArticleError("no article title and no body container (div#CLtag, td.read_body) found")


def _generic(
    tree: lxml.html.HtmlElement, html: str, url: str | None, base: str, title: str | None, saved_from: str | None
) -> Extracted:
    """A page in an unknown skin: let trafilatura find the main text."""
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_recall=True)
    if not text or not title:
        raise NotAnArticleError("no known article markup and trafilatura found no main text")
    blocks = [b for b in (_as_block(line, None) for line in text.splitlines()) if b is not None]
    if not blocks:
        raise NotAnArticleError("no article text after removing boilerplate")
    extracted = Extracted(title=title, skin="generic", blocks=blocks, saved_from_url=saved_from)
    _fill_metadata(extracted, tree, url)
    return extracted


def _body_blocks(container: lxml.html.HtmlElement, base: str) -> list[Block]:
    """Lines of the body container in order, ads and boilerplate removed, captions marked.

    trafilatura reads the container cut out of its table, so it keeps paragraph breaks; the
    markup walk is the fallback when trafilatura returns nothing (it skips very short bodies)
    or drops a sizable part of the text.
    """
    for element in container.xpath(" | ".join(f".//{tag}" for tag in _DROP_TAGS)):
        _drop(element)
    walked = _walk_blocks(container, base)
    extracted = _trafilatura_blocks(container, base)
    if extracted and _text_size(extracted) >= 0.8 * _text_size(walked):
        return extracted
    return walked


def _text_size(blocks: list[Block]) -> int:
    return sum(len(b.text) for b in blocks)


_TRAFILATURA_IMAGE = re.compile(r"^!\[[^\]]*\]\((?P<src>[^)\s]+)\)$")


def _trafilatura_blocks(container: lxml.html.HtmlElement, base: str) -> list[Block]:
    fragment = "<html><body><article>" + lxml.html.tostring(container, encoding="unicode") + "</article></body></html>"
    text = trafilatura.extract(
        fragment,
        url=base,
        favor_recall=True,
        include_tables=True,
        include_images=True,
        include_comments=False,
        deduplicate=False,
    )
    if not text:
        return []
    blocks: list[Block] = []
    image: str | None = None
    for raw_line in text.splitlines():
        line = raw_line.strip().strip("|").strip()  # trafilatura renders table cells as "| … |"
        picture = _TRAFILATURA_IMAGE.match(line)
        if picture:
            image = urljoin(base, picture.group("src"))
            continue
        block = _as_block(line, image)
        if block is not None:
            if block.is_caption:
                image = None
            blocks.append(block)
    return blocks


def _walk_blocks(container: lxml.html.HtmlElement, base: str) -> list[Block]:
    blocks: list[Block] = []
    buffer: list[str] = []
    pending_image: list[str | None] = [None]

    def flush() -> None:
        line = clean_text("".join(buffer))
        buffer.clear()
        block = _as_block(line, pending_image[0])
        if block is not None:
            if block.is_caption:
                pending_image[0] = None
            blocks.append(block)

    def walk(node: lxml.html.HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else None
        if tag is not None:
            tag = tag.lower()
            if tag in _BLOCK_TAGS:
                flush()
            if tag == "img":
                src = node.get("src") or node.get("data-src")
                if src and not src.startswith("data:"):
                    pending_image[0] = urljoin(base, src.strip())
            elif tag != "br":
                if node.text:
                    buffer.append(node.text)
                for child in node:
                    walk(child)
                if tag in _BLOCK_TAGS:
                    flush()
        if node.tail:
            buffer.append(node.tail)

    if container.text:
        buffer.append(container.text)
    for child in container:
        walk(child)
    flush()
    return blocks


def _drop(element: lxml.html.HtmlElement) -> None:
    """Remove an element but keep its tail text, which belongs to the parent."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _as_block(line: str, image_url: str | None) -> Block | None:
    line = clean_text(line)
    if not line or (len(line) < 200 and _BOILERPLATE.search(line)):
        return None
    if _CAPTION_START.match(line):
        return Block(text=line, is_caption=True, image_url=image_url)
    return Block(text=line)


def split_caption(text: str) -> tuple[str, str | None]:
    """A caption line without its ▲ marker, and the credit after ©/ⓒ or in <사진출처=…>."""
    text = _CAPTION_START.sub("", text).strip()
    for pattern in (_CREDIT, _SOURCE_CREDIT, _PAREN_CREDIT):
        match = pattern.search(text)
        if match:
            return text[: match.start()].strip(), clean_text(match.group("credit")).rstrip(".") or None
    return text, None


def _fill_metadata(ex: Extracted, tree: lxml.html.HtmlElement, url: str | None) -> None:
    ex.subtitle = _first_text(
        tree,
        f"//*[{_cls('read_subtitle')}]",
        f"//*[{_cls('sub_title')}]",
        f"//div[{_cls('article_head')}]//h2",
        f"//div[{_cls('article_head')}]//h3",
    )
    if ex.subtitle == ex.title:
        ex.subtitle = None

    writer = _first_text(tree, f"//*[{_cls('writer_time')}]//*[{_cls('writer')}]", f"//*[{_cls('writer')}]")
    ex.reporter, ex.reporter_role = _parse_writer(writer)

    first = next((b.text for b in ex.blocks if not b.is_caption), "")
    bureau = _DATELINE_BUREAU.match(first)
    ex.bureau = clean_text(bureau.group("bureau")) or None if bureau else None
    if ex.reporter is None:
        match = _DATELINE_WRITER.search(first[:80])
        if match:
            ex.reporter, ex.reporter_role = match.group("name"), clean_text(match.group("role"))

    byline = _first_text(tree, f"//*[{_cls('writer_time')}]") or ""
    page_text = clean_text(tree.text_content()) if not byline or not _PUBLISHED.search(byline) else ""
    ex.published_at = _time_after(_PUBLISHED, byline) or _time_after(_PUBLISHED, page_text)
    if ex.published_at is None:
        ex.published_at = _iso_time(_first_text(tree, "//meta[@property='article:published_time']/@content"))
    ex.modified_at = _time_after(_MODIFIED, byline) or _iso_time(
        _first_text(tree, "//meta[@property='article:modified_time']/@content")
    )

    code, name = section_params(url)
    code = code or _first_text(tree, "//input[@name='section']/@value")
    name = name or _first_text(tree, "//input[@name='section2']/@value", "//meta[@property='article:section']/@content")
    ex.section_code = code if code and code.startswith("sc") else None
    ex.section = name or (SECTION_NAMES.get(ex.section_code) if ex.section_code else None)

    ex.canonical_url = _first_text(tree, "//link[@rel='canonical']/@href")
    ex.og_url = _first_text(tree, "//meta[@property='og:url']/@content")
    ex.lead_image_url = next((b.image_url for b in ex.blocks if b.image_url), None) or _first_text(
        tree, "//img[@id='img_pop_view']/@src", "//meta[@property='og:image']/@content"
    )
    ex.self_refs = _self_refs(tree, url or ex.canonical_url or ex.og_url or ex.saved_from_url)


def _parse_writer(text: str | None) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    text = re.sub(r"\S+@\S+", "", text)
    match = _WRITER.match(text) or _WRITER_REVERSED.match(text)
    if not match:
        return None, None
    role = match.group("role")
    return match.group("name"), clean_text(role) if role else None


def _time_after(label: re.Pattern[str], text: str) -> datetime | None:
    found = label.search(text)
    if not found:
        return None
    match = _DATETIME.match(text, found.end())
    if not match:
        return None
    try:
        return datetime(
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            int(match["H"] or 0),
            int(match["M"] or 0),
            int(match["S"] or 0),
            tzinfo=KST,
        )
    except ValueError:
        return None


def _iso_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=KST)


def _self_refs(tree: lxml.html.HtmlElement, url: str | None) -> list[ArticleRef]:
    """uids named by the page's share and print links, most frequent first."""
    family = host_family(_host(url)) if url else None
    counts: Counter[ArticleRef] = Counter()
    for node in tree.xpath("//a[@href] | //*[@onclick]"):
        for attr in ("href", "onclick"):
            value = node.get(attr)
            if value and _SHARE_HINT.search(value):
                counts.update(refs_in_self_link(value, family or "www"))
    for value in tree.xpath("//input[@name='uid']/@value"):
        if str(value).strip().isdigit():
            counts[ArticleRef(family or "www", int(value))] += 1
    return [ref for ref, _ in counts.most_common()]


def _host(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
