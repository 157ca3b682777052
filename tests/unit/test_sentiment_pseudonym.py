from __future__ import annotations

import pytest

from riskwatch.ingest.pseudonym import Pseudonymizer
from riskwatch.ingest.sentiment import classify_sentiment


@pytest.mark.parametrize(
    ("title", "content", "expected"),
    [
        ("某公司被曝光销售不合格产品", None, "负面"),
        ("某公司荣获省级诚信示范企业称号", "", "正面"),
        ("某公司召开年度股东大会", None, "中性"),
        ("经核查未发现违规", None, "中性"),
    ],
)
def test_sentiment_lexicon(title: str, content: str | None, expected: str) -> None:
    assert classify_sentiment(title, content) == expected


def test_pseudonyms_are_keyed_and_stable() -> None:
    a = Pseudonymizer(b"a" * 32)
    b = Pseudonymizer(b"b" * 32)
    assert a("11010519491231002X") == a("11010519491231002X")
    assert a("11010519491231002X") != b("11010519491231002X")
    assert len(a("X")) == 64
    with pytest.raises(ValueError, match="32 bytes"):
        Pseudonymizer(b"short")


def test_scrub_replaces_valid_ids_in_free_text_only() -> None:
    p = Pseudonymizer(b"k" * 32)
    text = "联系人身份证11010519491231002X，电话13800000000，编号110105194912310029"
    out = p.scrub(text)
    assert "11010519491231002X" not in out
    assert "pid:" + p("11010519491231002X") in out
    assert "110105194912310029" in out  # fails its check: not an ID number, left alone
