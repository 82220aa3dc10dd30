"""The article's metadata from the page around its body: subtitle, reporter (name, role, e-mail
address), bureau, publication and modification times, section, the page's own URLs (canonical,
`og:url`, its share and print links) and the lead image. The counterpart of trafilatura's
`metadata.py`; `Extracted` is what the stage hands on, as trafilatura's `Document`.

Each field is read on its own and left empty when it cannot be read: a variant we do not know costs
that field, never the article.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import lxml.html

from breaknews.tasks.extract import xpaths
from breaknews.tasks.extract.lines import clean_text
from breaknews.tasks.identify import ArticleRef, host_family, refs_in_self_link, section_params
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
_SHARE_HINT = re.compile(r"print|sharer|share|intent/tweet|kakao|band\.us|mailto:|scrap", re.I)


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


def fill_metadata(ex: Extracted, tree: lxml.html.HtmlElement, url: str | None) -> None:
    """Every metadata field of ``ex`` the page gives (its first body line's dateline included, which
    loses the reporter's address it may hold)."""
    _fill_subtitle(ex, tree)
    writer, byline = _fill_reporter(ex, tree)
    _fill_from_dateline(ex, writer)
    _fill_times(ex, tree, byline)
    _fill_section(ex, tree, url)
    _fill_links(ex, tree, url)


def take_email_lines(ex: Extracted, every_line: list[Block]) -> None:
    """Lines that are only the reporter's e-mail address (alone or after the name) are not article
    text; the first address (looked for in ``every_line``, the markup's lines) becomes
    ``reporter_email`` when the dateline and byline gave none."""
    ex.blocks = [block for block in ex.blocks if _email_line(block, ex.reporter) is None]
    if ex.reporter_email is None:
        ex.reporter_email = next((email for b in every_line if (email := _email_line(b, ex.reporter))), None)


def _fill_subtitle(ex: Extracted, tree: lxml.html.HtmlElement) -> None:
    ex.subtitle = xpaths.first_text(tree, *xpaths.SUBTITLE)
    if ex.subtitle == ex.title:
        ex.subtitle = None


def _fill_reporter(ex: Extracted, tree: lxml.html.HtmlElement) -> tuple[str | None, str]:
    """The reporter from the writer span, else from the date line; returns (the writer span's text,
    the date line's text) for the fields read from them."""
    writer = xpaths.first_text(tree, *xpaths.WRITER)
    byline = xpaths.first_text(tree, *xpaths.BYLINE) or ""
    ex.reporter, ex.reporter_role = _parse_writer(writer)
    if ex.reporter is None:  # no writer span: the name before the date line's `|`, role and all
        ex.reporter, ex.reporter_role = next(
            (found for part in byline.split("|") if (found := _parse_writer(part, need_role=True))[0]), (None, None)
        )
    return writer, byline


def _fill_from_dateline(ex: Extracted, writer: str | None) -> None:
    """Bureau, reporter's address (and the reporter, when the byline named none) from the dateline that
    opens the body: `【브레이크뉴스 포항】박영재 기자(pyj@…)=`. The address leaves the body's text."""
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


def _fill_times(ex: Extracted, tree: lxml.html.HtmlElement, byline: str) -> None:
    ex.published_at = _time_after(_PUBLISHED, byline)
    if ex.published_at is None:
        page_text = clean_text(tree.text_content())
        ex.published_at = _time_after(_PUBLISHED_ON_PAGE, page_text) or _time_after(
            _PUBLISHED, page_text, need_time=True
        )
    if ex.published_at is None:
        ex.published_at = _iso_time(xpaths.first_text(tree, xpaths.PUBLISHED_META))
    ex.modified_at = _time_after(_MODIFIED, byline) or _iso_time(xpaths.first_text(tree, xpaths.MODIFIED_META))


def _fill_section(ex: Extracted, tree: lxml.html.HtmlElement, url: str | None) -> None:
    code, name = section_params(url)
    code = code or xpaths.first_text(tree, xpaths.SECTION_CODE)
    name = name or xpaths.first_text(tree, *xpaths.SECTION_NAME)
    ex.section_code = code if code and code.startswith("sc") else None
    ex.section = name or (SECTION_NAMES.get(ex.section_code) if ex.section_code else None)


def _fill_links(ex: Extracted, tree: lxml.html.HtmlElement, url: str | None) -> None:
    ex.canonical_url = xpaths.first_text(tree, xpaths.CANONICAL)
    ex.og_url = xpaths.first_text(tree, xpaths.OG_URL)
    ex.lead_image_url = next((b.image_url for b in ex.blocks if b.image_url), None) or xpaths.first_text(
        tree, *xpaths.LEAD_IMAGE
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
    for node in tree.xpath(xpaths.SHARE_LINKS):
        for attr in ("href", "onclick"):
            value = node.get(attr)
            if value and _SHARE_HINT.search(value):
                counts.update(refs_in_self_link(value, family or "www"))
    for value in tree.xpath(xpaths.UID_INPUT):
        if str(value).strip().isdigit():
            counts[ArticleRef(family or "www", int(value))] += 1
    return [ref for ref, _ in counts.most_common()]


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
