"""The screening DSL: a closed set of fields and operators, values always bound."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskwatch.errors import InputError
from riskwatch.services.screening import LAYERS, MAX_NODES, catalogue, compile_rule, parse_rule
from riskwatch.store.enterprise_reads import FIELDS

AS_OF = dt.date(2025, 6, 30)


def compiled(rule: dict[str, Any]) -> tuple[str, list[Any]]:
    return compile_rule(parse_rule(rule), AS_OF, lambda name: [f"member-of-{name}"])


def test_at_least_forty_fields_over_the_six_layers() -> None:
    fields = catalogue()
    assert len(fields) >= 40
    assert {f["layer"] for f in fields} == set(LAYERS)
    assert all(f["ops"] for f in fields)


def test_a_combined_rule_compiles_to_placeholders() -> None:
    sql, params = compiled(
        {"all": [
            {"field": "abnormal_now", "op": "is_true"},
            {"any": [{"field": "penalties_3y", "op": "ge", "value": 2},
                     {"field": "license_kinds", "op": "has", "value": "食品经营许可"}]},
            {"not": {"field": "status", "op": "in", "value": ["注销", "吊销"]}},
            {"field": "established_on", "op": "between", "value": ["2020-01-01", "2024-12-31"]},
            {"field": "tag", "op": "has", "value": "重点"},
        ]}
    )  # fmt: skip
    assert " AND " in sql and " OR " in sql and "NOT" in sql
    assert params == [2, "食品经营许可", ["注销", "吊销"], dt.date(2020, 1, 1),
                      dt.date(2024, 12, 31), ["member-of-重点"]]  # fmt: skip
    assert sql.count("?") == len(params)
    assert "DATE '2025-06-30'" in sql


@given(value=st.text(max_size=200))
def test_any_text_value_is_a_parameter_never_sql(value: str) -> None:
    sql, params = compiled({"field": "name", "op": "contains", "value": value})
    assert params == [value]
    assert sql == compiled({"field": "name", "op": "contains", "value": "x"})[0]


@pytest.mark.parametrize(
    "rule",
    [
        {"field": "nope", "op": "eq", "value": 1},
        {"field": "name", "op": "gt", "value": "x"},  # not for text
        {"field": "registered_capital", "op": "eq", "value": "100"},
        {"field": "registered_capital", "op": "eq", "value": True},
        {"field": "established_on", "op": "lt", "value": "yesterday"},
        {"field": "abnormal_now", "op": "is_true", "value": 1},
        {"field": "status", "op": "in", "value": []},
        {"field": "status", "op": "in", "value": "存续"},
        {"field": "registered_capital", "op": "between", "value": [1]},
        {"field": "name", "op": "eq", "value": "x" * 201},
        {"all": []},
        {"all": [{"field": "name", "op": "eq", "value": "x"}], "field": "status"},
        {},
        {"field": "tag", "op": "eq", "value": "x"},
        {"raw_sql": "1=1"},
    ],
)
def test_bad_rules_are_refused_with_a_message(rule: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        compiled(rule)


def test_huge_or_deep_rules_are_refused() -> None:
    leaf = {"field": "officers", "op": "gt", "value": 1}
    with pytest.raises(InputError, match="at most"):
        compiled({"any": [leaf] * (MAX_NODES + 1)})
    deep: dict[str, Any] = leaf
    for _ in range(12):
        deep = {"not": deep}
    with pytest.raises(InputError, match="at most"):
        compiled(deep)


def test_field_sql_is_fixed_text() -> None:
    # Every field's SQL is a constant of the code: no placeholders of the user's.
    for _layer, _type, sql in FIELDS.values():
        assert "?" not in sql
