"""Extract (stage 3): one BreakNews article from decoded HTML: metadata from the site's markup, the body from
its container with paragraph boundaries kept, photo captions with their credits and images.

Two skins are known (BREAKNEWS.md): the modern "ins_news" skin (``div#CLtag`` inside
``td.td_sub_read_contents``) and the old table skin (``td.read_body div#CLtag``). The same publishing
system's variants are read too: the title in ``h1`` or ``h2.read_title``, the body in ``div#textinput``
or the body cell itself when there is no ``div#CLtag``, the date line labelled 입력/등록/기사입력 next to
최종편집/수정 in any order. trafilatura 2.3 flattens the table cell that holds the body into one
``| … |`` line, so the body container is cut out of its table and its lines read from the markup, which
keeps paragraph boundaries whether the page writes ``<p>`` or ``<br>``; trafilatura judges the lines that
are mostly links. Pages in an unknown skin go to trafilatura whole, their title from ``og:title``, the
article's ``h1`` or ``<title>`` without the site's name.

Each field is read on its own and left empty when it cannot be read: a variant we do not know costs
that field, never the article.
"""

from __future__ import annotations

import functools
import logging
import os
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
    r"(?P<y>(?:19|20)\d\d)\s*[/.\-년]\s*(?P<m>\d{1,2})\s*[/.\-월]\s*(?P<d>\d{1,2})\s*[일.]?\s*"
    r"\[?\s*(?:(?P<H>\d{1,2})\s*:\s*(?P<M>\d{2})(?:\s*:\s*(?P<S>\d{2}))?)?\s*\]?"
)
# The date line's labels, in any order and spacing: `기사입력`, `입력`, `등록` (the sister sites), and a
# modification time `최종편집`/`수정`. On the whole page text only the site's own `기사입력` counts.
_PUBLISHED = re.compile(r"(?:기사\s*)?입력\s*일?\s*:?\s*|(?<![가-힣])등록\s*일?\s*:?\s*")
_PUBLISHED_ON_PAGE = re.compile(r"기사\s*입력\s*:?\s*")
_MODIFIED = re.compile(r"(?:최종\s*편집|최종\s*수정|(?<![가-힣])수정\s*일?)\s*:?\s*")
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_EMAIL_LABEL = r"(?:e-?mail|이메일|메일)\s*:?\s*"
# A line that is only the reporter's address, alone or after the name (`박영재 기자 pyj@…`,
# `[박영재 기자 pyj@…]`, `(pyj@…)`, the English `Reporter Park Young-jae pyj@…`).
_EMAIL_LINE = re.compile(
    rf"^[\[(<]?\s*(?:(?P<name>[가-힣]{{2,5}})\s*(?P<role>{_ROLE})?\s*|"
    rf"(?:Reporter|Publisher|Columnist|Editor|By)\s+[A-Z][A-Za-z.' -]{{1,40}}?\s*)?"
    rf"[\[(<]?\s*(?:{_EMAIL_LABEL})?(?P<email>{_EMAIL})\s*[\])>]*\s*$",
    re.I,
)
# An address inside the dateline: `박영재 기자(pyj@…)=`, `박영재 기자 pyj@…=`, `[브레이크뉴스=박동제 기자 pdj@…]`.
_DATELINE_EMAIL = re.compile(rf"(?P<role>{_ROLE})\s*[(<]?\s*(?P<email>{_EMAIL})\s*[)>]?\s*(?=[=\]】])")
_AD_BEFORE_DATELINE = re.compile(r"^(?:광고|AD|advertisement)\s+(?=[【\[]?\s*브레이크뉴스)", re.I)
_HAS_WORD = re.compile(r"\w")  # a line without a letter or digit (`|`, `-`, `…`) is markup debris
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*")
_LINK_HEAVY = 0.5  # a body line with this share of its text in links is kept only if trafilatura keeps it
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.I)
_RELATED = re.compile(r"<!--\s*관련기사\s*:\s*시작\s*-->.*?<!--\s*//\s*관련기사\s*:\s*끝\s*-->", re.S)
_PAGE_END = re.compile(r"</(?:html|body)\s*>", re.I)
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
_CELL = "contains(concat(' ', normalize-space(@class), ' '), ' td_sub_read_contents ')"
_BODY_XPATHS = (
    ("modern", "//td[contains(concat(' ', normalize-space(@class), ' '), ' td_sub_read_contents ')]//div[@id='CLtag']"),
    ("modern", "//div[@id='textinput']//div[@id='CLtag']"),
    ("old", "//td[contains(concat(' ', normalize-space(@class), ' '), ' read_body ')]//div[@id='CLtag']"),
    ("old", "//td[contains(concat(' ', normalize-space(@class), ' '), ' read_body ')]"),
    ("modern", "//div[@id='CLtag']"),
    ("modern", "//div[@id='textinput']"),
    # The sister sites' skin without div#CLtag or div#textinput: the body cell itself.
    ("modern", f"//td[{_CELL}]"),
)
# Inline-styled blocks sitting directly in the body cell are ads (the site's ad-blocker rule hides
# `.td_sub_read_contents > div[style]`); the body's own wrappers and its photos are never among them.
_CELL_ADS = etree.XPath(
    f"//td[{_CELL}]/div[@style][not(@id='textinput' or @id='CLtag' or .//div[@id='textinput' or @id='CLtag']"
    " or .//img[@id='img_pop_view'] or .//table[contains(@class, 'body_img_table')])]"
)
_CELL_AD_MAX_TEXT = 300  # characters: an inline-styled block with more text, or with paragraphs, is no ad
_SITE_NAMES = ("브레이크뉴스", "BreakNews", "Break News", "breaknews.com")
# A page title's tail after a separator (`|`, `ㅣ`, `-`, `::`, …): the site's name, maybe a section before it.
_TITLE_SEPARATOR = re.compile(r"\s*(?:\||ㅣ|::|[-–—»])\s*")
_OUTLET = re.compile(
    r"^(?:[가-힣A-Za-z0-9]{1,12}(?:일보|신문|뉴스|경제|방송|저널|미디어|타임스|투데이|데일리|닷컴|신보|통신)"
    r"|[A-Za-z0-9 .&]{0,24}(?:News|Times|Herald|Daily|Journal|Post|Tribune|TV))$"
)
_SECTION_WORDS = re.compile(
    r"^(?:정치|경제|사회|국제|세계|문화|연예|스포츠|오피니언|사설|칼럼|IT|과학|IT/과학|IT·과학|생활|라이프|전국|지역|"
    r"산업|금융|증권|부동산|기업|사람|피플|교육|건강|여행|날씨|북한|외교|국방|노동|환경)(?:\s*일반)?$"
)


