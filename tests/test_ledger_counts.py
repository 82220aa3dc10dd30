"""The ledger records every counter of a batch: `COUNT_COLUMNS` (the counters `ingest_runs` adds up,
batch by batch) are LoadCounts' integer counters whether or not annotations are postponed (`from
__future__ import annotations` once made the difference between all of them and none, and an empty
tuple would have recorded no counts without a word), and each is an integer column of the table."""

from __future__ import annotations

import dataclasses
import sys
import types

from breaknews.warehouse import runs
from breaknews.warehouse.connect import writer
from breaknews.warehouse.migrate import open_migrated
from breaknews.warehouse.models import COUNT_COLUMNS, LoadCounts, int_fields
from tests.conftest import rows


def test_the_count_columns_are_the_integer_counters_of_a_batch():
    counters = [f.name for f in dataclasses.fields(LoadCounts) if type(f.default) is int]  # the `= 0` fields
    assert len(counters) >= 9
    assert list(COUNT_COLUMNS) == counters


_COUNTERS = """
from dataclasses import dataclass, field


@dataclass
class Counts:
    pages: int = 0
    ids: list[str] = field(default_factory=list)
    failures: int = 0
    seen: dict[str, bool] = field(default_factory=dict)
    ratio: float = 0.0
"""


def test_the_counters_are_found_whether_or_not_annotations_are_postponed():
    found = {}
    for postponed in (False, True):
        code = ("from __future__ import annotations\n" if postponed else "") + _COUNTERS
        namespace: dict[str, object] = {"__name__": "counters"}
        sys.modules["counters"] = types.ModuleType("counters")  # dataclasses looks the module up for strings
        try:
            exec(compile(code, "<counters>", "exec", dont_inherit=True), namespace)
        finally:
            del sys.modules["counters"]
        counts = namespace["Counts"]
        assert all(isinstance(f.type, str) is postponed for f in dataclasses.fields(counts))  # both cases indeed
        found[postponed] = int_fields(counts)
    assert found[False] == found[True] == ("pages", "failures")


def test_each_counter_is_an_integer_column_of_the_ledger_and_is_recorded(db_path):
    open_migrated(db_path)
    with writer(db_path) as con:
        types_by_column = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'ingest_runs'"
            ).fetchall()
        )
        not_counted = {
            name: types_by_column.get(name, "missing")
            for name in COUNT_COLUMNS
            if types_by_column.get(name) not in ("INTEGER", "BIGINT")
        }
        assert not not_counted
        runs.start_run(con, "r1", command="ingest", sources="test", flow_run_id=None, extractor_version="test")
        counts = LoadCounts(**{name: number for number, name in enumerate(COUNT_COLUMNS, 1)})
        runs.add_counts(con, "r1", counts.as_columns())
        runs.add_counts(con, "r1", counts.as_columns())
    [recorded] = rows(db_path, f"SELECT {', '.join(COUNT_COLUMNS)} FROM ingest_runs WHERE run_id = 'r1'")
    assert recorded == tuple(2 * number for number in range(1, len(COUNT_COLUMNS) + 1))
