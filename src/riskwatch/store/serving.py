"""Serving copies on disk: one DuckDB file per copy, written once, read by every process.

Layout under ``$RISKWATCH_HOME/serving/``::

    <name>.duckdb      a published copy; never written again, removed once superseded
    .build.lock        locked (flock) by the one process making a copy
    .tmp/              copies being made (a crash leaves one behind: removed by the next
                       ``riskwatch serve`` at start)

A copy's name says what it was made from (a hash of its inputs and layout), so every process
that works out the same name may use a file it finds, and a file is whole the moment it
appears: it is made under a temporary name, checkpointed, detached and renamed. Readers
attach copies read-only, so several processes (the service's workers, a CLI job) read them
while another process makes the next one; DuckDB refuses a second process on a file that
one process has open for writing, which is why the copies are not tables of one shared file.

Only this module and :mod:`riskwatch.store.enterprise_reads` know the layout.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb

from riskwatch.store.locks import ProcessLock, process_lock

SERVING_DIR = "serving"
ROW_GROUP = 8192
"""Rows per row group of the copies: a point lookup reads one group, so small groups make it
cheap (DuckDB's default, 122,880, costs about a millisecond a lookup)."""


def sql_str(value: str) -> str:
    """A string quoted for a DuckDB statement that takes no parameters (ATTACH)."""
    return "'" + value.replace("'", "''") + "'"


class ServingFiles:
    """The copies of one home: where they are, which exist, making and removing them."""

    def __init__(self, home: Path) -> None:
        self.folder = home / SERVING_DIR

    def path(self, name: str) -> Path:
        """The file of copy ``name``."""
        return self.folder / f"{name}.duckdb"

    def exists(self, name: str) -> bool:
        """Whether copy ``name`` is published."""
        return self.path(name).is_file()

    def names(self) -> list[str]:
        """Every published copy, sorted."""
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.duckdb"))

    def building(self) -> ProcessLock:
        """The build lock of every process on this home (one copy made at a time)."""
        return process_lock(self.folder / ".build.lock")

    def make(self, con: duckdb.DuckDBPyConnection, name: str, fill: Callable[[str], None]) -> bool:
        """Make copy ``name`` unless it is published: ``fill(alias)`` creates its tables in
        the new file, attached to ``con`` as ``alias``; then delete the older copies of its
        kind. Returns whether it was made here (False: it existed, or another process made
        it while this one waited)."""
        with self.building():
            if self.exists(name):
                return False
            tmp = self.folder / ".tmp" / f"{name}-{os.getpid()}-{threading.get_ident()}.duckdb"
            tmp.parent.mkdir(exist_ok=True)
            _unlink(tmp)
            alias = f"making_{name}"
            con.execute(
                f"ATTACH {sql_str(str(tmp))} AS {alias} (READ_WRITE, ROW_GROUP_SIZE {ROW_GROUP})"
            )
            try:
                try:
                    fill(alias)
                    con.execute(f"CHECKPOINT {alias}")
                finally:
                    con.execute(f"DETACH {alias}")
                if tmp.with_name(tmp.name + ".wal").exists():  # CHECKPOINT merged it
                    raise duckdb.IOException(f"the copy {name} left a write-ahead log")
                tmp.replace(self.path(name))
                _sync_dir(self.folder)
            except BaseException:
                _unlink(tmp)
                raise
            # the new copy supersedes the older ones of its kind (names follow the current
            # inputs, so no process will ask for those again; one still reading keeps it)
            self.remove([n for n in self.names() if kind(n) == kind(name) and n != name])
            return True

    def remove(self, names: set[str] | list[str]) -> None:
        """Delete copies (a process that has one attached keeps reading it until it lets
        go: the file's space is freed then)."""
        for name in names:
            _unlink(self.path(name))

    def clean(self) -> list[str]:
        """Remove what interrupted builds left (call while holding :meth:`building`)."""
        tmp = self.folder / ".tmp"
        left = sorted(p.name for p in tmp.glob("*")) if tmp.is_dir() else []
        for leftover in left:
            _unlink(tmp / leftover)
        return left


def kind(name: str) -> str:
    """The kind of a copy (``base``, ``cls``, ``lst``, ``prf``, ``ngr``, ``ind``, …): a
    newer copy of a kind supersedes the older ones."""
    return name.split("_", 1)[0]


def _unlink(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
