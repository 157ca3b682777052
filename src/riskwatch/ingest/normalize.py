"""Scalar parsers and normalisers for contract values (pure functions).

Each parser takes the raw text of one cell and returns the normalised value, or raises
:class:`BadValue` with a reason code and a message a clerk can act on. Ingest calls them
once per *distinct* value of a column (see :mod:`riskwatch.ingest.validate`), so they can
afford clarity over speed.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from stdnum.cn import ric, uscc


class BadValue(ValueError):
    """A cell value that breaks a contract rule.

    Attributes
    ----------
    reason
        A stable reason code (``bad_date``, ``uscc_check`` …) used for counting.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


# Provinces and equivalents of GB/T 2260 (first two digits of a division code).
PROVINCE_PREFIXES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)

# GB/T 4754-2017: the section letter of each two-digit division.
_SECTION_RANGES: tuple[tuple[str, int, int], ...] = (
    ("A", 1, 5),
    ("B", 6, 12),
    ("C", 13, 43),
    ("D", 44, 46),
    ("E", 47, 50),
    ("F", 51, 52),
    ("G", 53, 60),
    ("H", 61, 62),
    ("I", 63, 65),
    ("J", 66, 69),
    ("K", 70, 70),
    ("L", 71, 72),
    ("M", 73, 75),
    ("N", 76, 79),
    ("O", 80, 82),
    ("P", 83, 83),
    ("Q", 84, 85),
    ("R", 86, 90),
    ("S", 91, 97),
    ("T", 98, 98),
)
SECTIONS = tuple(s for s, _, _ in _SECTION_RANGES)


def section_of_division(division: int) -> str | None:
    """The GB/T 4754-2017 section letter of a two-digit division, or None."""
    for letter, lo, hi in _SECTION_RANGES:
        if lo <= division <= hi:
            return letter
    return None


_SPACES = re.compile(r"\s+")


def clean_text(raw: str) -> str:
    """NFKC-fold (full-width → half-width), trim, and collapse inner white space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip()


def _code_text(raw: str) -> str:
    """A code as typed: NFKC, no spaces at all, upper case, no Excel ``.0`` tail."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", raw)).upper()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# 18 characters of the alphabet, characters 3–8 the registering authority's region code.
USCC_FORM = r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$"
_USCC_FORM = re.compile(USCC_FORM)


def normalize_uscc(raw: str) -> str:
    """Normalise a 统一社会信用代码 and check its form (not its check character).

    Raises
    ------
    BadValue
        ``uscc_format`` when the code is not 18 characters of the GB 32100 alphabet
        with a 6-digit region code in characters 3–8.
    """
    code = _code_text(raw)
    if _USCC_FORM.match(code):
        return code
    if len(code) != 18:
        why = f"has {len(code)} characters, not 18"
    elif not code[2:8].isdigit():
        why = "characters 3-8 must be the 6-digit region code"
    else:
        why = "uses a character outside 0-9 and A-Y without I, O, S, V, Z"
    raise BadValue("uscc_format", f"not a 统一社会信用代码: {code!r} {why}")


def uscc_check_ok(code: str) -> bool:
    """Whether a well-formed USCC carries the right GB 32100 check character."""
    return bool(uscc.is_valid(code))


_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")


def normalize_person_id(raw: str) -> str:
    """Normalise a personal ID: an 18-character resident ID (checked) or a passport number.

    Raises
    ------
    BadValue
        ``person_id_check`` for a resident ID whose MOD 11-2 check fails,
        ``person_id_format`` for anything that is neither form.
    """
    code = _code_text(raw)
    if len(code) == 18 and code[:17].isdigit():
        # The contract's rule is the ISO 7064 MOD 11-2 check. stdnum's full validate() also
        # requires the county code to have existed in the birth year, which refuses real
        # IDs issued later to people born before their district got its code.
        if ric.calc_check_digit(code) != code[17]:
            raise BadValue("person_id_check", "resident ID number fails its check digit (ISO 7064)")
        try:
            born: date | None = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
        except ValueError:
            born = None
        if born is None or code[:2] not in PROVINCE_PREFIXES or born > today():
            raise BadValue(
                "person_id_format", "resident ID number has an impossible birth date or region"
            )
        return code
    if _PASSPORT.match(code) and not code.isdigit():
        return code
    raise BadValue(
        "person_id_format",
        "not a resident ID (18 characters) nor a passport number (5-17 letters and digits)",
    )


