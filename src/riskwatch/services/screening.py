"""The screening tool: combinable filter rules over the six layers, parsed into a safe query.

A rule is a JSON tree::

    {"all": [{"field": "abnormal_now", "op": "is_true"},
             {"any": [{"field": "penalties_3y", "op": "ge", "value": 2},
                      {"field": "license_kinds", "op": "has", "value": "食品经营许可"}]},
             {"not": {"field": "status", "op": "in", "value": ["注销", "吊销"]}}]}

Field names and operators come from closed tables (``store.enterprise_reads.FIELDS`` and
``OPERATORS``); every value is type-checked here and bound as a parameter there. Nothing a
user writes is ever spliced into SQL: a value full of SQL is just a string to compare.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from riskwatch.auth.scope import Principal
from riskwatch.auth.tokens import now, utc
from riskwatch.errors import InputError
from riskwatch.settings import Settings
from riskwatch.store.enterprise_reads import FIELDS, OPERATORS, leaf_sql
from riskwatch.store.models import screening as store
from riskwatch.store.models.users import service_session

LAYERS = {
    "registration": "登记注册",
    "approvals": "审批许可",
    "publicity": "信息公示",
    "supervision": "行业和监管标签",
    "enforcement": "执法监管",
    "credit": "信用信息",
}
MAX_NODES = 200
MAX_DEPTH = 8
MAX_TEXT = 200
MAX_LIST = 1000
TAG_FIELD = "tag"
"""A pseudo-field of the supervision layer: enterprises carrying a tag (``has``)."""


class Rule(BaseModel):
    """One node: exactly one of all / any / not / field (a condition)."""

    model_config = ConfigDict(extra="forbid")

    all: list[Rule] | None = None
    any: list[Rule] | None = None
    not_: Rule | None = Field(default=None, alias="not")
    field: str | None = None
    op: str | None = None
    value: Any = None


def catalogue() -> list[dict[str, Any]]:
    """The fields a rule may use, with layer, type and operators (for the UI)."""
    out = [
        {"field": name, "layer": layer, "layer_zh": LAYERS[layer], "type": typ,
         "ops": sorted(op for op, (types, _) in OPERATORS.items() if typ in types)}
        for name, (layer, typ, _sql) in FIELDS.items()
    ]  # fmt: skip
    out.append(
        {"field": TAG_FIELD, "layer": "supervision", "layer_zh": LAYERS["supervision"],
         "type": "tag", "ops": ["has"]}
    )  # fmt: skip
    return out


def _value(name: str, typ: str, op: str, value: Any) -> list[Any]:
    """Check a condition's value against the field type; the parameters it binds."""
    where = f"rule on {name} ({op})"
    if op in ("is_true", "is_false", "is_null", "not_null"):
        if value is not None:
            raise InputError(f"{where} takes no value")
        return []
    if op in ("in", "not_in", "has_any", "between"):
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise InputError(f"{where} needs a list of 1–{MAX_LIST} values")
        if op == "between" and len(value) != 2:
            raise InputError(f"{where} needs [low, high]")
        scalar_type = "text" if typ == "list" else typ
        items = [_scalar(where, scalar_type, v) for v in value]
        return items if op == "between" else [items]
    return [_scalar(where, "text" if typ == "list" else typ, value)]


def _scalar(where: str, typ: str, value: Any) -> Any:
    if typ == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{where}: {value!r} is not a number")
        return value
    if typ == "date":
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise InputError(f"{where}: {value!r} is not a date like 2025-06-30") from None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InputError(f"{where}: a text of at most {MAX_TEXT} characters is needed")
    return value


def compile_rule(
    rule: Rule,
    as_of: dt.date,
    tag_members: Callable[[str], Sequence[str]] | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE fragment (over alias ``e``) and its parameters; InputError if invalid."""
    count = [0]

    def walk(node: Rule, depth: int) -> tuple[str, list[Any]]:
        count[0] += 1
        if count[0] > MAX_NODES or depth > MAX_DEPTH:
            raise InputError(f"a rule may have at most {MAX_NODES} nodes, {MAX_DEPTH} levels")
        kinds = [k for k in ("all", "any", "not_", "field") if getattr(node, k) is not None]
        if len(kinds) != 1:
            raise InputError("each rule node needs exactly one of all, any, not, field")
        if node.all is not None or node.any is not None:
            children = node.all if node.all is not None else node.any
            assert children is not None
            if not children:
                raise InputError("all/any needs at least one rule")
            parts = [walk(c, depth + 1) for c in children]
            joiner = " AND " if node.all is not None else " OR "
            return "(" + joiner.join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
        if node.not_ is not None:
            sql, params = walk(node.not_, depth + 1)
            return f"(NOT coalesce({sql}, false))", params
        return leaf(node)

    def leaf(node: Rule) -> tuple[str, list[Any]]:
        name, op = str(node.field), str(node.op or "")
        if name == TAG_FIELD:
            if op != "has" or not isinstance(node.value, str) or tag_members is None:
                raise InputError('a tag rule reads {"field": "tag", "op": "has", "value": NAME}')
            return "list_contains(?, e.uscc)", [list(tag_members(node.value))]
        if name not in FIELDS:
            raise InputError(f"unknown field {name!r}; GET /api/screening/fields lists them")
        typ = FIELDS[name][1]
        if op not in OPERATORS or typ not in OPERATORS[op][0]:
            ops = sorted(o for o, (types, _) in OPERATORS.items() if typ in types)
            raise InputError(f"operator {op!r} does not apply to {name}; use one of {ops}")
        return leaf_sql(name, op, as_of), _value(name, typ, op, node.value)

    return walk(rule, 0)


def parse_rule(raw: Mapping[str, Any]) -> Rule:
    """A rule tree from JSON (InputError with the path of a malformed node)."""
    from pydantic import ValidationError

    try:
        return Rule.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"malformed rule: {exc.errors()[0]['msg']}") from None


# -- saved screenings ---------------------------------------------------------------


def save(settings: Settings, who: Principal, name: str, rule: dict[str, Any]) -> dict[str, Any]:
    """Validate and keep a rule tree."""
    compile_rule(parse_rule(rule), dt.date.today(), lambda _n: [])
    with service_session(settings) as s:
        row = store.SavedScreening(name=name, owner=who.name, rule=rule, created_at=now())
        s.add(row)
        s.flush()
        return {"id": row.id, "name": name, "rule": rule}


def list_saved(settings: Settings, who: Principal) -> list[dict[str, Any]]:
    """The caller's saved screenings."""
    with service_session(settings) as s:
        return [
            {
                "id": r.id,
                "name": r.name,
                "rule": r.rule,
                "created_at": utc(r.created_at).isoformat(),
            }
            for r in store.screenings_of(s, who.name)
        ]
