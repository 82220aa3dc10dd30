"""Read (stage 1), live: find article links in RSS/Atom feeds and on the site's all-articles list.

Both URL forms (``/{uid}`` and ``/sub_read.html?uid=…``, on www, bare or m.) name one article and are
fetched once, as ``/{uid}`` on the site's own host. Links that name no article (sections, login, ads)
are ignored; article links on another host family are skipped, never fetched.

Feeds are parsed by feedparser (tolerant of the broken RSS real sites serve), but only after defusedxml
has checked the bytes: a feed that declares entities (billion laughs) or external references is refused
before any parser could expand or resolve them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urljoin, urlsplit

import feedparser
import lxml.html
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as defused_fromstring

from breaknews.tasks.decode import charset_from_content_type, decode_page
from breaknews.tasks.errors import PageError
from breaknews.tasks.fetch import Fetched, FetchFailed, SiteFetcher
from breaknews.tasks.identify import ArticleRef, parse_article_url, site_domain_of
from breaknews.warehouse.models import PageResult

FEED_PATH = "/rss/rss_news.php"
LIST_PATH = "/sub_view.html"
_PAGE_PARAMS = ("page", "pg", "p", "pageno", "page_no")
_ENTITY_DECL = re.compile(rb"<!ENTITY|<!DOCTYPE[^>]*(SYSTEM|PUBLIC)", re.I)


class HostileFeedError(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    """One article to fetch: its identity and the URL to fetch it from."""

    ref: ArticleRef
    url: str
    found_on: str


@dataclass
class Discovery:
    targets: list[Target] = field(default_factory=list)
    failures: list[PageResult] = field(default_factory=list)
    unreachable: str | None = None  # why the site could not be reached at all
    documents_read: int = 0
    links_offsite: int = 0
    _seen: set[str] = field(default_factory=set)

    def add(self, target: Target) -> None:
        if target.ref.article_id not in self._seen:
            self._seen.add(target.ref.article_id)
            self.targets.append(target)

    def fail(self, source: str, stage: str, reason: str) -> None:
        self.failures.append(PageResult(source=source, page_sha256=None, stage=stage, reason=reason, url=source))


def article_target(link: str, site_url: str, found_on: str) -> Target | bool | None:
    """A Target for an article link of the site; None for a link that names no article; False for an
    article on another host (skipped)."""
    site = urlsplit(site_url)
    domain = site_domain_of(site.hostname or "")
    ref = parse_article_url(link, domain)
    if ref is None:
        return None if parse_article_url(link) is None else False
    site_ref_family = parse_article_url(f"{site.scheme}://{site.netloc}/1", domain)
    if site_ref_family is None or ref.family != site_ref_family.family:
        return False
    return Target(ref, f"{site.scheme}://{site.netloc}/{ref.uid}", found_on)


def check_feed_is_safe(content: bytes) -> None:
    """Refuse entity declarations and external references before any parser sees the feed."""
    try:
        defused_fromstring(content, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise HostileFeedError(f"feed refused: it declares XML entities or external references ({exc})") from exc
    except ParseError:
        # Not well-formed: feedparser's loose parser may still recover links, but not from a DTD.
        if _ENTITY_DECL.search(content):
            raise HostileFeedError("feed refused: it declares XML entities or external references") from None


def feed_links(content: bytes) -> tuple[list[str], list[str]]:
    """(links of the feed's items, problems worth recording). Raises HostileFeedError."""
    check_feed_is_safe(content)
    # A stream, never bytes or str: feedparser treats a string that looks like a URL or a path as one.
    parsed = feedparser.parse(io.BytesIO(content), resolve_relative_uris=False, sanitize_html=False)
    problems = []
    links = []
    missing = 0
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (item.get("href") for item in entry.get("links", []) if item.get("href")), None
        )
        if not link and entry.get("id", "").startswith(("http://", "https://")):
            link = entry["id"]
        if link:
            links.append(link.strip())
        else:
            missing += 1
    if parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        problems.append(
            f"feed is not well-formed XML ({parsed.get('bozo_exception')}); {len(links)} item links recovered"
        )
    if missing and not problems:  # a broken document explains its missing links already
        problems.append(f"{missing} of {len(parsed.entries)} feed items have no link")
    if not parsed.entries and not problems:
        problems.append("feed has no items")
    return links, problems


