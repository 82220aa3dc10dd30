"""Named queries over stored raw pages, for re-extraction without the network."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import duckdb

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


def stored_pages(con: duckdb.DuckDBPyConnection, shas: Sequence[str]) -> list[tuple]:
    """(sha, source, source_kind, url, bytes, charset, charset_source, fetched_at, status, etag,
    last_modified, content_type) of the given pages, bytes decompressed."""
    rows = con.execute(
        "SELECT page_sha256, source, source_kind, url, compression, content, charset, charset_source, fetched_at,"
        " http_status, etag, last_modified, content_type FROM raw_pages WHERE page_sha256 IN (SELECT unnest(?))"
        " ORDER BY page_sha256",
        [list(shas)],
    ).fetchall()
    out = []
    for sha, source, kind, url, compression, content, charset, charset_source, fetched, status, etag, lm, ctype in rows:
        if compression != "zlib":
            raise ValueError(f"raw page {sha} uses unknown compression {compression!r}")
        out.append(
            (
                sha,
                source,
                kind,
                url,
                zlib.decompress(content),
                charset,
                charset_source,
                fetched,
                status,
                etag,
                lm,
                ctype,
            )
        )
    return out
