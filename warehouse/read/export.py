"""Export the parallel corpus and the articles to files other tools read.

JSON Lines and Parquet are written by DuckDB's own COPY (fast, typed, no rows through Python). TMX
(the translation-memory exchange format CAT tools and MT toolkits read) is streamed with the standard
library's SAX XMLGenerator, which escapes every text and attribute, a few thousand pairs at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

import duckdb

from breaknews.warehouse.errors import BreaknewsError

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


def _check_file_destination(out: Path) -> None:
    if not out.parent.exists():
        raise ExportError(f"cannot write {out}: folder {out.parent} does not exist")
    if out.is_dir():
        raise ExportError(f"cannot write {out}: it is a folder")


def export_pairs(con: duckdb.DuckDBPyConnection, fmt: str, out: Path, where: PairFilter = PairFilter()) -> int:
    """Write the pairs that pass ``where`` to ``out``; returns how many."""
    _check_file_destination(out)
    params = {"min_score": where.min_score, "since": where.since}
    try:
        if fmt == "tmx":
            return _write_tmx(con.execute(_PAIRS_SQL, params), out)
        copy_format = "json" if fmt == "jsonl" else "parquet"
        return _copy(con, f"COPY ({_PAIRS_SQL}) TO $out (FORMAT {copy_format})", {**params, "out": str(out)})
    except duckdb.Error as exc:
        raise ExportError(f"export failed: {exc}") from exc


def export_articles(con: duckdb.DuckDBPyConnection, fmt: str, out: Path) -> int:
    """Articles as JSON Lines (one file) or Parquet (a folder partitioned by month, `month=YYYY-MM/`)."""
    try:
        if fmt == "jsonl":
            _check_file_destination(out)
            return _copy(con, f"COPY ({_ARTICLES_SQL}) TO $out (FORMAT json)", {"out": str(out)})
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ExportError(f"cannot write {out}: Parquet articles go to a new or empty folder")
        if not out.parent.exists():
            raise ExportError(f"cannot write {out}: folder {out.parent} does not exist")
        return _copy(
            con,
            f"COPY ({_ARTICLES_SQL}) TO $out (FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)",
            {"out": str(out)},
        )
    except duckdb.Error as exc:
        raise ExportError(f"export failed: {exc}") from exc


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
