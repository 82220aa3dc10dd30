"""Recompute every translated article's pairs from the paragraphs and captions already stored.

Ingest aligns new and changed articles as they load; this is for a warehouse filled before the
aligner existed or by an older aligner version. One transaction: readers see old or new pairs, never
half; articles are read a chunk at a time so memory stays flat on a large warehouse.
"""

from __future__ import annotations

import duckdb

from tasks.align import align_article
from tasks.load import pair_row
from tasks.models import Caption

_CHUNK = 2000


def realign(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Returns (translated articles, pairs written)."""
    articles = con.execute(
        "SELECT article_id, title_ko, title_en FROM articles WHERE has_translation ORDER BY article_id"
    ).fetchall()
    written = 0
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM paragraph_pairs")
        for start in range(0, len(articles), _CHUNK):
            chunk = articles[start : start + _CHUNK]
            rows = _align_chunk(con, chunk)
            if rows:
                appender = con.appender("paragraph_pairs")
                appender.append_rows(rows)
                appender.flush()
            written += len(rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(articles), written


def _align_chunk(con: duckdb.DuckDBPyConnection, chunk: list[tuple[str, str, str | None]]) -> list[tuple[object, ...]]:
    ids = [[article_id for article_id, _, _ in chunk]]
    paragraphs: dict[tuple[str, str], list[str]] = {}
    for article_id, lang, text in con.execute(
        "SELECT article_id, lang, text FROM paragraphs WHERE article_id IN (SELECT unnest(?))"
        " ORDER BY article_id, lang, position",
        ids,
    ).fetchall():
        paragraphs.setdefault((article_id, lang), []).append(text)
    captions: dict[str, list[Caption]] = {}
    for article_id, lang, position, text in con.execute(
        "SELECT article_id, lang, position, text FROM captions WHERE article_id IN (SELECT unnest(?))"
        " ORDER BY article_id, lang, position",
        ids,
    ).fetchall():
        captions.setdefault(article_id, []).append(Caption(lang, position, text, None, None))
    rows: list[tuple[object, ...]] = []
    for article_id, title_ko, title_en in chunk:
        pairs = align_article(
            paragraphs.get((article_id, "ko"), []),
            paragraphs.get((article_id, "en"), []),
            captions.get(article_id, []),
            title_ko,
            title_en,
        )
        rows.extend(pair_row(article_id, p) for p in pairs)
    return rows
