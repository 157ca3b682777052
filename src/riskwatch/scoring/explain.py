"""Reasons: the top contributions per enterprise in plain Chinese and English.

Texts come from the catalogue's ``reason_zh`` / ``reason_en`` templates with the
enterprise's value (``近一年行政处罚3次``). Built column-wise with Arrow (no Python loop over
enterprises) so millions of rows stay fast; each row is a JSON list of
``{code, text_zh, text_en, contribution}``, highest contribution first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.indicators import Catalogue
from riskwatch.scoring.base import CATEGORICAL, Float

TOP = 5
_CATEGORICAL_TEXT = {
    "region_code": ("所在区划（{value}）整体风险较高", "its district ({value}) is riskier overall"),
    "industry_code": (
        "所属行业（{value}）整体风险较高",
        "its industry ({value}) is riskier overall",
    ),
}
_PERCENT = ("peer_share", "ratio")


def _pieces(template: str) -> tuple[str, str, str]:
    """(before, after, has-value) of a template, JSON-escaped without the quotes."""
    before, _, after = template.partition("{value}")
    esc = json.dumps(before, ensure_ascii=False)[1:-1]
    esc_after = json.dumps(after, ensure_ascii=False)[1:-1]
    return esc, esc_after, "1" if "{value}" in template else ""


def _formatted(values: Float, kind: str) -> pa.Array:
    """Values as display strings: integers, 2-decimal amounts, percentages."""
    v = np.nan_to_num(values)
    if kind == "int":
        return pc.cast(pa.array(np.rint(v).astype(np.int64)), pa.string())
    if kind == "pct":
        return pc.binary_join_element_wise(
            pc.cast(pa.array(np.rint(v * 100).astype(np.int64)), pa.string()), "%", ""
        )
    text = pc.cast(pa.array(np.round(v, 2)), pa.string())
    return pc.replace_substring_regex(text, r"\.0$", "")


_KIND_CODES = {"int": 0, "pct": 1, "float": 2, "cat": 3}


def _picked_text(
    values: Float, kind: npt.NDArray[np.int8], pick: Any, cats: dict[int, pa.Array]
) -> Any:
    """Display text of one picked value per row, formatted by its feature's kind."""
    text = pc.choose(
        pa.array(np.minimum(kind, 2)),
        _formatted(values, "int"),
        _formatted(values, "pct"),
        _formatted(values, "float"),
    )
    for j, strings in cats.items():
        text = pc.if_else(pa.array(pick == j), strings, text)
    return text


def reasons_json(
    X: pd.DataFrame,
    names: Sequence[str],
    contrib: Float,
    catalogue: Catalogue,
    top: int = TOP,
    prefix: Sequence[str] | None = None,
) -> pa.Array:
    """JSON reasons per row from contributions.

    Parameters
    ----------
    X
        The model input (indicator values and categorical columns).
    names
        The feature name of each contribution column.
    contrib
        Contributions (n × len(names)), positive = riskier.
    catalogue
        Source of the reason templates.
    top
        Reasons kept per row (only positive contributions).
    prefix
        Optional JSON objects (already serialised, e.g. override reasons) put first per row.

    Returns
    -------
    pyarrow.StringArray
        One JSON list per row.
    """
    n = len(X)
    k = len(names)
    zh_pre, zh_post, en_pre, en_post, kinds = [], [], [], [], []
    zh_has, en_has = [], []
    for name in names:
        if name in CATEGORICAL:
            zh, en = _CATEGORICAL_TEXT.get(name, ("{value}", "{value}"))
            kind = "cat"
        else:
            ind = catalogue.get(name)
            zh, en = ind.reason_zh, ind.reason_en
            kind = (
                "pct"
                if ind.template in _PERCENT and ("share" in name or "rate" in name)
                else ("int" if ind.dtype == "int64" else "float")
            )
        a, b, hz = _pieces(zh)
        c, d, he = _pieces(en)
        zh_has.append(bool(hz))
        en_has.append(bool(he))
        zh_pre.append(a)
        zh_post.append(b)
        en_pre.append(c)
        en_post.append(d)
        kinds.append(kind)
    # Values are formatted only where picked (top × n, not k × n strings): numbers go into
    # one matrix, categorical columns (a handful) keep their text.
    numbers = np.zeros((n, k), np.float64, order="F")
    cat_text: dict[int, pa.Array] = {}
    missing = np.zeros((n, k), dtype=bool, order="F")
    for j, name in enumerate(names):
        if kinds[j] == "cat":
            raw = pa.array(X[name].astype(object).to_numpy(), pa.string())
            cat_text[j] = pc.fill_null(raw, "")
            missing[:, j] = pd.isna(X[name]).to_numpy()
        else:
            col = X[name].to_numpy(np.float64)
            numbers[:, j] = col
            missing[:, j] = ~np.isfinite(col)
            if catalogue.get(name).direction == "higher_riskier":
                # "0 penalties" is never a reason, whatever a binning's WOE says
                missing[:, j] |= ~(col > 0)
    kind_code = np.array([_KIND_CODES[kd] for kd in kinds], np.int8)
    cm: Float = np.where(missing, -np.inf, np.nan_to_num(contrib[:, :k], nan=-np.inf))
    top = min(top, k)
    if k == 0:
        order = np.zeros((n, 0), dtype=np.int64)
    elif top < k:
        # top-k by partition, then order those few; ties broken by feature order
        part = np.argpartition(-cm, top - 1, axis=1)[:, :top]
        part.sort(axis=1)
        vals = np.take_along_axis(-cm, part, axis=1)
        order = np.take_along_axis(part, np.argsort(vals, axis=1, kind="stable"), axis=1)
    else:
        order = np.argsort(-cm, axis=1, kind="stable")
    slots: list[pa.Array] = []
    rows = np.arange(n)
    # Constant JSON pieces folded per feature: three takes per slot instead of seven.
    codes = [json.dumps(x)[1:-1] for x in names]
    head = pa.array([f',{{"code":"{c}","text_zh":"{a}' for c, a in zip(codes, zh_pre, strict=True)])
    mid = pa.array([f'{b}","text_en":"{c}' for b, c in zip(zh_post, en_pre, strict=True)])
    tail = pa.array([f'{d}","contribution":' for d in en_post])
    has_zh, has_en = pa.array(zh_has, pa.bool_()), pa.array(en_has, pa.bool_())
    for slot in range(top):
        pick = order[:, slot]
        cj = cm[rows, pick]
        ok = cj > 1e-9
        idx = pa.array(pick)
        value = _picked_text(numbers[rows, pick], kind_code[pick], pick, cat_text)
        obj = pc.binary_join_element_wise(
            pc.take(head, idx),
            pc.if_else(pc.take(has_zh, idx), value, ""),
            pc.take(mid, idx),
            pc.if_else(pc.take(has_en, idx), value, ""),
            pc.take(tail, idx),
            pc.cast(pa.array(np.round(np.where(ok, cj, 0.0), 4)), pa.string()),
            "}",
            "",
        )
        slots.append(pc.if_else(pa.array(ok), obj, ""))
    if prefix is not None:
        pre = pa.array(prefix, pa.string())
        slots.insert(
            0, pc.if_else(pc.equal(pre, ""), "", pc.binary_join_element_wise(",", pre, ""))
        )
    if not slots:
        return pa.array(["[]"] * n, pa.string())
    body = pc.binary_join_element_wise(*slots, "") if len(slots) > 1 else slots[0]
    body = pc.utf8_ltrim(body, characters=",")
    return pc.binary_join_element_wise("[", body, "]", "")
