"""What one journal batch holds, and what a restart after a stop finds in the file.

A batch written for one order (an order intent) must also carry the row of any other order whose
new fill it writes: a kill right after that batch must never leave a trade without its order.
Stopping the engine must not let the trader's poll place or sync orders once the journal is
detached: a chained exit released then would be sent without being journaled.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from octobot_trading.enums import OrderStatus
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.exchange_data.helpers import until
from tests.storage.conftest import builder_for

D = Decimal


async def test_a_batch_with_a_new_trade_carries_the_row_of_its_order(
    server: FakeExchangeServer, tmp_path: Path
) -> None:
    manager = await builder_for(server).use_real_trader().with_storage(tmp_path / "s.sqlite").build()
    try:
        trader = manager.trader
        storage = manager.get_component("storage")
        market = server.state.markets["BTCUSDT"]
        low = min(c[3] for c in market.candles[market.cursor + 1 : market.cursor + 21])
        filled = await trader.create_order("limit", "buy", "BTC/USDT", "0.001", str(low + market.tick_size))
        written_orders: set[str] = set()
        batches_with_trades: list[tuple[set[str], set[str]]] = []
        real_save = storage.store.save

        async def save(**batch: Any) -> None:
            await real_save(**batch)
            written_orders.update(row.id for row in batch.get("orders", ()))
            trades = batch.get("trades") or []
            if trades:
                batches_with_trades.append(({t.order_id for t in trades}, set(written_orders)))

        storage.store.save = save

        trades = manager.exchange_personal_data.trades_manager

        async def writer_busy() -> None:
            # the writer is held until the sync has applied the fill
            async with storage._flushing:
                await until(lambda: len(trades) > 0)

        busy = asyncio.ensure_future(writer_busy())
        await asyncio.sleep(0)
        # an intent for another order waits behind the busy writer while the sync applies the fill
        other = asyncio.ensure_future(trader.create_order("limit", "buy", "BTC/USDT", "0.001", str(int(low * 8 / 10))))
        await asyncio.sleep(0)
        server.advance(20)
        await asyncio.gather(busy, other, trader.sync_with_exchange())
        assert filled.status is OrderStatus.CLOSED
        assert batches_with_trades, "the fill was never written"
        for trade_orders, orders_so_far in batches_with_trades:
            assert trade_orders <= orders_so_far, "a batch wrote a trade before the row of its order"
    finally:
        await manager.stop()


async def test_stopping_ends_the_trader_poll_before_the_journal_is_detached(
    server: FakeExchangeServer, tmp_path: Path
) -> None:
    manager = await builder_for(server).use_real_trader().with_storage(tmp_path / "s.sqlite").build()
    trader_component = manager.get_component("trader")
    storage = manager.get_component("storage")
    poll = trader_component._task
    assert poll is not None and not poll.done()
    seen_at_detach: list[tuple[bool, object]] = []
    real_stop_journal = storage._stop_journal

    def stop_journal() -> None:
        seen_at_detach.append((poll.done(), trader_component._task))
        real_stop_journal()

    storage._stop_journal = stop_journal
    await manager.stop()
    assert seen_at_detach == [(True, None)]
    assert manager.trader.pre_send is None


async def test_a_chained_exit_found_on_the_venue_at_restart_is_not_sent_again(
    server: FakeExchangeServer, tmp_path: Path
) -> None:
    path = tmp_path / "s.sqlite"
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    market = server.state.markets["BTCUSDT"]
    low = min(c[3] for c in market.candles[market.cursor + 1 : market.cursor + 21])
    entry = await manager.trader.create_order(
        "limit",
        "buy",
        "BTC/USDT",
        "0.001",
        str(low + market.tick_size),
        take_profit_price=str(market.last_price * D("1.5")),
    )
    server.advance(20)  # the venue fills the entry
    # the file keeps the entry open and its exit not sent; the exit then reaches the venue unjournaled
    await manager.get_component("storage").stop()
    await manager.trader.sync_with_exchange()
    exit_order = entry.chained_orders[0]
    assert exit_order.exchange_order_id is not None
    await manager.stop()

    restarted = await builder_for(server).use_real_trader().with_storage(path).build()
    try:
        await restarted.trader.sync_with_exchange()
        again = restarted.exchange_personal_data.orders_manager.get(exit_order.id)
        assert again is not None and again.is_active
        assert again.exchange_order_id == exit_order.exchange_order_id
    finally:
        await restarted.stop()
    requests = Counter(client_id for _kind, client_id in server.state.order_requests)
    assert requests[exit_order.client_order_id] == 1
    assert requests[entry.client_order_id] == 1
