"""Identifier codes, generated vectorised: USCC (GB 32100-2015) and resident IDs (GB 11643).

Every generator here is a pure function of integer indices, so the same enterprise or
person gets the same code in every chunk and every run.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)
_USCC_BYTES = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)

RIC_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
RIC_CHECK = "10X98765432"
_RIC_CHECK_BYTES = np.frombuffer(RIC_CHECK.encode("ascii"), dtype=np.uint8)

# Birth-place codes a resident ID may carry.  Codes were re-issued over the years and
# python-stdnum knows when each existed, so people born before 1983 carry prefecture-era codes.
_RIC_REGIONS_OLD = ("410100", "410200", "412701", "412726", "412801", "412827", "110101", "310101")
_RIC_REGIONS_NEW = ("410102", "410103", "410104", "410105", "410122", "410202", "410302", "410502")
_RIC_FIRST_DAY = np.datetime64("1960-01-01", "D").astype(np.int64)
_RIC_SPLIT_DAY = np.datetime64("1983-01-01", "D").astype(np.int64)
_RIC_DAYS = int(np.datetime64("2003-12-31", "D").astype(np.int64) - _RIC_FIRST_DAY)
_RIC_SPACE = _RIC_DAYS * 8 * 1000
_RIC_MULT = 2_654_435_761  # odd and coprime with the space: an affine bijection

# Affine bijections (multiplier coprime with the modulus) scramble serials into codes.
_ORG_SPACE = 31**7
_ORG_MULT = 3**18
_OLD_SPACE = 10**9
_OLD_MULT = 7_654_321


Int = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]


def uscc_check_values(body: Int) -> Int:
    """Check-character values of USCCs given the 17 body values (alphabet indices).

    Parameters
    ----------
    body : ndarray of shape (n, 17)
        Alphabet indices (0–30) of the first 17 characters.

    Returns
    -------
    ndarray of shape (n,)
        Alphabet index of the check character, ``(31 − Σ wᵢ·vᵢ mod 31) mod 31``.
    """
    total = body @ USCC_WEIGHTS
    return (31 - total % 31) % 31


def _digits(values: Int, width: int) -> Int:
    """Decimal digits of non-negative integers, most significant first, shape (n, width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def _base31(values: Int, width: int) -> Int:
    powers = 31 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 31


def _to_strings(chars: U8, width: int) -> pa.Array:
    raw = np.ascontiguousarray(chars, dtype=np.uint8).view(f"S{width}").ravel()
    return pa.array(raw, type=pa.binary(width)).cast(pa.string())


def make_usccs(type_char: Int, region: Int, serial: Int, modern: npt.NDArray[np.bool_]) -> pa.Array:
    """Valid USCCs for enterprises.

    Parameters
    ----------
    type_char : ndarray of int
        Entity-type character value (1 enterprise, 2 individual business, 3 co-operative).
    region : ndarray of int
        Six-digit region code of the registering authority.
    serial : ndarray of int
        A unique non-negative serial per enterprise (its global index); distinct serials in
        one region give distinct codes.
    modern : ndarray of bool
        Organisation codes issued after 2015 look like ``MA…``; older ones are all digits.

    Returns
    -------
    pyarrow.StringArray
        18-character codes with a correct check character.
    """
    n = len(serial)
    body = np.empty((n, 17), dtype=np.int64)
    body[:, 0] = 9  # registered by market regulation (工商)
    body[:, 1] = type_char
    body[:, 2:8] = _digits(region.astype(np.int64), 6)
    serial = serial.astype(np.int64)
    new = (serial * _ORG_MULT + 7919) % _ORG_SPACE
    old = (serial * _OLD_MULT + 12345) % _OLD_SPACE
    body[:, 8:17] = _digits(old, 9)
    body[modern, 8] = USCC_ALPHABET.index("M")
    body[modern, 9] = USCC_ALPHABET.index("A")
    body[modern, 10:17] = _base31(new[modern], 7)
    check = uscc_check_values(body)
    chars = _USCC_BYTES[np.concatenate([body, check[:, None]], axis=1)]
    return _to_strings(chars, 18)


def ric_check_values(body: Int) -> Int:
    """Index into ``RIC_CHECK`` of the ISO 7064 MOD 11-2 check of 17-digit bodies."""
    return (body @ RIC_WEIGHTS) % 11


def make_resident_ids(person: Int) -> pa.Array:
    """Valid 18-character resident ID numbers, one per distinct person index.

    The mapping is a bijection on ``[0, 128 M)``: a birth date (1960–2003), a birth-place
    code valid for that date, and a 3-digit sequence are decoded from a permuted index.
    """
    p = (person.astype(np.int64) % _RIC_SPACE * _RIC_MULT) % _RIC_SPACE
    day = _RIC_FIRST_DAY + p // 8000
    region_slot = (p // 1000) % 8
    seq = p % 1000
    old = np.array(_RIC_REGIONS_OLD, dtype=np.int64)
    new = np.array(_RIC_REGIONS_NEW, dtype=np.int64)
    region = np.where(day < _RIC_SPLIT_DAY, old[region_slot], new[region_slot])
    ymd = day.astype("datetime64[D]").astype(str)  # YYYY-MM-DD
    compact = np.char.replace(ymd, "-", "").astype(np.int64)
    n = len(person)
    body = np.empty((n, 17), dtype=np.int64)
    body[:, 0:6] = _digits(region, 6)
    body[:, 6:14] = _digits(compact, 8)
    body[:, 14:17] = _digits(seq, 3)
    check = ric_check_values(body)
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, :17] = body + ord("0")
    chars[:, 17] = _RIC_CHECK_BYTES[check]
    return _to_strings(chars, 18)


def make_passports(person: Int) -> pa.Array:
    """Nine-character passport numbers (a letter and 8 digits) for foreign holders."""
    letters = np.frombuffer(b"EGKPS", dtype=np.uint8)
    n = len(person)
    chars = np.empty((n, 9), dtype=np.uint8)
    chars[:, 0] = letters[person % 5]
    chars[:, 1:] = _digits((person.astype(np.int64) * 48271 + 12345) % 100_000_000, 8) + ord("0")
    return _to_strings(chars, 9)


def corrupt_check(codes: list[str], alphabet: str) -> list[str]:
    """Replace the last character of each code by another character of ``alphabet``."""
    out = []
    for code in codes:
        i = alphabet.index(code[-1])
        out.append(code[:-1] + alphabet[(i + 1 + len(code) % 5) % len(alphabet)])
    return out


_FULLWIDTH = str.maketrans(
    {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {"(": "（", ")": "）", ",": "，"}
)


def to_fullwidth(text: str) -> str:
    """Full-width form of ASCII digits, letters and punctuation (as typed in a Chinese IME)."""
    return text.translate(_FULLWIDTH)
