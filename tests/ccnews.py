"""Make CC-NEWS-like WARC files: many sites' news pages mixed together, a few BreakNews articles among them.

Common Crawl's CC-NEWS files hold, for every page, a ``request`` record, the ``response`` and a
``metadata`` record, each its own gzip member, after one ``warcinfo``. Here the other sites' pages are
HTML of plausible size and compressibility (distinct paragraphs drawn from a pool of pseudo-words),
with a share of images, redirects and 404s as a crawl has; the BreakNews pages come from
`tests/sitegen.py` (distinct articles in every sample skin and encoding). Deterministic for a seed.

Used by the CC-NEWS benchmark (`bench/bench_ccnews.py`: 12,000 responses, ~90 MB) and, small, by the
tests of archives read by URL, by list and on Dask. Written with warcio's writer: FastWARC reads,
warcio writes (its record constructors fill the digests and headers a crawler would).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.sitegen import page_for

# Other news sites, including names a careless host check would take for BreakNews.
OTHER_HOSTS = (
    "www.kbreaknews.com",
    "breaknews.com.mirror.example",
    "www.notbreaknews.com",
    *(f"www.news{n:02d}.example" for n in range(39)),
)
assert len(OTHER_HOSTS) == 42

_SYLLABLES = ("ka", "ne", "ri", "so", "tu", "mo", "la", "pe", "di", "gon", "sen", "tar", "vi", "bo", "ul", "xe")


@dataclass
class CcNewsFile:
    path: Path
    breaknews_urls: list[str] = field(default_factory=list)  # the BreakNews articles, in file order
    article_ids: list[str] = field(default_factory=list)


def _paragraph_pool(rng: random.Random, count: int = 600) -> list[str]:
    words = ["".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4))) for _ in range(3000)]
    return [" ".join(rng.choices(words, k=rng.randint(60, 200))) for _ in range(count)]


def _other_page(rng: random.Random, pool: list[str], host: str, n: int, paragraphs: int) -> bytes:
    body = "".join(f"<p>{p}</p>\n" for p in rng.sample(pool, paragraphs))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{host} story {n}</title></head>"
        f"<body><nav>home | world | sports</nav><article><h1>Story {n}</h1>\n{body}</article>"
        f"<footer>© {host}</footer></body></html>"
    ).encode()


def _write_exchange(
    writer: WARCWriter, url: str, status: str, headers: list[tuple[str, str]], body: bytes, when: datetime
) -> None:
    """request, response and metadata records of one fetch, as CC-NEWS stores them."""
    date = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    host = url.split("/")[2]
    request = writer.create_warc_record(
        url,
        "request",
        payload=io.BytesIO(b""),
        http_headers=StatusAndHeaders(
            f"GET /{url.split('/', 3)[3]} HTTP/1.1",
            [("Host", host), ("User-Agent", "CCBot/2.0 (https://commoncrawl.org/faq/)"), ("Accept", "*/*")],
            is_http_request=True,
        ),
        warc_headers_dict={"WARC-Date": date},
    )
    http = StatusAndHeaders(status, [*headers, ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
    response = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict={"WARC-Date": date}
    )
    metadata = writer.create_warc_record(
        url,
        "metadata",
        payload=io.BytesIO(f"fetchTimeMs: {len(body) % 900 + 40}\r\ncharset-detected: UTF-8\r\n".encode()),
        warc_content_type="application/warc-fields",
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_record(request)
    writer.write_record(response)
    writer.write_record(metadata)


def write_ccnews(
    path: Path,
    *,
    responses: int = 12_000,
    breaknews: int = 30,
    seed: int = 13,
    first_uid: int = 3_000_000,
    paragraphs: tuple[int, int] = (18, 30),
) -> CcNewsFile:
    """A gzip-per-record WARC of ``responses`` other-site responses with ``breaknews`` BreakNews article
    responses spread among them (every fifth on m.breaknews.com), each with its request and metadata."""
    rng = random.Random(seed)
    pool = _paragraph_pool(rng)
    total = responses + breaknews
    ours = {round((i + 0.5) * total / breaknews) for i in range(breaknews)} if breaknews else set()
    made = CcNewsFile(path)
    when = datetime(2024, 3, 1, tzinfo=UTC)
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "breaknews tests/ccnews.py"}))
        uid = first_uid
        for slot in range(total):
            when += timedelta(seconds=rng.randint(1, 9))
            if slot in ours:
                page, charset = page_for(uid)
                host = "m.breaknews.com" if len(made.breaknews_urls) % 5 == 4 else "www.breaknews.com"
                url = f"https://{host}/{uid}"
                _write_exchange(writer, url, "200 OK", [("Content-Type", f"text/html; charset={charset}")], page, when)
                made.breaknews_urls.append(url)
                made.article_ids.append(f"www:{uid}")
                uid += 1
                continue
            host = OTHER_HOSTS[slot % len(OTHER_HOSTS)]
            url = f"https://{host}/news/{seed}-{slot}.html"
            roll = rng.random()
            if roll < 0.04:
                _write_exchange(writer, url, "200 OK", [("Content-Type", "image/jpeg")], rng.randbytes(3000), when)
            elif roll < 0.07:
                headers = [("Location", url + "?amp"), ("Content-Type", "text/html")]
                _write_exchange(writer, url, "301 Moved Permanently", headers, b"<html>moved</html>", when)
            elif roll < 0.09:
                _write_exchange(
                    writer, url, "404 Not Found", [("Content-Type", "text/html")], b"<html>gone</html>", when
                )
            else:
                body = _other_page(rng, pool, host, slot, rng.randint(*paragraphs))
                _write_exchange(writer, url, "200 OK", [("Content-Type", "text/html; charset=utf-8")], body, when)
    return made
