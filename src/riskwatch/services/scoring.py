"""Scoring use cases shared by the CLI and the API: train, run (monthly job), export classes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from riskwatch import __version__
from riskwatch.classify import ClassPolicy, cutoffs, load_policy
from riskwatch.errors import InputError, NotFoundError
from riskwatch.exports import write_table
from riskwatch.indicators import Catalogue, load_catalogue, load_snapshot, month_ends, published
from riskwatch.indicators import run as run_indicators
from riskwatch.scoring import registry
from riskwatch.scoring.base import to_frame
from riskwatch.scoring.config import ModelsConfig, load_models_config
from riskwatch.scoring.labels import labelled_set, month_add, read_inspections
from riskwatch.scoring.pipeline import CLASS_SCHEMA, score_batch, score_batches
from riskwatch.scoring.train import best, train_all
from riskwatch.settings import Settings
from riskwatch.store import classes as class_store
from riskwatch.store import snapshots

Progress = Callable[[str, int, int], None]
EXPORT_HEADERS = {
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "region_code": "行政区划代码",
    "industry_code": "行业代码",
    "class": "风险分类",
    "score": "风险分值",
    "probability": "问题发现概率",
    "model_version": "模型版本",
    "reasons": "主要原因",
}


def _noop(step: str, done: int, total: int) -> None:
    return None


def parse_day(text: str) -> dt.date:
    """``YYYY-MM-DD`` → date (:class:`InputError` if malformed)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date like 2025-06-30") from None


@dataclass
class TrainResult:
    """What training produced."""

    as_of: str
    labels: int
    models: list[dict[str, Any]]
    champion: str
    promoted: bool


@dataclass
class RunResult:
    """What the monthly job produced."""

    run_id: str
    month: str
    engine: str
    model_version: str
    rows: int
    class_mix: dict[str, int]
    trained: TrainResult | None = None
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)


