"""Variants of a page: the markup differences the site's publishing system (ins_news) is known to show
on the real site and its sister sites, and the harmless differences any HTML page may have, generated
from a page by a seeded random generator (the same seed always makes the same bytes).

Each transform rewrites the page's text and says what it changed on purpose (a reporter's e-mail line
added: the article's `reporter_email` becomes that address); a transform that does not apply to a page
(no `<p>` to turn into `<br>`, no dateline to put an address in) returns None. Everything else about the
article (title, reporter, time, bureau, both bodies, the split) must come out as from the original page.

    python -m tests.variants            # how many variants of every fixture and sample page differ, by transform
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

from breaknews.tasks.decode import decode_page
from breaknews.warehouse.models import Article, PageResult

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.html")) + sorted((ROOT / "samples").glob("*.html"))

_FLAGS = re.I | re.S
_RAW = re.compile(r"<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!DOCTYPE[^>]*>", _FLAGS)
_VALUE = r"(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+)"
_START_TAG = re.compile(rf"<([A-Za-z][A-Za-z0-9]*)((?:\s+[^\s=>/\"']+(?:\s*=\s*{_VALUE})?)*)\s*(/?)>")
_ATTR = re.compile(r"([^\s=>/\"']+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p\s*>", _FLAGS)
_BLOCK = "p|div|table|tr|td|h1|h2|h3|ul|li|ol|center|section|br"
_BLOCK_EDGE = re.compile(rf"(</(?:{_BLOCK})\s*>|<(?:br)\s*/?>)|(<(?:{_BLOCK})\b)", re.I)
_SAFE_UNQUOTED = re.compile(r"^[A-Za-z0-9_.:-]+$")
_CHARSET_META = re.compile(r"(<meta\b[^>]*charset\s*=\s*[\"']?)([A-Za-z0-9_-]+)", re.I)
_BR_BREAK = re.compile(r"<br\s*/?>\s*(?:&nbsp;|\s)*<br\s*/?>", re.I)

# Ad code of the kinds seen on the site's pages (BREAKNEWS.md): none of it is article text.
ADS = (
    '<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js"></script>'
    '<ins class="adsbygoogle" style="display:block" data-ad-client="ca-pub-1" data-ad-slot="2"></ins>'
    "<script>(adsbygoogle = window.adsbygoogle || []).push({});</script>",
    "<script type=\"text/javascript\">googletag.cmd.push(function() { googletag.display('div-gpt-ad-7'); });</script>",
    '<div id="div-gpt-ad-7" style="width:300px;height:250px"><script>googletag.display("div-gpt-ad-7");</script></div>',
    '<div style="margin:10px 0;text-align:center"><iframe src="https://ad.example.org/ad.php?zone=read_300"'
    ' width="300" height="250" frameborder="0" scrolling="no" title="광고"></iframe></div>',
    '<table class="ad_table" align="left" border="0" style="margin:0 10px 10px 0"><tr><td>'
    '<iframe src="https://ad.example.org/ad.php?zone=read_250" width="250" height="250"></iframe></td></tr></table>',
    "<!-- 광고 시작 --><div class=\"ad_box\"><script>document.write('<scr'+'ipt src=\"/ad.js\"></scr'+'ipt>');"
    "</script></div><!-- 광고 끝 -->",
    '<noscript><img src="https://ad.example.org/pixel.gif" width="1" height="1" alt=""></noscript>',
    "<style>.ad_box{display:none}</style>",
    '<div class="ad_box" style="clear:both">광고</div>',
)
# Inline-styled blocks sitting directly in the body cell (an ad blocker's rule for the site hides
# `.td_sub_read_contents > div[style]`): banners, some with a line of text.
CELL_ADS = (
    '<div style="width:100%;text-align:center;margin:0 0 10px"><a href="https://ad.example.org/click?id=7"'
    ' target="_blank"><img src="https://ad.example.org/banner_728.jpg" alt="광고"></a></div>',
    '<div style="padding:8px;border:1px solid #ddd;font-size:12px">[AD] 겨울맞이 특가 세일, 지금 바로 확인하세요</div>',
    '<div style="float:right;margin:0 0 10px 10px"><script>show_ad("read_right");</script></div>',
)
DEBRIS = ("<p>|</p>", "<p> | </p>", "<p>-</p>", "<p>…</p>", "<p>&nbsp;|&nbsp;</p>", "<p>---</p>")
PUBLISHED_LABELS = ("입력", "입력 :", "입력:", "등록", "등록 :", "기사입력 :", "기사입력", "등록일 :", "입력일")
MODIFIED_LABELS = ("최종편집", "최종편집:", "수정", "수정 :", "최종수정")
DATE_FORMATS = ("{y}/{m}/{d} [{H}:{M}]", "{y}.{m}.{d} {H}:{M}", "{y}-{m}-{d} {H}:{M}", "{y}/{m}/{d} {H}:{M}")


@dataclass(frozen=True)
class Variant:
    page: str  # the original page's file name
    number: int
    transforms: tuple[str, ...]
    content: bytes
    expect: dict[str, object] = field(default_factory=dict)  # fields the variant changes on purpose

    @property
    def name(self) -> str:
        return f"{self.page}#{self.number} ({'+'.join(self.transforms)})"


@dataclass
class Draft:
    """A variant being made: the page text, its codec, and what it changes on purpose."""

    text: str
    charset: str
    original: Article | None
    expect: dict[str, object] = field(default_factory=dict)


Transform = Callable[[Draft, Random], bool]  # rewrites the draft; False when it does not apply


# -- helpers --------------------------------------------------------------------------------------------
def _outside_raw(text: str, rewrite: Callable[[str], str]) -> str:
    """Rewrite the markup outside comments, scripts and styles (whose text is not markup)."""
    out, last = [], 0
    for match in _RAW.finditer(text):
        out.append(rewrite(text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(rewrite(text[last:]))
    return "".join(out)


def _element_end(text: str, start: int, tag: str) -> int | None:
    """Index just after the end tag closing the element whose start tag begins at ``start``."""
    pattern = re.compile(rf"<(/?){tag}\b[^>]*>", re.I)
    depth = 0
    for match in pattern.finditer(text, start):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return match.end()
    return None


def _find_start(text: str, pattern: str) -> re.Match[str] | None:
    return re.search(pattern, text, re.I)


def _cl_tag(text: str) -> re.Match[str] | None:
    return _find_start(text, r"<div\b[^>]*\bid\s*=\s*[\"']?CLtag\b[^>]*>")


def _body_cell(text: str) -> tuple[int, int] | None:
    """(start, end) of the table cell holding the body (modern `td.td_sub_read_contents`, old `td.read_body`)."""
    match = _find_start(text, r"<td\b[^>]*\bclass\s*=\s*[\"']?[^\"'>]*\b(?:td_sub_read_contents|read_body)\b[^>]*>")
    if match is None:
        return None
    end = _element_end(text, match.start(), "td")
    return (match.start(), end) if end else None


def _body_region(text: str) -> tuple[int, int] | None:
    cell = _body_cell(text)
    if cell:
        return cell
    match = _cl_tag(text) or _find_start(text, r"<div\b[^>]*\bid\s*=\s*[\"']?textinput\b[^>]*>")
    if match is None:
        return None
    end = _element_end(text, match.start(), "div")
    return (match.start(), end) if end else None


def _in_body(draft: Draft, rewrite: Callable[[str], str]) -> bool:
    region = _body_region(draft.text)
    if region is None:
        return False
    start, end = region
    body = draft.text[start:end]
    new = rewrite(body)
    if new == body:
        return False
    draft.text = draft.text[:start] + new + draft.text[end:]
    return True


def _boundaries(body: str) -> list[int]:
    """Positions between paragraphs: after each `</p>`, or after each `<br>&nbsp;<br>` of the old skin."""
    ends = [m.end() for m in re.finditer(r"</p\s*>", body, re.I)]
    return ends or [m.end() for m in _BR_BREAK.finditer(body)]


def _insert_at(body: str, rng: Random, snippets: tuple[str, ...], count: int) -> str:
    places = _boundaries(body)
    if not places:
        return body
    chosen = sorted(rng.sample(places, min(count, len(places))), reverse=True)
    for place in chosen:
        body = body[:place] + rng.choice(snippets) + body[place:]
    return body


def _unwrap(text: str, opening: re.Match[str] | None, tag: str) -> str | None:
    """The text with one element's start and end tags removed, its content kept."""
    if opening is None:
        return None
    end = _element_end(text, opening.start(), tag)
    if end is None:
        return None
    close = text.rindex("<", opening.start(), end)
    return text[: opening.start()] + text[opening.end() : close] + text[end:]