# Libraries extraction runs whose own log lines (trafilatura's `discarding data: None` on a page it
# cannot read) say nothing a user can act on: such a page is recorded as a failure with its reason.
LIBRARY_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext")
QUIET_LIBRARIES_ENV = "BREAKNEWS_QUIET_LIBRARIES"


def show_library_logs(shown: bool) -> None:
    """Show or silence the libraries' loggers here and in every process started from here (extraction
    worker processes, a local Dask cluster, the flow-run processes of `serve`): they inherit the
    environment, and extraction reads it once per process."""
    os.environ[QUIET_LIBRARIES_ENV] = "" if shown else "1"
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if shown else _SILENT)
    _quiet_if_asked.cache_clear()


_SILENT = logging.CRITICAL + 1


@functools.cache
def _quiet_if_asked() -> None:
    if os.environ.get(QUIET_LIBRARIES_ENV) == "1":
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(_SILENT)


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
    reporter_email: str | None = None


def clean_text(text: str) -> str:
    """Collapse runs of white space (including NBSP and ideographic space) to single spaces."""
    return " ".join(text.replace("\u200b", "").split())


def extract_article(html: str, url: str | None = None) -> Extracted:
    """Extract the article from a decoded page, or raise an ExtractError saying why there is none."""
    _quiet_if_asked()
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
    for ad in _CELL_ADS(tree):
        if not ad.xpath(".//p") and len(clean_text(ad.text_content())) < _CELL_AD_MAX_TEXT:
            _drop(ad)
    base = url or (saved_from.group(1) if saved_from else None) or "https://www.breaknews.com/"
    skin, container = _find_body(tree)
    title = _title(tree)
    if container is None or not title:
        _reject_non_article(tree, title)
        extracted = _generic(tree, url, title, saved_from.group(1) if saved_from else None)
        every_line = extracted.blocks
    else:
        blocks, every_line = _body_blocks(container, base)
        if not any(not b.is_caption for b in blocks):
            raise NotAnArticleError("the article body is empty (no text in the body container)")
        extracted = Extracted(title=title, skin=skin, blocks=blocks)
        extracted.saved_from_url = saved_from.group(1) if saved_from else None
        _fill_metadata(extracted, tree, url)
    _take_email_lines(extracted, every_line)
    return extracted


