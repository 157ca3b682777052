"""Grade the pattern rules on a synthetic city's planted truth (issue-5 quality figures).

Usage (a home where ``riskwatch graph build`` and ``riskwatch alerts scan`` have run)::

    RISKWATCH_HOME=H riskwatch export alerts --out ALERTS.csv
    .venv/bin/python bench/bench_alert_recall.py --alerts ALERTS.csv --truth CITY/truth

Recall = planted members flagged / planted members; precision = flagged enterprises that are
planted / flagged enterprises (for ``person_cluster`` a shell-cluster member counts as
planted too: it shares the cluster's few representatives). Writes
bench/results/alert-recall.json. Targets (issue 5): recall ≥ 0.95 for address clusters,
person clusters and complaint surges; precision ≥ 0.80 for the two cluster rules.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--alerts", type=Path, required=True)
    ap.add_argument("--truth", type=Path, required=True)
    args = ap.parse_args()
    with args.alerts.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rule_col = next(c for c in rows[0] if c in ("rule", "规则"))
    uscc_col = next(c for c in rows[0] if c in ("uscc", "统一社会信用代码"))
    flagged: dict[str, set[str]] = {}
    for r in rows:
        flagged.setdefault(r[rule_col], set()).add(r[uscc_col])
    truth = json.loads((args.truth / "patterns.json").read_text(encoding="utf-8"))
    clusters = {u for c in truth["address_clusters"] for u in c["members"]}
    nominees = {u for n in truth["nominee_persons"] for u in n["members"]}
    surges = {x["uscc"] for x in truth["complaint_surges"]}
    by_address = flagged.get("address_cluster", set())
    by_person = flagged.get("person_cluster", set())
    surged = flagged.get("complaint_surge", set())

    def share(a: set[str], b: set[str]) -> float:
        return round(len(a & b) / len(b), 4) if b else 0.0

    result = {
        "planted": {"address": len(clusters), "person": len(nominees), "surge": len(surges)},
        "flagged": {"address": len(by_address), "person": len(by_person), "surge": len(surged)},
        "recall": {
            "address_cluster": share(by_address, clusters),
            "person_cluster": share(by_person, nominees),
            "complaint_surge": share(surged, surges),
        },
        "precision": {
            "address_cluster": share(clusters, by_address),
            "person_cluster": share(nominees | clusters, by_person),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "alert-recall.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
