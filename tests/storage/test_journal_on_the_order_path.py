"""The journal on the order path: intents before requests, updates before hooks, the writer after inferred fills."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from octobot_trading.enums import OrderStatus
from octobot_trading.errors import StorageError
from octobot_trading.personal_data.orders.order import OrderEvent
from octobot_trading.storage import StorageComponent
from tests.storage.conftest import builder_for, other_tasks

D = Decimal


def _rows(path: Path, query: str) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(query).fetchall()


async def test_an_order_whose_intent_cannot_be_committed_is_refused_and_never_sent(server, tmp_path):
    path = tmp_path / "state.sqlite"
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        personal = manager.exchange_personal_data
        before = personal.portfolio_manager.portfolio.snapshot()
        storage = manager.get_component("storage", StorageComponent)
        await storage.store.close()  # the file can no longer be written
        with pytest.raises(StorageError, match="not open"):
            await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")
        assert server.state.order_requests == []
        assert personal.orders_manager.all_orders() == []
        assert personal.portfolio_manager.portfolio.snapshot() == before
    assert not other_tasks()


async def test_a_fill_is_in_the_file_when_the_orders_hook_hears_of_it(server, tmp_path):
    path = tmp_path / "state.sqlite"
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    seen: list[tuple] = []
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        storage.flush_seconds = 3600  # (after its first wait) the writer stays out of the way
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.002", price)
        assert _rows(path, "SELECT status, exchange_order_id FROM orders") == [("open", order.exchange_order_id)]

        async def hook(filled) -> None:  # what a trading mode's fill hook would see in the file
            seen.append((_rows(path, "SELECT status, row FROM orders"), _rows(path, "SELECT id FROM trades")))

        order.add_hook(OrderEvent.FILL, hook)
        fake = server.state.orders[int(order.exchange_order_id or "")]
        server.state._fill(fake, price, D("0.001"), maker=True)
        server.state._fill(fake, price, D("0.001"), maker=True)
        await manager.trader.sync_with_exchange()
        assert order.status is OrderStatus.CLOSED
    assert not other_tasks()
    [(orders, trades), (orders_2, trades_2)] = seen
    assert orders[0][0] == "partially_filled" and '"filled":"0.001"' in orders[0][1] and len(trades) == 1
    assert orders_2[0][0] == "filled" and '"filled":"0.002"' in orders_2[0][1] and len(trades_2) == 2


async def test_the_writer_keeps_writing_after_an_inferred_fill(server, tmp_path):
    path = tmp_path / "state.sqlite"
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.002", price)
        fake = server.state.orders[int(order.exchange_order_id or "")]
        server.state._fill(fake, price, D("0.001"), maker=True)
        server.faults.status(503, method="GET", path="/api/v3/myTrades", times=None)
        await manager.trader.sync_with_exchange()  # trades unreadable: the fill is inferred
        server.faults.clear()
        assert manager.exchange_personal_data.orders_manager.has_inferred(order)
        await storage.flush()
        other = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price - D("10"))
        await storage.flush()  # the full write after an inferred fill still follows the orders
        assert other.status is OrderStatus.OPEN
    assert not other_tasks()
    assert sorted(_rows(path, "SELECT status FROM orders")) == [("open",), ("partially_filled",)]