def _remove_element(text: str, pattern: str, tag: str) -> str | None:
    match = _find_start(text, pattern)
    if match is None:
        return None
    end = _element_end(text, match.start(), tag)
    return None if end is None else text[: match.start()] + text[end:]


def _email(rng: Random) -> str:
    user = rng.choice(("pyj", "news.kim", "reporter_7", "lee-nk", "jys2024"))
    return f"{user}@{rng.choice(('breaknews.com', 'naver.com', 'hanmail.net', 'gmail.com'))}"


# -- transforms: harmless HTML differences --------------------------------------------------------------
def attributes(draft: Draft, rng: Random) -> bool:
    """Attributes in another order, quoted with `"` or `'` or not at all."""

    def requote(match: re.Match[str]) -> str:
        attrs = _ATTR.findall(match.group(2))
        rng.shuffle(attrs)
        parts = []
        for name, raw in attrs:
            if not raw:
                parts.append(name)
                continue
            value = raw[1:-1] if raw[0] in "\"'" else raw
            styles = ['"'] if "'" in value else ["'"] if '"' in value else ['"', "'"]
            if _SAFE_UNQUOTED.match(value):
                styles.append("")
            quote = rng.choice(styles)
            parts.append(f"{name}={quote}{value}{quote}")
        return f"<{match.group(1)}{''.join(' ' + p for p in parts)}{match.group(3)}>"

    new = _outside_raw(draft.text, lambda part: _START_TAG.sub(requote, part))
    changed, draft.text = new != draft.text, new
    return changed


