"""Use case: load a folder of contract files into the warehouse.

``IngestService.validate(folder)`` finds the files and checks that each names a table and
has a usable header, without loading anything. ``run(folder)`` loads them: each file in
its own transaction, in contract order (enterprises first), then matches records that
name an enterprise without its code, and returns a :class:`LoadReport`.
"""

from __future__ import annotations

import os
import secrets as _secrets
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from riskwatch.errors import FileFormatError, InputError, RiskwatchError, SchemaError
from riskwatch.ingest.contract import CONTRACT_VERSION, TABLES
from riskwatch.ingest.pseudonym import Pseudonymizer
from riskwatch.ingest.readers import (
    JsonLineError,
    NeedExactLines,
    OpenedFile,
    RawBatch,
    ShapeError,
    SourceFile,
    discover,
    iter_csv_exact,
    iter_csv_fast,
    iter_jsonl,
    iter_parquet,
    iter_xlsx,
    open_csv_file,
    open_jsonl_file,
    open_parquet_file,
    open_xlsx_file,
)
from riskwatch.ingest.validate import BatchValidator, Policy, Reject
from riskwatch.settings import Settings
from riskwatch.store import loads
from riskwatch.store.warehouse import open_warehouse

Progress = Callable[[str, int, int], None]
"""progress(description, bytes_done, bytes_total)."""


