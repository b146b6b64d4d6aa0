"""``ExchangeBuilder(...).use_backtesting(data)``: the same trader and mode components as live."""

from __future__ import annotations

from pathlib import Path

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData
from octobot_trading.backtesting.backtest_component import BacktestComponent
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.modes.modes_component import TradingModesComponent
from octobot_trading.modes.sma_cross import SmaCrossMode
from octobot_trading.testing.sma_cross_reference import sma_cross_reference

FIXTURES = Path(__file__).parent / "fixtures"


async def test_builder_backtest_matches_the_reference() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json", exchange="binance")
    config = {"fast_period": 5, "slow_period": 20}
    manager = await (
        ExchangeBuilder("binance")
        .with_symbols(["BTC/USDT"])
        .with_time_frames(["5m"])
        .with_trading_config(starting_portfolio={"USDT": "10000"}, fees={"maker": "0.001", "taker": "0.001"})
        .use_backtesting(data)
        .use_trading_mode(SmaCrossMode, config)
        .build()
    )
    async with manager:
        assert manager.is_backtesting and manager.is_simulated
        assert [c.name for c in manager.components] == ["connector", "backtest", "trading_modes"]
        modes = manager.get_component("trading_modes", TradingModesComponent).modes
        assert [type(m) for m in modes] == [SmaCrossMode]
        replayed = await manager.get_component("backtest", BacktestComponent).run()
        assert manager.has_account
        assert manager.readiness is manager.market_data.readiness  # type: ignore[union-attr]
        trades = manager.exchange_personal_data.trades_manager.trades()
        totals = manager.exchange_personal_data.portfolio_manager.portfolio.totals()
        closes = manager.exchange_symbols_data.get("BTC/USDT").candles("5m").closes()
    assert replayed == 600 and len(closes) == 600
    series = data.get("BTC/USDT", "5m")
    reference = sma_cross_reference(
        series.times.tolist(), series.closes.tolist(), 300_000, fast_period=5, slow_period=20
    )
    assert [(t.timestamp, t.side, t.price, t.amount, t.fee) for t in trades] == [
        (f.time, f.side, f.price, f.amount, f.fee) for f in reference.fills
    ]
    assert totals["USDT"] == reference.quote and totals.get("BTC", ot.to_decimal(0)) == reference.base


async def test_builder_refuses_a_bad_mode_config_and_bad_data() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json", exchange="binance")
    with pytest.raises(ConfigurationError, match="slow_period"):
        await (
            ExchangeBuilder("binance")
            .with_symbols(["BTC/USDT"])
            .with_time_frames(["5m"])
            .with_trading_config(starting_portfolio={"USDT": "10"})
            .use_backtesting(data)
            .use_trading_mode(SmaCrossMode, {"fast_period": 50, "slow_period": 20})
            .build()
        )
    with pytest.raises(ConfigurationError, match="CandleData"):
        await ExchangeBuilder("binance").with_symbols(["BTC/USDT"]).use_backtesting("BTC_USDT-5m.json").build()
