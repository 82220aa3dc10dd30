"""Search over a real warehouse: Korean inside longer words, English phrases, ranking, languages."""

from __future__ import annotations

import pytest

from breaknews.flows.cli import main
from breaknews.warehouse.connect import connect
from breaknews.warehouse.read.search import SearchError, make_snippet, query_terms, search_articles
from tests.corpus import build_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("search") / "corpus.duckdb")


@pytest.fixture
def con(corpus):
    con = connect(corpus, read_only=True)
    yield con
    con.close()


def test_a_korean_word_is_found_inside_a_longer_word(con):
    # 수소경제 and 편의점업계-style compounds: the page never has 수소 or 그린철강 as a separate word only.
    hits = search_articles(con, "그린철강")
    assert {h.article_id for h in hits} == {"www:1063522", "www:1063999"}
    assert "«그린철강»" in hits[0].snippet
    hits = search_articles(con, "수소", lang="ko")
    assert {"www:1063522", "www:1063999"} <= {h.article_id for h in hits}
    economy = search_articles(con, "경제", lang="ko")
    assert any("수소경제" in h.snippet or "경제" in h.snippet for h in economy)


def test_korean_with_a_particle_still_matches(con):
    # 편의점을 (with the object particle) is not on the page; 편의점 is.
    hits = search_articles(con, "편의점을")
    assert hits and hits[0].article_id == "www:948261"


def test_an_english_phrase_ranks_the_article_that_has_it_first(con):
    hits = search_articles(con, "convenience store", lang="en")
    assert hits[0].article_id == "www:948261"
    assert "«convenience store»" in hits[0].snippet.lower()
    assert search_articles(con, "convenience store", lang="ko") == []


def test_ranking_prefers_more_and_title_occurrences(con):
    hits = search_articles(con, "hydrogen")
    assert hits[0].article_id in {"www:1063522", "www:1063999"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(search_articles(con, "hydrogen", limit=1)) == 1


def test_unmatched_and_empty_queries(con):
    assert search_articles(con, "존재하지않는단어조합") == []
    with pytest.raises(SearchError, match="nothing to search"):
        search_articles(con, "…!?")


def test_query_terms_are_bigrams_for_hangul_and_words_for_latin():
    needles = [(t.needle, t.counts) for t in query_terms("수소경제 Green steel")]
    assert ("수소", True) in needles and ("소경", True) in needles and ("경제", True) in needles
    assert ("수소경제", False) in needles  # the whole run is a bonus, not required
    assert ("green", True) in needles and ("steel", True) in needles
    assert [t.needle for t in query_terms("수")] == ["수"]
    assert make_snippet(["가나다 수소 라마"], query_terms("수소")) == "가나다 «수소» 라마"


def test_cli_search_prints_ranked_hits(corpus, capsys):
    assert main(["search", "수소", "--db", str(corpus), "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(" 1. [") and "«수소»" in out and " 2. " not in out
    assert main(["search", "!!!", "--db", str(corpus)]) == 1
    assert "nothing to search" in capsys.readouterr().err