def upper_tags(draft: Draft, rng: Random) -> bool:
    """Tag names (and sometimes attribute names) in upper case, as old pages write them."""
    attr_names = rng.random() < 0.5

    def upper(part: str) -> str:
        part = _TAG_NAME.sub(lambda m: f"<{m.group(1)}{m.group(2).upper()}", part)
        if attr_names:
            part = _START_TAG.sub(
                lambda m: (
                    f"<{m.group(1)}"
                    + _ATTR.sub(lambda a: a.group(1).upper() + a.group(0)[len(a.group(1)) :], m.group(2))
                    + f"{m.group(3)}>"
                ),
                part,
            )
        return part

    draft.text = _outside_raw(draft.text, upper)
    return True


def whitespace(draft: Draft, rng: Random) -> bool:
    """Line breaks and indentation around block tags, doubled spaces in text, CRLF line ends."""
    breaks = ("\n", "\r\n", "\n\t\t", "  \n  ", "\n\n", " ")

    def spread(part: str) -> str:
        part = _BLOCK_EDGE.sub(
            lambda m: (m.group(1) + rng.choice(breaks)) if m.group(1) else (rng.choice(breaks) + m.group(2)), part
        )
        # Text between tags: a space may become several, or a line break (HTML collapses them).
        return re.sub(r">([^<]+)<", lambda m: ">" + m.group(1).replace(" ", rng.choice(("  ", " \n", " "))) + "<", part)

    text = _outside_raw(draft.text, spread)
    if rng.random() < 0.3:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    draft.text = text
    return True


def br_paragraphs(draft: Draft, rng: Random) -> bool:
    """Paragraphs as `<br>`-separated text instead of `<p>`s, as older pages write them."""
    separator = rng.choice(("<br><br>", "<br>&nbsp;<br>", "<br />\n<br />", "<BR>&nbsp;<BR>"))
    return _in_body(draft, lambda body: _PARAGRAPH.sub(lambda m: m.group(1) + separator + "\n", body))


def wrappers(draft: Draft, rng: Random) -> bool:
    """Extra `div`s: around paragraphs, around runs of paragraphs, around the body container."""
    kinds = ('<div class="txt">', "<div>", '<div style="text-align:justify">', "<section>", "<center>")

    def wrap(body: str) -> str:
        def one(match: re.Match[str]) -> str:
            if rng.random() < 0.4:
                return f"<div>{match.group(0)}</div>"
            return match.group(0)

        body = _PARAGRAPH.sub(one, body)
        paragraphs = list(_PARAGRAPH.finditer(body))
        if len(paragraphs) >= 2:
            first = rng.randrange(len(paragraphs) - 1)
            last = rng.randrange(first + 1, len(paragraphs))
            opening = rng.choice(kinds)
            closing = "</" + re.match(r"<(\w+)", opening).group(1) + ">"  # type: ignore[union-attr]
            a, b = paragraphs[first].start(), paragraphs[last].end()
            # Only a run of siblings: nothing but paragraphs, text and inline markup between them.
            if not re.search(r"</?(?:div|td|table|tr)\b", body[a:b], re.I):
                body = body[:a] + opening + body[a:b] + closing + body[b:]
        return body

    changed = _in_body(draft, wrap)
    opening = _cl_tag(draft.text)
    if opening is not None and rng.random() < 0.5:
        end = _element_end(draft.text, opening.start(), "div")
        if end is not None:
            text = draft.text
            draft.text = text[: opening.start()] + '<div class="article_body">' + text[opening.start() : end]
            draft.text += "</div>" + text[end:]
            changed = True
    return changed