def mask_id(code: str) -> str:
    """Show a personal ID without revealing it: its first 3 and last 2 characters."""
    if len(code) <= 6:
        return "*" * len(code)
    return code[:3] + "*" * (len(code) - 5) + code[-2:]


def normalize_region(raw: str) -> str:
    """Normalise a GB/T 2260 division code to 6 digits (``410105000000`` → ``410105``)."""
    code = _code_text(raw)
    if len(code) == 12 and code.isdigit() and code.endswith("000000"):
        code = code[:6]
    if len(code) != 6 or not code.isdigit():
        raise BadValue("region_format", f"region code {code!r} must be 6 digits (GB/T 2260)")
    if code[:2] not in PROVINCE_PREFIXES:
        raise BadValue("region_unknown", f"region code {code!r}: no province {code[:2]}")
    return code


_INDUSTRY = re.compile(r"^([A-T])?(\d{2,4})?$")


def normalize_industry(raw: str) -> str:
    """Normalise a GB/T 4754-2017 code to section letter + digits (``5211`` → ``F5211``)."""
    code = _code_text(raw)
    match = _INDUSTRY.match(code)
    if not code or match is None:
        raise BadValue(
            "industry_format", f"industry code {code!r}: a letter A-T and/or 2-4 digits expected"
        )
    letter, digits = match.group(1), match.group(2)
    if digits is None:
        return letter or ""
    section = section_of_division(int(digits[:2]))
    if section is None:
        raise BadValue("industry_unknown", f"industry code {code!r}: no division {digits[:2]}")
    if letter is not None and letter != section:
        raise BadValue(
            "industry_mismatch",
            f"industry code {code!r}: division {digits[:2]} belongs to section {section}",
        )
    return section + digits


_DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
_TIME_TAIL = re.compile(r"^(.*?)(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?|\s*\d{1,2}时.*)$")


def parse_date(raw: str) -> date:
    """Parse a date in any contract form; a datetime keeps its date part.

    Forms: ``2024-03-05``, ``2024/3/5``, ``20240305``, ``2024年3月5日``, with an optional
    time (``2024-03-05 10:30:00``, ``2024-03-05T10:30``).
    """
    text = clean_text(raw)
    match_time = _TIME_TAIL.match(text)
    if match_time is not None and match_time.group(1):
        text = match_time.group(1).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]  # 20240305 read through Excel as a number
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise BadValue(
        "bad_date",
        f"not a date: {raw!r} (expected 2024-03-05, 2024/3/5, 20240305 or 2024年3月5日)",
    )


def parse_year(raw: str) -> int:
    """Parse a report year such as ``2023``, ``2023年`` or ``2023.0``."""
    text = _code_text(raw).removesuffix("年")
    if text.isdigit() and len(text) == 4 and 1949 <= int(text) <= 2100:
        return int(text)
    raise BadValue("bad_year", f"not a year: {raw!r}")


_AMOUNT_UNIT = re.compile(r"(万元|万|元)$")


