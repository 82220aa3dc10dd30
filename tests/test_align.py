"""The paragraph aligner: known correct pairs on real-shaped pages, merges, splits, gaps, captions."""

from __future__ import annotations

import json
import uuid

import pytest

from breaknews.tasks.align import align_paragraphs, en_anchors, ko_anchors, score_pair
from breaknews.tasks.pipeline import process_item, process_page
from breaknews.tasks.versions import EXTRACTOR_VERSION
from breaknews.warehouse import runs
from breaknews.warehouse.connect import writer
from breaknews.warehouse.migrate import open_migrated
from breaknews.warehouse.models import Page, PageResult
from breaknews.warehouse.write import write_batch
from tests.conftest import ROOT, rows

GOLDEN = json.loads((ROOT / "tests" / "fixtures" / "alignment.golden.json").read_text(encoding="utf-8"))
PAGES = sorted(k for k in GOLDEN if not k.startswith("_"))


@pytest.mark.parametrize("page", PAGES)
def test_pages_align_to_their_known_pairs(page):
    article = process_item(str(ROOT / page)).article
    assert article is not None
    expected = GOLDEN[page]
    for kind in ("body", "caption", "title"):
        found = [[p.ko_first, p.ko_last, p.en_first, p.en_last] for p in article.pairs if p.kind == kind]
        assert found == expected[kind], f"{page} {kind} pairs"
        assert [p.position for p in article.pairs if p.kind == kind] == list(range(len(found)))
    for ko, en in expected["must_pair"]:
        assert any(ko in p.ko_text and en in p.en_text for p in article.pairs), (ko, en)
    assert all(0.0 <= p.score <= 1.0 for p in article.pairs)


def test_the_merge_is_a_two_to_one_bead_and_captions_pair_with_captions():
    article = process_item(str(ROOT / "tests/fixtures/pages/breaknews.modern-marker1.html")).article
    assert article is not None
    merged = [p for p in article.pairs if p.bead == "2-1"]
    assert len(merged) == 1 and merged[0].kind == "body"
    assert merged[0].ko_text.count("\n") == 1  # both Korean paragraphs, one per line
    captions = {c.text for c in article.captions}
    for pair in article.pairs:
        if pair.kind == "caption":
            assert pair.ko_text in captions and pair.en_text in captions
        else:
            assert pair.ko_text not in captions and pair.en_text not in captions


def test_an_untranslated_article_has_no_pairs():
    article = process_item(str(ROOT / "tests/fixtures/pages/breaknews.modern-nomarker.html")).article
    assert article is not None and not article.has_translation
    assert article.pairs == ()


def _marker1():
    article = process_item(str(ROOT / "tests/fixtures/pages/breaknews.modern-marker1.html")).article
    assert article is not None
    return list(article.paragraphs_ko), list(article.paragraphs_en)


def test_a_dropped_english_paragraph_leaves_its_korean_unmatched():
    ko, en = _marker1()
    del en[3]  # the English of KO 4 (the 2030 plan) is gone
    pairs = align_paragraphs(ko, en)
    spans = [(p.ko_start, p.ko_end, p.en_start, p.en_end) for p in pairs]
    assert spans == [(0, 1, 0, 1), (1, 3, 1, 2), (3, 4, 2, 3), (5, 6, 3, 4), (6, 7, 4, 5)]


def test_a_split_english_paragraph_is_a_one_to_two_bead():
    ko, en = _marker1()
    first, second = en[4].split(" and added, ", 1)  # Choi's two quotes, as two English paragraphs
    en[4:5] = [first, second]
    pairs = align_paragraphs(ko, en)
    assert (5, 6, 4, 6) in [(p.ko_start, p.ko_end, p.en_start, p.en_end) for p in pairs]


def test_numbers_dates_and_names_normalise_to_shared_anchors():
    ko = ko_anchors("총 1조 2천억 원 규모, 연간 50만 톤, 12월 3일, 업무협약(MOU) 1,200명")
    en = en_anchors("1.2 trillion won, 500,000 tons a year, December 3, MOUs with 1,200 people", {"mou"})
    assert {"1.2e+12", "500000", "month:12", "3", "1200", "mou"} <= ko & en


def test_empty_sides_give_no_pairs():
    assert align_paragraphs([], ["x"]) == [] and align_paragraphs(["가"], []) == []


def _load(db, results):
    open_migrated(db)
    run_id = str(uuid.uuid4())
    with writer(db) as con:
        runs.start_run(con, run_id, command="test", sources="-", flow_run_id=None, extractor_version="t")
        write_batch(con, run_id, results, EXTRACTOR_VERSION)
        runs.finish_run(con, run_id, "completed")


def _page(path: str, html: str | None = None) -> PageResult:
    content = html.encode() if html is not None else (ROOT / path).read_bytes()
    return process_page(Page(source=path, source_kind="file", content=content))


def test_pairs_are_loaded_and_follow_their_article_on_reingest(db_path):
    marker1 = "tests/fixtures/pages/breaknews.modern-marker1.html"
    _load(db_path, [_page(marker1), _page("tests/fixtures/pages/breaknews.modern-nomarker.html")])
    count_sql = "SELECT kind, count(*) FROM paragraph_pairs GROUP BY kind ORDER BY kind"
    assert rows(db_path, count_sql) == [("body", 6), ("caption", 2), ("title", 1)]
    assert rows(db_path, "SELECT ko_first, ko_last, en_first, bead FROM paragraph_pairs WHERE bead <> '1-1'") == [
        (1, 2, 1, "2-1")
    ]
    before = rows(db_path, "SELECT * FROM paragraph_pairs ORDER BY ALL")
    _load(db_path, [_page(marker1)])  # unchanged: untouched
    assert rows(db_path, "SELECT * FROM paragraph_pairs ORDER BY ALL") == before

    html = (ROOT / marker1).read_text(encoding="utf-8")
    changed = html.replace("12개국 600여 명이", "15개국 700여 명이").replace("12 countries", "15 countries")
    _load(db_path, [_page(marker1, changed)])
    assert rows(db_path, count_sql) == [("body", 6), ("caption", 2), ("title", 1)]
    [(ko, en)] = rows(db_path, "SELECT ko_text, en_text FROM paragraph_pairs WHERE kind = 'body' AND position = 1")
    assert "15개국" in ko and "15 countries" in en


def test_scores_separate_right_pairs_from_wrong_pairings():
    """A quality floor: on every translated sample and fixture, the aligned body pairs score 0.6 or more
    at least 90% of the time, and pairing a Korean paragraph with another paragraph's English does so at
    most 15% of the time. Raise these as the scoring improves; never lower them."""
    right, wrong = [], []
    pages = sorted((ROOT / "samples").glob("*.html")) + sorted((ROOT / "tests/fixtures/pages").glob("*.html"))
    for page in pages:
        article = process_item(str(page)).article
        body = [p for p in (article.pairs if article else ()) if p.kind == "body"]
        for p in body:
            right.append(p.score)
            wrong.extend(score_pair(p.ko_text, q.en_text) for q in body if q is not p)
    assert len(right) > 60 and len(wrong) > 250
    assert sum(s >= 0.6 for s in right) / len(right) >= 0.90
    assert sum(s >= 0.6 for s in wrong) / len(wrong) <= 0.15
