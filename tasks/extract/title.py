"""The headline: the site's title element, else (and on pages of an unknown skin) `og:title`, the
article's `h1` or the page's `<title>`, cleared of the site's name (and a section name next to it)
whatever separator the page puts between them."""

from __future__ import annotations

import re

import lxml.html

from breaknews.tasks.extract import xpaths
from breaknews.tasks.extract.lines import clean_text

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


def page_title(tree: lxml.html.HtmlElement) -> str | None:
    """The headline: the site's title element (`h1`/`h2`/`td.read_title`), else (and on pages of an
    unknown skin) `og:title`, the article's `h1`, the page's `<title>`, without the site's name."""
    title = xpaths.first_text(tree, *xpaths.SITE_TITLE)
    if title:
        return title
    names = _site_names(tree)
    for candidate in (
        xpaths.first_text(tree, xpaths.OG_TITLE),
        xpaths.first_text(tree, *xpaths.HEADLINE),
        _only_h1_text(tree),
        xpaths.first_text(tree, xpaths.PAGE_TITLE),
    ):
        title = _without_site_name(candidate, names) if candidate else None
        if title and _plain(title) not in names:
            return title
    return None


def _only_h1_text(tree: lxml.html.HtmlElement) -> str | None:
    """The headline of a page whose `h1`s all say the same (a desktop and a mobile header, both in the page)."""
    texts = {clean_text(h1.text_content()) for h1 in xpaths.compiled(xpaths.H1)(tree)} - {""}
    return texts.pop() if len(texts) == 1 else None


def _plain(text: str) -> str:
    return "".join(text.split()).casefold()


def _site_names(tree: lxml.html.HtmlElement) -> set[str]:
    """What the page calls its site (`og:site_name`, `application-name`), and BreakNews' own names."""
    found = xpaths.compiled(xpaths.SITE_NAME)(tree)
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
