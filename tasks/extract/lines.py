"""What a line of a page's text is: article text, a photo caption (and its credit), or boilerplate and
markup debris that is no article text; and white space made plain."""

from __future__ import annotations

import re

from breaknews.warehouse.models import Block

_HAS_WORD = re.compile(r"\w")  # a line without a letter or digit (`|`, `-`, `…`) is markup debris
_CAPTION_START = re.compile(r"^\s*[▲△▶]\s*")
_CREDIT = re.compile(r"\s*(?:[©ⓒ]|\(c\)|&copy;)\s*(?P<credit>[^©ⓒ]{1,80}?)\s*$", re.I)
_SOURCE_CREDIT = re.compile(r"\s*<\s*사진\s*(?:출처|제공)?\s*=\s*(?P<credit>[^>]{1,80}?)\s*>\s*$")
_PAREN_CREDIT = re.compile(r"\s*\(\s*사진\s*(?:출처|제공)?\s*=\s*(?P<credit>[^)]{1,80}?)\s*\)\s*$")
_BOILERPLATE = re.compile(
    r"(기사\s*제보|보도\s*자료.*@|무단\s*전재|재\s*배포\s*금지|All rights reserved|^Copyright\b|"
    r"^[ⓒ©]\s*브레이크뉴스|저작권자\s*[ⓒ©]|^\s*(?:광고|AD|advertisement)\s*$|^기사\s*입력\s*:|^최종\s*편집\s*:)",
    re.I,
)


def clean_text(text: str) -> str:
    """Collapse runs of white space (including NBSP and ideographic space) to single spaces."""
    return " ".join(text.replace("\u200b", "").split())


def as_block(line: str, image_url: str | None) -> Block | None:
    """The line as a body block (a caption when it starts with ▲, with the image before it), or None
    for boilerplate and debris."""
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
