"""Paper trading: a closed candle's path reaches the orders resting since it opened (its wicks fill
them, at their price and the candle's close time), never an order placed after it opened."""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderStatus
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.personal_data import ExchangePersonalData, Trader
from octobot_trading.util.market_spec import MarketSpec
from tests.personal_data.helpers import make_account

HOUR = 3_600_000
OPEN = 1_700_000_000_000
MARKETS = {"BTC/USDT": MarketSpec(price_tick="0.01", amount_step="0.0001", min_cost="5")}


async def _paper() -> tuple[SimulatedClock, SimulatedConnector, ExchangePersonalData, Trader]:
    acc = await make_account({"USDT": "10000"}, markets=MARKETS, prices={"BTC/USDT": "100"})
    return acc.clock, acc.connector, acc.personal, acc.trader


async def test_a_wick_fills_an_order_resting_since_the_candle_opened_at_its_price_and_the_close_time() -> None:
    clock, connector, personal, trader = await _paper()
    order = await trader.create_order("limit", "buy", "BTC/USDT", "1", "95")  # placed at the open
    clock.set_time(OPEN + HOUR)
    await connector.on_closed_candle("BTC/USDT", OPEN, OPEN + HOUR, 100.0, 101.0, 94.0, 99.0)
    assert order.status is OrderStatus.CLOSED and order.filled == 1
    [trade] = personal.trades_manager.for_order(order.id)
    assert (trade.price, trade.timestamp) == (Decimal("95"), OPEN + HOUR)


async def test_an_order_placed_after_the_candle_opened_is_not_filled_by_its_earlier_prices() -> None:
    clock, connector, personal, trader = await _paper()
    clock.set_time(OPEN + HOUR // 2)  # mid-candle: the low of 94 may have come before
    order = await trader.create_order("limit", "buy", "BTC/USDT", "1", "95")
    clock.set_time(OPEN + HOUR)
    await connector.on_closed_candle("BTC/USDT", OPEN, OPEN + HOUR, 100.0, 101.0, 94.0, 99.0)
    assert order.status is OrderStatus.OPEN and order.filled == 0
    # the next candle is entirely after its placement: its wick fills it
    clock.set_time(OPEN + 2 * HOUR)
    await connector.on_closed_candle("BTC/USDT", OPEN + HOUR, OPEN + 2 * HOUR, 99.0, 99.5, 94.5, 98.0)
    assert order.status is OrderStatus.CLOSED
    assert [t.price for t in personal.trades_manager.for_order(order.id)] == [Decimal("95")]