class TableReport(BaseModel):
    """Counts of one table in one load."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_unchanged: int = 0
    rows_quarantined: int = 0
    by_reason: dict[str, int] = Field(default_factory=dict)
    warnings: dict[str, int] = Field(default_factory=dict)


class FileReport(BaseModel):
    """What happened to one file."""

    path: str
    table: str
    format: str
    encoding: str | None = None
    header_line: int | None = None
    status: str  # applied | skipped | rejected
    error: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_unchanged: int = 0
    rows_quarantined: int = 0
    extra_columns: list[str] = Field(default_factory=list)


class LoadReport(BaseModel):
    """The report of one load (``--report-json``)."""

    load_id: str
    source_dir: str
    started_at: datetime
    finished_at: datetime | None = None
    tables: dict[str, TableReport] = Field(default_factory=dict)
    files: list[FileReport] = Field(default_factory=list)
    ignored_files: list[str] = Field(default_factory=list)

    @property
    def rejected_files(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "rejected"]


@dataclass
class _Outcome:
    rows_read: int
    loaded: int
    unchanged: int
    quarantined: int
    by_reason: Counter[str]


def new_load_id() -> str:
    """A sortable, unique load id: ``L20250630T120000-3fa2c1``."""
    return f"L{datetime.now(UTC):%Y%m%dT%H%M%S}-{_secrets.token_hex(3)}"


class IngestService:
    """Loads contract files into the warehouse under the deployment's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.policy = Policy(uscc_bad_check=settings.uscc_bad_check)

    def validate(self, folder: Path) -> tuple[list[SourceFile], list[Path]]:
        """Find the contract files of ``folder``; refuse a folder with none."""
        files, ignored = discover(folder)
        if not files:
            names = ", ".join(TABLES)
            raise InputError(
                f"{folder}: no contract file found; name files after their table ({names}), "
                "e.g. enterprises.csv or penalties-2024.xlsx"
            )
        return files, ignored

    def run(
        self, folder: Path, progress: Progress | None = None, force: bool = False
    ) -> LoadReport:
        """Load every contract file of ``folder``; see the module docstring."""
        files, ignored = self.validate(folder)
        load_id = new_load_id()
        report = LoadReport(
            load_id=load_id,
            source_dir=str(folder.resolve()),
            started_at=datetime.now(UTC),
            ignored_files=[p.name for p in ignored],
        )
        secret = loads.load_or_create_secret(self.settings.secret_path)
        pseudo = Pseudonymizer(secret)
        total = sum(f.path.stat().st_size for f in files) or 1
        done = 0
        with open_warehouse(
            self.settings.warehouse_path,
            threads=self.settings.threads,
            memory_limit=self.settings.memory_limit or self.settings.ingest_memory_limit,
        ) as con:
            loads.record_load(
                con, load_id, report.started_at, None, report.source_dir, "running", None
            )
            loads.rehash_if_engine_changed(con)
            touched: set[str] = set()
            for i, source in enumerate(files):
                size = source.path.stat().st_size
                later = [str(f.path) for f in files[i + 1 :] if f.table.name == source.table.name]

                def tick(
                    fraction: float,
                    base: int = done,
                    size: int = size,
                    name: str = source.path.name,
                ) -> None:
                    if progress is not None:
                        progress(name, base + int(size * min(fraction, 1.0)), total)

                file_report = self._load_file(con, source, load_id, pseudo, tick, force, later)
                report.files.append(file_report)
                table_report = report.tables.setdefault(source.table.name, TableReport())
                table_report.rows_read += file_report.rows_read
                table_report.rows_loaded += file_report.rows_loaded
                table_report.rows_unchanged += file_report.rows_unchanged
                table_report.rows_quarantined += file_report.rows_quarantined
                if file_report.status == "applied":
                    touched.add(source.table.name)
                done += size
                tick(1.0)
            self._collect_reasons(con, load_id, report)
            for table in ("complaints", "opinions"):
                if touched & {table, "enterprises"}:
                    loads.match_names(con, table)
            for table in touched:
                report.tables[table].warnings = loads.load_warnings(con, table, load_id)
            report.finished_at = datetime.now(UTC)
            status = "partial" if report.rejected_files else "done"
            loads.record_load(
                con,
                load_id,
                report.started_at,
                report.finished_at,
                report.source_dir,
                status,
                report.model_dump_json(),
            )
        return report

    # -- one file -----------------------------------------------------------------------

    def _load_file(
        self,
        con: Any,
        source: SourceFile,
        load_id: str,
        pseudo: Pseudonymizer,
        tick: Callable[[float], None],
        force: bool,
        later: Sequence[str] = (),
    ) -> FileReport:
        sha = loads.file_sha256(source.path)
        fingerprint = (
            f"{source.table.name}:{sha}:{self.policy.fingerprint}:contract={CONTRACT_VERSION}"
        )
        base = {
            "load_id": load_id,
            "table_name": source.table.name,
            "path": str(source.path),
            "file_name": source.path.name,
            "sha256": sha,
            "fingerprint": fingerprint,
        }
        rep = FileReport(
            path=str(source.path), table=source.table.name, format=source.fmt, status="applied"
        )
        earlier = None if force else loads.applied_before(con, fingerprint)
        if earlier is not None:
            rep.status = "skipped"
            rep.error = f"identical to the file applied in load {earlier['load_id']}"
            rep.rows_read = int(earlier["rows_read"])
            rep.rows_unchanged = int(earlier["rows_read"]) - int(earlier["rows_quarantined"])
            loads.record_file(
                con,
                {
                    **base,
                    "status": "skipped",
                    "error": rep.error,
                    "rows_read": rep.rows_read,
                    "rows_unchanged": rep.rows_unchanged,
                    "applied_at": datetime.now(UTC),
                },
            )
            return rep
        try:
            outcome = self._apply(con, source, load_id, pseudo, tick, rep, False, later)
        except NeedExactLines:
            outcome = self._apply(con, source, load_id, pseudo, tick, rep, True, later)
        except (FileFormatError, SchemaError) as exc:
            outcome = None
            rep.status, rep.error = "rejected", exc.message
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            outcome = None
            rep.status = "rejected"
            rep.error = f"{source.path}: {_explain_read_error(source, rep, exc)}"
        if outcome is None:
            loads.reject_file(
                con, load_id, source.table.name, source.path.name, "file_rejected", rep.error or ""
            )
            loads.record_file(
                con,
                {**base, "status": "rejected", "error": rep.error, "applied_at": datetime.now(UTC)},
            )
            return rep
        rep.rows_read = outcome.rows_read
        rep.rows_loaded = outcome.loaded
        rep.rows_unchanged = outcome.unchanged
        rep.rows_quarantined = outcome.quarantined
        loads.record_file(
            con,
            {
                **base,
                "status": "applied",
                "rows_read": rep.rows_read,
                "rows_loaded": rep.rows_loaded,
                "rows_unchanged": rep.rows_unchanged,
                "rows_quarantined": rep.rows_quarantined,
                "applied_at": datetime.now(UTC),
            },
        )
        return rep

    def _apply(
        self,
        con: Any,
        source: SourceFile,
        load_id: str,
        pseudo: Pseudonymizer,
        tick: Callable[[float], None],
        rep: FileReport,
        exact: bool,
        later: Sequence[str] = (),
    ) -> _Outcome:
        """Read, validate, stage and merge one file in one transaction."""
        validator = BatchValidator(source.table, self.policy, pseudo)
        row_problems: list[dict[str, Any]] = []
        opened, batches = self._open(source, exact, row_problems)
        rep.encoding = opened.encoding
        rep.header_line = opened.header_line or None
        size = max(source.path.stat().st_size, 1)
        rows_read = 0
        reasons: Counter[str] = Counter()
        crash_after = _fault_injection()
        with loads.FileTransaction(con, source.table, load_id, str(source.path), later) as tx:
            tx.supersede_quarantine()
            for n_batch, batch in enumerate(batches, start=1):
                if crash_after is not None and n_batch > crash_after:
                    os._exit(70)  # a hard crash: no rollback, no cleanup, like kill -9
                rows_read += batch.data.num_rows
                checked = validator.validate(batch)
                tx.stage(checked.data)
                tx.quarantine([_reject_row(r) for r in checked.rejects])
                reasons.update(r.reason for r in checked.rejects)
                tick(_fraction_done(batch, size, rows_read))
            if row_problems:
                tx.quarantine(row_problems)
                reasons.update(p["reason"] for p in row_problems)
                rows_read += len(row_problems)
            counts = tx.merge()
            if counts.duplicates:
                reasons["duplicate_key"] += counts.duplicates
            tx.commit()
        rep.extra_columns = [raw for raw, col in opened.mapping.items() if col is None]
        return _Outcome(rows_read, counts.loaded, counts.unchanged, sum(reasons.values()), reasons)

    def _open(
        self, source: SourceFile, exact: bool, problems: list[dict[str, Any]]
    ) -> tuple[OpenedFile, Iterator[RawBatch]]:
        rows = self.settings.batch_rows
        if source.fmt == "csv":
            opened = open_csv_file(source)
            if not exact:
                return opened, iter_csv_fast(opened, rows)
            shapes: list[ShapeError] = []
            return opened, _then(
                iter_csv_exact(opened, rows, shapes),
                lambda: problems.extend(_shape_row(s) for s in shapes),
            )
        if source.fmt == "xlsx":
            opened, sheet = open_xlsx_file(source)
            return opened, iter_xlsx(opened, sheet, rows)
        if source.fmt == "parquet":
            opened = open_parquet_file(source)
            return opened, iter_parquet(opened, rows)
        opened = open_jsonl_file(source)
        errors: list[JsonLineError] = []
        return opened, _then(
            iter_jsonl(opened, rows, errors, exact),
            lambda: problems.extend(_json_row(e) for e in errors),
        )

    def _collect_reasons(self, con: Any, load_id: str, report: LoadReport) -> None:
        for table, reason, n in con.execute(
            "SELECT table_name, reason, count(*) FROM quarantine WHERE load_id = ? "
            "AND reason <> 'file_rejected' GROUP BY ALL ORDER BY ALL",
            [load_id],
        ).fetchall():
            report.tables.setdefault(table, TableReport()).by_reason[reason] = int(n)


