"""What the warehouse already holds of articles, so live ingestion can skip or revalidate them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb


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
