"""Make any number of distinct BreakNews-style pages from the hand-written samples.

Used by the benchmarks (corpora of N pages) and by the loopback imitation of the site (a page for any
uid). Each generated page is a sample page with its own uid everywhere the sample named its uid and a
numbered title, so every page is a distinct article with distinct bytes, in the sample's skin and
encoding (the old-skin sample stays cp949).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
_UID_IN_NAME = re.compile(r"^breaknews\.(\d+)\.html$")
_TITLE = re.compile(r"""(class=["']?read_title["']?[^>]*>)(\s*)([^<]+)""")
_HEAD_TITLE = re.compile(r"(<title>)([^<]+)")


@dataclass(frozen=True)
class Template:
    uid: int
    text: str
    charset: str  # Python codec the page is written in


@cache
def templates() -> tuple[Template, ...]:
    found = []
    for path in sorted(SAMPLES.glob("breaknews.*.html")):
        match = _UID_IN_NAME.match(path.name)
        if not match:
            continue  # the deleted-article notice has no uid
        raw = path.read_bytes()
        charset = "cp949" if b"euc-kr" in raw[:2048].lower() else "utf-8"
        found.append(Template(int(match.group(1)), raw.decode(charset), charset))
    return tuple(found)


def page_for(uid: int, *, template_index: int | None = None, revision: int = 0) -> tuple[bytes, str]:
    """(page bytes, charset) of a distinct article numbered ``uid``; ``revision`` > 0 edits its title."""
    pool = templates()
    template = pool[(uid if template_index is None else template_index) % len(pool)]
    text = re.sub(rf"(?<!\d){template.uid}(?!\d)", str(uid), template.text)
    suffix = f" ({uid})" if not revision else f" ({uid}, 수정 {revision})"
    text = _TITLE.sub(lambda m: m.group(1) + m.group(2) + m.group(3).rstrip() + suffix, text, count=1)
    text = _HEAD_TITLE.sub(lambda m: m.group(1) + m.group(2) + suffix, text, count=1)
    return text.encode(template.charset, "xmlcharrefreplace"), template.charset


def write_corpus(folder: Path, count: int, *, first_uid: int = 2_000_000) -> list[Path]:
    """Write ``count`` distinct pages into ``folder`` (spread over subfolders of 1,000)."""
    paths = []
    for i in range(count):
        uid = first_uid + i
        sub = folder / f"{i // 1000:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"breaknews.{uid}.html"
        path.write_bytes(page_for(uid)[0])
        paths.append(path)
    return paths