def _find_body(tree: lxml.html.HtmlElement) -> tuple[str, lxml.html.HtmlElement | None]:
    for skin, xpath in _BODY_XPATHS:
        found = _compiled(xpath)(tree)
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
    """The headline: the site's title element (`h1`/`h2`/`td.read_title`), else (and on pages of an
    unknown skin) `og:title`, the article's `h1`, the page's `<title>`, without the site's name."""
    title = _first_text(
        tree, f"//h1[{_cls('read_title')}]", f"//td[{_cls('read_title')}]", f"//*[{_cls('read_title')}]"
    )
    if title:
        return title
    names = _site_names(tree)
    for candidate in (
        _first_text(tree, "//meta[@property='og:title' or @name='og:title' or @name='twitter:title']/@content"),
        _first_text(
            tree,
            "//article//h1",
            "//*[@itemprop='headline']",
            "//h1[contains(@class, 'title') or contains(@class, 'headline') or contains(@id, 'title')]",
        ),
        _only_h1_text(tree),
        _first_text(tree, "//title"),
    ):
        title = _without_site_name(candidate, names) if candidate else None
        if title and _plain(title) not in names:
            return title
    return None


def _only_h1_text(tree: lxml.html.HtmlElement) -> str | None:
    """The headline of a page whose `h1`s all say the same (a desktop and a mobile header, both in the page)."""
    texts = {clean_text(h1.text_content()) for h1 in _compiled("//h1")(tree)} - {""}
    return texts.pop() if len(texts) == 1 else None


def _plain(text: str) -> str:
    return "".join(text.split()).casefold()


def _site_names(tree: lxml.html.HtmlElement) -> set[str]:
    """What the page calls its site (`og:site_name`, `application-name`), and BreakNews' own names."""
    found = _compiled(
        "//meta[@property='og:site_name' or @name='og:site_name' or @name='application-name'"
        " or @name='apple-mobile-web-app-title']/@content"
    )(tree)
    return {_plain(str(name)) for name in (*found, *_SITE_NAMES) if str(name).strip()}


def _is_site_name(segment: str, names: set[str]) -> bool:
    plain = _plain(segment)
    if not plain:
        return False
    if any(plain == name or (len(name) >= 3 and name in plain and len(plain) <= len(name) + 6) for name in names):
        return True
    # An outlet's name the page does not declare: one word ending 일보/신문/뉴스/경제… (`매일경제`).
    return bool(_OUTLET.match(segment.strip())) and (" " not in segment.strip() or segment.isascii())


def _without_site_name(title: str, names: set[str]) -> str:
    """A page title without the site's name (and a section name next to it) at its end or start,
    whatever the separator: `제목 | 한국일보`, `제목-정치ㅣ한국일보`, `제목 - 매일경제`, `제목 :: 사이트`."""
    for _ in range(3):
        separators = list(_TITLE_SEPARATOR.finditer(title))
        if not separators:
            break
        last, first = separators[-1], separators[0]
        if _is_site_name(title[last.end() :], names):
            title = title[: last.start()]
            before = list(_TITLE_SEPARATOR.finditer(title))
            if before and _SECTION_WORDS.match(title[before[-1].end() :].strip()):
                title = title[: before[-1].start()]
        elif first.start() > 0 and _is_site_name(title[: first.start()], names):
            title = title[first.end() :]
        else:
            break
    return clean_text(title)


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