def ads_between(draft: Draft, rng: Random) -> bool:
    """Ad code and scripts between paragraphs."""
    return _in_body(draft, lambda body: _insert_at(body, rng, ADS, rng.randint(1, 3)))


def encoding(draft: Draft, rng: Random) -> bool:
    """The page in the other encoding (UTF-8 ↔ EUC-KR, written as cp949 with numeric entities for the
    rest), its `<meta>` charset changed to match."""
    draft.charset = "utf-8" if draft.charset == "cp949" else "cp949"
    declared = "utf-8" if draft.charset == "utf-8" else rng.choice(("euc-kr", "EUC-KR", "ks_c_5601-1987", "cp949"))
    if _CHARSET_META.search(draft.text):
        draft.text = _CHARSET_META.sub(lambda m: m.group(1) + declared, draft.text)
    else:
        draft.text = re.sub(r"(<head\b[^>]*>)", rf'\1<meta charset="{declared}">', draft.text, count=1, flags=re.I)
    return True


# -- transforms: what the site's own variants change ----------------------------------------------------
def sister_skin(draft: Draft, rng: Random) -> bool:
    """The sister sites' ins_news skin: title in `h2.read_title`, the date line labelled `입력`/`등록`
    in another date format and next to a modification time, an inline-styled block in the body cell."""
    changed = False
    text = draft.text
    if rng.random() < 0.7:
        title = _find_start(text, r"<h1\b[^>]*\bread_title\b[^>]*>")
        end = _element_end(text, title.start(), "h1") if title else None
        if title and end:
            inner = text[title.end() : text.rindex("<", title.start(), end)]
            text = text[: title.start()] + title.group(0).replace("h1", "h2").replace("H1", "H2") + inner
            text += "</h2>" + draft.text[end:]
            changed = True
    date = re.search(r"기사\s*입력\s*:?\s*(\d{4})/(\d{2})/(\d{2})\s*\[(\d{2}):(\d{2})\]", text)
    if date and rng.random() < 0.8:
        y, m, d, hh, mm = date.groups()
        published = rng.choice(PUBLISHED_LABELS) + " " + rng.choice(DATE_FORMATS).format(y=y, m=m, d=d, H=hh, M=mm)
        line = published
        if rng.random() < 0.6:
            modified = (
                rng.choice(MODIFIED_LABELS)
                + " "
                + rng.choice(DATE_FORMATS).format(y=y, m=m, d=d, H=f"{(int(hh) + 2) % 24:02d}", M=mm)
            )
            line = f"{modified} | {published}" if rng.random() < 0.5 else f"{published} | {modified}"
        text = text[: date.start()] + line + text[date.end() :]
        changed = True
    cell = _find_start(text, r"<td\b[^>]*\btd_sub_read_contents\b[^>]*>")
    if cell and rng.random() < 0.6:
        text = text[: cell.end()] + rng.choice(CELL_ADS) + text[cell.end() :]
        changed = True
    draft.text = text
    return changed


