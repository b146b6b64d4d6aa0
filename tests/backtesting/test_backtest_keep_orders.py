"""run_backtest(..., keep_orders=False): done orders are dropped during the run, results unchanged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, CandleSeries, run_backtest
from octobot_trading.backtesting.cli import DEMO_DATA
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import OrderStatus
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.modes.builtin import get_mode
from octobot_trading.modes.sma_cross import SmaCrossMode, SmaCrossProducer
from octobot_trading.util.fees import Fees
from octobot_trading.util.market_spec import MarketSpec

DEMO_CONFIGS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "sma_cross": ({"fast_period": 10, "slow_period": 30}, {"USDT": "10000"}),
    "grid": ({"levels": 5, "spacing_percent": "2", "amount_per_level": "0.01"}, {"USDT": "10000", "BTC": "0.05"}),
    "dca": ({"entry": "dip", "dip_percent": "4", "lookback": 24, "quote_amount": "500"}, {"USDT": "10000"}),
}


def _same_results(kept: Any, dropped: Any) -> None:
    assert dropped.event_log_hash == kept.event_log_hash
    assert dropped.trades == kept.trades
    assert dropped.final_portfolio == kept.final_portfolio
    assert dropped.metrics == kept.metrics
    assert np.array_equal(dropped.equity_curve.values, kept.equity_curve.values)
    assert np.array_equal(dropped.equity_curve.times, kept.equity_curve.times)


@pytest.mark.parametrize("mode_name", sorted(DEMO_CONFIGS))
async def test_dropping_done_orders_keeps_fills_portfolio_metrics_and_event_log_hash(mode_name: str) -> None:
    data = CandleData.from_file(DEMO_DATA, exchange="binance", symbol="BTC/USDT", time_frame="1h")
    config, portfolio = DEMO_CONFIGS[mode_name]
    mode = get_mode(mode_name)
    kept = await run_backtest(data, trading_mode=mode, mode_config=config, starting_portfolio=portfolio)
    dropped = await run_backtest(
        data, trading_mode=mode, mode_config=config, starting_portfolio=portfolio, keep_orders=False
    )
    assert kept.trades, "the demo run must trade"
    _same_results(kept, dropped)


class _CountingProducer(SmaCrossProducer):
    """SMA cross that records how many orders the trader's orders manager holds at each candle."""

    held: list[int] = []

    async def on_candle(self, candle: Any) -> None:
        _CountingProducer.held.append(len(self.context.trader.orders_manager.all_orders()))
        await super().on_candle(candle)


class _CountingSmaMode(SmaCrossMode):
    producer_classes = (_CountingProducer,)


def _random_walk(n: int) -> CandleData:
    rng = np.random.default_rng(7)
    times = 1_600_000_020_000 // 60_000 * 60_000 + 60_000 * np.arange(n, dtype=np.int64)
    closes = np.round(30_000 * np.exp(np.cumsum(rng.normal(0, 0.001, n))), 2)
    opens = np.concatenate([[30_000.0], closes[:-1]])
    highs = np.round(np.maximum(opens, closes) * 1.0005, 2)
    lows = np.round(np.minimum(opens, closes) * 0.9995, 2)
    volumes = np.full(n, 3.0)
    series = CandleSeries.from_arrays("BTC/USDT", "1m", times, opens, highs, lows, closes, volumes)
    return CandleData([series], exchange="simulator")


async def test_dropping_done_orders_bounds_the_orders_held_during_a_long_run() -> None:
    data = _random_walk(30_000)
    fees = ot.Fees(maker="0.001", taker="0.001")
    _CountingProducer.held = []
    kept = await run_backtest(data, trading_mode=_CountingSmaMode, fees=fees)
    held_when_kept = max(_CountingProducer.held)
    _CountingProducer.held = []
    dropped = await run_backtest(data, trading_mode=_CountingSmaMode, fees=fees, keep_orders=False)
    held_when_dropped = max(_CountingProducer.held)
    _same_results(kept, dropped)
    orders = len(kept.trades)  # one market order per fill
    assert orders > 600
    assert held_when_kept >= orders - 1  # every order stays (the last may come after the last count)
    # done orders are dropped every 4,096 candles: at most the orders of one such stretch are held
    assert held_when_dropped < orders / 3


async def test_simulated_venue_forgets_done_orders_and_fills_but_keeps_resting_ones() -> None:
    clock = SimulatedClock(1_700_000_000_000)
    venue = SimulatedConnector(
        clock,
        markets={"BTC/USDT": MarketSpec(price_tick="0.01", amount_step="0.0001")},
        starting_balances={"USDT": "10000"},
        fees=Fees(maker="0.001", taker="0.001"),
    )
    walk = venue.engine.on_candle("BTC/USDT", clock.now_ms(), 100.0, 100.0, 100.0, 100.0)
    if walk is not None:
        await walk
    filled = await venue.create_order(
        ot.OrderType.MARKET, ot.OrderSide.BUY, "BTC/USDT", Decimal("1"), client_order_id="market-1"
    )
    resting = await venue.create_order(
        ot.OrderType.LIMIT, ot.OrderSide.BUY, "BTC/USDT", Decimal("1"), Decimal("90"), client_order_id="limit-1"
    )
    assert filled.status is OrderStatus.FILLED
    assert len(await venue.fetch_my_trades()) == 1

    assert venue.forget_closed_orders() == 1

    assert await venue.fetch_closed_orders() == []
    assert await venue.fetch_my_trades() == []
    assert [o.id for o in await venue.fetch_open_orders()] == [resting.id]
    assert (await venue.fetch_order(resting.id, "BTC/USDT")).status is OrderStatus.OPEN
    balances = await venue.fetch_balance()
    assert balances["BTC"].total == Decimal("0.999")  # the fill's effect on the account stays
    assert balances["USDT"].total == Decimal("9900")
