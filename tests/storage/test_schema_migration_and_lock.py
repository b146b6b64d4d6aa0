"""State files: version-1 and version-2 files are migrated forward intact, newer files are refused,
one engine per file."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from octobot_trading.enums import OrderStatus
from octobot_trading.errors import OctoBotTradingError, StorageError
from octobot_trading.storage import SCHEMA_VERSION, SqliteStore
from tests.storage.conftest import CANARY_KEY, CANARY_SECRET, builder_for, other_tasks

#: Written by the version-1 code (paper account: a filled market order, an open limit entry in the
#: "grid" sub-portfolio with a bundled stop-loss and take-profit, 1000 USDT to start).
V1_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "storage" / "state-v1.sqlite"
#: Written by the version-2 code (the same paper account, with the order history on: 8 status changes).
V2_FILE = V1_FILE.with_name("state-v2.sqlite")
PAPER_ACCOUNT = {"exchange": "binance", "trader": "simulated", "market_type": "spot"}
#: Tables version 3 adds (a paper account's futures state).
FUTURES_TABLES = {"positions", "contract_settings", "futures_wallets", "futures_transactions"}


def _dump(path: Path, extra: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of the version-1 tables (and of ``extra`` ones), in a stable order."""
    with sqlite3.connect(path) as db:
        return {
            table: sorted(db.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("meta", "orders", "trades", "transactions", "balances", *extra)
        }


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _version(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT version FROM schema_version").fetchall()


def _v1_copy(tmp_path: Path) -> Path:
    path = tmp_path / "state.sqlite"
    shutil.copyfile(V1_FILE, path)
    assert _version(path) == [(1,)]
    return path


def _v2_copy(tmp_path: Path) -> Path:
    path = tmp_path / "state.sqlite"
    shutil.copyfile(V2_FILE, path)
    assert _version(path) == [(2,)] and not FUTURES_TABLES & _tables(path)
    return path


async def test_version_1_file_is_migrated_forward_with_its_state_intact(tmp_path):
    path = _v1_copy(tmp_path)
    before = _dump(path)
    store = SqliteStore(path)
    await store.open(account=PAPER_ACCOUNT)
    try:
        assert store.opened_version == 1
        state = await store.load()
        assert await store.load_history() == []
    finally:
        await store.close()
    assert SCHEMA_VERSION == 3 and _version(path) == [(3,)]
    assert _dump(path) == before
    assert {"order_history", *FUTURES_TABLES} <= _tables(path)
    assert state.futures.is_empty
    assert sorted(o.status for o in state.orders) == ["closed", "open", "pending_creation", "pending_creation"]
    assert len(state.trades) == 1
    # opened again: already at version 3, nothing to migrate
    store = SqliteStore(path)
    await store.open(account=PAPER_ACCOUNT)
    assert store.opened_version == 3
    await store.close()


async def test_migrated_version_1_file_restores_the_paper_account(server, tmp_path):
    path = _v1_copy(tmp_path)
    before = _dump(path)
    stored_balances = {
        (scope, currency): (total, available) for scope, currency, total, available in before["balances"]
    }
    manager = (
        await builder_for(server).use_simulated_trader(starting_portfolio={"USDT": "1000"}).with_storage(path).build()
    )
    async with manager:
        personal = manager.exchange_personal_data
        orders = personal.orders_manager.all_orders()
        assert len(orders) == 4
        entry = next(o for o in orders if o.chained_orders)
        assert entry.status is OrderStatus.OPEN and entry.sub_portfolio == "grid" and len(entry.chained_orders) == 2
        assert entry.exchange_order_id is not None  # re-placed on the simulated venue
        pm = personal.portfolio_manager
        for currency, (total, available) in pm.portfolio.snapshot().items():
            assert stored_balances[("account", currency)] == (str(total), str(available))
        assert len(personal.trades_manager.trades()) == 1
    assert not other_tasks()
    assert _version(path) == [(3,)]


async def test_a_failed_migration_leaves_the_file_at_version_1(tmp_path, monkeypatch):
    from octobot_trading.storage import schema

    path = _v1_copy(tmp_path)
    before = _dump(path)
    broken = dict(schema.MIGRATIONS)
    broken[1] = (*schema.MIGRATIONS[1], "CREATE TABLE orders (id TEXT)")  # fails after the first steps
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    with pytest.raises(StorageError, match="migration from version 1 to 3 failed, file unchanged") as info:
        await SqliteStore(path).open(account=PAPER_ACCOUNT)
    assert str(path) in str(info.value)
    assert _version(path) == [(1,)] and _dump(path) == before
    assert "order_history" not in _tables(path)


async def test_version_2_file_is_migrated_forward_with_its_state_and_history_intact(tmp_path):
    path = _v2_copy(tmp_path)
    before = _dump(path, extra=("order_history",))
    store = SqliteStore(path)
    await store.open(account=PAPER_ACCOUNT)
    try:
        assert store.opened_version == 2
        state = await store.load()
        history = await store.load_history()
    finally:
        await store.close()
    assert _version(path) == [(3,)] and _dump(path, extra=("order_history",)) == before
    assert FUTURES_TABLES <= _tables(path) and state.futures.is_empty
    assert len(history) == 8 and history[0].from_status is None
    assert sorted(o.status for o in state.orders) == ["closed", "open", "pending_creation", "pending_creation"]
    assert len(state.trades) == 1 and state.trades[0].realized_pnl is None
    store = SqliteStore(path)
    await store.open(account=PAPER_ACCOUNT)
    assert store.opened_version == 3
    await store.close()


async def test_migrated_version_2_file_restores_the_paper_account_and_keeps_its_history(server, tmp_path):
    path = _v2_copy(tmp_path)
    before = _dump(path, extra=("order_history",))
    builder = builder_for(server).use_simulated_trader(starting_portfolio={"USDT": "1000"})
    manager = await builder.with_storage(path, history=True).build()
    async with manager:
        personal = manager.exchange_personal_data
        entry = next(o for o in personal.orders_manager.all_orders() if o.chained_orders)
        assert entry.status is OrderStatus.OPEN and entry.sub_portfolio == "grid" and entry.exchange_order_id
        for currency, (total, available) in personal.portfolio_manager.portfolio.snapshot().items():
            assert ("account", currency, str(total), str(available)) in before["balances"]
        assert len(personal.trades_manager.trades()) == 1
    assert not other_tasks()
    assert _version(path) == [(3,)]
    with sqlite3.connect(path) as db:
        kept = sorted(db.execute("SELECT * FROM order_history WHERE seq <= 8").fetchall())
    assert kept == before["order_history"]


async def test_a_failed_migration_leaves_the_file_at_version_2(tmp_path, monkeypatch):
    from octobot_trading.storage import schema

    path = _v2_copy(tmp_path)
    before = _dump(path, extra=("order_history",))
    broken = dict(schema.MIGRATIONS)
    broken[2] = (*schema.MIGRATIONS[2], "CREATE TABLE orders (id TEXT)")  # fails after the first steps
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    with pytest.raises(StorageError, match="migration from version 2 to 3 failed, file unchanged"):
        await SqliteStore(path).open(account=PAPER_ACCOUNT)
    assert _version(path) == [(2,)] and _dump(path, extra=("order_history",)) == before
    assert not FUTURES_TABLES & _tables(path)


async def test_file_of_a_newer_version_is_refused_unchanged(tmp_path):
    path = _v1_copy(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    before = _dump(path)
    with pytest.raises(StorageError, match="unknown schema version") as info:
        await SqliteStore(path).open(account=PAPER_ACCOUNT)
    assert str(path) in str(info.value)
    assert _version(path) == [(SCHEMA_VERSION + 1,)] and _dump(path) == before


async def test_second_engine_on_the_same_file_is_refused_until_the_first_stops(server, tmp_path):
    path = tmp_path / "state.sqlite"
    first = await builder_for(server).use_real_trader().with_storage(path).build()
    async with first:
        with pytest.raises(StorageError, match="locked by another engine") as info:
            await builder_for(server).use_real_trader().with_storage(path).build()
        message = str(info.value)
        assert str(path) in message and CANARY_KEY not in message and CANARY_SECRET not in message
        assert first.get_component("storage") is not None
        await first.trader.create_order("market", "buy", "BTC/USDT", "0.001")  # the first one still works
    second = await builder_for(server).use_real_trader().with_storage(path).build()
    async with second:
        assert len(second.exchange_personal_data.trades_manager.trades()) == 1
    assert not other_tasks()


_HOLD_LOCK = """
import asyncio, sys
from octobot_trading.storage import SqliteStore

async def main():
    store = SqliteStore(sys.argv[1])
    await store.open()
    print("open", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_lock_of_a_killed_process_is_released(tmp_path):
    path = tmp_path / "state.sqlite"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLD_LOCK, str(path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        assert line.strip() == b"open"
        with pytest.raises(StorageError, match="locked by another engine"):
            await SqliteStore(path).open()
    finally:
        child.kill()  # SIGKILL: no cleanup code runs in the child
        await child.wait()
    assert child.returncode == -9
    store = SqliteStore(path)
    await store.open()
    await store.close()


async def test_a_build_failing_after_the_restore_releases_the_file(server, tmp_path):
    path = tmp_path / "state.sqlite"
    server.faults.status(503, method="GET", path="/api/v3/openOrders", times=None)  # the first sync fails
    with pytest.raises(OctoBotTradingError):
        await builder_for(server).use_real_trader().with_storage(path).build()
    assert not other_tasks()
    server.faults.clear()
    manager = await builder_for(server).use_real_trader().with_storage(path).build()  # not locked
    async with manager:
        assert manager.get_component("storage") is not None
    assert not other_tasks()
