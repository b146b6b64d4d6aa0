"""The builder starts storage after the trader and before the trading modes."""

from __future__ import annotations

import sqlite3

from tests.storage.conftest import builder_for, other_tasks


async def test_a_manager_with_storage_starts_it_after_the_trader(server, tmp_path):
    path = tmp_path / "state.sqlite"
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        assert [c.name for c in manager.components] == ["connector", "exchange_data", "trader", "storage"]
    await manager.stop()  # idempotent
    assert not other_tasks()
    with sqlite3.connect(path) as db:
        assert dict(db.execute("SELECT key, value FROM meta").fetchall()) == {
            "exchange": "binance",
            "trader": "real",
            "market_type": "spot",
        }