def _fault_injection() -> int | None:
    """Batches after which to die (tests prove that a crash mid-file changes nothing)."""
    value = os.environ.get("RISKWATCH_FAULT_CRASH_AFTER_BATCHES")
    return int(value) if value else None


def _then(it: Iterator[RawBatch], after: Callable[[], None]) -> Iterator[RawBatch]:
    yield from it
    after()


def _fraction_done(batch: RawBatch, size: int, rows_read: int) -> float:
    lines = batch.data.column("_line")
    last = lines[len(lines) - 1].as_py() if len(lines) else rows_read
    # Lines are a fair proxy for bytes in row-oriented text files.
    return min(0.99, (last or rows_read) * 120 / size) if size else 1.0


def _reject_row(r: Reject) -> dict[str, Any]:
    return {
        "line": r.line,
        "column_name": r.column,
        "value": r.value,
        "reason": r.reason,
        "detail": r.detail,
        "row_json": r.row_json,
    }


def _shape_row(s: ShapeError) -> dict[str, Any]:
    return {
        "line": s.line,
        "column_name": None,
        "value": None,
        "reason": "bad_row_shape",
        "detail": f"{s.fields} fields where the header has {s.expected}",
        "row_json": None,
    }


def _json_row(e: JsonLineError) -> dict[str, Any]:
    return {
        "line": e.line,
        "column_name": None,
        "value": None,
        "reason": "bad_json",
        "detail": e.reason,
        "row_json": None,
    }


def _explain_read_error(source: SourceFile, rep: FileReport, exc: Exception) -> str:
    """Turn a low-level read error into a sentence naming the line where it happened."""
    if rep.encoding and source.fmt == "csv":
        line = _first_undecodable_line(source.path, rep.encoding)
        if line is not None:
            return (
                f"line {line} cannot be decoded as {rep.encoding}: the file mixes encodings "
                "(save it again as UTF-8 or GBK throughout); nothing of it was loaded"
            )
    return f"cannot be read: {exc}; nothing of it was loaded"


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return line + block[: exc.start].count(b"\n")
            line += block.count(b"\n")
    return None


def rejected_summary(report: LoadReport) -> list[str]:
    """One sentence per rejected file."""
    return [f.error or f.path for f in report.rejected_files]


__all__ = ["FileReport", "IngestService", "LoadReport", "RiskwatchError", "TableReport"]
