"""Inferred fills survive a restart, and given-up orders are kept across a restart.

The real ccxt client against the fake Binance server on loopback, a real SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from decimal import Decimal

import pytest

from octobot_trading.enums import OrderStatus
from octobot_trading.errors import StorageError
from octobot_trading.personal_data import live_sync
from tests.personal_data.live_venue import assert_matches_exchange
from tests.storage.conftest import builder_for, other_tasks
from tests.storage.stored_rows import rows, venue_id

D = Decimal
MY_TRADES = "/api/v3/myTrades"
ORDER = "/api/v3/order"


async def test_an_inferred_fill_is_corrected_once_after_a_restart(server, tmp_path):
    """Trades unreadable -> inferred fill; restart; the real trade corrects it (not a new fill)."""
    path = tmp_path / "state.sqlite"
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    lower = price - D("100")
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        order = await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.002", price)
        fake = server.state.orders[venue_id(order.exchange_order_id)]
        server.state._fill(fake, price, D("0.001"), maker=True)
        server.faults.status(503, method="GET", path=MY_TRADES, times=None)
        await manager.trader.sync_with_exchange()
        server.faults.clear()
        assert order.filled == D("0.001") and manager.exchange_personal_data.orders_manager.has_inferred(order)
        order_id = order.id
    assert not other_tasks()
    server.state._fill(fake, lower, D("0.001"), maker=True)  # the rest fills while the bot is down

    for _restart in range(2):  # a second restart applies nothing again
        manager = await builder_for(server).use_real_trader().with_storage(path).build()
        async with manager:
            personal = manager.exchange_personal_data
            await manager.trader.sync_with_exchange()
            restored = personal.orders_manager.get(order_id)
            assert restored is not None
            assert restored.status is OrderStatus.CLOSED and restored.filled == D("0.002")
            assert restored.filled_cost == price * D("0.001") + lower * D("0.001")
            venue = [
                t
                for t in await manager.connector.fetch_my_trades("BTC/USDT")
                if t.order_id == restored.exchange_order_id
            ]
            assert sorted((t.id, t.price, t.amount, t.fee) for t in personal.trades_manager.trades()) == sorted(
                (t.id, t.price, t.amount, t.fee) for t in venue
            )
            venue_fees = [t.fee for t in venue if t.fee is not None]
            assert len(venue_fees) == len(venue)
            assert restored.fees == {"BTC": sum(venue_fees, D(0))}
            assert not personal.orders_manager.has_inferred(restored)
            await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
        assert sorted(r[0] for r in rows(path, "SELECT id FROM trades")) == sorted(t.id for t in venue)


async def test_a_given_up_order_is_still_restored_after_a_restart(server, tmp_path):
    """With storage: given up, bot restarted, the venue processed it late and it filled: restored once,
    its exit placed once."""
    path = tmp_path / "state.sqlite"
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    placed = asyncio.Event()
    server.order_listeners.append(lambda _order: placed.set())
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        server.faults.latency(3.0, method="POST", path=ORDER, times=1)  # > the 2 s client timeout
        exit_price = (market.last_price * D("1.2")).quantize(market.tick_size)
        order = await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.001", price, take_profit_price=exit_price
        )
        order.created_at -= live_sync.IN_FLIGHT_GIVE_UP_MS  # the venue's window is over (no 60 s wait)
        for _ in range(live_sync.IN_FLIGHT_MIN_LOOKUPS):
            await manager.trader.sync_with_exchange()
        assert order.status is OrderStatus.REJECTED
        order_id, client_id = order.id, order.client_order_id
    assert rows(path, "SELECT value FROM meta WHERE key = 'given_up_orders'") == [(f'["{client_id}"]',)]
    await asyncio.wait_for(placed.wait(), timeout=30)  # processed late, while the bot is down ...
    fake = server.state.orders[max(server.state.orders)]
    server.state._fill(fake, fake.price, D("0.001"), maker=True)  # ... and filled

    for _restart in range(2):
        manager = await builder_for(server).use_real_trader().with_storage(path).build()
        async with manager:
            personal = manager.exchange_personal_data
            await manager.trader.sync_with_exchange()
            restored = personal.orders_manager.get(order_id)
            assert restored is not None and restored.client_order_id == client_id
            assert restored.status is OrderStatus.CLOSED and restored.filled == D("0.001")
            assert [t.amount for t in personal.trades_manager.for_order(order_id)] == [D("0.001")]
            assert personal.orders_manager.given_up_orders() == []
            (exit_order,) = restored.chained_orders  # its exit was placed once
            assert exit_order.status is OrderStatus.OPEN
            venue_open = await manager.connector.fetch_open_orders("BTC/USDT")
            assert [o.client_order_id for o in venue_open] == [exit_order.client_order_id]
            await assert_matches_exchange(manager.connector, manager.exchange_personal_data)
    assert rows(path, "SELECT value FROM meta WHERE key = 'given_up_orders'") == [("[]",)]


async def test_invalid_follow_up_state_is_refused_naming_it(server, tmp_path):
    """A corrupted inferred-fills entry raises StorageError naming it, and changes nothing in the file."""
    path = tmp_path / "state.sqlite"
    market = server.state.markets["BTCUSDT"]
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.001", (market.last_price * D("0.9")).quantize(market.tick_size)
        )
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)", ("inferred_fills", json.dumps({"x": [["t", "-1", "5"]]}))
        )
    before = rows(path, "SELECT id, row FROM orders")
    with pytest.raises(StorageError, match="inferred_fills"):
        manager = await builder_for(server).use_real_trader().with_storage(path).build()
        async with manager:
            pass
    assert rows(path, "SELECT id, row FROM orders") == before
