from __future__ import annotations

import pytest

from breaknews.tasks.errors import SplitError
from breaknews.tasks.split import is_marker, split_bilingual
from breaknews.warehouse.models import Block

KO = [Block("【브레이크뉴스 포항】박영재 기자= 포항시가 국제 회의를 열었다."), Block("시는 투자를 늘린다고 밝혔다.")]
EN = [
    Block("Pohang City holds international conference"),
    Block("[Break News Pohang] Reporter Park Young-jae = Pohang City held an international conference."),
    Block("The city said it would increase investment."),
]
MARKER_1 = "<구글 번역으로 번역한 영문 기사의 전문 입니다. 번역에 오류가 있을 수 있음을 밝힙니다.>"
MARKER_2 = (
    "*아래는 위 기사를 '구글 번역'으로 번역한 영문 기사의 [전문]입니다. '구글번역'은 이해도 높이기를 위해 노력하고 "
    "있습니다. 영문 번역에 오류가 있을 수 있음을 전제로 합니다.<*The following is [the full text] of the English "
    "article translated by 'Google Translate'. 'Google Translate' is working hard to improve understanding. It is "
    "assumed that there may be errors in the English translation.>"
)


@pytest.mark.parametrize(
    "marker",
    [
        MARKER_1,
        MARKER_2,
        "< 구글번역으로 번역한 영문기사의 전문입니다 >",
        "[구글 번역으로 번역한 영문 기사의 전문입니다. 번역에 오류가 있을 수 있습니다.]",
        "*아래는 위 기사를 ‘구글 번역’으로 번역한 영문 기사의 전문입니다.",
        "※ 아래는 위 기사를 “구글 번역”으로 번역한 영문 기사 [전문]입니다.",
        "<*The following is the full text of the English article translated by 'Google Translate'.>",
    ],
)
def test_marker_wordings(marker):
    assert is_marker(marker)
    result = split_bilingual([*KO, Block(marker), *EN])
    assert result.method == "marker"
    assert [b.text for b in result.ko] == [b.text for b in KO]
    assert result.title_en == EN[0].text
    assert [b.text for b in result.en] == [b.text for b in EN[1:]]


@pytest.mark.parametrize(
    "text",
    [
        "구글이 새 번역 서비스를 내놨다는 소식이 전해졌다.",
        "번역가 김모씨는 영문학을 전공했다.",
        "Google announced a new model.",
    ],
)
def test_ordinary_lines_are_not_markers(text):
    assert not is_marker(text)


def test_disclaimer_on_its_own_line_is_dropped():
    disclaimer = "<*The following is [the full text] of the English article translated by 'Google Translate'.>"
    result = split_bilingual(
        [*KO, Block("*아래는 위 기사를 '구글 번역'으로 번역한 영문 기사의 [전문]입니다."), Block(disclaimer), *EN]
    )
    assert result.title_en == EN[0].text
    assert all("Google Translate" not in b.text for b in result.en)


def test_english_byline_is_not_body():
    result = split_bilingual([*KO, Block(MARKER_1), EN[0], Block("-Publisher Il-suk Moon"), *EN[1:]])
    assert result.byline_en == "Publisher Il-suk Moon"
    assert all("Il-suk Moon" not in b.text for b in result.en)


def test_no_marker_no_translation():
    result = split_bilingual(KO)
    assert result.method == "none" and result.en == [] and result.title_en is None


def test_unmarked_long_english_tail_is_split():
    tail = [Block("Pohang City expands hydrogen plans")] + [
        Block(f"Paragraph {i}: the city said it would expand its hydrogen industry and attract investment.")
        for i in range(5)
    ]
    result = split_bilingual([*KO, *tail])
    assert result.method == "latin_tail"
    assert result.title_en == tail[0].text and len(result.en) == 5


def test_short_english_ending_is_not_a_translation():
    result = split_bilingual([*KO, Block("Reporter Kim"), Block("kim@breaknews.com")])
    assert result.method == "none"


def test_marker_with_nothing_after_it_keeps_article_without_translation():
    result = split_bilingual([*KO, Block(MARKER_1)])
    assert result.method == "marker_empty" and result.en == []


def test_english_only_page_is_a_split_failure():
    with pytest.raises(SplitError, match="no Korean body text"):
        split_bilingual([Block(MARKER_1), *EN])


def test_captions_go_with_their_language():
    ko_caption = Block("▲ 국제 회의. © 포항시", is_caption=True, image_url="https://x/1.jpg")
    en_caption = Block("▲ International conference. © Pohang City", is_caption=True)
    result = split_bilingual([ko_caption, *KO, Block(MARKER_1), EN[0], en_caption, *EN[1:]])
    assert ko_caption in result.ko and en_caption in result.en
    assert result.title_en == EN[0].text
