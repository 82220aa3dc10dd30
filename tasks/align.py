"""Align (stage 6): an article's Korean paragraphs with their English translation, offline.

A small Gale–Church style dynamic programme over paragraphs. Beads: 1–1, 2–1, 1–2 (Google's
translation merges and splits paragraphs), and 1–0 / 0–1 (a paragraph with no counterpart). Each bead
costs -log(prior) plus how far it strays from the expected length ratio, minus what the two sides
visibly share (numbers, dates, Latin-script names and acronyms), plus a little for drifting away from
the diagonal. Nothing here needs a network, a model or machine translation.

Why our own rather than a packaged aligner: bleualign needs a machine translation of one side,
vecalign needs sentence embeddings (a model download), hunalign is a C++ binary wanting a bilingual
dictionary; none of them knows that "1조 2천억 원" and "1.2 trillion won" are the same anchor. A
paragraph-level DP over a handful of paragraphs is a few dozen lines and runs in microseconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from breaknews.tasks.versions import ALIGNER_VERSION
from breaknews.warehouse.models import Caption, ParagraphPair

# Non-space characters of the English translation per non-space character of the Korean original,
# measured on the bundled samples and fixtures (64 one-to-one paragraphs): mean 2.85, log-sd 0.12.
# The sd is widened for real-world noise (quotes, bylines, abbreviations).
EN_PER_KO = 2.85
LOG_RATIO_SD = 0.25

# Prior costs (-log p) of each bead shape; merges and splits are rarer than 1–1, gaps rarer still.
_PRIORS = {
    (1, 1): -math.log(0.90),
    (2, 1): -math.log(0.04),
    (1, 2): -math.log(0.04),
    (1, 0): -math.log(0.01),
    (0, 1): -math.log(0.01),
}
_ANCHOR_GAIN = 1.5  # cost removed per shared anchor
_ANCHOR_MISS = 0.4  # cost added per anchor on one side only
_DRIFT = 2.0  # cost per unit of relative-position drift

_SPACE = re.compile(r"\s+")
_LATIN_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9&.\-]*[A-Za-z0-9]\b")
_KO_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(조|천억|백억|십억|억|천만|백만|십만|만|천)?")
_EN_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(trillion|billion|million|thousand)?", re.I)
_KO_UNITS = {
    "조": 10**12,
    "천억": 10**11,
    "백억": 10**10,
    "십억": 10**9,
    "억": 10**8,
    "천만": 10**7,
    "백만": 10**6,
    "십만": 10**5,
    "만": 10**4,
    "천": 10**3,
}
_EN_UNITS = {"trillion": 10**12, "billion": 10**9, "million": 10**6, "thousand": 10**3}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
_EN_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b", re.I)
_KO_MONTH = re.compile(r"(\d{1,2})\s*월")


@dataclass(frozen=True)
class Pair:
    """Paragraphs ko[ko_start:ko_end] translate en[en_start:en_end] (end exclusive)."""

    ko_start: int
    ko_end: int
    en_start: int
    en_end: int
    ko_text: str
    en_text: str
    score: float  # 0..1: length agreement, blended with anchor agreement when there are anchors


def _length(text: str) -> int:
    return len(_SPACE.sub("", text))


def _number_key(value: float) -> str:
    return f"{value:.6g}"


def ko_anchors(text: str) -> set[str]:
    """Numbers (with 만/억/조 units folded in, adjacent unit groups summed), months and Latin names."""
    found: set[str] = set()
    total: float | None = None
    last_end = -1
    for match in _KO_NUMBER.finditer(text):
        digits, unit = match.group(1).replace(",", ""), match.group(2)
        try:
            value = float(digits) * (_KO_UNITS[unit] if unit else 1)
        except ValueError:
            continue
        if unit and total is not None and match.start() - last_end <= 1:
            total += value  # "1조 2천억" is one amount
        else:
            if total is not None:
                found.add(_number_key(total))
            total = value
        last_end = match.end()
        if not unit:
            found.add(_number_key(total))
            total = None
    if total is not None:
        found.add(_number_key(total))
    found.update(f"month:{int(m)}" for m in _KO_MONTH.findall(text) if 1 <= int(m) <= 12)
    found.update(name.lower() for name in _LATIN_NAME.findall(text))
    return found


def en_anchors(text: str, ko_names: set[str]) -> set[str]:
    """Numbers (with million/billion folded in), month names, and the Latin names the Korean side has."""
    found: set[str] = set()
    for match in _EN_NUMBER.finditer(text):
        digits, unit = match.group(1).replace(",", ""), match.group(2)
        try:
            value = float(digits) * (_EN_UNITS[unit.lower()] if unit else 1)
        except ValueError:
            continue
        found.add(_number_key(value))
    found.update(f"month:{_MONTHS[m.lower()]}" for m in _EN_MONTH.findall(text))
    lowered = text.lower()
    # English is all Latin script: only names that the Korean side also spells in Latin count.
    found.update(name for name in ko_names if name in lowered)
    return found


class _Side:
    def __init__(self, texts: list[str], *, korean: bool, ko_names: set[str] | None = None) -> None:
        self.texts = texts
        self.lengths = [_length(t) for t in texts]
        if korean:
            self.anchors = [ko_anchors(t) for t in texts]
        else:
            self.anchors = [en_anchors(t, ko_names or set()) for t in texts]


def _length_fit(ko_len: int, en_len: int) -> float:
    """How well the lengths agree, as a Gaussian on the log ratio: 1.0 at the expected ratio."""
    deviation = math.log((en_len + 1) / (EN_PER_KO * ko_len + 1)) / LOG_RATIO_SD
    return math.exp(-0.5 * deviation * deviation)


def _anchor_fit(ko: set[str], en: set[str]) -> tuple[int, int]:
    return len(ko & en), len(ko ^ en)


def _bead_cost(ko: _Side, en: _Side, i: int, di: int, j: int, dj: int) -> float:
    cost = _PRIORS[(di, dj)]
    n, m = len(ko.texts), len(en.texts)
    drift = abs((i + di / 2) / max(n, 1) - (j + dj / 2) / max(m, 1))
    cost += _DRIFT * drift
    if di and dj:
        ko_len = sum(ko.lengths[i : i + di])
        en_len = sum(en.lengths[j : j + dj])
        deviation = math.log((en_len + 1) / (EN_PER_KO * ko_len + 1)) / LOG_RATIO_SD
        cost += 0.5 * deviation * deviation
        ko_anchor = set().union(*ko.anchors[i : i + di])
        en_anchor = set().union(*en.anchors[j : j + dj])
        shared, missing = _anchor_fit(ko_anchor, en_anchor)
        cost += _ANCHOR_MISS * missing - _ANCHOR_GAIN * shared
    else:
        # A gap costs what its paragraph's anchors would have earned, so gaps do not swallow anchors.
        anchors = ko.anchors[i] if di else en.anchors[j]
        cost += _ANCHOR_MISS * len(anchors)
    return cost


def _score(ko_text: str, en_text: str, ko_anchor: set[str], en_anchor: set[str]) -> float:
    fit = _length_fit(_length(ko_text), _length(en_text))
    if not ko_anchor and not en_anchor:
        return round(fit, 4)
    shared, missing = _anchor_fit(ko_anchor, en_anchor)
    agreement = shared / (shared + missing) if shared + missing else 0.0
    return round(0.6 * fit + 0.4 * agreement, 4)


def score_pair(ko_text: str, en_text: str) -> float:
    """The score a pair of texts gets, on its own (the same formula align_paragraphs uses)."""
    ko_anchor = ko_anchors(ko_text)
    names = {a for a in ko_anchor if a[:1].isalpha() and not a.startswith("month:")}
    return _score(ko_text, en_text, ko_anchor, en_anchors(en_text, names))


def align_paragraphs(ko: Sequence[str], en: Sequence[str]) -> list[Pair]:
    """Pairs of Korean and English paragraphs in order; paragraphs left unmatched are not returned."""
    ko_list, en_list = list(ko), list(en)
    if not ko_list or not en_list:
        return []
    ko_side = _Side(ko_list, korean=True)
    names = {a for anchors in ko_side.anchors for a in anchors if a[:1].isalpha() and not a.startswith("month:")}
    en_side = _Side(en_list, korean=False, ko_names=names)
    n, m = len(ko_list), len(en_list)
    inf = float("inf")
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int]]] = [[(0, 0)] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            here = best[i][j]
            if here == inf:
                continue
            for di, dj in _PRIORS:
                if i + di > n or j + dj > m:
                    continue
                cost = here + _bead_cost(ko_side, en_side, i, di, j, dj)
                if cost < best[i + di][j + dj]:
                    best[i + di][j + dj] = cost
                    back[i + di][j + dj] = (di, dj)
    beads: list[tuple[int, int, int, int]] = []
    i, j = n, m
    while i or j:
        di, dj = back[i][j]
        beads.append((i - di, i, j - dj, j))
        i, j = i - di, j - dj
    pairs = []
    for ko_start, ko_end, en_start, en_end in reversed(beads):
        if ko_start == ko_end or en_start == en_end:
            continue
        ko_text = "\n".join(ko_list[ko_start:ko_end])
        en_text = "\n".join(en_list[en_start:en_end])
        score = _score(
            ko_text,
            en_text,
            set().union(*ko_side.anchors[ko_start:ko_end]),
            set().union(*en_side.anchors[en_start:en_end]),
        )
        pairs.append(Pair(ko_start, ko_end, en_start, en_end, ko_text, en_text, score))
    return pairs


def align_article(
    paragraphs_ko: Sequence[str],
    paragraphs_en: Sequence[str],
    captions: Sequence[Caption],
    title_ko: str,
    title_en: str | None,
) -> tuple[ParagraphPair, ...]:
    """All of an article's pairs: the title, body paragraphs, and captions aligned with captions only."""
    if not paragraphs_en:
        return ()
    found: list[ParagraphPair] = []
    groups: list[tuple[str, list[Pair]]] = []
    if title_en:
        groups.append(("title", align_paragraphs([title_ko], [title_en])))
    groups.append(("body", align_paragraphs(paragraphs_ko, paragraphs_en)))
    ko_captions = [c.text for c in sorted(captions, key=lambda c: c.position) if c.lang == "ko"]
    en_captions = [c.text for c in sorted(captions, key=lambda c: c.position) if c.lang == "en"]
    groups.append(("caption", align_paragraphs(ko_captions, en_captions)))
    for kind, pairs in groups:
        for position, p in enumerate(pairs):
            found.append(
                ParagraphPair(
                    kind=kind,
                    position=position,
                    ko_first=p.ko_start,
                    ko_last=p.ko_end - 1,
                    en_first=p.en_start,
                    en_last=p.en_end - 1,
                    ko_text=p.ko_text,
                    en_text=p.en_text,
                    score=p.score,
                    bead=f"{p.ko_end - p.ko_start}-{p.en_end - p.en_start}",
                    method=ALIGNER_VERSION,
                )
            )
    return tuple(found)
