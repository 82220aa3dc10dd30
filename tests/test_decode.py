from __future__ import annotations

import pytest

from breaknews.tasks.decode import charset_from_content_type, decode_page, normalize_charset
from breaknews.tasks.errors import DecodeError
from tests.conftest import fixture_page

KOREAN = "브레이크뉴스 기사입니다. 각 문단은 한국어로 씁니다. ©"


def _page(charset_meta: str, body: str) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">'
    return f"<html><head>{meta}</head><body><p>{body}</p></body></html>"


def test_euc_kr_is_decoded_as_cp949():
    # 똠 and 햏 exist only in cp949 (UHC), not in strict EUC-KR: a real EUC-KR decode would fail.
    text = _page("euc-kr", "똠방각하 햏자 " + KOREAN.replace("©", "&#169;"))
    decoded = decode_page(text.encode("cp949"))
    assert decoded.charset == "cp949" and decoded.charset_source == "meta"
    assert "똠방각하 햏자" in decoded.text


def test_header_charset_beats_meta():
    content = _page("utf-8", KOREAN).encode("cp949", "xmlcharrefreplace")
    decoded = decode_page(content, header_charset="EUC-KR")
    assert decoded.charset == "cp949" and decoded.charset_source == "header"
    assert "브레이크뉴스" in decoded.text


def test_misdeclared_meta_falls_back_to_a_charset_that_decodes():
    content = _page("euc-kr", KOREAN).encode("utf-8")
    decoded = decode_page(content)
    assert decoded.charset == "utf-8" and decoded.charset_source == "guess"
    assert KOREAN in decoded.text


def test_fixture_old_page_is_cp949_bytes():
    decoded = decode_page(fixture_page("old-euckr").read_bytes())
    assert decoded.charset == "cp949"
    assert "브레이크뉴스" in decoded.text


def test_utf8_bom():
    decoded = decode_page("\ufeff".encode() + _page("euc-kr", KOREAN).encode())
    assert decoded.charset_source == "bom" and KOREAN in decoded.text


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG"),
        (b"%PDF-1.7 ...", "PDF"),
        (b"\x1f\x8b\x08\x00" + bytes(50), "gzip"),
        (b"<html>" + bytes(100) + b"</html>", "NUL"),
        (bytes(range(0x80, 0x100)) * 40, "undecodable"),
        ("그냥 텍스트 파일입니다. 마크업이 없습니다.".encode(), "no HTML markup"),
    ],
)
def test_unreadable_bytes_fail_at_decode_with_a_reason(content, reason):
    with pytest.raises(DecodeError, match=reason) as info:
        decode_page(content)
    assert info.value.stage == "decode"


def test_a_few_broken_bytes_are_tolerated_and_flagged():
    content = _page("utf-8", KOREAN * 50).encode() + b"\xed\xa0"  # a cut multi-byte character at the end
    content = content.replace(b"</p>", b"\xff</p>", 1)
    decoded = decode_page(content)
    assert decoded.charset_source == "meta/lossy"


@pytest.mark.parametrize(
    ("label", "codec"),
    [("EUC-KR", "cp949"), ("ks_c_5601-1987", "cp949"), ("x-windows-949", "cp949"), ("UTF-8", "utf-8"), ("bogus", None)],
)
def test_normalize_charset(label, codec):
    assert normalize_charset(label) == codec


def test_charset_from_content_type():
    assert charset_from_content_type('text/html; charset="euc-kr"') == "euc-kr"
    assert charset_from_content_type("text/html") is None
