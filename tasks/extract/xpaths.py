"""Where things are in the site's markup: the XPath expressions of the body container, the title, the
byline and the page's metadata, and how they are evaluated (compiled once per process; the first
non-empty text of a list of alternatives, tried in order).

Kept apart from the code that reads them, as trafilatura keeps its `xpaths.py`: a new skin or variant
of the site is mostly a new expression here.
"""

from __future__ import annotations

import functools

import lxml.html
from lxml import etree

from breaknews.tasks.extract.lines import clean_text


def cls(name: str) -> str:
    """An XPath predicate: the element has ``name`` among its classes."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# -- the body -----------------------------------------------------------------------------------------
CELL = cls("td_sub_read_contents")
# The body container, by skin, most specific first.
BODY = (
    ("modern", f"//td[{cls('td_sub_read_contents')}]//div[@id='CLtag']"),
    ("modern", "//div[@id='textinput']//div[@id='CLtag']"),
    ("old", f"//td[{cls('read_body')}]//div[@id='CLtag']"),
    ("old", f"//td[{cls('read_body')}]"),
    ("modern", "//div[@id='CLtag']"),
    ("modern", "//div[@id='textinput']"),
    # The sister sites' skin without div#CLtag or div#textinput: the body cell itself.
    ("modern", f"//td[{CELL}]"),
)
# Inline-styled blocks sitting directly in the body cell are ads (the site's ad-blocker rule hides
# `.td_sub_read_contents > div[style]`); the body's own wrappers and its photos are never among them.
CELL_ADS = etree.XPath(
    f"//td[{CELL}]/div[@style][not(@id='textinput' or @id='CLtag' or .//div[@id='textinput' or @id='CLtag']"
    " or .//img[@id='img_pop_view'] or .//table[contains(@class, 'body_img_table')])]"
)
PARAGRAPHS = ".//p"

# -- the title ----------------------------------------------------------------------------------------
SITE_TITLE = (f"//h1[{cls('read_title')}]", f"//td[{cls('read_title')}]", f"//*[{cls('read_title')}]")
OG_TITLE = "//meta[@property='og:title' or @name='og:title' or @name='twitter:title']/@content"
HEADLINE = (
    "//article//h1",
    "//*[@itemprop='headline']",
    "//h1[contains(@class, 'title') or contains(@class, 'headline') or contains(@id, 'title')]",
)
H1 = "//h1"
PAGE_TITLE = "//title"
SITE_NAME = (
    "//meta[@property='og:site_name' or @name='og:site_name' or @name='application-name'"
    " or @name='apple-mobile-web-app-title']/@content"
)

# -- links: a list page's article links, the page's own share and print links ------------------------
LINKS = "//a/@href"
SHARE_LINKS = "//a[@href] | //*[@onclick]"
UID_INPUT = "//input[@name='uid']/@value"

# -- metadata -----------------------------------------------------------------------------------------
SUBTITLE = (
    f"//*[{cls('read_subtitle')}]",
    f"//*[{cls('sub_title')}]",
    f"//div[{cls('article_head')}]//h2",
    f"//div[{cls('article_head')}]//h3",
)
WRITER = (f"//*[{cls('writer_time')}]//*[{cls('writer')}]", f"//*[{cls('writer')}]")
BYLINE = (f"//*[{cls('writer_time')}]", f"//*[{cls('read_date')}]")
PUBLISHED_META = "//meta[@property='article:published_time']/@content"
MODIFIED_META = "//meta[@property='article:modified_time']/@content"
SECTION_CODE = "//input[@name='section']/@value"
SECTION_NAME = ("//input[@name='section2']/@value", "//meta[@property='article:section']/@content")
CANONICAL = "//link[@rel='canonical']/@href"
OG_URL = "//meta[@property='og:url']/@content"
LEAD_IMAGE = ("//img[@id='img_pop_view']/@src", "//meta[@property='og:image']/@content")


@functools.lru_cache(maxsize=128)
def compiled(xpath: str) -> etree.XPath:
    return etree.XPath(xpath)  # compiled once per process instead of once per page


def first_text(tree: lxml.html.HtmlElement, *xpaths: str) -> str | None:
    """The first non-empty text (white space collapsed) the expressions find, tried in order."""
    for xpath in xpaths:
        for node in compiled(xpath)(tree):
            value = node if isinstance(node, str) else node.text_content()
            text = clean_text(str(value))
            if text:
                return text
    return None
