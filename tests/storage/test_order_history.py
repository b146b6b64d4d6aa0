"""Optional order status history: every status change recorded, pruned by age and by row count on the clock."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.errors import ConfigurationError
from octobot_trading.storage import StorageComponent
from tests.clock_driving import build_simulated
from tests.storage.conftest import builder_for, other_tasks

HOUR_MS = 3_600_000


async def _manager(server: Any, path: Path, clock: SimulatedClock, **history: Any) -> Any:
    return await build_simulated(builder_for(server).with_clock(clock).use_real_trader().with_storage(path, **history))


def _changes(rows: list[Any]) -> list[tuple[str | None, str]]:
    return [(row.from_status, row.to_status) for row in rows]


async def test_every_status_change_is_recorded_with_the_filled_amount_and_clock_time(server, tmp_path):
    clock = SimulatedClock(LiveClock().now_ms())
    manager = await _manager(server, tmp_path / "state.sqlite", clock, history=True)
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        market = await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")
        price = (server.state.markets["BTCUSDT"].last_price * Decimal("0.9")).quantize(Decimal("0.01"))
        limit = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        await manager.trader.cancel_order(limit)
        await storage.flush()
        market_rows = await storage.store.load_history(market.id)
        limit_rows = await storage.store.load_history(limit.id)
    assert not other_tasks()
    assert _changes(market_rows) == [
        (None, "pending_creation"),
        ("pending_creation", "open"),
        ("open", "filled"),
        ("filled", "closed"),
    ]
    assert [row.filled for row in market_rows] == ["0", "0", "0.001", "0.001"]
    assert {row.client_order_id for row in market_rows} == {market.client_order_id}
    assert all(row.time == clock.now_ms() for row in market_rows)
    assert _changes(limit_rows)[:2] == [(None, "pending_creation"), ("pending_creation", "open")]
    assert _changes(limit_rows)[-1][1] == "canceled"


async def test_history_is_pruned_by_age_on_the_managers_clock(server, tmp_path):
    clock = SimulatedClock(LiveClock().now_ms())
    manager = await _manager(
        server, tmp_path / "state.sqlite", clock, history=True, history_retention=timedelta(hours=1)
    )
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        old = await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")
        await storage.flush()
        assert len(await storage.store.load_history(old.id)) == 4
        clock.set_time(clock.now_ms() + HOUR_MS - 1)  # still within the hour: kept
        await storage.flush()
        assert len(await storage.store.load_history(old.id)) == 4
        clock.set_time(clock.now_ms() + 2)  # one hour and a millisecond later: pruned
        new = await manager.trader.create_order("market", "sell", "BTC/USDT", "0.001")
        await storage.flush()
        assert await storage.store.load_history(old.id) == []
        assert len(await storage.store.load_history(new.id)) == 4
    assert not other_tasks()


async def test_history_is_pruned_to_the_newest_rows(server, tmp_path):
    clock = SimulatedClock(LiveClock().now_ms())
    manager = await _manager(server, tmp_path / "state.sqlite", clock, history=True, history_max_rows=3)
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        first = await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")
        second = await manager.trader.create_order("market", "sell", "BTC/USDT", "0.001")
        await storage.flush()
        rows = await storage.store.load_history()
    assert [row.order_id for row in rows] == [second.id] * 3 and first.id != second.id
    assert _changes(rows) == [("pending_creation", "open"), ("open", "filled"), ("filled", "closed")]


async def test_no_history_is_recorded_unless_enabled(server, tmp_path):
    clock = SimulatedClock(LiveClock().now_ms())
    manager = await _manager(server, tmp_path / "state.sqlite", clock)
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        assert storage.history is None
        await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")
        await storage.flush()
        assert await storage.store.load_history() == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"history_retention": -5}, "history_retention"),
        ({"history_retention": "1 day"}, "history_retention"),
        ({"history_retention": float("nan")}, "history_retention"),
        ({"history_retention": float("inf")}, "history_retention"),
        ({"history_retention": 10**20}, "history_retention"),
        ({"history_max_rows": 0}, "history_max_rows"),
    ],
)
async def test_invalid_history_settings_are_refused(server, tmp_path, options, field):
    with pytest.raises(ConfigurationError) as info:
        await builder_for(server).use_real_trader().with_storage(tmp_path / "s.sqlite", history=True, **options).build()
    assert info.value.field == field
    assert not other_tasks()


def _count_transactions(storage: StorageComponent) -> list[int]:
    """Count the store's write transactions (each a BEGIN ... COMMIT on the file), still writing them."""
    count = [0]
    save = storage.store.save

    async def counted(**batch: Any) -> None:
        count[0] += 1
        await save(**batch)

    storage.store.save = counted  # type: ignore[method-assign]
    return count


@pytest.mark.parametrize("history", [{}, {"history_max_rows": 100}])
async def test_an_idle_minute_with_history_on_commits_nothing(server, tmp_path, history):
    clock = SimulatedClock(LiveClock().now_ms())
    path = tmp_path / "state.sqlite"
    manager = await _manager(server, path, clock, history=True, **history)
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")
        await storage.flush()
        transactions = _count_transactions(storage)
        for _ in range(60):  # one writer pass per second of an idle minute
            clock.advance(1000)
            await storage.flush()
        idle_commits = transactions[0]
        await manager.trader.create_order("market", "sell", "BTC/USDT", "0.001")  # a change is still written
        assert transactions[0] > idle_commits
        assert len(await storage.store.load_history()) == 8
    assert idle_commits == 0


async def test_history_rows_past_the_retention_are_pruned_by_an_otherwise_idle_pass(server, tmp_path):
    clock = SimulatedClock(LiveClock().now_ms())
    manager = await _manager(server, tmp_path / "state.sqlite", clock, history=True, history_retention=3600)
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")
        await storage.flush()
        assert len(await storage.store.load_history()) == 4
        clock.advance(HOUR_MS + 1)
        await storage.flush()  # nothing else changed: the pass deletes the expired rows
        assert await storage.store.load_history() == []
        clock.advance(1000)
        assert await storage.flush() == 0
