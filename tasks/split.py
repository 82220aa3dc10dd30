"""Split (stage 4): an article's lines into the Korean original and its English translation.

Since 2020-09-28 most articles end with a marker line, then the English title, sometimes an English
byline (``-Publisher Il-suk Moon``), then the translated paragraphs and captions. The marker's
wording varies; it and the English disclaimer belong to neither body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from breaknews.tasks.errors import SplitError
from breaknews.warehouse.models import Block

# A Korean line announcing the translation: "구글 번역" (any spacing/quotes) with 영문/번역한/전문.
_MARKER_KO = re.compile(
    r"구\s*글\s*[\"'‘’“”「」『』\[\]]*\s*번\s*역.{0,80}?(?:영\s*문|전\s*문)|(?:영\s*문|전\s*문).{0,80}?구\s*글\s*[\"'‘’“”\[\]]*\s*번\s*역",
    re.S,
)
# The English disclaimer that follows or replaces the Korean marker.
_DISCLAIMER_EN = re.compile(
    r"(?:the\s+following\s+is\s*[\[\(]?\s*(?:the\s+)?full\s+text|"
    r"translated\s+(?:by|with|using)\s*[\"'‘’“”]*\s*google\s*translat|"
    r"[\"'‘’“”]*google\s+translate[\"'‘’“”]*\s+is\s+working|"
    r"(?:may|might)\s+be\s+errors?\s+in\s+(?:the\s+)?(?:english\s+)?translation|"
    r"english\s+(?:version|translation)\s+(?:of\s+the\s+article\s+)?(?:translated|by)\s+google)",
    re.I,
)
_MARKER_MAX_LEN = 600
_BYLINE_EN = re.compile(r"^\s*[-–—]\s*[A-Z][A-Za-z .'\-]{2,60}$")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile(r"[A-Za-z]")
# A tail counts as an unmarked English version only when it is long enough to be one.
_TAIL_MIN_LATIN = 300
_TAIL_MIN_LINES = 3


@dataclass(frozen=True)
class SplitResult:
    ko: list[Block]  # Korean body lines and captions, in order
    en: list[Block]  # English body lines and captions, in order
    title_en: str | None
    byline_en: str | None
    method: str  # "marker" | "latin_tail" | "none"


def hangul_share(text: str) -> float:
    """Share of Hangul among the letters of a line (0.0 for a purely Latin line)."""
    hangul = len(_HANGUL.findall(text))
    latin = len(_LATIN.findall(text))
    return hangul / (hangul + latin) if hangul + latin else 0.0


def is_marker(text: str) -> bool:
    return len(text) <= _MARKER_MAX_LEN and bool(_MARKER_KO.search(text) or _DISCLAIMER_EN.search(text))


def split_bilingual(blocks: list[Block]) -> SplitResult:
    """Split at the translation marker, else at a long Latin-script tail, else keep all as Korean."""
    marker = next((i for i, block in enumerate(blocks) if not block.is_caption and is_marker(block.text)), None)
    if marker is not None:
        ko, tail, method = blocks[:marker], blocks[marker + 1 :], "marker"
        # The disclaimer may run over further lines of its own, in either language.
        while tail and not tail[0].is_caption and is_marker(tail[0].text):
            tail = tail[1:]
    else:
        start = _latin_tail_start(blocks)
        if start is None:
            return _checked(SplitResult(ko=list(blocks), en=[], title_en=None, byline_en=None, method="none"))
        ko, tail, method = blocks[:start], blocks[start:], "latin_tail"

    title_en: str | None = None
    byline_en: str | None = None
    rest = list(tail)
    if rest and not rest[0].is_caption and hangul_share(rest[0].text) < 0.5:
        title_en = rest.pop(0).text
    if rest and not rest[0].is_caption and _BYLINE_EN.match(rest[0].text):
        byline_en = rest.pop(0).text.lstrip("-–— ").strip()
    if not any(not b.is_caption for b in rest):
        # A marker with nothing English after it: keep the article, without translation.
        return _checked(SplitResult(ko=ko + rest, en=[], title_en=None, byline_en=None, method=f"{method}_empty"))
    return _checked(SplitResult(ko=ko, en=rest, title_en=title_en, byline_en=byline_en, method=method))


def _latin_tail_start(blocks: list[Block]) -> int | None:
    """Index where an unmarked English version starts: every later line Latin, and enough of them."""
    start = None
    for i in range(len(blocks) - 1, -1, -1):
        text = blocks[i].text
        if hangul_share(text) > 0.15:
            break
        if _LATIN.search(text):
            start = i
    if start is None or start == 0:
        return None
    tail = [b for b in blocks[start:] if not b.is_caption]
    latin = sum(len(_LATIN.findall(b.text)) for b in tail)
    if len(tail) < _TAIL_MIN_LINES or latin < _TAIL_MIN_LATIN:
        return None
    return start


def _checked(result: SplitResult) -> SplitResult:
    if not any(not b.is_caption for b in result.ko):
        raise SplitError(
            "no Korean body text before the English part"
            + (" (page starts with the translation marker)" if result.method == "marker" else "")
        )
    return result