def parse_amount(raw: str) -> float:
    """Parse a plain number (``1,234.5`` and a trailing ``万元`` are accepted)."""
    text = _AMOUNT_UNIT.sub("", _SPACES.sub("", unicodedata.normalize("NFKC", raw)))
    text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        raise BadValue("bad_number", f"not a number: {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadValue("bad_number", f"not a finite number: {raw!r}")
    if value < 0:
        raise BadValue("negative_amount", f"amount must not be negative: {raw!r}")
    return value


def parse_integer(raw: str) -> int:
    """Parse a whole non-negative number (``12``, ``12.0``)."""
    value = parse_amount(raw)
    if value != int(value):
        raise BadValue("bad_integer", f"not a whole number: {raw!r}")
    return int(value)


def parse_ratio(raw: str) -> float:
    """Parse a share as a fraction 0–1: ``0.35``, ``35%`` and ``35`` all give 0.35."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", raw))
    percent = text.endswith("%")
    value = parse_amount(text.removesuffix("%"))
    if percent or value > 1:
        value /= 100
    if value > 1:
        raise BadValue("bad_ratio", f"share above 100 %: {raw!r}")
    return value


_TRUE = frozenset({"是", "Y", "YES", "TRUE", "T", "1", "真", "属实", "在岗", "已更正"})
_FALSE = frozenset({"否", "N", "NO", "FALSE", "F", "0", "假", "不属实", "不在岗", "未更正"})


def parse_bool(raw: str) -> bool:
    """Parse 是/否, true/false, Y/N, 1/0."""
    text = _code_text(raw)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadValue("bad_bool", f"not a yes/no value: {raw!r} (expected 是 or 否)")


def parse_enum(raw: str, allowed: tuple[str, ...]) -> str:
    """Match a value against a closed list (full-width folded; ``存续（在营）`` → ``存续``)."""
    text = clean_text(raw)
    if text in allowed:
        return text
    # Real exports often add a bracketed gloss: 存续(在营、开业、在册).
    head = re.split(r"[(\[]", text, maxsplit=1)[0].strip()
    if head in allowed:
        return head
    # Contract spellings carry full-width brackets that NFKC turned into ASCII ones.
    folded = {clean_text(v): v for v in allowed}
    if text in folded:
        return folded[text]
    shown = "、".join(allowed[:8]) + ("…" if len(allowed) > 8 else "")
    raise BadValue("bad_enum", f"{raw!r} is not one of {shown}")


_LIST_SEP = re.compile(r"[;；、,，/|]")


def split_list(raw: str) -> list[str]:
    """Split a list cell on ``;`` ``、`` ``，`` (and their ASCII or full-width kin)."""
    return [part for part in (clean_text(p) for p in _LIST_SEP.split(raw)) if part]


def parse_enum_list(raw: str, allowed: tuple[str, ...]) -> list[str]:
    """Parse a list of closed-list values, keeping their order and dropping repeats."""
    out: list[str] = []
    for part in split_list(raw):
        value = parse_enum(part, allowed)
        if value not in out:
            out.append(value)
    if not out:
        raise BadValue("bad_enum", f"no value in {raw!r}")
    return out


def parse_code(raw: str) -> str:
    """An identifier without checksum: NFKC-folded, trimmed, no Excel ``.0`` tail."""
    text = clean_text(raw)
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def parse_coordinate(raw: str, low: float, high: float, what: str) -> float:
    """Parse a longitude or latitude and check it lies in China's range."""
    try:
        value = float(clean_text(raw))
    except ValueError:
        raise BadValue("bad_number", f"not a {what}: {raw!r}") from None
    if not low <= value <= high:
        raise BadValue("bad_coordinate", f"{what} {value} is outside China ({low}–{high})")
    return value


_NAME_DROP = re.compile(r"[\s·•.,，。、'\"“”‘’]")


def normalize_name(raw: str) -> str:
    """The form of an enterprise name used to match records that lack a uscc.

    NFKC (full-width brackets become ASCII), no white space or light punctuation,
    upper-case Latin letters. Two spellings of one registered name give one key.
    """
    return _NAME_DROP.sub("", unicodedata.normalize("NFKC", raw)).upper()


def today() -> date:
    """Today's date (a seam so callers never read the clock twice)."""
    return datetime.now().date()
