"""Audit entries that a page view must not wait for: logins, failed logins, full views of a number.

Putting an entry on the chain takes the chain head's lock, and an import holds that lock (and on SQLite
the database's write lock) until it commits. A login or a sensitive read during an import would then
wait minutes, or fail. Such an entry is put on the chain at once when the lock comes within a moment;
otherwise it is kept here, in a small SQLite file of its own, with its own time and actor, and the next
append puts it on the chain first (the worker appends every minute, so nothing waits long).

A process killed between the chain's commit and the spool's delete leaves those entries to be appended
once more: an entry may be logged twice, never lost.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from django.conf import settings


def _path() -> Path:
    return Path(settings.FANGPIN_AUDIT_SPOOL_FILE)


def _connect() -> sqlite3.Connection:
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    connection = sqlite3.connect(path, timeout=10, isolation_level=None)
    if new:
        path.chmod(0o600)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY, entry TEXT NOT NULL)")
    return connection


def put(values: dict[str, Any]) -> None:
    """Keep one entry's fields (everything but its place on the chain)."""
    with closing(_connect()) as connection:
        connection.execute("INSERT INTO spool (entry) VALUES (?)", [json.dumps(values, ensure_ascii=False)])


def waiting() -> list[tuple[int, dict[str, Any]]]:
    """The kept entries, oldest first; nothing (and no file) when none was ever kept."""
    if not _path().exists():
        return []
    with closing(_connect()) as connection:
        rows = connection.execute("SELECT id, entry FROM spool ORDER BY id").fetchall()
    return [(pk, json.loads(text)) for pk, text in rows]


def remove(ids: list[int]) -> None:
    if not ids:
        return
    with closing(_connect()) as connection:
        connection.executemany("DELETE FROM spool WHERE id = ?", [[pk] for pk in ids])