def _generic(tree: lxml.html.HtmlElement, url: str | None, title: str | None, saved_from: str | None) -> Extracted:
    """A page in an unknown skin: let trafilatura find the main text, in the page as cleared here
    (without scripts and `<noscript>` notices: a page rendered by scripts has no article to find).
    The headline repeated at the top of the text is no paragraph."""
    # trafilatura works on a copy of the tree it is given: no copy of ours needed.
    text = trafilatura.extract(tree, url=url, include_comments=False, include_tables=False, favor_recall=True)
    if not text or not title:
        raise NotAnArticleError("no known article markup and trafilatura found no main text")
    lines = (_as_block(line, None) for line in text.splitlines())
    blocks = [b for b in lines if b is not None and b.text != title]
    if not blocks:
        raise NotAnArticleError("no article text after removing boilerplate")
    extracted = Extracted(title=title, skin="generic", blocks=blocks, saved_from_url=saved_from)
    _fill_metadata(extracted, tree, url)
    return extracted


def _body_blocks(container: lxml.html.HtmlElement, base: str) -> tuple[list[Block], list[Block]]:
    """Lines of the body container in order, ads and boilerplate removed, captions marked; and every
    line the markup holds (trafilatura leaves out some, such as a paragraph that is one mailto link).

    The lines are the markup walk's: its paragraph boundaries hold where trafilatura's do not
    (trafilatura joins `<br>`-separated paragraphs in some wrappers into one line, and leaves out
    some lines of prose, a translation marker or an English title among them). trafilatura, reading
    the container cut out of its table, judges the rest: a line that is mostly link text (a list of
    related links inside the body) stays only if trafilatura keeps it too.
    """
    for element in container.xpath(" | ".join(f".//{tag}" for tag in _DROP_TAGS)):
        _drop(element)
    _collapse_line_breaks(container)
    walked = _walk_blocks(container, base)
    lines = [block for block, _ in walked]
    if not any(share >= _LINK_HEAVY for _, share in walked):
        return lines, lines
    text = "\n".join(_trafilatura_lines(container, base))
    return [block for block, share in walked if share < _LINK_HEAVY or block.text in text], lines


def _collapse_line_breaks(container: lxml.html.HtmlElement) -> None:
    """Line breaks in the page's source are no paragraph breaks (HTML collapses them), but trafilatura
    keeps some of them: `<br>`-separated text wrapped at 80 columns would come out a line per source line."""
    for node in container.iter():
        if node.text and ("\n" in node.text or "\r" in node.text):
            node.text = _LINE_BREAKS.sub(" ", node.text)
        if node is not container and node.tail and ("\n" in node.tail or "\r" in node.tail):
            node.tail = _LINE_BREAKS.sub(" ", node.tail)


_TRAFILATURA_IMAGE = re.compile(r"^!\[[^\]]*\]\((?P<src>[^)\s]+)\)$")


def _trafilatura_lines(container: lxml.html.HtmlElement, base: str) -> list[str]:
    """The lines of the container trafilatura keeps, cleaned as `_as_block` cleans them (its image lines
    left out): what judges the markup walk's link-heavy lines."""
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
    lines: list[str] = []
    for raw_line in (text or "").splitlines():
        line = raw_line.strip().strip("|").strip()  # trafilatura renders table cells as "| … |"
        if _TRAFILATURA_IMAGE.match(line):
            continue
        block = _as_block(line, None)
        if block is not None:
            lines.append(block.text)
    return lines


