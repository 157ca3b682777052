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