class ScoringService:
    """Train, score and class (validate() then run() style: every input checked first)."""

    def __init__(
        self,
        settings: Settings,
        models_config: Path | None = None,
        class_policy: Path | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.settings = settings
        self.home = settings.home
        self.cfg: ModelsConfig = load_models_config(models_config)
        self.policy: ClassPolicy = load_policy(class_policy)
        self.catalogue = catalogue or load_catalogue()

    def _engine_limits(self) -> dict[str, Any]:
        """DuckDB threads and memory cap of indicator runs, from the settings."""
        s = self.settings
        return {"threads": s.threads, "memory_limit": s.memory_limit or s.indicators_memory_limit}

    def validate(self, as_of: dt.date) -> None:
        """Fail early with a clerk-readable message."""
        if not self.settings.warehouse_path.exists():
            raise InputError(f"no warehouse at {self.settings.warehouse_path}: run ingest first")
        if as_of > dt.date.today() + dt.timedelta(days=31):
            raise InputError(f"as-of {as_of} is in the future")

    def ensure_snapshots(self, months: list[str], progress: Progress = _noop) -> None:
        """Compute the indicator snapshots that are missing for these months."""
        have = set(snapshots.list_months(self.home, self.catalogue.fingerprint()))
        todo = sorted(m for m in months if m not in have)
        if not todo:
            return
        days = [d for d in month_ends(todo[0], todo[-1]) if f"{d:%Y-%m}" in set(todo)]
        run_indicators(
            self.home, days, catalogue=self.catalogue, progress=progress, **self._engine_limits()
        )

    def _published_since(self, as_of: dt.date) -> bool:
        """Whether classes or a graph of the month before were published (or replaced) after
        the month's snapshot was computed: its related-party class and graph indicators
        would be missing or out of date."""
        try:
            used = snapshots.read_month_json(self.home, f"{as_of:%Y-%m}", "manifest")
        except NotFoundError:
            return True
        now = published.describe(published.find(self.home, self.catalogue, [as_of]))
        return bool(used.get("published_read", {}) != now)

    def train(
        self, as_of: dt.date, promote: bool = True, progress: Progress = _noop
    ) -> TrainResult:
        """Train every family on history up to ``as_of`` and promote the best."""
        self.validate(as_of)
        inspections = read_inspections(self.settings.warehouse_path)
        data = labelled_set(
            self.home,
            inspections,
            self.cfg.training,
            as_of,
            ensure_months=partial(self.ensure_snapshots, progress=progress),
            catalogue_fingerprint=self.catalogue.fingerprint(),
        )
        trained = train_all(data, as_of, self.cfg, self.catalogue, progress)
        for t in trained:
            registry.save(self.home, t.model, t.meta)
        champ = best(trained, self.cfg.training.select_by)
        if promote:
            registry.promote(self.home, champ.meta.version, f"{as_of:%Y-%m}")
        return TrainResult(
            as_of.isoformat(),
            data.size,
            [registry.describe(t.meta) for t in trained],
            champ.meta.version,
            promote,
        )

    def run(
        self,
        as_of: dt.date,
        engine: Literal["duckdb", "spark"] = "duckdb",
        model_version: str | None = None,
        progress: Progress = _noop,
    ) -> RunResult:
        """The monthly job: indicators → (train if no champion) → score → classes → stored."""
        self.validate(as_of)
        started = time.perf_counter()
        steps: dict[str, float] = {}
        month = f"{as_of:%Y-%m}"
        t0 = time.perf_counter()
        if month not in snapshots.list_months(
            self.home, self.catalogue.fingerprint()
        ) or self._published_since(as_of):
            run_indicators(
                self.home,
                [as_of],
                engine=engine,
                catalogue=self.catalogue,
                progress=progress,
                **self._engine_limits(),
            )
        steps["indicators"] = round(time.perf_counter() - t0, 2)
        trained = None
        version = model_version or registry.champion(self.home, month)
        if version is None:
            t0 = time.perf_counter()
            trained = self.train(as_of, progress=progress)
            version = trained.champion
            steps["train"] = round(time.perf_counter() - t0, 2)
        model = registry.load(self.home, version)
        t0 = time.perf_counter()
        previous = month_add(month, -1)
        run_id = self.run_id(as_of, version)
        info = {
            "as_of": as_of.isoformat(),
            "model_version": version,
            "engine": engine,
            "code_version": __version__,
            "policy": self.policy.policy,
        }
        if engine == "spark":
            if self.policy.policy != "bands":
                raise InputError("the Spark engine supports the 'bands' class policy")
            cuts = cutoffs(self.policy)
            score = partial(
                score_batch,
                model=model,
                version=version,
                catalogue=self.catalogue,
                policy=self.policy,
                cuts=cuts,
                run_id=run_id,
            )
            rows = class_store.spark_score(self.home, month, score, run_id, info, previous)
        else:
            rows = self._score_local(month, model, version, run_id, info, previous)
        steps["score"] = round(time.perf_counter() - t0, 2)
        mix = self.class_mix(month)
        return RunResult(
            run_id,
            month,
            engine,
            version,
            rows,
            mix,
            trained,
            round(time.perf_counter() - started, 2),
            steps,
        )

    def _score_local(
        self,
        month: str,
        model: Any,
        version: str,
        run_id: str,
        info: dict[str, Any],
        previous: str,
    ) -> int:
        snap = load_snapshot(self.home, month)
        rows = snap.to_pandas(date_as_object=False)
        try:
            prev = class_store.read_classes_raw(self.home, previous, ["uscc", "class"])
            prev_df = prev.to_pandas().rename(columns={"class": "previous_class"})
            rows = rows.merge(prev_df, on="uscc", how="left")
        except NotFoundError:
            pass
        if self.policy.policy == "bands":
            cuts = cutoffs(self.policy)
        else:
            cuts = cutoffs(self.policy, model.risk_score(to_frame(rows, model.feature_names_in_)))
        step = 200_000  # rows per batch; cores + 1 batches in flight (4.4 GB peak at 5 M)
        batches = (
            rows.iloc[i : i + step].reset_index(drop=True) for i in range(0, len(rows), step)
        )
        parts = list(
            score_batches(batches, model, version, self.catalogue, self.policy, cuts, run_id)
        )
        table = pa.concat_tables(parts) if parts else CLASS_SCHEMA.empty_table()
        info = {**info, "cuts": list(cuts)}
        class_store.write_classes(self.home, month, table, run_id, info)
        return int(table.num_rows)

    def run_id(self, as_of: dt.date, version: str) -> str:
        """Hash of config, policy, snapshot run, model and code version."""
        try:
            snap_run = snapshots.read_month_json(self.home, f"{as_of:%Y-%m}", "manifest")["run_id"]
        except (NotFoundError, KeyError):
            snap_run = ""
        blob = "|".join(
            [
                self.cfg.fingerprint(),
                self.policy.fingerprint(),
                str(snap_run),
                version,
                as_of.isoformat(),
                __version__,
            ]
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def class_mix(self, month: str) -> dict[str, int]:
        """Enterprises per class in a month."""
        t = class_store.read_classes_raw(self.home, month, ["class"])
        counts = t.group_by("class").aggregate([("class", "count")]).to_pylist()
        return {
            str(r["class"]): int(r["class_count"]) for r in sorted(counts, key=lambda r: r["class"])
        }


def export_classes(settings: Settings, as_of: dt.date, out: Path) -> int:
    """Write a month's classes to .csv or .xlsx; returns rows written."""
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"{out}: export to .csv or .xlsx")
    month = f"{as_of:%Y-%m}"
    cols = [
        "uscc",
        "region_code",
        "industry_code",
        "class",
        "score",
        "probability",
        "model_version",
        "reasons",
    ]
    t = class_store.read_classes_raw(settings.home, month, cols)
    names = _names(settings, t.column("uscc"))
    reasons = [
        "；".join(r["text_zh"] for r in json.loads(v)) if v else ""
        for v in t.column("reasons").to_pylist()
    ]
    table = pa.table(
        {
            "uscc": t.column("uscc"),
            "name": names,
            "region_code": t.column("region_code"),
            "industry_code": t.column("industry_code"),
            "class": t.column("class"),
            "score": t.column("score"),
            "probability": t.column("probability"),
            "model_version": t.column("model_version"),
            "reasons": pa.array(reasons, pa.string()),
        }
    )
    return int(write_table(table, out, EXPORT_HEADERS))


def _names(settings: Settings, uscc: pa.ChunkedArray) -> pa.Array:
    from riskwatch.store.engines import duckdb_session

    with duckdb_session(settings.warehouse_path) as s:
        ent = s.to_pyarrow(s.tables["enterprises"].select("uscc", "name"))
    lookup = dict(zip(ent.column("uscc").to_pylist(), ent.column("name").to_pylist(), strict=True))
    return pa.array([lookup.get(u) for u in uscc.to_pylist()], pa.string())
