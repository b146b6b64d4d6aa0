"""Reading what the storage tests check: rows of the engine's SQLite file and the fake venue's id of an order."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def venue_id(exchange_order_id: str | None) -> int:
    """The fake venue's numeric id of an order the venue accepted."""
    assert exchange_order_id is not None
    return int(exchange_order_id)


def rows(path: Path, query: str) -> list[tuple]:
    """The rows ``query`` selects in the SQLite file at ``path``."""
    with sqlite3.connect(path) as db:
        return db.execute(query).fetchall()


def read_only_rows(path: Path, query: str, *params: str) -> list[tuple]:
    """The rows ``query`` (with ``params``) selects in the SQLite file at ``path``, opened read-only
    and closed after."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        found = db.execute(query, params).fetchall()
    db.close()
    return found
