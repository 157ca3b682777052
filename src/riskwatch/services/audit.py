"""The tamper-evident audit trail: append, verify, browse.

Each entry's hash is an HMAC-SHA256 (keyed by ``RISKWATCH_SECRET_KEY``) over its canonical
JSON — sequence number, time, actor, action, target, detail — and the previous entry's
hash. Editing, removing or reordering an entry breaks the chain at that entry; without the
key a forger cannot recompute the rest. :func:`verify` names the first entry that breaks.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from riskwatch.auth.config import ServiceSettings
from riskwatch.auth.tokens import now, utc
from riskwatch.settings import Settings
from riskwatch.store.models import audit as store
from riskwatch.store.models.users import service_session
from riskwatch.store.opdb import write_lock

_LOCK = threading.Lock()  # one appender per process; the head row serialises processes
_READY: dict[tuple[object, str], bool] = {}


def _stamp(at: datetime) -> str:
    return utc(at).astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def entry_hash(
    key: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str | None,
    detail: dict[str, Any] | None,
    prev_hash: str,
) -> str:
    """The chained hash of one entry."""
    body = json.dumps(
        [seq, _stamp(at), actor, action, target, detail, prev_hash],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(_mac_key(key), body.encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=4)
def _mac_key(key: str) -> bytes:
    """The key the entries are hashed with, derived from the service's secret."""
    return hmac.new(key.encode(), b"riskwatch-audit-v1", hashlib.sha256).digest()


@dataclass
class _Pending:
    """An entry waiting for a commit (group commit: one transaction for many requests)."""

    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any] | None
    seq: int = 0


_QUEUE: dict[tuple[object, str], list[_Pending]] = {}
_QUEUE_LOCK = threading.Lock()


def record(
    settings: Settings,
    service: ServiceSettings,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one entry and return its sequence number once it is committed.

    Group commit: an entry joins the queue; whoever holds the appender lock next writes the
    whole queue in one transaction (one fsync), so concurrent requests share a commit
    instead of taking turns, and none returns before its entry is durable.
    """
    clean = json.loads(json.dumps(detail, ensure_ascii=False, default=str)) if detail else None
    item = _Pending(now(), actor, action, target, clean)
    key = (settings.home, settings.database_url)
    with _QUEUE_LOCK:
        _QUEUE.setdefault(key, []).append(item)
    with _LOCK:
        if item.seq:  # committed by the request that held the lock before
            return item.seq
        with _QUEUE_LOCK:
            batch = _QUEUE.pop(key, [])
        try:
            _commit(settings, service, batch)
        except BaseException:
            for other in batch:
                if other is not item:  # they retry on their own
                    with _QUEUE_LOCK:
                        _QUEUE.setdefault(key, []).append(other)
            raise
    return item.seq


def _commit(settings: Settings, service: ServiceSettings, batch: list[_Pending]) -> None:
    """Append a batch in order in one transaction; set each entry's sequence number."""
    key = (settings.home, settings.database_url)
    if not _READY.get(key):
        store.ensure_head(lambda: service_session(settings))
        _READY[key] = True

    def maker(p: _Pending) -> Any:
        def make(seq: int, prev: str) -> dict[str, Any]:
            digest = entry_hash(
                service.secret_key, seq, p.at, p.actor, p.action, p.target, p.detail, prev
            )
            return {
                "seq": seq, "at": p.at, "actor": p.actor, "action": p.action,
                "target": p.target, "detail": p.detail, "prev_hash": prev, "hash": digest,
            }  # fmt: skip

        return make

    with write_lock(settings), service_session(settings) as s:
        seqs = store.append(s, [maker(p) for p in batch])
    for p, seq in zip(batch, seqs, strict=True):
        p.seq = seq


@dataclass
class VerifyReport:
    """The outcome of :func:`verify`."""

    entries: int = 0
    ok: bool = True
    first_bad: int | None = None
    problems: list[str] = field(default_factory=list)


def verify(settings: Settings, service: ServiceSettings) -> VerifyReport:
    """Walk the chain; report the first edited, removed or reordered entry."""
    report = VerifyReport()
    prev_hash = store.GENESIS
    expected = 1

    def bad(seq: int, why: str) -> VerifyReport:
        report.ok = False
        report.first_bad = seq
        report.problems.append(f"entry {seq}: {why}")
        return report

    with service_session(settings) as s:
        for e in store.entries(s):
            report.entries += 1
            if e.seq != expected:
                return bad(expected, f"missing (removed); the next entry present is {e.seq}")
            if e.prev_hash != prev_hash:
                return bad(e.seq, "does not follow the entry before it (reordered or replaced)")
            digest = entry_hash(
                service.secret_key, e.seq, e.at, e.actor, e.action, e.target, e.detail,
                e.prev_hash,
            )  # fmt: skip
            if not hmac.compare_digest(digest, e.hash):
                return bad(e.seq, "its content was edited (hash does not match)")
            prev_hash = e.hash
            expected += 1
        head_seq, head_hash = store.head(s)
    if head_seq != expected - 1 or head_hash != prev_hash:
        return bad(expected, f"missing (removed): the log ends at {expected - 1}, head {head_seq}")
    return report


def browse(
    settings: Settings,
    limit: int = 50,
    offset: int = 0,
    actor: str | None = None,
    action: str | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """A page of the log, newest first (admins only: the caller checks)."""
    with service_session(settings) as s:
        total, rows = store.page(s, limit, offset, actor, action)
        return total, [
            {"seq": e.seq, "at": utc(e.at).isoformat(), "actor": e.actor, "action": e.action,
             "target": e.target, "detail": e.detail, "hash": e.hash}
            for e in rows
        ]  # fmt: skip
