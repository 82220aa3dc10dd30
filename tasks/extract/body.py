"""The article's body: its container found in the site's markup and read line by line (ads, scripts
and boilerplate left out, paragraph boundaries kept, captions marked with their images), and, for a
page in an unknown skin, the main text trafilatura finds. The counterpart of trafilatura's
`main_extractor.py`.

trafilatura 2.3 flattens the table cell that holds a BreakNews body into one ``| … |`` line, so the
container is cut out of its table and its lines read from the markup, which keeps paragraph boundaries
whether the page writes ``<p>`` or ``<br>``; trafilatura judges the lines that are mostly links.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html
import trafilatura

from breaknews.tasks.errors import NotAnArticleError
from breaknews.tasks.extract import xpaths
from breaknews.tasks.extract.lines import as_block, clean_text
from breaknews.warehouse.models import Block

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
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*")
_LINK_HEAVY = 0.5  # a body line with this share of its text in links is kept only if trafilatura keeps it
_CELL_AD_MAX_TEXT = 300  # characters: an inline-styled block with more text, or with paragraphs, is no ad
_TRAFILATURA_IMAGE = re.compile(r"^!\[[^\]]*\]\((?P<src>[^)\s]+)\)$")


def drop_cell_ads(tree: lxml.html.HtmlElement) -> None:
    """Remove the inline-styled ad blocks that sit directly in the body cell (short, no paragraphs)."""
    for ad in xpaths.CELL_ADS(tree):
        if not ad.xpath(xpaths.PARAGRAPHS) and len(clean_text(ad.text_content())) < _CELL_AD_MAX_TEXT:
            _drop(ad)


def find_body(tree: lxml.html.HtmlElement) -> tuple[str, lxml.html.HtmlElement | None]:
    """The page's skin and its body container; ("generic", None) when no known container is there."""
    for skin, xpath in xpaths.BODY:
        found = xpaths.compiled(xpath)(tree)
        if found:
            return skin, found[0]
    return "generic", None


def body_blocks(container: lxml.html.HtmlElement, base: str) -> tuple[list[Block], list[Block]]:
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


def generic_blocks(tree: lxml.html.HtmlElement, url: str | None, title: str | None) -> list[Block]:
    """A page in an unknown skin: the main text trafilatura finds in the page as cleared here (without
    scripts and `<noscript>` notices: a page rendered by scripts has no article to find). The headline
    repeated at the top of the text is no paragraph. Raises NotAnArticleError when there is no text
    (or no ``title``)."""
    # trafilatura works on a copy of the tree it is given: no copy of ours needed.
    text = trafilatura.extract(tree, url=url, include_comments=False, include_tables=False, favor_recall=True)
    if not text or not title:
        raise NotAnArticleError("no known article markup and trafilatura found no main text")
    lines = (as_block(line, None) for line in text.splitlines())
    blocks = [b for b in lines if b is not None and b.text != title]
    if not blocks:
        raise NotAnArticleError("no article text after removing boilerplate")
    return blocks


def _collapse_line_breaks(container: lxml.html.HtmlElement) -> None:
    """Line breaks in the page's source are no paragraph breaks (HTML collapses them), but trafilatura
    keeps some of them: `<br>`-separated text wrapped at 80 columns would come out a line per source line."""
    for node in container.iter():
        if node.text and ("\n" in node.text or "\r" in node.text):
            node.text = _LINE_BREAKS.sub(" ", node.text)
        if node is not container and node.tail and ("\n" in node.tail or "\r" in node.tail):
            node.tail = _LINE_BREAKS.sub(" ", node.tail)


def _trafilatura_lines(container: lxml.html.HtmlElement, base: str) -> list[str]:
    """The lines of the container trafilatura keeps, cleaned as `as_block` cleans them (its image lines
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
        block = as_block(line, None)
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
        block = as_block(line, pending_image[0])
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