def drop_optional(draft: Draft, rng: Random) -> bool:
    """Optional parts left out: head metadata, subtitle, share bars, related articles, comments,
    photos, copyright lines, the writer span, and the body wrappers `div#CLtag` / `div#textinput`."""
    text = draft.text
    removals: list[Callable[[str], str | None]] = [
        lambda t: re.sub(r"<title>.*?</title>", "", t, count=1, flags=_FLAGS),
        lambda t: re.sub(r"<meta\b[^>]*\b(?:property|name)\s*=\s*[\"']?(?:og:|description)[^>]*>", "", t, flags=re.I),
        lambda t: re.sub(r"<link\b[^>]*\brel\s*=\s*[\"']?canonical[^>]*>", "", t, flags=re.I),
        lambda t: re.sub(r"(<(h2|td)\b[^>]*\bread_subtitle\b[^>]*>).*?(</\2\s*>)", r"\1\3", t, count=1, flags=_FLAGS),
        lambda t: _remove_element(t, r"<div\b[^>]*\bread_share\b[^>]*>", "div"),
        lambda t: re.sub(r"<!--\s*관련기사\s*:\s*시작\s*-->.*?<!--\s*//\s*관련기사\s*:\s*끝\s*-->", "", t, flags=re.S),
        lambda t: _remove_element(t, r"<div\b[^>]*\bcomment_box\b[^>]*>", "div"),
        lambda t: _remove_element(t, r"<table\b[^>]*\bbody_img_table\b[^>]*>", "table"),
        lambda t: _remove_element(t, r"<div\b[^>]*\bread_copyright\b[^>]*>", "div"),
        lambda t: _unwrap(t, _find_start(t, r"<span\b[^>]*\bclass\s*=\s*[\"']?writer\b[^>]*>"), "span"),
        lambda t: _unwrap(t, _cl_tag(t), "div"),
        lambda t: _unwrap(t, _find_start(t, r"<div\b[^>]*\bid\s*=\s*[\"']?textinput\b[^>]*>"), "div"),
    ]
    changed = False
    for removal in rng.sample(removals, rng.randint(1, 4)):
        new = removal(text)
        if new is not None and new != text:
            text, changed = new, True
    draft.text = text
    return changed


def debris(draft: Draft, rng: Random) -> bool:
    """Paragraphs that are only table debris or punctuation (`|`, `-`, `…`) between real ones."""
    old_skin = not re.search(r"<p\b", draft.text[slice(*(_body_region(draft.text) or (0, 0)))], re.I)
    snippets = ("|<br>&nbsp;<br>", "-<br>&nbsp;<br>", "…<br>&nbsp;<br>") if old_skin else DEBRIS
    return _in_body(draft, lambda body: _insert_at(body, rng, snippets, rng.randint(1, 2)))


def email_line(draft: Draft, rng: Random) -> bool:
    """The reporter's e-mail address on a line of its own (alone or after the name) at the end of the
    Korean body, and sometimes again at the end of the English one (Google translates it too)."""
    article = draft.original
    if article is None or article.reporter_email or article.split_method == "latin_tail":
        return False
    address = _email(rng)
    name = f"{article.reporter} {article.reporter_role or '기자'}" if article.reporter else ""
    forms = [address, f'<a href="mailto:{address}">{address}</a>']
    if name:
        forms += [f"{name} {address}", f"{name}({address})", f"[{name} {address}]"]
    line = rng.choice(forms)
    text = draft.text
    region = _body_region(text)
    if region is None:
        return False
    start, end = region
    body = text[start:end]
    old_skin = not re.search(r"<p\b", body, re.I)
    if article.split_method.startswith("marker"):
        marker = re.search(r"<p\b[^>]*>(?:(?!</p).)*?(?:구\s*글|Google\s+Translate)", body, _FLAGS)
        if marker is None:
            return False
        at = marker.start()
        body = body[:at] + f"<p>{line}</p>\n" + body[at:]
        if rng.random() < 0.5:
            closing = _last_paragraph_end(body)
            if closing is not None:
                body = body[:closing] + f"\n<p>{address}</p>" + body[closing:]
    else:
        closing = _last_paragraph_end(body) if not old_skin else _old_body_end(body)
        if closing is None:
            return False
        body = body[:closing] + (f"<BR>&nbsp;<BR>{line}" if old_skin else f"\n<p>{line}</p>") + body[closing:]
    draft.text = text[:start] + body + text[end:]
    draft.expect["reporter_email"] = address
    return True


def _last_paragraph_end(body: str) -> int | None:
    ends = [m.end() for m in re.finditer(r"</p\s*>", body, re.I)]
    return ends[-1] if ends else None


def _old_body_end(body: str) -> int | None:
    opening = _cl_tag(body)
    if opening is None:
        return None
    end = _element_end(body, opening.start(), "div")
    return None if end is None else body.rindex("<", opening.start(), end)


def dateline_email(draft: Draft, rng: Random) -> bool:
    """The reporter's e-mail address inside the dateline: `박영재 기자(pyj@…)=`, `[브레이크뉴스=박동제 기자 pdj@…]`."""
    if getattr(draft.original, "reporter_email", None):
        return False
    address = _email(rng)
    region = _body_region(draft.text)
    if region is None:
        return False
    text, (start, end) = draft.text, region
    match = re.compile(r"((?:【브레이크뉴스[^】<]*】|브레이크뉴스)\s*[가-힣]{2,5}\s*기자)\s*=").search(text, start, end)
    if match:
        inserted = rng.choice((f"({address})", f" {address}", f" ({address}) "))
    else:
        match = re.compile(r"(\[브레이크뉴스\s*=\s*[가-힣]{2,5}\s*기자)\s*\]").search(text, start, end)
        if match is None:
            return False
        inserted = f" {address}"
    draft.text = text[: match.end(1)] + inserted + text[match.end(1) :]
    draft.expect["reporter_email"] = address
    return True


