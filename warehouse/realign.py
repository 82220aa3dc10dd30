"""Realignment: every translated article's paragraph pairs recomputed from the text already stored
(`breaknews align`), replaced in one transaction. The batch load (`write.py`) aligns new and changed
articles as they load; this is for a warehouse an older aligner filled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb

from breaknews.warehouse.models import Caption, ParagraphPair
from breaknews.warehouse.rows import append_rows, ids_param, pair_row


@dataclass(frozen=True)
class StoredText:
    """A translated article's stored text: what its paragraph pairs are computed from."""

    article_id: str
    title_ko: str
    title_en: str | None
    paragraphs_ko: list[str]
    paragraphs_en: list[str]
    captions: list[Caption]


_REALIGN_CHUNK = 2000


def replace_all_pairs(
    con: duckdb.DuckDBPyConnection, align: Callable[[StoredText], Sequence[ParagraphPair]]
) -> tuple[int, int]:
    """Recompute every translated article's pairs with ``align``, in one transaction: readers see old
    or new pairs, never half. Articles are read a chunk at a time so memory stays flat on a large
    warehouse. Returns (translated articles, pairs written)."""
    articles = con.execute(
        "SELECT article_id, title_ko, title_en FROM articles WHERE has_translation ORDER BY article_id"
    ).fetchall()
    written = 0
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM paragraph_pairs")
        for start in range(0, len(articles), _REALIGN_CHUNK):
            rows = [
                pair_row(text.article_id, pair)
                for text in _stored_texts(con, articles[start : start + _REALIGN_CHUNK])
                for pair in align(text)
            ]
            append_rows(con, "paragraph_pairs", rows)
            written += len(rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(articles), written


def _stored_texts(con: duckdb.DuckDBPyConnection, chunk: list[tuple[str, str, str | None]]) -> list[StoredText]:
    ids = ids_param([article_id for article_id, _, _ in chunk])
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
    return [
        StoredText(
            article_id,
            title_ko,
            title_en,
            paragraphs.get((article_id, "ko"), []),
            paragraphs.get((article_id, "en"), []),
            captions.get(article_id, []),
        )
        for article_id, title_ko, title_en in chunk
    ]
