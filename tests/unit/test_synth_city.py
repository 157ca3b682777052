"""A small synthetic city follows the data contract, carries its quirks, and knows its truth.

The checks read the files back with plain readers (csv, openpyxl, json, pyarrow) and an
independent mini-validator of the contract, so they do not depend on riskwatch.ingest.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyarrow.parquet as pq
import pytest
from stdnum.cn import ric, uscc

from riskwatch.errors import InputError
from riskwatch.ingest.contract import TABLES, Column, Kind
from riskwatch.synth import city as city_mod
from riskwatch.synth import world as w
from riskwatch.synth.city import SynthConfig, generate

AS_OF = dt.date(2025, 6, 30)
N = 1500
CHUNK = 1000
FUTURE_OK = {"publicity_until", "valid_until"}  # expiry dates may lie after as-of
DISTRICTS = {str(d.code) for d in w.DISTRICTS}
DATE_RE = re.compile(
    r"^(\d{4})(?:-(\d{2})-(\d{2})|/(\d{1,2})/(\d{1,2})|(\d{2})(\d{2})|年(\d{1,2})月(\d{1,2})日)"
    r"(?: \d{2}:\d{2}:\d{2})?$"
)

Row = tuple[int, dict[str, Any]]
DATE_ORDER = {
    "enterprises": [("established_on", "deregistered_on")],
    "abnormal_listings": [("listed_on", "removed_on")],
    "serious_violations": [("listed_on", "removed_on")],
    "penalties": [("decided_on", "publicity_until"), ("decided_on", "repaired_on")],
    "licenses": [("issued_on", "valid_until")],
    "complaints": [("received_on", "closed_on")],
    "judicial": [("filed_on", "closed_on")],
}


def make(tmp: Path, name: str, fmt: str = "mixed", seed: int = 7, n: int = N) -> Path:
    out = tmp / name
    generate(SynthConfig(n, AS_OF, seed, out, format=fmt, chunk_size=CHUNK))
    return out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make(tmp_path_factory.mktemp("synth"), "mixed")


def table_of(file: str) -> str:
    return re.split(r"[-.]", file, maxsplit=1)[0]


def header_map(table: str, headers: list[str]) -> list[str]:
    lookup = {h: c.name for c in TABLES[table].columns for h in c.headers}
    return [lookup.get(h, h) for h in headers]


def read(path: Path) -> Iterator[Row]:
    """(physical line, {column: value}) of every data row, whatever the format."""
    table = table_of(path.name)
    if path.suffix == ".csv":
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            text = raw[3:].decode("utf-8")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("gbk")
        rows = list(csv.reader(io.StringIO(text)))
        names = header_map(table, rows[0])
        for i, r in enumerate(rows[1:]):
            yield i + 2, dict(zip(names, r, strict=True))
    elif path.suffix == ".jsonl":
        for i, line in enumerate(path.read_text("utf-8").splitlines()):
            yield i + 1, json.loads(line)
    elif path.suffix == ".parquet":
        for i, r in enumerate(pq.read_table(path).to_pylist()):
            yield i + 2, r
    else:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            names: list[str] = []
            for i, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
                cells = ["" if v is None else v for v in values]
                if not names:
                    mapped = header_map(table, [str(c) for c in cells])
                    if sum(m in {c.name for c in TABLES[table].columns} for m in mapped) >= 2:
                        names = mapped
                    continue
                yield i, dict(zip(names, cells, strict=True))
        finally:
            book.close()


def norm(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_date(value: str) -> dt.date | None:
    m = DATE_RE.match(value)
    if not m:
        return None
    y = int(m.group(1))
    parts = [g for g in m.groups()[1:] if g is not None]
    try:
        return dt.date(y, int(parts[0]), int(parts[1]))
    except ValueError:
        return None


@functools.cache
def _allowed(col: Column) -> frozenset[str]:
    return frozenset(norm(x) for x in col.values)


@functools.cache
def _uscc_ok(v: str) -> bool:
    return bool(uscc.is_valid(v))


@functools.cache
def _ric_ok(v: str) -> bool:
    return bool(ric.is_valid(v))


def problem(col: Column, value: Any, row: dict[str, Any]) -> str | None:
    """Why a value breaks the contract (None when it is fine)."""
    if col.kind in (Kind.TEXT, Kind.CODE, Kind.CODE_LIST):
        return "missing" if col.required and value in (None, "") else None
    v = norm(value)
    if v == "":
        return "missing" if col.required else None
    k = col.kind
    if k is Kind.USCC or (k is Kind.PARTY_ID and norm(row.get("holder_type")) == "企业"):
        return None if _uscc_ok(v.replace(" ", "").upper()) else "uscc_check"
    if k in (Kind.PERSON_ID, Kind.PARTY_ID):
        if len(v) == 9 and v[0].isalpha() and v[1:].isdigit():
            return None
        return None if _ric_ok(v) else "person_id_check"
    allowed = _allowed(col)
    if k is Kind.ENUM:
        return None if v in allowed else "bad_enum"
    if k is Kind.ENUM_LIST:
        return None if all(p in allowed for p in re.split("[;、，,]", v)) else "bad_enum"
    if k is Kind.DATE:
        d = parse_date(v)
        if d is None:
            return "bad_date"
        return "after_as_of" if d > AS_OF and col.name not in FUTURE_OK else None
    if k is Kind.REGION:
        code = v.removesuffix(".0")
        code = code[:6] if len(code) == 12 and code.endswith("000000") else code
        return None if code in DISTRICTS else "region"
    if k is Kind.INDUSTRY:
        return None if re.fullmatch(r"[A-T]?\d{2,4}", v) else "industry"
    if k in (Kind.AMOUNT, Kind.RATIO, Kind.INTEGER, Kind.YEAR, Kind.LON, Kind.LAT):
        try:
            float(v)
        except ValueError:
            return "number"
        return None
    if k is Kind.BOOL:
        return None if v in ("是", "否", "true", "false", "True", "False") else "bool"
    return None


def data_files(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_file())


def bad_rows(root: Path) -> set[tuple[str, int, str, str]]:
    with (root / "truth" / "bad_rows.csv").open(encoding="utf-8") as fh:
        return {
            (r["file"], int(r["line"]), r["column"], r["reason_kind"]) for r in csv.DictReader(fh)
        }


def validate(root: Path) -> tuple[set[tuple[str, int, str, str]], Counter[str]]:
    found: set[tuple[str, int, str, str]] = set()
    rows_per_table: Counter[str] = Counter()
    for path in data_files(root):
        table = TABLES[table_of(path.name)]
        for line, row in read(path):
            rows_per_table[table.name] += 1
            for col in table.columns:
                why = problem(col, row.get(col.name), row)
                if why:
                    found.add((path.name, line, col.name, why))
            for earlier, later in DATE_ORDER.get(table.name, ()):
                a, b = parse_date(norm(row.get(earlier))), parse_date(norm(row.get(later)))
                if a and b and b < a:
                    found.add((path.name, line, later, "date_order"))
    return found, rows_per_table


def test_headers_map_to_contract_columns(mixed: Path) -> None:
    for path in data_files(mixed):
        table = TABLES[table_of(path.name)]
        _, first = next(read(path))
        assert set(table.required) <= set(first), path.name
        assert set(first) <= {c.name for c in table.columns}, path.name


def test_every_table_and_format_is_present(mixed: Path) -> None:
    names = [p.name for p in data_files(mixed)]
    assert {table_of(n) for n in names} == set(TABLES)
    assert {Path(n).suffix for n in names} == {".csv", ".xlsx", ".jsonl", ".parquet"}
    assert "enterprises-update.csv" in names
    assert sum(n.startswith("penalties-") for n in names) >= 5
    assert (mixed / "changes.csv").read_bytes().decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        (mixed / "changes.csv").read_bytes().decode("utf-8")
    assert (mixed / "enterprises.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_only_the_listed_rows_break_the_contract(mixed: Path) -> None:
    """The deliberately bad rows are exactly those in truth/bad_rows.csv; nothing is after as-of."""
    found, rows = validate(mixed)
    expected = bad_rows(mixed)
    assert found == expected
    reasons = Counter(r for *_, r in expected)
    assert set(reasons) == {"uscc_check", "bad_date", "bad_enum", "person_id_check"}
    manifest = json.loads((mixed / "truth" / "manifest.json").read_text("utf-8"))
    assert dict(rows) == {t: n for t, n in manifest["tables"].items() if n}
    checked = sum(
        rows[t]
        for t in ("changes", "annual_reports", "penalties", "inspections", "judicial", "licenses")
    )
    assert 0.0003 < reasons["uscc_check"] / checked < 0.003


def test_keys_are_unique_within_each_table(mixed: Path) -> None:
    seen: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for path in data_files(mixed):
        if path.name == "enterprises-update.csv":
            continue
        table = TABLES[table_of(path.name)]
        for _, row in read(path):
            key = tuple(norm(row.get(k)).replace(" ", "").upper() for k in table.key)
            assert key not in seen[table.name], (path.name, key)
            seen[table.name].add(key)


def test_quirks_are_all_present(mixed: Path) -> None:
    quirks = json.loads((mixed / "truth" / "quirks.json").read_text("utf-8"))
    for key in (
        "uscc_lower_case",
        "uscc_with_spaces",
        "uscc_full_width",
        "region_code_trailing_.0",
        "region_code_12_digits",
        "address_full_width",
        "industry_code_digits_only",
        "enterprises_resent_in_update",
        "complaints_without_uscc",
        "complaints_unmatched_name",
        "opinions_without_sentiment",
        "files_gbk",
        "files_xlsx_with_title_row",
    ):
        assert quirks.get(key, 0) > 0, key


def enterprises_final(root: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in ("enterprises.csv", "enterprises-update.csv"):
        for _, row in read(root / name):
            out[norm(row["uscc"]).replace(" ", "").upper()] = row
    return out


def test_planted_patterns_are_there(mixed: Path) -> None:
    patterns = json.loads((mixed / "truth" / "patterns.json").read_text("utf-8"))
    ents = enterprises_final(mixed)
    clusters = patterns["address_clusters"]
    assert len(clusters) >= 3
    for cl in clusters:
        assert 5 <= len(cl["members"]) <= 30
        for u in cl["members"]:
            assert ents[u]["address"] in cl["variants"]
            assert ents[u]["legal_rep_id"] in cl["legal_rep_ids"]
        for other in cl["other_rooms_same_building"]:
            assert ents[other["uscc"]]["address"] == other["address"] != cl["canonical_address"]
    holders = defaultdict(set)
    for _, row in read(mixed / "investments.parquet"):
        holders[row["holder_id"]].add(norm(row["uscc"]).upper())
    assert len(patterns["nominee_persons"]) >= 3
    for nom in patterns["nominee_persons"]:
        linked = {u for u, e in ents.items() if e["legal_rep_id"] == nom["person_id"]}
        linked |= holders[nom["person_id"]]
        assert set(nom["members"]) <= linked and len(nom["members"]) >= 5
        for u in nom["members"]:
            assert (AS_OF - dt.date.fromisoformat(ents[u]["established_on"])).days <= 366
    recent: Counter[str] = Counter()
    for _, row in read(mixed / "complaints.jsonl"):
        day = parse_date(row["received_on"])
        if row["uscc"] and day and (AS_OF - day).days < 30:
            recent[norm(row["uscc"]).replace(" ", "").upper()] += 1
    assert len(patterns["complaint_surges"]) >= 3
    for s in patterns["complaint_surges"]:
        assert recent[s["uscc"]] >= max(4, 3 * s["baseline_per_30d"]) - 2  # a few lost their uscc


def test_truth_files(mixed: Path) -> None:
    latent = pq.read_table(mixed / "truth" / "latent_risk.parquet")
    assert latent.num_rows == N
    future = pq.read_table(mixed / "truth" / "future_inspections.parquet").to_pydict()
    days = future["inspected_on"]
    assert all(AS_OF < d <= AS_OF + dt.timedelta(days=184) for d in days)
    assert 0.03 < len(days) / N < 0.07
    assert set(future) == {"uscc", "inspected_on", "result", "problem", "p_problem"}


def test_same_seed_same_bytes_other_seed_other_city(mixed: Path, tmp_path: Path) -> None:
    again = make(tmp_path, "again")
    for path in [*data_files(mixed), *data_files(mixed / "truth")]:
        if path.name == "manifest.json":
            continue
        assert path.read_bytes() == (again / path.relative_to(mixed)).read_bytes(), path.name
    other = make(tmp_path, "other", seed=8, n=300)
    assert (other / "enterprises.csv").read_bytes()[:2000] != (
        mixed / "enterprises.csv"
    ).read_bytes()[:2000]


def test_parquet_and_csv_modes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    original = city_mod.base_chunk

    def spy(*args: Any, **kwargs: Any) -> Any:
        sizes.append(args[3])
        return original(*args, **kwargs)

    monkeypatch.setattr(city_mod, "base_chunk", spy)
    root = make(tmp_path, "pq", fmt="parquet", n=1200)
    assert sizes == [1000, 200]  # bounded: never more than one chunk in memory
    assert {p.suffix for p in data_files(root)} == {".parquet"}
    found, _ = validate(root)
    assert found == bad_rows(root)
    root = make(tmp_path, "csv", fmt="csv", n=300)
    assert {p.suffix for p in data_files(root)} == {".csv"}


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    for cfg in (
        SynthConfig(0, AS_OF, 1, tmp_path / "a"),
        SynthConfig(10, AS_OF, 1, tmp_path / "a", format="xml"),
        SynthConfig(10, AS_OF, 1, tmp_path / "full"),
    ):
        with pytest.raises(InputError):
            cfg.validate()


def test_latent_risk_is_standardised(mixed: Path) -> None:
    latent = pq.read_table(mixed / "truth" / "latent_risk.parquet").to_pydict()
    # Planted patterns are over-represented in a small city; the rest is standard normal.
    z = np.array([z for z, p in zip(latent["latent_z"], latent["planted"], strict=True) if not p])
    assert abs(z.mean()) < 0.15 and 0.85 < z.std() < 1.2


def test_complaints_without_uscc_name_an_enterprise_or_are_counted_unmatched(mixed: Path) -> None:
    names = {norm(e["name"]) for e in enterprises_final(mixed).values()}
    unmatched = 0
    for _, row in read(mixed / "complaints.jsonl"):
        if not row["uscc"]:
            assert row["enterprise_name"]
            unmatched += norm(row["enterprise_name"]) not in names
    quirks = json.loads((mixed / "truth" / "quirks.json").read_text("utf-8"))
    assert unmatched == quirks["complaints_unmatched_name"] > 0