# Applied in this order (content first, then markup, then bytes), so a later transform sees the earlier's work.
TRANSFORMS: dict[str, Transform] = {
    "email_line": email_line,
    "dateline_email": dateline_email,
    "debris": debris,
    "sister_skin": sister_skin,
    "drop_optional": drop_optional,
    "ads_between": ads_between,
    "wrappers": wrappers,
    "br_paragraphs": br_paragraphs,
    "attributes": attributes,
    "upper_tags": upper_tags,
    "whitespace": whitespace,
    "encoding": encoding,
}


def variants(path: Path, original: Article | None, count: int) -> Iterator[Variant]:
    """``count`` variants of the page at ``path``: first each transform alone (where it applies), then
    random mixes. Seeded by the page's name and the variant's number."""
    raw = path.read_bytes()
    decoded = decode_page(raw)
    names = list(TRANSFORMS)
    for number in range(count):
        rng = Random(f"{path.name}#{number}")
        if number < len(names):
            chosen = [names[number]]
        else:
            chosen = [name for name in names if rng.random() < 0.35] or [rng.choice(names)]
        draft = Draft(decoded.text, "cp949" if decoded.charset == "cp949" else "utf-8", original)
        applied = tuple(name for name in names if name in chosen and TRANSFORMS[name](draft, rng))
        if not applied:
            continue
        yield Variant(path.name, number, applied, draft.text.encode(draft.charset, "xmlcharrefreplace"), draft.expect)


# -- what must hold --------------------------------------------------------------------------------------
COMPARED = (
    "title_ko",
    "title_en",
    "reporter",
    "reporter_role",
    "reporter_email",
    "bureau",
    "published_at",
    "paragraphs_ko",
    "paragraphs_en",
    "byline_en",
    "split_method",
)


def differences(original: Article, variant: Article, expect: dict[str, object]) -> list[str]:
    """Fields of the variant's article that are not what the original (and the variant's own changes) give."""
    found = []
    for name in COMPARED:
        want = expect.get(name, getattr(original, name, None))
        got = getattr(variant, name, None)
        if got != want:
            found.append(f"{name}: {_short(got)} instead of {_short(want)}")
    return found


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:160] + "…"


def main() -> int:
    from breaknews.tasks.pipeline import process_page
    from breaknews.warehouse.models import Page

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    total = failed = 0
    by_transform: Counter[str] = Counter()
    tried: Counter[str] = Counter()
    for path in PAGES:
        if decode_ok(path) is False:
            continue
        base = process_page(Page(source=str(path), source_kind="file", content=path.read_bytes()))
        for variant in variants(path, base.article, count):
            total += 1
            tried.update(variant.transforms)
            result = process_page(Page(source=variant.name, source_kind="file", content=variant.content))
            problems = check(base, result, variant)
            if problems:
                failed += 1
                by_transform.update(variant.transforms)
                print(f"{variant.name}: {'; '.join(problems)}")
    print(f"\n{failed} of {total} variants differ from their original page")
    for name in TRANSFORMS:
        print(f"  {name:15} {by_transform[name]:4} failing of {tried[name]:4} variants with it")
    return 0


def decode_ok(path: Path) -> bool:
    from breaknews.tasks.errors import DecodeError

    try:
        decode_page(path.read_bytes())
    except DecodeError:
        return False
    return True


def check(base: PageResult, result: PageResult, variant: Variant) -> list[str]:
    """What is wrong with a variant's result, given its original page's result."""
    if base.article is None:
        if result.article is not None:
            return [f"became article {result.article.article_id} although the original failed ({base.reason})"]
        if result.stage != base.stage:
            return [f"failed at {result.stage} instead of {base.stage}: {result.reason}"]
        return []
    if result.article is None:
        return [f"no article: {result.stage}: {result.reason}"]
    problems = differences(base.article, result.article, variant.expect)
    article = result.article
    debris_found = [p for p in (*article.paragraphs_ko, *article.paragraphs_en) if not re.search(r"\w", p)]
    if debris_found:
        problems.append(f"debris paragraphs {debris_found}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
