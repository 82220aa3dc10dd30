"""Each analysis view against a real warehouse, checked against figures counted from the base tables."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from breaknews.warehouse.migrate import VIEWS_DIR, open_migrated
from tests.conftest import rows
from tests.corpus import build_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("views") / "corpus.duckdb")


def test_every_view_file_creates_the_view_it_is_named_after(corpus):
    names = sorted(f.stem for f in VIEWS_DIR.glob("*.sql"))
    views = [r[0] for r in rows(corpus, "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1")]
    assert names == views and len(names) == 6


def test_articles_per_day(corpus):
    by_day = {day: (n, tr) for day, n, tr, _ in rows(corpus, "SELECT * FROM articles_per_day")}
    # 1063522, its hostile copy and 1063590 (no translation) were published on 3 December, Korea time.
    assert by_day[date(2024, 12, 3)] == (3, 2)
    total = rows(corpus, "SELECT count(*) FROM articles WHERE published_at IS NOT NULL")[0][0]
    assert sum(n for n, _ in by_day.values()) == total


def test_articles_per_bureau(corpus):
    found = {b: (n, tr, rep) for b, n, tr, rep, _, _ in rows(corpus, "SELECT * FROM articles_per_bureau")}
    assert found["포항"] == (2, 2, 1)
    assert found["대구"] == (1, 0, 1)
    assert sum(n for n, _, _ in found.values()) == rows(corpus, "SELECT count(*) FROM articles")[0][0]


def test_articles_per_section(corpus):
    found = {s: n for s, n, *_ in rows(corpus, "SELECT * FROM articles_per_section")}
    expected = dict(rows(corpus, "SELECT section, count(*) FROM articles GROUP BY section"))
    assert found == expected and found["사회"] >= 2


def test_articles_per_reporter(corpus):
    [(role, n, translated, bureaus)] = rows(
        corpus,
        "SELECT reporter_role, articles, with_translation, bureaus FROM articles_per_reporter WHERE reporter = ?",
        ["박영재"],
    )
    assert (role, n, translated, bureaus) == ("기자", 2, 2, "포항")


def test_translation_coverage_by_month(corpus):
    found = {m: (n, tr, cov) for m, n, tr, cov, _, _ in rows(corpus, "SELECT * FROM translation_coverage_by_month")}
    assert found[date(2024, 12, 1)] == (7, 6, round(6 / 7, 4))
    assert found[date(2011, 6, 1)] == (1, 0, 0.0)


def test_pair_quality_by_month_counts_merges_and_unpaired_paragraphs(corpus, tmp_path):
    q = "SELECT articles, pairs, merged_pairs, unpaired_ko, mean_score FROM pair_quality_by_month WHERE month = ?"
    # March 2023 is samples/breaknews.948261.html: four Korean paragraphs, the middle two merged in English.
    [(articles, pairs, merged, unpaired, mean)] = rows(corpus, q, [date(2023, 3, 1)])
    assert (articles, pairs, merged, unpaired) == (1, 3, 1, 0)
    expected_mean = rows(
        corpus,
        "SELECT round(avg(score), 4) FROM paragraph_pairs WHERE kind = 'body' AND article_id = 'www:948261'",
    )[0][0]
    assert mean == expected_mean

    copy = tmp_path / "copy.duckdb"
    build_corpus(copy)
    con = duckdb.connect(str(copy))
    con.execute("DELETE FROM paragraph_pairs WHERE article_id = 'www:948261' AND kind = 'body' AND position = 1")
    con.close()
    assert rows(copy, q, [date(2023, 3, 1)])[0][:4] == (1, 2, 0, 2)


def test_views_follow_a_migrate_after_their_sql_changes(tmp_path):
    db = tmp_path / "w.duckdb"
    open_migrated(db)
    con = duckdb.connect(str(db))
    con.execute("DROP VIEW articles_per_day")
    con.close()
    open_migrated(db)  # every migrate re-creates the views from warehouse/views/*.sql
    assert rows(db, "SELECT count(*) FROM articles_per_day") == [(0,)]
