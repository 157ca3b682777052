"""Address normalisation for 一址多企: one place written several ways gets one key.

The rules are data (a translation table and ordered regex steps) so the same
normalisation runs in Python (:func:`normalize_address`) and inside DuckDB
(:func:`riskwatch.store.graph.address_key_sql`), where it is vectorised over millions of
rows.  The patterns use only the syntax Python ``re`` and RE2 share.

What it does, in order:

1. full-width ASCII (``（）１２Ａ``) and the ideographic space become half-width;
2. whitespace and brackets go (their content stays: ``(绿地中心)`` → ``绿地中心``);
3. leading administrative units go (``河南省``, ``郑州市``, ``金水区`` …): the region code
   carries that information, so the key is ``region_code|rest``;
4. building forms unify (``3号楼``, ``3栋``, ``3幢``, ``3座`` → ``3栋``) and room forms
   too (``1205室``, ``1205房``, ``1205号房`` → ``1205室``).

Rooms are kept, so different rooms of one building stay different places.  ``cpca`` was
considered: it splits province/city/district well but pulls pandas and a large lookup
for what a region code already tells us, and does not touch the building/room forms.
"""

from __future__ import annotations

import re

FULLWIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALFWIDTH = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "

_ADMIN = (
    r"^(?:[^省市区县旗路街道号巷村镇乡栋楼室()]{1,8}?"
    r"(?:省|自治区|市|自治州|地区|盟|区|县|旗)){1,4}"
)

STEPS: tuple[tuple[str, str], ...] = (
    (r"[\s()\[\]【】{}]+", ""),
    (_ADMIN, ""),
    (r"([0-9A-Za-z]+)(?:号楼|栋|幢|座)", r"\1栋"),
    (r"([0-9]+)(?:号房|室|房)", r"\1室"),
    (r"[,.;:、，。；：-]+$", ""),
)
"""Ordered (pattern, replacement) pairs; ``\\1`` means the same in Python and RE2."""

_TRANS = str.maketrans(FULLWIDTH, HALFWIDTH)
_COMPILED = tuple((re.compile(p), r) for p, r in STEPS)


def normalize_address(text: str | None, region_code: str | None = None) -> str | None:
    """The normalised key of an address (``region_code|rest``), or ``None`` if empty.

    Parameters
    ----------
    text
        The address as registered.
    region_code
        The enterprise's 6-digit region code (district); it prefixes the key so equal
        street addresses in different districts never merge.

    Examples
    --------
    >>> normalize_address("河南省郑州市金水区花园路8号（绿地中心）3栋1205室", "410105")
    '410105|花园路8号绿地中心3栋1205室'
    >>> normalize_address("金水区花园路8号(绿地中心)3号楼1205室", "410105")
    '410105|花园路8号绿地中心3栋1205室'
    """
    if text is None:
        return None
    out = text.translate(_TRANS)
    for pattern, repl in _COMPILED:
        out = pattern.sub(repl, out)
    if not out:
        return None
    return f"{region_code or ''}|{out}"
