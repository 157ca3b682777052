from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from riskwatch.ingest import normalize as nz

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@st.composite
def uscc_codes(draw: st.DrawFn) -> str:
    body = draw(st.sampled_from("9158")) + draw(st.sampled_from("123"))
    body += draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    body += draw(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
    return body + uscc.calc_check_digit(body)


@given(uscc_codes())
def test_valid_uscc_passes_and_a_changed_check_character_fails(code: str) -> None:
    assert nz.normalize_uscc(code) == code
    assert nz.uscc_check_ok(code)
    wrong = code[:-1] + next(c for c in USCC_ALPHABET if c != code[-1])
    assert nz.normalize_uscc(wrong) == wrong  # the form is fine …
    assert not nz.uscc_check_ok(wrong)  # … the check character is not


@given(uscc_codes(), st.sampled_from(["lower", "spaces", "fullwidth", "excel"]))
def test_uscc_quirks_normalise_to_the_code(code: str, quirk: str) -> None:
    written = {
        "lower": code.lower(),
        "spaces": f" {code[:6]} {code[6:]} ",
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in code),
        "excel": code,
    }[quirk]
    assert nz.normalize_uscc(written) == code


@pytest.mark.parametrize("bad", ["9141010", "I1410105MA44AAAA0Y", "91410105MA44AAAA0Y1", ""])
def test_uscc_of_wrong_form_is_refused(bad: str) -> None:
    with pytest.raises(nz.BadValue) as exc:
        nz.normalize_uscc(bad)
    assert exc.value.reason == "uscc_format"


def test_resident_id_check_and_passport() -> None:
    assert nz.normalize_person_id("11010519491231002x") == "11010519491231002X"
    assert ric.is_valid("11010519491231002X")
    with pytest.raises(nz.BadValue) as exc:
        nz.normalize_person_id("110105194912310029")
    assert exc.value.reason == "person_id_check"
    assert nz.normalize_person_id("e1234 5678") == "E12345678"
    with pytest.raises(nz.BadValue):
        nz.normalize_person_id("12")


@given(st.text(alphabet=string.digits + "X", min_size=7, max_size=18))
def test_mask_reveals_at_most_five_characters(code: str) -> None:
    masked = nz.mask_id(code)
    assert len(masked) == len(code)
    assert sum(c != "*" for c in masked) <= 5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("410105", "410105"),
        ("410105000000", "410105"),
        ("410105.0", "410105"),
        ("４１０１０５", "410105"),
    ],
)
def test_region_codes(raw: str, expected: str) -> None:
    assert nz.normalize_region(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"), [("4101", "region_format"), ("990105", "region_unknown")]
)
def test_bad_region_codes(raw: str, reason: str) -> None:
    with pytest.raises(nz.BadValue) as exc:
        nz.normalize_region(raw)
    assert exc.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("F5211", "F5211"),
        ("5211", "F5211"),
        ("f52", "F52"),
        ("F", "F"),
        ("0111", "A0111"),
        ("C13", "C13"),
    ],
)
def test_industry_codes(raw: str, expected: str) -> None:
    assert nz.normalize_industry(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("A5211", "industry_mismatch"), ("99", "industry_unknown"), ("Z1", "industry_format")],
)
def test_bad_industry_codes(raw: str, reason: str) -> None:
    with pytest.raises(nz.BadValue) as exc:
        nz.normalize_industry(raw)
    assert exc.value.reason == reason


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)), st.integers(0, 6))
def test_every_contract_date_form_parses(d: date, form: int) -> None:
    text = [
        d.isoformat(),
        f"{d.year}/{d.month}/{d.day}",
        d.strftime("%Y%m%d"),
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.isoformat()} 10:30:00",
        f"{d.isoformat()}T08:00",
        f"{d.year}/{d.month:02d}/{d.day:02d} 23:59",
    ][form]
    assert nz.parse_date(text) == d


@pytest.mark.parametrize("bad", ["2024-02-30", "2024/13/1", "yesterday", "2024", "20241"])
def test_impossible_dates_are_refused(bad: str) -> None:
    with pytest.raises(nz.BadValue) as exc:
        nz.parse_date(bad)
    assert exc.value.reason == "bad_date"


def test_numbers_shares_and_flags() -> None:
    assert nz.parse_amount("1,234.5") == 1234.5
    assert nz.parse_amount("50万元") == 50
    assert nz.parse_integer("12.0") == 12
    assert nz.parse_ratio("35%") == pytest.approx(0.35)
    assert nz.parse_ratio("0.35") == pytest.approx(0.35)
    assert nz.parse_ratio("35") == pytest.approx(0.35)
    assert nz.parse_bool("是") is True
    assert nz.parse_bool("false") is False
    assert nz.parse_year("2023年") == 2023
    for bad, fn in [
        ("abc", nz.parse_amount),
        ("-3", nz.parse_amount),
        ("maybe", nz.parse_bool),
        ("1.5", nz.parse_integer),
    ]:
        with pytest.raises(nz.BadValue):
            fn(bad)


def test_enums_accept_glosses_and_fullwidth_forms() -> None:
    assert nz.parse_enum("存续（在营、开业、在册）", ("存续", "在业")) == "存续"
    allowed = ("通过登记的住所（经营场所）无法联系",)
    assert nz.parse_enum("通过登记的住所(经营场所)无法联系", allowed) == allowed[0]
    with pytest.raises(nz.BadValue) as exc:
        nz.parse_enum("倒闭", ("存续", "在业"))
    assert "存续" in exc.value.message


@pytest.mark.parametrize("sep", [";", "、", "，", ",", "；"])
def test_enum_lists_split_on_every_separator(sep: str) -> None:
    assert nz.parse_enum_list(f"警告{sep}罚款{sep}罚款", ("警告", "罚款")) == ["警告", "罚款"]


def test_names_written_two_ways_give_one_key() -> None:
    assert nz.normalize_name("郑州乙（河南）有限公司") == nz.normalize_name("郑州乙(河南) 有限公司")
    assert nz.normalize_name("甲公司") != nz.normalize_name("乙公司")


@given(st.lists(uscc_codes(), min_size=1, max_size=50), st.data())
def test_vectorised_check_characters_agree_with_stdnum(
    codes: list[str], data: st.DataObject
) -> None:
    import pyarrow as pa

    from riskwatch.ingest.fastpath import uscc_check_mask

    mutated = [
        c[:-1] + data.draw(st.sampled_from(USCC_ALPHABET)) if data.draw(st.booleans()) else c
        for c in codes
    ]
    assert uscc_check_mask(pa.array(mutated)).tolist() == [uscc.is_valid(c) for c in mutated]


@given(
    st.lists(
        st.text(alphabet="0123456789ABCabc 　（）〔〕号-.", min_size=0, max_size=12), max_size=30
    )
)
def test_fast_code_path_only_takes_values_the_slow_path_leaves_alone(values: list[str]) -> None:
    import pyarrow as pa

    from riskwatch.ingest.fastpath import clean_code, clean_uscc

    fast, mask = clean_code(pa.array(values, pa.string()))
    for value, taken, out in zip(values, mask.tolist(), fast.to_pylist(), strict=True):
        if taken:
            assert out == value == nz.parse_code(value)
    _, mask = clean_uscc(pa.array(values, pa.string()))
    assert not mask.any() or all(
        nz.normalize_uscc(v) == v for v, m in zip(values, mask, strict=True) if m
    )
