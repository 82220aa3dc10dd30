"""Exports read back with real parsers: TMX with lxml, Parquet and JSON Lines with DuckDB."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest
from lxml import etree

from breaknews.flows.cli import main
from breaknews.warehouse.read.destination import DestinationError
from breaknews.warehouse.read.export import PairFilter, export_articles, export_pairs
from tests.conftest import rows
from tests.corpus import build_corpus

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("export") / "corpus.duckdb")


def test_tmx_parses_back_with_one_tu_per_pair_and_escaped_text(corpus, tmp_path):
    out = tmp_path / "pairs.tmx"
    count = export_pairs(corpus, "tmx", out)
    assert count == rows(corpus, "SELECT count(*) FROM paragraph_pairs")[0][0] > 0
    tree = etree.parse(str(out))  # raises on invalid XML
    root = tree.getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    assert root.find("header").get("srclang") == "ko"
    units = root.findall("body/tu")
    assert len(units) == count
    for tu in units:
        assert [tuv.get(XML_LANG) for tuv in tu.findall("tuv")] == ["ko", "en"]
        assert all(tuv.findtext("seg") for tuv in tu.findall("tuv"))
    hostile = root.find("body/tu[@tuid='www:1063999/body/1']")
    assert "R&D <연구>" in hostile.findtext("tuv[1]/seg")
    assert "R&D <research>" in hostile.findtext("tuv[2]/seg")
    title = root.find("body/tu[@tuid='www:1063999/title/0']")
    assert title.findtext("tuv[1]/seg") == "<script>alert(1)</script> 수소 & 철강"
    raw = out.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in raw and "<script>" not in raw
    assert {p.get("type") for p in hostile.findall("prop")} >= {"x-score", "x-article_id", "x-published_at"}


def test_tmx_drops_characters_xml_cannot_hold(tmp_path):
    db = tmp_path / "w.duckdb"
    build_corpus(db)
    w = duckdb.connect(str(db))
    w.execute("UPDATE paragraph_pairs SET en_text = en_text || ' \x0c\x00end' WHERE kind = 'title'")
    w.close()
    export_pairs(db, "tmx", tmp_path / "p.tmx")
    assert etree.parse(str(tmp_path / "p.tmx")).getroot().find("body/tu") is not None


def test_parquet_and_jsonl_read_back_with_filters(corpus, tmp_path):
    total = rows(corpus, "SELECT count(*) FROM paragraph_pairs")[0][0]
    assert export_pairs(corpus, "parquet", tmp_path / "all.parquet") == total
    back = (
        duckdb.connect()
        .execute("SELECT count(*), min(score) FROM read_parquet(?)", [str(tmp_path / "all.parquet")])
        .fetchone()
    )
    assert back[0] == total

    good = rows(corpus, "SELECT count(*) FROM paragraph_pairs WHERE score >= 0.9")[0][0]
    assert 0 < good < total
    assert export_pairs(corpus, "jsonl", tmp_path / "good.jsonl", PairFilter(min_score=0.9)) == good
    lines = [json.loads(line) for line in (tmp_path / "good.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == good and all(r["score"] >= 0.9 for r in lines)
    assert {"article_id", "ko_text", "en_text", "score", "kind", "published_at"} <= lines[0].keys()

    recent = export_pairs(corpus, "jsonl", tmp_path / "recent.jsonl", PairFilter(since=date(2024, 12, 4)))
    expected = rows(
        corpus,
        "SELECT count(*) FROM paragraph_pairs JOIN articles USING (article_id)"
        " WHERE CAST(timezone('Asia/Seoul', published_at) AS DATE) >= DATE '2024-12-04'",
    )[0][0]
    assert recent == expected and 0 < recent < total


def test_articles_parquet_is_partitioned_by_month_and_jsonl_is_one_file(corpus, tmp_path):
    count = rows(corpus, "SELECT count(*) FROM articles")[0][0]
    assert export_articles(corpus, "parquet", tmp_path / "articles") == count
    months = sorted(p.name for p in (tmp_path / "articles").iterdir())
    assert "month=2024-12" in months and "month=2011-06" in months
    back = (
        duckdb.connect()
        .execute(
            "SELECT count(*), count(DISTINCT article_id) FROM read_parquet(?, hive_partitioning = true)"
            " WHERE month = '2024-12'",
            [f"{tmp_path / 'articles'}/**/*.parquet"],
        )
        .fetchone()
    )
    assert (
        back[0]
        == back[1]
        == rows(
            corpus,
            "SELECT count(*) FROM articles WHERE strftime(timezone('Asia/Seoul', published_at), '%Y-%m') = '2024-12'",
        )[0][0]
    )
    assert export_articles(corpus, "jsonl", tmp_path / "articles.jsonl") == count
    first = json.loads((tmp_path / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["article_id"] and "body_ko" in first


def test_bad_destinations_are_clear_errors(corpus, tmp_path):
    with pytest.raises(DestinationError, match="does not exist"):
        export_pairs(corpus, "tmx", tmp_path / "missing" / "p.tmx")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(DestinationError, match="new or empty folder"):
        export_articles(corpus, "parquet", tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_cli_exports_and_realigns(corpus, tmp_path, capsys):
    out = tmp_path / "cli.tmx"
    assert (
        main(["export", "pairs", "--format", "tmx", "--out", str(out), "--db", str(corpus), "--min-score", "0.5"]) == 0
    )
    assert "pairs →" in capsys.readouterr().out
    assert etree.parse(str(out)).getroot().findall("body/tu")
    assert main(["export", "pairs", "--format", "tmx", "--out", str(tmp_path / "no" / "x"), "--db", str(corpus)]) == 2
    assert "does not exist" in capsys.readouterr().err

    db = tmp_path / "realign.duckdb"
    build_corpus(db)
    before = rows(db, "SELECT * FROM paragraph_pairs ORDER BY ALL")
    w = duckdb.connect(str(db))
    w.execute("DELETE FROM paragraph_pairs WHERE kind = 'body'")
    w.close()
    assert main(["align", "--db", str(db)]) == 0
    assert rows(db, "SELECT * FROM paragraph_pairs ORDER BY ALL") == before
