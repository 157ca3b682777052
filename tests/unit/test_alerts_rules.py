"""The alert rules file: validated, versioned, every required rule present."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from riskwatch.alerts.engine import alert_id
from riskwatch.alerts.rules import DEFAULT_PATH, REQUIRED_RULES, load_rules
from riskwatch.errors import ConfigError


def test_shipped_rules_are_valid_and_complete() -> None:
    rules, digest = load_rules()
    assert [r.id for r in rules.rules] == list(REQUIRED_RULES)
    assert len(digest) == 12
    for r in rules.rules:
        assert r.name_zh and r.name_en and r.suppression_days >= 0
        assert rules.departments[r.domain]
        assert set(rules.params(r)) >= set(r.params)


def _write(tmp_path: Path, mutate: object) -> Path:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    mutate(data)  # type: ignore[operator]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["rules"].pop(0), "required rules missing: address_cluster"),
        (lambda d: d["rules"][0].update(detector="eval"), "unknown detector 'eval'"),
        (lambda d: d["rules"][0]["params"].update(radius=3), "unknown parameters radius"),
        (lambda d: d["rules"][1].update(severity="urgent"), "severity"),
        (lambda d: d["rules"].append(d["rules"][0]), "duplicate rule ids: address_cluster"),
        (lambda d: d["rules"][2].update(domain="space"), "has no department"),
        (lambda d: d.update(config_version="v1"), "config_version"),
    ],
)
def test_broken_rules_are_refused_with_a_reason(
    tmp_path: Path, mutate: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_rules(_write(tmp_path, mutate))


def test_not_yaml_or_missing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_rules(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_rules(tmp_path / "nope.yaml")


def test_alert_ids_are_stable_and_distinct() -> None:
    a = alert_id("person_cluster", "91410105MA0000001X", "p1")
    assert a == alert_id("person_cluster", "91410105MA0000001X", "p1")
    assert a != alert_id("person_cluster", "91410105MA0000001X", "p2")
    assert len(a) == 24
