"""The real trader (real ccxt client) with a limit order partly filled BY THE REPLAYED MARKET.

The fake server caps each candle's fill at a fraction of that candle's real volume
(``state.max_fill_fraction``), so a large resting order fills over several replayed candles,
then the rest is canceled; the local portfolio must equal the exchange's balances exactly,
without any balance refresh.
"""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.enums import OrderStatus
from tests.personal_data.live_venue import assert_matches_exchange
from tests.personal_data.live_venue import live as live

D = Decimal


async def test_limit_order_partly_filled_by_replayed_candles_then_canceled(live):
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    server.state.max_fill_fraction = D("0.0001")  # each candle fills at most 0.01 % of its volume
    # a buy limit above the coming lows, so the next candles reach it
    upcoming = market.candles[market.cursor + 1 : market.cursor + 40]
    price = max(row[3] for row in upcoming[:5]).quantize(market.tick_size)
    price = min(price, (market.last_price * D("0.999")).quantize(market.tick_size))
    order = await trader.create_order("limit", "buy", "BTC/USDT", "0.5", price)
    assert order.status is OrderStatus.OPEN

    fills_seen = []
    for _ in range(len(upcoming)):
        server.advance()
        await trader.sync_with_exchange()
        fills_seen.append(order.filled)
        if order.filled >= D("0.5") or len({f for f in fills_seen if f > 0}) >= 2:
            break
    assert D(0) < order.filled < D("0.5"), fills_seen
    assert order.status is OrderStatus.PARTIALLY_FILLED
    fake = server.state.orders[int(order.exchange_order_id)]
    assert order.filled == fake.executed_qty
    trades = personal.trades_manager.trades()
    assert len(trades) == len(fake.fills) >= 2  # several candles each filled a part
    assert sum(t.amount for t in trades) == order.filled
    assert all(t.price == price for t in trades)
    await trader.sync_with_exchange()  # re-delivered fills are applied once
    assert len(personal.trades_manager.trades()) == len(fake.fills)
    await assert_matches_exchange(connector, personal)

    await trader.cancel_order(order)
    assert order.status is OrderStatus.CANCELED
    await assert_matches_exchange(connector, personal)
