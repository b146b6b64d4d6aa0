"""A fill the venue makes between the engine's order sync and its balance read (the two REST reads of
one poll are not atomic): the balances read already count the fill the books have not applied yet.
Applying that fill at the next sync must still work, once, leaving orders, trades and balances equal
to the venue's; it used to fail at every later poll (available above total), so the order stayed
open locally forever.

The real trader against the fake Binance server (real ccxt client, REST only).
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from octobot_trading.enums import OrderStatus
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.clock_driving import build_simulated
from tests.faults.conftest import assert_engine_matches_venue, assert_no_secret, live_builder, sim_clock
from tests.personal_data.live_venue import venue as venue


def _reachable(server: FakeExchangeServer, side: str) -> tuple[Decimal, int]:
    """A price the next candles reach from the last close (above it for a sell, under for a buy)."""
    market = server.state.markets["BTCUSDT"]
    last = market.last_price
    for steps, row in enumerate(market.candles[market.cursor + 1 :], start=1):
        if side == "sell" and row[2] > last + market.tick_size:
            return row[2] - market.tick_size, steps
        if side == "buy" and row[3] < last - market.tick_size:
            return row[3] + market.tick_size, steps
    raise AssertionError("no later candle moves that way")


@pytest.mark.parametrize("side", ["sell", "buy"])
async def test_a_fill_landing_between_the_order_sync_and_the_balance_read_is_applied_once(venue, caplog, side):
    caplog.set_level(logging.INFO)
    server = venue.server
    manager = await build_simulated(live_builder(venue, sim_clock(server)).rest_only(True))
    async with manager:
        price, steps = _reachable(server, side)
        order = await manager.trader.create_order("limit", side, "BTC/USDT", "0.002", price)
        assert order.status is OrderStatus.OPEN
        await manager.trader.sync_with_exchange(manager.symbols)  # the poll's first read: still open
        server.advance(steps)  # the venue fills it now ...
        await manager.trader.refresh_balances()  # ... so the poll's balance read already counts the fill
        for _poll in range(2):
            await manager.trader.sync_with_exchange(manager.symbols)
            await manager.trader.refresh_balances()
        assert order.status in (OrderStatus.FILLED, OrderStatus.CLOSED) and order.filled == Decimal("0.002")
        assert len(manager.exchange_personal_data.trades_manager.for_order(order.id)) == 1
        await assert_engine_matches_venue(manager, server)
    assert_no_secret(server, caplog)
