"""Bad state files and bad paths give ``StorageError`` naming the file, change nothing, leave nothing running."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from pydantic import ValidationError

import octobot_trading as ot
from octobot_trading.backtesting import CandleData
from octobot_trading.errors import ConfigurationError, StorageError
from octobot_trading.storage import SCHEMA_VERSION, SqliteStore
from octobot_trading.storage.models import BalanceRow
from tests.storage.conftest import builder_for, other_tasks

BACKTEST_FIXTURES = Path(__file__).resolve().parent.parent / "backtesting" / "fixtures"


async def _build_fails(server, path) -> StorageError:
    with pytest.raises(StorageError) as info:
        await builder_for(server).use_real_trader().with_storage(path).build()
    assert not other_tasks()
    assert str(path) in str(info.value)
    return info.value


async def test_corrupted_file_is_refused_and_left_unchanged(server, tmp_path):
    path = tmp_path / "state.sqlite"
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    await _build_fails(server, path)
    assert path.read_bytes() == garbage
    # no WAL or shared-memory file was created; only the empty sidecar of the engine lock
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite", "state.sqlite.lock"]
    assert (tmp_path / "state.sqlite.lock").read_bytes() == b""


async def test_unknown_schema_version_is_refused(server, tmp_path):
    path = tmp_path / "state.sqlite"
    store = SqliteStore(path)
    await store.open()
    await store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    error = await _build_fails(server, path)
    assert "schema version" in str(error)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION + 1,)]


async def test_foreign_sqlite_database_is_refused(server, tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    error = await _build_fails(server, path)
    assert "not an octobot_trading state file" in str(error)


async def test_file_of_another_account_is_refused(server, tmp_path):
    path = tmp_path / "state.sqlite"
    paper = builder_for(server).use_simulated_trader(starting_portfolio={"USDT": "100"}).with_storage(path)
    async with await paper.build():
        pass
    error = await _build_fails(server, path)  # the same file for a real trader
    assert "another account" in str(error)


async def test_tampered_row_is_refused_before_any_change(server, tmp_path):
    path = tmp_path / "state.sqlite"
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        last = server.state.markets["BTCUSDT"].last_price
        await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", last - 100)
    with sqlite3.connect(path) as db:
        (row,) = db.execute("SELECT row FROM orders").fetchone()
        data = json.loads(row)
        data["amount"] = 0.001  # a float where a decimal string belongs
        db.execute("UPDATE orders SET row = ?", (json.dumps(data),))
    before = path.read_bytes()
    error = await _build_fails(server, path)
    assert "invalid OrderRow" in str(error)
    assert path.read_bytes() == before


async def test_missing_folder_is_refused(server, tmp_path):
    await _build_fails(server, tmp_path / "missing" / "state.sqlite")
    assert not (tmp_path / "missing").exists()


async def test_folder_that_is_a_file_is_refused(server, tmp_path):
    (tmp_path / "plain").write_text("x")
    await _build_fails(server, tmp_path / "plain" / "state.sqlite")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only folders")
async def test_read_only_folder_is_refused(server, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        await _build_fails(server, folder / "state.sqlite")
    finally:
        folder.chmod(0o700)


async def test_store_keeps_money_as_text_and_ignores_known_ids(tmp_path):
    store = SqliteStore(tmp_path / "s.sqlite")
    await store.open(account={"exchange": "binance"})
    try:
        rows = [BalanceRow(scope="account", currency="USDT", total="1000.10", available="900.000000001")]
        await store.save(balances=rows)
        state = await store.load()
        assert state.balances == rows and state.meta == {"exchange": "binance"}
        with pytest.raises(ValidationError):
            BalanceRow(scope="account", currency="USDT", total="NaN", available="1")
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        assert db.execute("SELECT typeof(total), typeof(available) FROM balances").fetchall() == [("text", "text")]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_storage_with_a_backtest_is_a_configuration_error(tmp_path):
    data = CandleData.from_file(BACKTEST_FIXTURES / "BTC_USDT-5m-head600.json", exchange="binance")
    builder = ot.ExchangeBuilder("binance").use_backtesting(data).with_storage(tmp_path / "bt.sqlite")
    with pytest.raises(ConfigurationError, match="with_storage"):
        await builder.build()
    assert not other_tasks()
    assert not (tmp_path / "bt.sqlite").exists()


async def test_unknown_enum_value_in_a_row_is_refused(server, tmp_path):
    path = tmp_path / "state.sqlite"
    async with await builder_for(server).use_real_trader().with_storage(path).build() as manager:
        await manager.trader.create_order("market", "sell", "BTC/USDT", "0.001")
    with sqlite3.connect(path) as db:
        (row,) = db.execute("SELECT row FROM trades").fetchone()
        data = json.loads(row)
        data["side"] = "sideways"
        db.execute("UPDATE trades SET row = ?", (json.dumps(data),))
    error = await _build_fails(server, path)
    assert "sideways" in str(error)


async def test_a_cancelled_write_is_rolled_back_and_the_next_one_succeeds(tmp_path):
    import asyncio

    store = SqliteStore(tmp_path / "c.sqlite")
    await store.open()
    try:
        rows = [BalanceRow(scope="account", currency=f"C{i}", total="1", available="1") for i in range(2000)]
        task = asyncio.ensure_future(store.save(balances=rows))
        await asyncio.sleep(0)  # the write has started (BEGIN sent)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not store.db.in_transaction
        await store.save(balances=rows[:3])
        assert [b.currency for b in (await store.load()).balances] == ["C0", "C1", "C2"]
    finally:
        await store.close()
