"""The indicator catalogue: validation, stable ids, generated docs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from riskwatch.errors import ConfigError
from riskwatch.indicators.catalogue import DEFAULT_CATALOGUE, load_catalogue, parse_catalogue
from riskwatch.indicators.docs import DOCS_PATH, render

STABLE_IDS = [
    "penalties_in_force",
    "abnormal_now",
    "serious_violation_now",
    "dishonest_debtor_now",
    "complaints_30d",
    "complaints_growth",
    "address_enterprise_count",
    "legal_rep_enterprise_count",
    "annual_report_missing_last",
    "inspection_problems_3y",
]


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _first_indicator(data: dict[str, Any]) -> dict[str, Any]:
    ind = data["dimensions"][0]["groups"][0]["indicators"][0]
    assert isinstance(ind, dict)
    return ind


def test_shipped_catalogue_is_valid_and_large_enough() -> None:
    cat = load_catalogue()
    assert len(cat.dimensions) == 5
    assert len(list(cat.all())) >= 60
    ids = {i.id for i in cat.all()}
    assert set(STABLE_IDS) <= ids
    for ind in cat.all():
        assert ind.reason("3", "zh") and ind.reason("3", "en")


def test_unknown_keys_are_refused(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    _first_indicator(data)["formula"] = "1 + 1"
    with pytest.raises(ConfigError, match="Extra inputs"):
        parse_catalogue(data)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("window", "3 weeks", "window"),
        ("in_force", "until_forgotten", "in-force rule"),
        ("template", "median", "template"),
        ("reason_en", "{value} and {other}", "placeholder"),
    ],
)
def test_bad_fields_are_refused(raw: dict[str, Any], key: str, value: str, message: str) -> None:
    data = copy.deepcopy(raw)
    _first_indicator(data)[key] = value
    with pytest.raises(ConfigError, match=message):
        parse_catalogue(data)


def test_duplicate_ids_and_bad_references_are_refused(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    group = data["dimensions"][0]["groups"][0]["indicators"]
    group.append(copy.deepcopy(group[0]))
    with pytest.raises(ConfigError, match="declared twice"):
        parse_catalogue(data)
    data = copy.deepcopy(raw)
    _first_indicator(data).update(source="penalties", known_on="listed_on")
    with pytest.raises(ConfigError, match="no column"):
        parse_catalogue(data)


def test_docs_are_up_to_date() -> None:
    expected = render(load_catalogue())
    assert DOCS_PATH.read_text(encoding="utf-8") == expected, (
        "docs/indicators.md is stale: run `riskwatch indicators docs`"
    )


def _indicator(data: dict[str, Any], indicator_id: str) -> dict[str, Any]:
    for dim in data["dimensions"]:
        for group in dim["groups"]:
            for ind in group["indicators"]:
                if ind["id"] == indicator_id:
                    assert isinstance(ind, dict)
                    return ind
    raise KeyError(indicator_id)


@pytest.mark.parametrize(
    ("indicator_id", "change", "message"),
    [
        ("related_risk_score", {"missing": "zero"}, "may be missing"),
        ("related_risk_score", {"value": "class"}, "no column 'class'"),
        ("related_risk_score", {"value": None}, "needs a value column"),
        ("class_cd_last_month", {"where": []}, "needs a where condition"),
        ("class_cd_last_month", {"template": "attribute_flag"}, "published sources"),
        ("registered_capital_tiny", {"template": "previous_month_flag"}, "published sources"),
    ],
)
def test_published_sources_are_checked(
    raw: dict[str, Any], indicator_id: str, change: dict[str, Any], message: str
) -> None:
    data = copy.deepcopy(raw)
    ind = _indicator(data, indicator_id)
    for key, value in change.items():
        if value is None:
            ind.pop(key, None)
        else:
            ind[key] = value
    with pytest.raises(ConfigError, match=message):
        parse_catalogue(data)


def test_class_and_graph_indicators_are_in_the_catalogue() -> None:
    cat = load_catalogue()
    outputs = {i.id for i in cat.outputs()}
    assert {"legal_rep_cd_share", "shareholder_cd_share", "related_risk_score"} <= outputs
    assert cat.get("legal_rep_cd_share").of == ("class_cd_last_month",)
    assert not cat.get("class_cd_last_month").output  # a helper: own class is not a feature
