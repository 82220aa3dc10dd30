"""One page through extraction: checked whole, parsed and cleared of scripts, its body container
found (else the page refused as no article, or read as an unknown skin), then its body, title and
metadata read by their own modules. The counterpart of trafilatura's `core.py`."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from breaknews.tasks.errors import ExtractError, NotAnArticleError, TruncatedPageError
from breaknews.tasks.extract import body, metadata, xpaths
from breaknews.tasks.extract.lines import clean_text
from breaknews.tasks.extract.metadata import Extracted
from breaknews.tasks.extract.title import page_title
from breaknews.tasks.identify import parse_article_url
from breaknews.tasks.library_logs import quiet_if_asked

_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.I)
_RELATED = re.compile(r"<!--\s*관련기사\s*:\s*시작\s*-->.*?<!--\s*//\s*관련기사\s*:\s*끝\s*-->", re.S)
_PAGE_END = re.compile(r"</(?:html|body)\s*>", re.I)
_DELETED = re.compile(r"(삭제[된되]|존재하지\s*않는|없는\s*기사|찾을\s*수\s*없|기사가\s*없)")
_DEFAULT_BASE = "https://www.breaknews.com/"


def extract_article(html: str, url: str | None = None) -> Extracted:
    """Extract the article from a decoded page, or raise an ExtractError saying why there is none."""
    quiet_if_asked()
    if not _PAGE_END.search(html):
        raise TruncatedPageError(
            f"page stops after {len(html)} characters without </body> or </html>: cut off, "
            "so its article may be incomplete"
        )
    found = _SAVED_FROM.search(html[:2048])
    saved_from = found.group(1) if found else None
    tree = _parse(html)
    body.drop_cell_ads(tree)
    base = url or saved_from or _DEFAULT_BASE
    skin, container = body.find_body(tree)
    title = page_title(tree)
    if container is None or not title:
        _reject_non_article(tree, title)
        extracted = _generic(tree, url, title, saved_from)
        every_line = extracted.blocks
    else:
        blocks, every_line = body.body_blocks(container, base)
        if not any(not b.is_caption for b in blocks):
            raise NotAnArticleError("the article body is empty (no text in the body container)")
        extracted = Extracted(title=title, skin=skin, blocks=blocks, saved_from_url=saved_from)
        metadata.fill_metadata(extracted, tree, url)
    metadata.take_email_lines(extracted, every_line)
    return extracted


def _parse(html: str) -> lxml.html.HtmlElement:
    """The page's tree without its related-articles block, scripts, styles, `<noscript>` and comments."""
    html = _RELATED.sub("", html)
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractError(f"HTML does not parse: {exc}") from exc
    # Script and style text is never article text, and notices quoted from it would mislead.
    etree.strip_elements(tree, "script", "style", "noscript", etree.Comment, with_tail=False)
    return tree


def _reject_non_article(tree: lxml.html.HtmlElement, title: str | None) -> None:
    """Raise NotAnArticleError for the pages we know are not articles: notices and lists."""
    article_links = {
        ref for ref in (parse_article_url(urljoin(_DEFAULT_BASE, h)) for h in tree.xpath(xpaths.LINKS)) if ref
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
    """A page in an unknown skin: its body from trafilatura, its metadata as on the site's pages."""
    blocks = body.generic_blocks(tree, url, title)
    assert title is not None  # generic_blocks refuses a page without a title
    extracted = Extracted(title=title, skin="generic", blocks=blocks, saved_from_url=saved_from)
    metadata.fill_metadata(extracted, tree, url)
    return extracted