def _walk_blocks(container: lxml.html.HtmlElement, base: str) -> list[tuple[Block, float]]:
    """The container's lines in markup order (a block tag or `<br>` ends one), each with the share of
    its text that sits inside links."""
    blocks: list[tuple[Block, float]] = []
    buffer: list[str] = []
    linked: list[str] = []
    pending_image: list[str | None] = [None]
    in_link = [0]

    def flush() -> None:
        line = clean_text("".join(buffer))
        share = len(clean_text("".join(linked))) / len(line) if line and linked else 0.0
        buffer.clear()
        linked.clear()
        block = _as_block(line, pending_image[0])
        if block is not None:
            if block.is_caption:
                pending_image[0] = None
            blocks.append((block, share))

    def add(text: str) -> None:
        buffer.append(text)
        if in_link[0]:
            linked.append(text)

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
                in_link[0] += tag == "a"
                if node.text:
                    add(node.text)
                for child in node:
                    walk(child)
                in_link[0] -= tag == "a"
                if tag in _BLOCK_TAGS:
                    flush()
        if node.tail:
            add(node.tail)

    if container.text:
        add(container.text)
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
    if not _HAS_WORD.search(line) or (len(line) < 200 and _BOILERPLATE.search(line)):
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
    byline = _first_text(tree, f"//*[{_cls('writer_time')}]", f"//*[{_cls('read_date')}]") or ""
    ex.reporter, ex.reporter_role = _parse_writer(writer)
    if ex.reporter is None:  # no writer span: the name before the date line's `|`, role and all
        ex.reporter, ex.reporter_role = next(
            (found for part in byline.split("|") if (found := _parse_writer(part, need_role=True))[0]), (None, None)
        )

    first_at = next((i for i, b in enumerate(ex.blocks) if not b.is_caption), None)
    first = ex.blocks[first_at].text if first_at is not None else ""
    # The word 광고 that ad code leaves before the text, run into the dateline when no tag parts them.
    dateline = _AD_BEFORE_DATELINE.sub("", first)
    dateline_email = _DATELINE_EMAIL.search(dateline[:160])
    if dateline_email:
        # The address is the reporter's, not article text: `박영재 기자(pyj@…)= …` reads `박영재 기자= …`.
        dateline = dateline[: dateline_email.start()] + dateline_email["role"] + dateline[dateline_email.end() :]
    if first_at is not None and dateline != first:
        first = dateline
        ex.blocks[first_at] = Block(text=first, image_url=ex.blocks[first_at].image_url)
    writer_email = re.search(_EMAIL, writer or "")
    ex.reporter_email = (dateline_email["email"] if dateline_email else None) or (
        writer_email.group(0) if writer_email else None
    )
    bureau = _DATELINE_BUREAU.match(first)
    ex.bureau = clean_text(bureau.group("bureau")) or None if bureau else None
    if ex.reporter is None:
        match = _DATELINE_WRITER.search(first[:80])
        if match:
            ex.reporter, ex.reporter_role = match.group("name"), clean_text(match.group("role"))

    ex.published_at = _time_after(_PUBLISHED, byline)
    if ex.published_at is None:
        page_text = clean_text(tree.text_content())
        ex.published_at = _time_after(_PUBLISHED_ON_PAGE, page_text) or _time_after(
            _PUBLISHED, page_text, need_time=True
        )
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


def _parse_writer(text: str | None, need_role: bool = False) -> tuple[str | None, str | None]:
    """(name, role) of a byline such as `박영재 기자` or `발행인 문일석`; with ``need_role`` only a name
    with its role counts (in a date line, a bare two-syllable word may be `입력`)."""
    if not text:
        return None, None
    text = re.sub(r"\S+@\S+", "", text)
    match = _WRITER.match(text) or _WRITER_REVERSED.match(text)
    if not match:
        return None, None
    role = match.group("role")
    if need_role and not role:
        return None, None
    return match.group("name"), clean_text(role) if role else None


def _take_email_lines(ex: Extracted, every_line: list[Block]) -> None:
    """Lines that are only the reporter's e-mail address (alone or after the name) are not article
    text; the first address (looked for in ``every_line``, the markup's lines) becomes
    ``reporter_email`` when the dateline and byline gave none."""
    ex.blocks = [block for block in ex.blocks if _email_line(block, ex.reporter) is None]
    if ex.reporter_email is None:
        ex.reporter_email = next((email for b in every_line if (email := _email_line(b, ex.reporter))), None)


def _email_line(block: Block, reporter: str | None) -> str | None:
    if block.is_caption or len(block.text) > 120 or "@" not in block.text:
        return None
    match = _EMAIL_LINE.match(block.text)
    # A name without a role counts only when it is the reporter's (else `문의처 a@b.kr` would).
    if match and (match["name"] is None or match["role"] or match["name"] == reporter):
        return match["email"]
    return None


def _time_after(label: re.Pattern[str], text: str, need_time: bool = False) -> datetime | None:
    """The first date (and time) right after one of the label's matches."""
    for found in label.finditer(text):
        match = _DATETIME.match(text, found.end())
        if not match or (need_time and not match["H"]):
            continue
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
            continue
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
