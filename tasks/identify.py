"""Identify (stage 5): which article a page is. (host family, uid) from URLs, and the canonical URL of an article.

www.breaknews.com, breaknews.com and m.breaknews.com are one host family ("www"); regional and
sister hosts (n., j., honam., press.) each have their own uid sequence, so an article is keyed by
family and uid, never by uid alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

SITE_DOMAIN = "breaknews.com"
SITE_URL = "https://www.breaknews.com"  # the live site, when a command names no other
DEFAULT_LIST_PAGES = 3  # pages of its all-articles list a run reads (about 60 articles)
_WWW_HOSTS = {"", "www", "m"}
_UID_PATH = re.compile(r"^/(\d{1,10})/?$")
_READ_PAGES = {"/sub_read.html", "/sub_read.php", "/news/sub_read.html"}
_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class ArticleRef:
    family: str
    uid: int

    @property
    def article_id(self) -> str:
        return f"{self.family}:{self.uid}"

    @property
    def url(self) -> str:
        host = "www" if self.family == "www" else self.family
        return f"https://{host}.{SITE_DOMAIN}/{self.uid}"


def host_family(host: str | None, site_domain: str = SITE_DOMAIN) -> str | None:
    """The host family of a BreakNews host, or None for any other host."""
    if not host:
        return None
    host = host.lower().rstrip(".").split(":")[0]
    if host == site_domain:
        return "www"
    if not host.endswith("." + site_domain):
        return None
    labels = host[: -len(site_domain) - 1].split(".")
    if labels and labels[0] == "m" and len(labels) > 1:  # m.honam.breaknews.com → honam
        labels = labels[1:]
    if len(labels) != 1 or not _LABEL.match(labels[0]):
        return None
    return "www" if labels[0] in _WWW_HOSTS else labels[0]


def parse_article_url(url: str | None, site_domain: str = SITE_DOMAIN) -> ArticleRef | None:
    """The article an URL names, for both URL forms (``/{uid}`` and ``/sub_read.html?uid=``)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    family = host_family(parts.hostname, site_domain)
    if family is None:
        return None
    match = _UID_PATH.match(parts.path)
    if match:
        return ArticleRef(family, int(match.group(1)))
    if parts.path.lower() in _READ_PAGES:
        uids = parse_qs(parts.query).get("uid", [])
        if uids and uids[0].strip().isdigit():
            return ArticleRef(family, int(uids[0].strip()))
    return None


def section_params(url: str | None) -> tuple[str | None, str | None]:
    """(section code, section name) carried by an old-style article URL, if any."""
    if not url:
        return None, None
    query = parse_qs(urlsplit(url).query)
    codes, names = query.get("section", []), query.get("section2", [])
    return (codes[0] if codes else None), (unquote(names[0]) if names else None)


_EMBEDDED_URL = re.compile(r"https?://[A-Za-z0-9.-]*" + re.escape(SITE_DOMAIN) + r"[^\s\"'&<>]*", re.I)
_UID_PARAM = re.compile(r"[?&]uid=(\d{1,10})", re.I)


def refs_in_self_link(href: str, base_family: str | None) -> list[ArticleRef]:
    """Article refs that a share or print link names (they carry the article's own uid)."""
    decoded = unquote(unquote(href))
    refs = [ref for ref in (parse_article_url(m.group(0)) for m in _EMBEDDED_URL.finditer(decoded)) if ref]
    if not refs and base_family:
        refs = [ArticleRef(base_family, int(m.group(1))) for m in _UID_PARAM.finditer(decoded)]
    return refs


def site_domain_of(host: str) -> str:
    """The domain whose hosts form a site: breaknews.com for any *.breaknews.com, else the host itself
    (so a mirror or the loopback imitation at 127.0.0.1 is a site of its own)."""
    host = host.lower().rstrip(".")
    if host == SITE_DOMAIN or host.endswith("." + SITE_DOMAIN):
        return SITE_DOMAIN
    for prefix in ("www.", "m."):
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


def site_article_ref(url: str | None) -> ArticleRef | None:
    """The article a URL names on the site it belongs to, whatever its host: how live ingestion reads
    the article links of the site it was given (``--site http://127.0.0.1:8080`` makes
    ``http://127.0.0.1:8080/878313`` article ``www:878313``)."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return parse_article_url(url, site_domain_of(host)) if host else None


def family_key(url: str) -> tuple[str, str] | None:
    """(site domain, host family) of a URL: two URLs with one key are on the same site's hosts."""
    host = urlsplit(url).hostname or ""
    domain = site_domain_of(host)
    family = host_family(host, domain)
    return (domain, family) if family else None


@dataclass(frozen=True)
class PageClues:
    """What a page says about itself, in the order identity trusts it."""

    fetch_url: str | None  # where the run read it (live fetch, archive record)
    saved_from_url: str | None  # what a browser recorded when saving it
    canonical_url: str | None
    og_url: str | None
    self_refs: Sequence[ArticleRef]  # uids the page's own share and print links name
    fetched_as: ArticleRef | None = None  # the article live ingestion fetched it as, on any host


@dataclass(frozen=True)
class Identity:
    article_id: str
    family: str | None
    uid: int | None
    url: str | None
    source: str  # url | saved_from | canonical | og_url | self_link | content


def identify(clues: PageClues, title: str, first_paragraphs: Sequence[str]) -> Identity:
    """The fetch URL (a BreakNews article URL, else the article the run fetched it as: on a mirror or
    the loopback imitation the host names no BreakNews family, but the run's own site does), then the
    browser's saved-from URL, canonical, og:url, then the page's own share links; a page with no uid
    anywhere is keyed by what it says, so the same text saved twice is one article."""
    fetched = parse_article_url(clues.fetch_url) or clues.fetched_as
    if fetched:
        return Identity(fetched.article_id, fetched.family, fetched.uid, fetched.url, "url")
    for source, candidate in (
        ("saved_from", clues.saved_from_url),
        ("canonical", clues.canonical_url),
        ("og_url", clues.og_url),
    ):
        ref = parse_article_url(candidate)
        if ref:
            return Identity(ref.article_id, ref.family, ref.uid, ref.url, source)
    if clues.self_refs:
        ref = clues.self_refs[0]
        return Identity(ref.article_id, ref.family, ref.uid, ref.url, "self_link")
    key = hashlib.sha256("\n".join((title, *first_paragraphs[:3])).encode()).hexdigest()[:20]
    return Identity(f"content:{key}", None, None, None, "content")
