"""While the state file refuses writes (read-only, full, locked), the exits the engine places by
itself still reach the venue (durability suspended, logged); a caller's new order is refused."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from octobot_trading.enums import OrderStatus
from octobot_trading.errors import StorageError
from octobot_trading.storage import StorageComponent
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.storage.conftest import builder_for, other_tasks
from tests.storage.stored_rows import read_only_rows


def _reachable_buy_price(server: FakeExchangeServer, steps: int) -> Decimal:
    """A buy price under the last price that the next ``steps`` replayed candles reach."""
    market = server.state.markets["BTCUSDT"]
    lows = [c[3] for c in market.candles[market.cursor + 1 : market.cursor + 1 + steps]]
    price = min(lows) + market.tick_size
    assert price < market.last_price
    return price


async def test_a_chained_exit_released_while_writes_fail_is_placed_and_written_once_writes_work(
    server, tmp_path, caplog
):
    path = tmp_path / "state.sqlite"
    price = _reachable_buy_price(server, 20)
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        storage = manager.get_component("storage", StorageComponent)
        storage.flush_seconds = 3600  # (after its first wait) the writer stays out of the way
        entry = await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.002", price, take_profit_price=price * 2
        )
        (exit_order,) = entry.chained_orders
        await storage.store.db.execute("PRAGMA query_only = ON")  # every write of the file now fails
        with pytest.raises(StorageError, match="write failed"):  # a caller's new order is refused
            await manager.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        server.state.advance(20)  # the venue fills the entry
        with caplog.at_level(logging.ERROR):
            await manager.trader.sync_with_exchange()
        assert entry.status is OrderStatus.CLOSED
        assert exit_order.is_active and exit_order.status is OrderStatus.OPEN and exit_order.exchange_order_id
        assert any(
            "UNJOURNALED" in r.getMessage() and exit_order.client_order_id in r.getMessage() for r in caplog.records
        )
        assert read_only_rows(path, "SELECT status FROM orders WHERE id = ?", exit_order.id) == [("pending_creation",)]

        await storage.store.db.execute("PRAGMA query_only = OFF")  # writes work again
        await storage.flush()
        assert read_only_rows(path, "SELECT status, exchange_order_id FROM orders WHERE id = ?", exit_order.id) == [
            ("open", exit_order.exchange_order_id)
        ]
    assert not other_tasks()
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        restored = manager.exchange_personal_data.orders_manager.get(exit_order.id)
        assert restored is not None and restored.status is OrderStatus.OPEN
        assert restored.exchange_order_id == exit_order.exchange_order_id
    sent = [cid for _key, cid in server.state.order_requests if cid == exit_order.client_order_id]
    assert sent == [exit_order.client_order_id]


async def test_a_price_trigger_firing_while_writes_fail_still_sends_its_order(server, tmp_path, caplog):
    from octobot_trading.personal_data import PriceTrigger
    from tests.exchange_data.helpers import until

    path = tmp_path / "state.sqlite"
    manager = await builder_for(server).use_real_trader().with_time_frames(["5m"]).with_storage(path).build()
    async with manager:
        await manager.wait_ready(timeout=30)
        storage = manager.get_component("storage", StorageComponent)
        storage.flush_seconds = 3600
        await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")
        last = server.state.markets["BTCUSDT"].last_price
        threshold = (last * Decimal("0.99")).quantize(Decimal("0.01"))
        stop = await manager.trader.create_order(
            "market", "sell", "BTC/USDT", "0.0009", price_trigger=PriceTrigger(threshold, above=False)
        )
        assert not stop.is_active
        await storage.store.db.execute("PRAGMA query_only = ON")  # every write of the file now fails
        with caplog.at_level(logging.ERROR):
            price_events_for = manager.trader.price_events_for
            assert price_events_for is not None
            price_events_for("BTC/USDT").on_price(threshold - 1)  # the stop-loss fires
            await until(lambda: stop.is_done, limit_s=10)
        assert stop.status is OrderStatus.CLOSED and stop.filled == Decimal("0.0009")
        assert any("UNJOURNALED" in r.getMessage() and stop.client_order_id in r.getMessage() for r in caplog.records)
        assert [cid for _key, cid in server.state.order_requests].count(stop.client_order_id) == 1
        await storage.store.db.execute("PRAGMA query_only = OFF")
        await storage.flush()
        assert read_only_rows(path, "SELECT status FROM orders WHERE id = ?", stop.id) == [("closed",)]
    assert not other_tasks()
