"""The instructor's SQLite store of a class's records: embedded, one file, no server.

Each record is kept whole (its JSON) plus the columns a comparison filters and sorts on.
A record's ``id`` is its primary key, so adding the same records again (re-running a
collection) adds nothing.  The file says which schema version it holds; opening a file of
another version fails with what to do.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Mapping

from .records import SCHEMA_VERSION, RecordError, validate

__all__ = ["Store", "StoreError", "COLUMNS"]

#: the columns of the ``records`` table besides ``id`` and ``json`` (what queries filter on)
COLUMNS = ("kind", "time", "student", "synthetic", "board", "simulated", "profile", "pace", "machine", "subject",
           "size", "ok", "measured_s", "modelled_s", "estimated_s", "source")

_CREATE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, time TEXT NOT NULL, student TEXT NOT NULL, synthetic INTEGER,
    board TEXT, simulated INTEGER, profile TEXT, pace TEXT, machine TEXT, subject TEXT, size INTEGER,
    ok INTEGER, measured_s REAL, modelled_s REAL, estimated_s REAL, source TEXT, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_subject ON records (kind, subject, size);
CREATE INDEX IF NOT EXISTS records_by_student ON records (student);
"""


class StoreError(RecordError):
    """The store file cannot be used (another schema version, not a lab store)."""


def _row(record: Mapping[str, Any], source: str) -> tuple:
    times = record.get("times") or {}

    def seconds(kind: str) -> float | None:
        entry = times.get(kind)
        return entry.get("seconds") if isinstance(entry, Mapping) else None

    return (record["id"], record["kind"], record["time"], record["student"], int(bool(record.get("synthetic"))),
            record.get("board"), int(bool(record.get("simulated"))), record.get("profile"), record.get("pace"),
            record.get("machine"), record.get("subject"), record.get("size"), int(bool(record.get("ok"))),
            seconds("measured"), seconds("modelled"), seconds("estimated"), source,
            json.dumps(record, allow_nan=False))


class Store:
    """``Store("class.sqlite")``: add records, count them, read them back (``":memory:"`` for a scratch store).

    Use it as a context manager or call :meth:`close`.
    """

    def __init__(self, path: str | Path = "class.sqlite") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: a collection's worker threads hand records to the caller's thread,
        # which alone writes; the connection is never used by two threads at once.
        self.db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False)
        self._check_schema()

    def _check_schema(self) -> None:
        try:
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not an SQLite file ({exc}); give a new file name") from exc
        if tables and "meta" not in tables:
            raise StoreError(f"{self.path} is an SQLite file, but not a pynq-transfer-lab store (no 'meta' table); "
                             "give a new file name")
        with self.db:
            self.db.executescript(_CREATE)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        found = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
        if found != str(SCHEMA_VERSION):
            raise StoreError(f"{self.path} holds records of schema version {found}; this labkit uses version "
                             f"{SCHEMA_VERSION}. Collect into a new file, or use the labkit version that wrote it.")

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    def add(self, records: Iterable[Mapping[str, Any]], source: str = "") -> int:
        """Add records (one transaction); returns how many were new. Invalid records raise RecordError."""
        rows = []
        for record in records:
            validate(record)
            rows.append(_row(record, source))
        with self.db:
            before = self.db.total_changes
            self.db.executemany(f"INSERT OR IGNORE INTO records VALUES ({', '.join('?' * 18)})", rows)
            return self.db.total_changes - before

    def count(self, **where: Any) -> int:
        """How many records (``count(kind="check")``, ``count(student="team-3")``)."""
        clause, args = self._where(where)
        return self.db.execute(f"SELECT COUNT(*) FROM records{clause}", args).fetchone()[0]

    def records(self, **where: Any) -> list[dict[str, Any]]:
        """The records, oldest first, filtered by column values (``records(kind="sweep")``)."""
        clause, args = self._where(where)
        return [json.loads(r[0]) for r in self.db.execute(f"SELECT json FROM records{clause} ORDER BY time, id",
                                                          args)]

    def students(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT student FROM records ORDER BY student")]

    @staticmethod
    def _where(where: Mapping[str, Any]) -> tuple[str, list]:
        unknown = [k for k in where if k not in COLUMNS]
        if unknown:
            raise ValueError(f"cannot filter on {unknown}; columns: {', '.join(COLUMNS)}")
        if not where:
            return "", []
        return " WHERE " + " AND ".join(f"{k} = ?" for k in where), list(where.values())

    def export_jsonl(self, path: str | Path) -> Path:
        """Every record as JSON Lines (what ``labkit results export`` writes)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            for (text,) in self.db.execute("SELECT json FROM records ORDER BY time, id"):
                out.write(text + "\n")
        return path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.path!r}: {self.count()} records from {len(self.students())} students)"
