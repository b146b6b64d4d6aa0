"""BacktestResult's repr stays short whatever the number of fills (asyncio.run formats it)."""

from __future__ import annotations

from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.backtesting.cli import DEMO_DATA
from octobot_trading.modes.sma_cross import SmaCrossMode


async def test_repr_names_the_run_without_listing_every_fill() -> None:
    data = CandleData.from_file(DEMO_DATA, exchange="binance", symbol="BTC/USDT", time_frame="1h")
    result = await run_backtest(data, trading_mode=SmaCrossMode, mode_config={"fast_period": 5, "slow_period": 12})
    text = repr(result)
    assert len(result.trades) > 100
    assert len(text) < 600
    assert f"fills={len(result.trades)}" in text and result.event_log_hash in text
    assert "sma_cross" in text and "BTC/USDT" in text and repr(result.metrics.total_return) in text
