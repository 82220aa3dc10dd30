"""Export the parallel corpus and the articles to files other tools read.

JSON Lines and Parquet are written by DuckDB's own COPY (fast, typed, no rows through Python). TMX
(the translation-memory exchange format CAT tools and MT toolkits read) is streamed with the standard
library's SAX XMLGenerator, which escapes every text and attribute, a few thousand pairs at a time.

Each export opens its own sealed read-only connection, allowed to write one path only: the partial
file (or folder) that becomes the destination when complete (`destination.py`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

import duckdb

from breaknews.warehouse.errors import BreaknewsError
from breaknews.warehouse.read.destination import Destination, destination, refuse_warehouse_files, written_whole
from breaknews.warehouse.read.query import one_line, read_connection

PAIR_FORMATS = ("jsonl", "parquet", "tmx")
ARTICLE_FORMATS = ("jsonl", "parquet")
_FETCH = 2000
# Characters XML 1.0 forbids even escaped; a page can carry them (form feeds, stray NULs).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ExportError(BreaknewsError):
    """An export could not be written (bad destination, or the warehouse refused the query)."""


@dataclass(frozen=True)
class PairFilter:
    min_score: float = 0.0
    since: date | None = None  # publication day in Korea time, inclusive


_PAIRS_SQL = """
SELECT p.article_id, a.url, a.published_at, p.kind, p.position, p.ko_first, p.ko_last, p.en_first, p.en_last,
       p.ko_text, p.en_text, p.score, p.bead, p.method
FROM paragraph_pairs p JOIN articles a USING (article_id)
WHERE p.score >= $min_score
  AND ($since IS NULL OR CAST(timezone('Asia/Seoul', a.published_at) AS DATE) >= $since)
ORDER BY a.published_at NULLS LAST, p.article_id, p.kind, p.position
"""

_ARTICLES_SQL = """
SELECT *, coalesce(strftime(timezone('Asia/Seoul', published_at), '%Y-%m'), 'unknown') AS month
FROM articles ORDER BY published_at NULLS LAST, article_id
"""


def export_pairs(
    db: str | os.PathLike[str] | None, fmt: str, out: str | os.PathLike[str], where: PairFilter = PairFilter()
) -> int:
    """Write the pairs of the warehouse ``db`` that pass ``where`` to ``out``; returns how many."""
    target = destination(out)
    params = {"min_score": where.min_score, "since": where.since}
    with _export_connection(db, target) as con, written_whole(target) as partial:
        try:
            if fmt == "tmx":
                return _write_tmx(con.execute(_PAIRS_SQL, params), partial)
            copy_format = "json" if fmt == "jsonl" else "parquet"
            return _copy(con, f"COPY ({_PAIRS_SQL}) TO $out (FORMAT {copy_format})", {**params, "out": str(partial)})
        except duckdb.Error as exc:
            raise ExportError(f"export failed: {one_line(exc)}") from exc


def export_articles(db: str | os.PathLike[str] | None, fmt: str, out: str | os.PathLike[str]) -> int:
    """Articles as JSON Lines (one file) or Parquet (a new or empty folder partitioned by month,
    `month=YYYY-MM/`)."""
    target = destination(out, folder=fmt == "parquet")
    with _export_connection(db, target) as con, written_whole(target) as partial:
        try:
            if fmt == "jsonl":
                return _copy(con, f"COPY ({_ARTICLES_SQL}) TO $out (FORMAT json)", {"out": str(partial)})
            return _copy(
                con,
                f"COPY ({_ARTICLES_SQL}) TO $out (FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)",
                {"out": str(partial)},
            )
        except duckdb.Error as exc:
            raise ExportError(f"export failed: {one_line(exc)}") from exc


@contextmanager
def _export_connection(db: str | os.PathLike[str] | None, target: Destination) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse, sealed, allowed to write the partial of ``target`` and nothing else; ``target``
    refused if it is one of the warehouse's files."""
    with read_connection(None if db is None else str(db), write_paths=[target.partial]) as con:
        refuse_warehouse_files(target, con)
        yield con


def _copy(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _xml_text(value: str) -> str:
    return _XML_INVALID.sub("", value)


def _write_tmx(cursor: duckdb.DuckDBPyConnection, out: Path) -> int:
    """TMX 1.4: one `tu` per pair, `ko` and `en` variants, the pair's provenance as `prop`s."""
    columns = [d[0] for d in cursor.description or []]
    count = 0
    created = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with out.open("w", encoding="utf-8") as stream:
        xml = XMLGenerator(stream, encoding="utf-8", short_empty_elements=True)
        xml.startDocument()
        xml.startElement("tmx", AttributesImpl({"version": "1.4"}))
        xml.ignorableWhitespace("\n")
        header = {
            "creationtool": "breaknews",
            "creationtoolversion": "0.1.0",
            "segtype": "paragraph",
            "o-tmf": "breaknews",
            "adminlang": "en",
            "srclang": "ko",
            "datatype": "plaintext",
            "creationdate": created,
        }
        xml.startElement("header", AttributesImpl(header))
        xml.endElement("header")
        xml.ignorableWhitespace("\n")
        xml.startElement("body", AttributesImpl({}))
        xml.ignorableWhitespace("\n")
        while batch := cursor.fetchmany(_FETCH):
            for values in batch:
                row = dict(zip(columns, values, strict=True))
                tuid = f"{row['article_id']}/{row['kind']}/{row['position']}"
                xml.startElement("tu", AttributesImpl({"tuid": tuid}))
                for name in ("article_id", "url", "kind", "score", "bead", "method"):
                    if row[name] is not None:
                        xml.startElement("prop", AttributesImpl({"type": f"x-{name}"}))
                        xml.characters(_xml_text(str(row[name])))
                        xml.endElement("prop")
                if row["published_at"] is not None:
                    xml.startElement("prop", AttributesImpl({"type": "x-published_at"}))
                    xml.characters(row["published_at"].isoformat())
                    xml.endElement("prop")
                for lang in ("ko", "en"):
                    xml.startElement("tuv", AttributesImpl({"xml:lang": lang}))
                    xml.startElement("seg", AttributesImpl({}))
                    xml.characters(_xml_text(row[f"{lang}_text"]))
                    xml.endElement("seg")
                    xml.endElement("tuv")
                xml.endElement("tu")
                xml.ignorableWhitespace("\n")
                count += 1
        xml.endElement("body")
        xml.endElement("tmx")
        xml.ignorableWhitespace("\n")
        xml.endDocument()
    return count
