"""Orchestration: generate a whole synthetic city chunk by chunk, then write ``truth/``.

Memory is bounded by the chunk size, not by the city: each chunk of enterprises is drawn,
its records generated, presented and appended to the open files, then dropped.  Every
chunk has its own random streams (``default_rng([seed, chunk, stream])``), so the output
depends only on the arguments.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from riskwatch import __version__
from riskwatch.errors import InputError
from riskwatch.ingest.contract import CONTRACT_VERSION, TABLES
from riskwatch.synth import checks, events, filings, registry, social
from riskwatch.synth import people as pp
from riskwatch.synth import world as w
from riskwatch.synth.enterprises import base_chunk, finish_chunk
from riskwatch.synth.formats import MODES, present, spec_for
from riskwatch.synth.patterns import plant
from riskwatch.synth.timeline import Timeline, to_date
from riskwatch.synth.writers import Output

Progress = Callable[[int, int], None]
MAX_ENTERPRISES = 7_000_000


@dataclass(frozen=True)
class SynthConfig:
    """Arguments of one synthetic city.

    Parameters
    ----------
    enterprises : int
        Number of enterprises (1 … 7 000 000).
    as_of : datetime.date
        The day the export is taken; no input record is dated after it.
    seed : int
        Seed of every random stream.
    out : pathlib.Path
        Output folder (created; must be empty if it exists).
    format : str
        ``mixed`` (every contract format and quirk), ``csv`` or ``parquet``.
    chunk_size : int
        Enterprises per chunk; bounds memory.  Part of the arguments: changing it changes
        the city.
    """

    enterprises: int
    as_of: dt.date
    seed: int
    out: Path
    format: str = "mixed"
    chunk_size: int = 100_000

    def validate(self) -> None:
        """Refuse arguments that cannot make a city."""
        if not 1 <= self.enterprises <= MAX_ENTERPRISES:
            raise InputError(f"--enterprises must be between 1 and {MAX_ENTERPRISES:,}")
        if self.format not in MODES:
            raise InputError(f"--format must be one of {', '.join(MODES)}, not {self.format!r}")
        if not 1_000 <= self.chunk_size <= 250_000:
            # Record serials reserve 10⁶–10⁷ numbers per chunk.
            raise InputError("chunk size must be between 1,000 and 250,000")
        if self.seed < 0:
            raise InputError("--seed must be a non-negative integer")
        if self.as_of.year < 2010 or self.as_of.year > 2100:
            raise InputError("--as-of must be a date between 2010 and 2100")
        if self.out.exists() and (not self.out.is_dir() or any(self.out.iterdir())):
            raise InputError(f"{self.out}: the output folder exists and is not empty")


@dataclass
class _Truth:
    patterns: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {
            "address_clusters": [],
            "nominee_persons": [],
            "complaint_surges": [],
        }
    )
    quirks: Counter[str] = field(default_factory=Counter)
    writers: dict[str, pq.ParquetWriter] = field(default_factory=dict)

    def append(self, path: Path, table: pa.Table) -> None:
        if path.name not in self.writers:
            self.writers[path.name] = pq.ParquetWriter(path, table.schema, compression="zstd")
        self.writers[path.name].write_table(table)


def generate(cfg: SynthConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Write a synthetic city and its ``truth/`` folder; return the manifest.

    Parameters
    ----------
    cfg : SynthConfig
        What to generate.
    progress : callable, optional
        Called as ``progress(done_chunks, total_chunks)`` after each chunk.

    Returns
    -------
    dict
        The manifest, also written to ``truth/manifest.json``.
    """
    cfg.validate()
    started = time.perf_counter()
    tl = Timeline.build(cfg.as_of)
    cfg.out.mkdir(parents=True, exist_ok=True)
    (cfg.out / "truth").mkdir(exist_ok=True)
    out = Output(cfg.out)
    truth = _Truth()
    rows: Counter[str] = Counter()
    n_chunks = -(-cfg.enterprises // cfg.chunk_size)
    inspectors = checks.inspectors(np.random.default_rng([cfg.seed, 2**31]))
    _emit(
        out, truth, rows, cfg, "inspectors", inspectors, np.random.default_rng([cfg.seed, 2**31, 1])
    )
    for c in range(n_chunks):
        _chunk(cfg, tl, c, out, truth, rows)
        if progress is not None:
            progress(c + 1, n_chunks)
    out.close()
    for writer in truth.writers.values():
        writer.close()
    seconds = round(time.perf_counter() - started, 2)
    manifest = _finish(cfg, tl, out, truth, rows, seconds)
    return manifest


def _emit(
    out: Output,
    truth: _Truth,
    rows: Counter[str],
    cfg: SynthConfig,
    name: str,
    table: pa.Table,
    rng: np.random.Generator,
) -> None:
    rows[name.split("-")[0]] += table.num_rows
    presented = present(rng, name, table, cfg.format, truth.quirks)
    out.write(name, presented, spec_for(cfg.format, name))


def _chunk(
    cfg: SynthConfig, tl: Timeline, c: int, out: Output, truth: _Truth, rows: Counter[str]
) -> None:
    offset = c * cfg.chunk_size
    n = min(cfg.chunk_size, cfg.enterprises - offset)

    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng([cfg.seed, c, stream])

    ch = base_chunk(rng(0), c, offset, n, cfg.chunk_size, tl)
    planted = plant(rng(1), ch, tl, [0])
    finish_chunk(rng(2), ch, tl)
    first, update, _ = registry.enterprises(rng(3), ch, tl)
    reports, missed = filings.annual_reports(rng(4), ch, tl)
    penalties, heavy = events.penalties(rng(5), ch, tl)
    abnormal, serious = filings.abnormal_and_serious(rng(6), ch, tl, missed, heavy)
    complaints, complaint_checks, surge_info, unmatched = social.complaints(
        rng(7), ch, tl, np.array(planted.surges, dtype=np.int64)
    )
    tables: list[tuple[str, pa.Table]] = [
        ("enterprises", first),
        ("enterprises-update", update),
        ("investments", registry.investments(rng(8), ch, tl)),
        ("officers", registry.officers(rng(9), ch)),
        ("changes", registry.changes(rng(10), ch, tl)),
        ("annual_reports", reports),
        ("abnormal_listings", abnormal),
        ("serious_violations", serious),
        ("penalties", penalties),
        ("licenses", events.licenses(rng(11), ch, tl)),
        ("inspections", checks.inspections(rng(12), ch, tl, complaint_checks)),
        ("complaints", complaints),
        ("judicial", events.judicial(rng(13), ch, tl)),
        ("opinions", social.opinions(rng(14), ch, tl)),
    ]
    q = truth.quirks
    q["enterprises_resent_in_update"] += update.num_rows
    q["industry_code_digits_only"] += int(
        pc.sum(pc.match_substring_regex(first.column("industry_code"), r"^\d")).as_py() or 0
    )
    q["complaints_without_uscc"] += complaints.column("uscc").null_count
    q["complaints_unmatched_name"] += unmatched
    opinions = tables[-1][1]
    q["opinions_without_uscc"] += opinions.column("uscc").null_count
    q["opinions_without_sentiment"] += opinions.column("sentiment").null_count
    q["passport_legal_reps"] += int(ch.foreign.sum())
    for i, (name, table) in enumerate(tables):
        _emit(out, truth, rows, cfg, name, table, rng(100 + i))
    _truth_chunk(cfg, tl, ch, planted, surge_info, truth, rng(200))


def _truth_chunk(
    cfg: SynthConfig,
    tl: Timeline,
    ch: Any,
    planted: Any,
    surge_info: list[dict[str, Any]],
    truth: _Truth,
    rng: np.random.Generator,
) -> None:
    logit = w.problem_logit(ch.z_base)
    latent = pa.table(
        {
            "uscc": ch.uscc,
            "latent_z": pa.array(np.round(ch.z_base, 6)),
            "latent_logodds": pa.array(np.round(logit, 6)),
            "p_problem": pa.array(np.round(w.sigmoid(logit), 6)),
            "live": pa.array(ch.live),
            "planted": pa.array(ch.planted),
        }
    )
    truth.append(cfg.out / "truth" / "latent_risk.parquet", latent)
    truth.append(
        cfg.out / "truth" / "future_inspections.parquet", checks.future_inspections(rng, ch, tl)
    )
    usccs = ch.uscc.to_pylist()

    def codes(idx: list[int]) -> list[str]:
        return [usccs[i] for i in idx]

    def person(p: int) -> str:
        return str(pp.person_ids(np.array([p]), np.zeros(1, bool))[0].as_py())

    for cl in planted.clusters:
        truth.patterns["address_clusters"].append(
            {
                "canonical_address": cl["canonical_address"],
                "variants": cl["variants"],
                "members": codes(cl["members"]),
                "legal_rep_ids": [person(p) for p in cl["legal_reps"]],
                "other_rooms_same_building": [
                    {"uscc": u, "address": a}
                    for u, a in zip(codes(cl["decoys"]), cl["decoy_addresses"], strict=True)
                ],
            }
        )
    for nom in planted.nominees:
        truth.patterns["nominee_persons"].append(
            {
                "person_id": person(nom["person"]),
                "members": codes(nom["members"]),
                "as_shareholder_only": codes(nom["as_holder"]),
            }
        )
    for s in surge_info:
        truth.patterns["complaint_surges"].append(
            {
                "uscc": usccs[s["row"]],
                "baseline_per_30d": s["baseline_per_30d"],
                "last_30d": s["last_30d"],
            }
        )


def _finish(
    cfg: SynthConfig, tl: Timeline, out: Output, truth: _Truth, rows: Counter[str], seconds: float
) -> dict[str, Any]:
    tdir = cfg.out / "truth"
    with (tdir / "patterns.json").open("w", encoding="utf-8") as fh:
        json.dump(truth.patterns, fh, ensure_ascii=False, indent=1)
    with (tdir / "bad_rows.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "line", "table", "column", "reason_kind"])
        writer.writerows(sorted(out.bad_rows))
    files = dict(sorted(out.counts.items()))
    quirks = dict(sorted(truth.quirks.items()))
    quirks["files_gbk"] = sum(
        1
        for f in files
        if spec_for(cfg.format, _table_of(f)).encoding == "gbk" and f.endswith(".csv")
    )
    quirks["files_xlsx_with_title_row"] = sum(1 for f in files if f.endswith(".xlsx"))
    for f in files:
        spec = spec_for(cfg.format, _table_of(f))
        if spec.fmt in ("csv", "jsonl"):
            quirks[f"files_with_dates_{spec.dates}"] = (
                quirks.get(f"files_with_dates_{spec.dates}", 0) + 1
            )
    with (tdir / "quirks.json").open("w", encoding="utf-8") as fh:
        json.dump(quirks, fh, ensure_ascii=False, indent=1)
    load_order = sorted(
        files, key=lambda f: (list(TABLES).index(_table_of(f).split("-")[0]), "-update" in f, f)
    )
    manifest = {
        "generator": "riskwatch synth",
        "version": __version__,
        "contract_version": CONTRACT_VERSION,
        "args": {
            "enterprises": cfg.enterprises,
            "as_of": cfg.as_of.isoformat(),
            "seed": cfg.seed,
            "format": cfg.format,
            "chunk_size": cfg.chunk_size,
        },
        "history_start": to_date(tl.start).isoformat(),
        "future_end": to_date(tl.future_end).isoformat(),
        "tables": {t: rows.get(t, 0) for t in TABLES},
        "records": sum(rows.values()),
        "files": files,
        "load_order": load_order,
        "bad_rows": len(out.bad_rows),
        "seconds": seconds,
    }
    with (tdir / "manifest.json").open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1)
    return manifest


def _table_of(file: str) -> str:
    stem = file.rsplit(".", 1)[0]
    if stem.startswith("enterprises-update"):
        return "enterprises-update"
    return stem.split("-")[0]
