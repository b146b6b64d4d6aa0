"""Trading-mode behaviour: the default time frame is the first configured one, SmaCrossMode
sizes buys it can afford under slippage, and a mode failing to start surfaces as a typed
``TradingModeError``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.clock import SimulatedClock
from octobot_trading.errors import TradingModeError
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.modes import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, TradingDecision
from octobot_trading.modes.context import ModeContext
from octobot_trading.modes.sma_cross import SmaCrossMode

FIXTURES = Path(__file__).parents[1] / "backtesting" / "fixtures"


def test_default_time_frame_is_the_first_configured_not_the_shortest() -> None:
    clock = SimulatedClock(0)
    md = ExchangeMarketData(clock, synchronized=True)
    context = ModeContext(
        channels=md.channels,
        trader=None,
        portfolio=None,
        clock=clock,
        symbols=["BTC/USDT"],
        time_frames=[ot.TimeFrame.H1, ot.TimeFrame.M5],
        market_spec=lambda s: ot.MarketSpec(),
    )
    assert [tf.value for tf in context.time_frames] == ["5m", "1h"]  # still shortest first
    mode = SmaCrossMode(context, {})
    assert mode.time_frame is ot.TimeFrame.H1
    assert SmaCrossMode(context, {"time_frame": "5m"}).time_frame is ot.TimeFrame.M5


async def test_builder_made_mode_reacts_on_the_first_configured_time_frame() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json").merge(
        CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    )
    manager = await (
        ot.ExchangeBuilder("binance")
        .with_symbols(["BTC/USDT"])
        .with_time_frames(["1h", "5m"])
        .with_clock(SimulatedClock(1606780800000))
        .use_backtesting(data)
        .use_trading_mode(SmaCrossMode, {})
    ).build()
    async with manager:
        mode = manager.get_component("trading_modes").modes[0]
        assert mode.time_frame is ot.TimeFrame.H1


@pytest.mark.parametrize("slippage", ["0.1", "2"])
async def test_all_in_buys_under_slippage_are_sized_to_stay_affordable(slippage: str) -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    config = {"fast_period": 5, "slow_period": 20, "buy_fraction": "1"}
    plain = await run_backtest(data, trading_mode=SmaCrossMode, mode_config=config)
    slipped = await run_backtest(data, trading_mode=SmaCrossMode, mode_config=config, slippage_percent=slippage)
    assert len(plain.trades) > 4 and len(slipped.trades) == len(plain.trades)
    buys = [t for t in slipped.trades if t.side is ot.OrderSide.BUY]
    for fill, same in zip(slipped.trades, plain.trades, strict=True):
        assert (fill.time, fill.side) == (same.time, same.side)
    for buy in buys:
        assert buy.amount > 0
    assert slipped.final_portfolio["USDT"] >= 0


class _Exploding(AbstractModeProducer):
    def __init__(self, mode: AbstractTradingMode) -> None:
        raise RuntimeError("producer cannot start")

    async def on_candle(self, candle: Any) -> None:
        return None


class _Quiet(AbstractModeConsumer):
    async def on_decision(self, decision: TradingDecision) -> None:
        return None


class _ExplodingMode(AbstractTradingMode):
    producer_classes = (_Exploding,)
    consumer_classes = (_Quiet,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "exploding"


async def test_a_mode_failing_to_start_raises_a_typed_error_naming_it() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    with pytest.raises(TradingModeError, match="exploding") as info:
        await run_backtest(data, trading_mode=_ExplodingMode)
    assert isinstance(info.value.__cause__, RuntimeError)
