"""The hash-chained audit log: appends chain, and any edit, removal or reorder is found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from threading import Thread

import pytest
from sqlalchemy import delete, text, update
from typer.testing import CliRunner

from riskwatch.auth.config import ServiceSettings
from riskwatch.services import audit
from riskwatch.settings import Settings
from riskwatch.store.models.audit import AuditEntry, AuditHead
from riskwatch.store.models.users import forget_sessions, service_session

SERVICE = ServiceSettings(environment="test", secret_key="audit-test-secret-0123456789abcdef")


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[Settings]:
    settings = Settings(home=tmp_path / "home")
    for i in range(1, 11):
        audit.record(settings, SERVICE, f"user{i % 3}", "enterprise.read", f"U{i}", {"n": i})
    yield settings
    forget_sessions()


def _edit(settings: Settings, stmt: object) -> None:
    with service_session(settings) as s:
        s.execute(stmt)  # type: ignore[call-overload]


def test_an_untouched_log_verifies(logged: Settings) -> None:
    report = audit.verify(logged, SERVICE)
    assert report.ok and report.entries == 10 and report.first_bad is None


@pytest.mark.parametrize(
    ("change", "first_bad", "why"),
    [
        (update(AuditEntry).where(AuditEntry.seq == 4).values(actor="someone"), 4, "edited"),
        (update(AuditEntry).where(AuditEntry.seq == 6).values(detail={"n": 60}), 6, "edited"),
        (delete(AuditEntry).where(AuditEntry.seq == 5), 5, "removed"),
        (delete(AuditEntry).where(AuditEntry.seq >= 9), 9, "removed"),
    ],
)
def test_edits_and_removals_are_found_and_named(
    logged: Settings, change: object, first_bad: int, why: str
) -> None:
    _edit(logged, change)
    report = audit.verify(logged, SERVICE)
    assert not report.ok and report.first_bad == first_bad
    assert why in report.problems[0] and f"entry {first_bad}" in report.problems[0]


def test_a_reorder_is_found(logged: Settings) -> None:
    # Swap the contents of entries 3 and 7 (keeping their seq numbers).
    with service_session(logged) as s:
        a, b = s.get(AuditEntry, 3), s.get(AuditEntry, 7)
        assert a is not None and b is not None
        fields = ("at", "actor", "action", "target", "detail", "prev_hash", "hash")
        va, vb = [getattr(a, f) for f in fields], [getattr(b, f) for f in fields]
        for f, x, y in zip(fields, va, vb, strict=True):
            setattr(a, f, y)
            setattr(b, f, x)
    report = audit.verify(logged, SERVICE)
    assert not report.ok and report.first_bad == 3


def test_a_forger_without_the_key_cannot_rebuild_the_chain(logged: Settings) -> None:
    other = ServiceSettings(environment="test", secret_key="another-secret-0123456789abcdefgh")
    assert not audit.verify(logged, other).ok


def test_concurrent_appenders_keep_one_chain(logged: Settings) -> None:
    def work(k: int) -> None:
        for i in range(10):
            audit.record(logged, SERVICE, f"t{k}", "x", str(i))

    threads = [Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = audit.verify(logged, SERVICE)
    assert report.ok and report.entries == 50


def _append_from_a_process(home: str, k: int) -> None:
    settings = Settings(home=Path(home))
    for i in range(25):
        audit.record(settings, SERVICE, f"p{k}", "x", str(i))


def test_processes_appending_at_once_keep_one_chain(logged: Settings) -> None:
    """The service's worker processes append to one log (SQLite: they queue on the write
    lock file, then on SQLite's lock)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_append_from_a_process, args=(str(logged.home), k)) for k in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    report = audit.verify(logged, SERVICE)
    assert report.ok and report.entries == 85


def test_concurrent_requests_share_commits_and_each_gets_its_own_entry(logged: Settings) -> None:
    """Group commit: 16 threads × 5 entries; every call returns the sequence number of its
    own, committed entry (seen in the log with its actor and target), none is lost."""
    got: dict[tuple[str, str], int] = {}

    def work(k: int) -> None:
        for i in range(5):
            got[(f"g{k}", str(i))] = audit.record(logged, SERVICE, f"g{k}", "read", str(i))

    threads = [Thread(target=work, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got.values()) == list(range(11, 91))
    with service_session(logged) as s:
        stored = {e.seq: (e.actor, e.target) for e in s.query(AuditEntry)}
    assert all(stored[seq] == key for key, seq in got.items())
    assert audit.verify(logged, SERVICE).ok


def test_a_failed_commit_leaves_other_requests_to_retry(
    logged: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = audit._commit
    calls = {"n": 0}

    def flaky(settings: Settings, service: ServiceSettings, batch: list[object]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full")
        real(settings, service, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "_commit", flaky)
    with pytest.raises(OSError):
        audit.record(logged, SERVICE, "x", "read", "first")
    assert audit.record(logged, SERVICE, "y", "read", "second") == 11
    report = audit.verify(logged, SERVICE)
    assert report.ok and report.entries == 11


def test_the_cli_says_where_the_log_was_tampered(
    logged: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskwatch.auth.config import get_service_settings
    from riskwatch.cli import app
    from riskwatch.settings import get_settings

    monkeypatch.setenv("RISKWATCH_HOME", str(logged.home))
    monkeypatch.setenv("RISKWATCH_ENVIRONMENT", "test")
    monkeypatch.setenv("RISKWATCH_SECRET_KEY", SERVICE.secret_key)
    get_settings.cache_clear()
    get_service_settings.cache_clear()
    try:
        ok = CliRunner().invoke(app, ["audit", "verify"])
        assert ok.exit_code == 0 and "10 entries" in ok.output
        _edit(logged, text("UPDATE audit_log SET target = 'X' WHERE seq = 2"))
        bad = CliRunner().invoke(app, ["audit", "verify"])
        assert bad.exit_code == 1 and "entry 2" in bad.output
    finally:
        get_settings.cache_clear()
        get_service_settings.cache_clear()


@pytest.mark.postgres
def test_the_chain_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    settings = Settings(home=tmp_path / "home", database_url=pg_url)
    try:
        for i in range(5):
            audit.record(settings, SERVICE, "pg", "enterprise.read", f"U{i}", {"i": i})
        assert audit.verify(settings, SERVICE).ok
        _edit(settings, update(AuditHead).values(seq=7))
        assert audit.verify(settings, SERVICE).first_bad == 6
    finally:
        forget_sessions()