def list_page_links(fetched: Fetched) -> tuple[list[str], dict[int, str]]:
    """(every link on a list page, absolute; numbered page links of the same list: number → URL)."""
    try:
        text = decode_page(fetched.content, charset_from_content_type(fetched.content_type)).text
    except PageError:
        return [], {}
    try:
        tree = lxml.html.fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        return [], {}
    base = fetched.final_url
    here = urlsplit(base)
    links: list[str] = []
    pages: dict[int, str] = {}
    for href in tree.xpath("//a/@href"):
        absolute = urljoin(base, str(href).strip())
        links.append(absolute)
        parts = urlsplit(absolute)
        if parts.path == here.path and parts.netloc == here.netloc:
            for key, value in parse_qsl(parts.query):
                if key.lower() in _PAGE_PARAMS and value.isdigit():
                    pages.setdefault(int(value), absolute)
    return links, pages


async def discover(fetcher: SiteFetcher, site: str | None, feeds: list[str], list_pages: int) -> Discovery:
    """Read the site's feed and list pages (when ``site`` is given) and any extra feeds."""
    found = Discovery()
    sources: list[tuple[str, str]] = []  # (feed url, site its links must belong to)
    if site:
        sources.append((site.rstrip("/") + FEED_PATH, site))
    sources.extend((feed, site or feed) for feed in feeds)
    for feed_url, owner in sources:
        await _read_feed(fetcher, feed_url, owner, found)
        if found.unreachable:
            return found
    if site and list_pages > 0:
        await _read_lists(fetcher, site, list_pages, found)
    return found


async def _get(fetcher: SiteFetcher, url: str, found: Discovery) -> Fetched | None:
    outcome = await fetcher.fetch(url)
    if isinstance(outcome, FetchFailed):
        if outcome.unreachable:
            found.unreachable = outcome.reason
        found.fail(url, outcome.stage, outcome.reason)
        return None
    if not isinstance(outcome, Fetched):
        found.fail(url, "fetch", "unexpected answer 304 to an unconditional request")
        return None
    found.documents_read += 1
    return outcome


async def _read_feed(fetcher: SiteFetcher, feed_url: str, owner: str, found: Discovery) -> None:
    fetched = await _get(fetcher, feed_url, found)
    if fetched is None:
        return
    try:
        links, problems = feed_links(fetched.content)
    except HostileFeedError as exc:
        found.fail(feed_url, "discover", str(exc))
        return
    for problem in problems:
        found.fail(feed_url, "discover", problem)
    _add_links(links, owner, feed_url, found)


async def _read_lists(fetcher: SiteFetcher, site: str, limit: int, found: Discovery) -> None:
    first = site.rstrip("/") + LIST_PATH
    queue: dict[int, str] = {1: first}
    done: set[int] = set()
    while True:
        todo = sorted(n for n in queue if n not in done)[: limit - len(done)]
        if not todo:
            return
        outcomes = [await _get(fetcher, queue[n], found) for n in todo]  # in order: page 1 names the rest
        for number, fetched in zip(todo, outcomes, strict=True):
            done.add(number)
            if fetched is None:
                continue
            links, pages = list_page_links(fetched)
            if not _add_links(links, site, fetched.url, found):
                found.fail(fetched.url, "discover", "list page has no article links (has the site's markup changed?)")
            for page_number, url in pages.items():
                queue.setdefault(page_number, url)
        if found.unreachable:
            return


def _add_links(links: list[str], owner: str, found_on: str, found: Discovery) -> int:
    """Add the article links among ``links``; returns how many article links there were."""
    articles = 0
    for link in links:
        target = article_target(link, owner, found_on)
        if target is None:
            continue
        articles += 1
        if target is False:
            found.links_offsite += 1
        elif isinstance(target, Target):
            found.add(target)
    return articles
