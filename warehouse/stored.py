"""What the warehouse already holds, read back for the write side: the articles live ingestion can
skip or revalidate, and the raw pages `reextract` reads again without the network."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from breaknews.warehouse.errors import WarehouseError
from breaknews.warehouse.models import Page


@dataclass(frozen=True)
class StoredArticle:
    article_id: str
    page_sha256: str | None  # the raw page of the current revision
    etag: str | None  # HTTP validators of that page, when it was fetched
    last_modified: str | None


def stored_articles(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> dict[str, StoredArticle]:
    if not article_ids:
        return {}
    found = con.execute(
        "SELECT a.article_id, a.page_sha256, p.etag, p.last_modified"
        " FROM articles a LEFT JOIN raw_pages p ON p.page_sha256 = a.page_sha256"
        " WHERE a.article_id IN (SELECT unnest(?))",
        [sorted(set(article_ids))],
    ).fetchall()
    return {row[0]: StoredArticle(*row) for row in found}


# The page behind each article's current revision, and every page that failed (a newer extractor
# may turn it into an article). Older revisions' pages and duplicate saves are left alone.
_REEXTRACT_CANDIDATES = """
    SELECT p.page_sha256 FROM raw_pages p JOIN articles a ON a.page_sha256 = p.page_sha256
    WHERE ? OR p.extractor_version <> ?
    UNION
    SELECT page_sha256 FROM raw_pages WHERE status = 'failed' AND (? OR extractor_version <> ?)
    ORDER BY 1
"""


def reextract_candidates(con: duckdb.DuckDBPyConnection, extractor_version: str, everything: bool) -> list[str]:
    rows = con.execute(_REEXTRACT_CANDIDATES, [everything, extractor_version, everything, extractor_version]).fetchall()
    return [row[0] for row in rows]


def stored_pages(con: duckdb.DuckDBPyConnection, shas: Sequence[str]) -> list[Page]:
    """The given raw pages as Pages, bytes decompressed, in the order of their hashes. The charset
    an HTTP header named is handed on again; one the page itself declared is found again."""
    rows = con.execute(
        "SELECT page_sha256, source, source_kind, url, compression, content, charset, charset_source, fetched_at,"
        " http_status, etag, last_modified, content_type FROM raw_pages WHERE page_sha256 IN (SELECT unnest(?))"
        " ORDER BY page_sha256",
        [list(shas)],
    ).fetchall()
    out = []
    for sha, source, kind, url, compression, content, charset, charset_source, fetched, status, etag, lm, ctype in rows:
        if compression != "zlib":
            raise WarehouseError(f"raw page {sha} uses unknown compression {compression!r}")
        out.append(
            Page(
                source=source,
                source_kind=kind,
                content=zlib.decompress(content),
                url=url,
                header_charset=charset if charset_source and charset_source.startswith("header") else None,
                fetched_at=fetched,
                http_status=status,
                etag=etag,
                last_modified=lm,
                content_type=ctype,
            )
        )
    return out
