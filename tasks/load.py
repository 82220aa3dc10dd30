"""Load (stage 7, the last): a batch of page results into the warehouse in one short transaction.

The SQL lives with the warehouse (`warehouse/write.py`); this stage decides what happens when the
warehouse refuses a batch. A failing warehouse (I/O, lock) fails the batch, for the caller to retry;
a row the warehouse rejects fails only its own page (stage ``load``), never the batch around it.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import replace

import duckdb

from breaknews.tasks import versions
from breaknews.tasks.errors import LoadError
from breaknews.warehouse.connect import writer
from breaknews.warehouse.errors import WarehouseError
from breaknews.warehouse.models import ArchiveRead, LoadCounts, PageResult
from breaknews.warehouse.write import write_batch


def load_results(
    db: str,
    run_id: str,
    results: Sequence[PageResult],
    seen: Mapping[str, bool] | None = None,
    archives: Sequence[ArchiveRead] = (),
) -> LoadCounts:
    """Write one batch of results (and the archive files whose last pages they are); on a rejected row,
    write page by page, failing only the culprits, then the archive files.
    ``seen``: the articles the run's earlier batches saw (article_id -> has an English version)."""
    version = versions.EXTRACTOR_VERSION
    with writer(db) as con:
        try:
            return write_batch(con, run_id, results, version, seen, archives)
        except (duckdb.IOException, WarehouseError):
            raise  # the warehouse itself is failing: the caller retries, then the run fails
        except duckdb.Error:
            counts = _load_one_by_one(con, run_id, results, version, seen or {})
            write_batch(con, run_id, [], version, None, archives)
            return counts


def _load_one_by_one(
    con: duckdb.DuckDBPyConnection, run_id: str, results: Sequence[PageResult], version: str, seen: Mapping[str, bool]
) -> LoadCounts:
    total = LoadCounts()
    so_far = ChainMap(total.translation_seen, dict(seen))  # what the run saw, this batch's pages first
    for result in results:
        try:
            part = write_batch(con, run_id, [result], version, so_far)
        except duckdb.Error as exc:
            failed = replace(
                result,
                article=None,
                skipped=False,
                stage=LoadError.stage,
                reason=f"warehouse rejected the page's rows: {exc}",
            )
            part = write_batch(con, run_id, [failed], version, so_far)
        total.add(part)
        total.translation_seen.update(part.translation_seen)
    return total
