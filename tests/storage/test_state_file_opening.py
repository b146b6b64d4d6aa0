"""Opening a state file: one lock per real file whatever the path, and a file refused at load left untouched."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from octobot_trading.errors import StorageError
from octobot_trading.storage import SqliteStore
from tests.storage.conftest import builder_for, other_tasks

V1_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "storage" / "state-v1.sqlite"


async def test_a_symbolic_link_to_a_locked_file_is_refused(tmp_path):
    real = tmp_path / "state.sqlite"
    link = tmp_path / "alias.sqlite"
    link.symlink_to(real)
    first = SqliteStore(real)
    await first.open()
    try:
        with pytest.raises(StorageError, match="locked by another engine") as info:
            await SqliteStore(link).open()
        assert str(link) in str(info.value)
    finally:
        await first.close()
    second = SqliteStore(link)  # free again once the first engine closed it
    await second.open()
    await second.close()
    assert not (tmp_path / "alias.sqlite.lock").exists()


async def test_a_linked_folder_does_not_escape_the_lock(server, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "data", target_is_directory=True)
    manager = await builder_for(server).use_real_trader().with_storage(tmp_path / "data" / "state.sqlite").build()
    async with manager:
        other = (
            builder_for(server).use_real_trader().with_storage(tmp_path / "linked" / ".." / "linked" / "state.sqlite")
        )
        with pytest.raises(StorageError, match="locked by another engine"):
            await other.build()
    assert not other_tasks()


def _v1_with_a_bad_order(tmp_path: Path, journal_mode: str) -> Path:
    path = tmp_path / "state.sqlite"
    shutil.copyfile(V1_FILE, path)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA journal_mode={journal_mode}")
        rowid, text = db.execute("SELECT rowid, row FROM orders ORDER BY rowid LIMIT 1").fetchone()
        data = json.loads(text)
        data["amount"] = 0.001  # a float where a decimal string belongs
        db.execute("UPDATE orders SET row = ? WHERE rowid = ?", (json.dumps(data), rowid))
    db.close()
    return path


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
async def test_an_old_file_refused_at_load_is_neither_migrated_nor_switched_to_wal(server, tmp_path, journal_mode):
    path = _v1_with_a_bad_order(tmp_path, journal_mode)
    before = path.read_bytes()
    paper = builder_for(server).use_simulated_trader(starting_portfolio={"USDT": "1000"}).with_storage(path)
    with pytest.raises(StorageError, match="invalid OrderRow") as info:
        await paper.build()
    assert str(path) in str(info.value)
    assert not other_tasks()
    assert path.read_bytes() == before  # still version 1, same journal mode, byte for byte
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    db.close()
