"""The trading-mode framework on the real synchronized channels and market-data hub."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import Field

import octobot_trading as ot
from octobot_trading.backtesting import CandleData
from octobot_trading.backtesting.driver import BacktestDriver
from octobot_trading.config import Money
from octobot_trading.errors import ConfigurationError, TradingModeError
from octobot_trading.exchange_data.channels import ChannelPriority
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchange_data.readiness import ReadinessTopic, topic
from octobot_trading.modes import (
    AbstractModeConsumer,
    AbstractModeProducer,
    AbstractTradingMode,
    DecisionAction,
    Evaluation,
    EvaluationChannel,
    ModeConfig,
    ModeContext,
    TradingDecision,
)
from octobot_trading.modes.sma_cross import SmaCrossMode
from octobot_trading.testing.sma_cross_reference import sma_cross_reference

FIXTURES = Path(__file__).parents[1] / "backtesting" / "fixtures"


class Recorder(AbstractModeConsumer):
    seen: ClassVar[list[TradingDecision]] = []

    async def on_decision(self, decision: TradingDecision) -> None:
        type(self).seen.append(decision)


class EveryCandleConfig(ModeConfig):
    threshold: Money = Decimal("0")
    time_frame: str | None = None
    step: int = Field(default=1, ge=1)


class EveryCandleProducer(AbstractModeProducer):
    async def on_candle(self, candle: Any) -> None:
        await self.submit(
            TradingDecision(candle.symbol, DecisionAction.BUY, candle.timestamp, reason=f"step={self.mode.config.step}")
        )


class EvaluationProducer(AbstractModeProducer):
    async def on_evaluation(self, evaluation: Evaluation) -> None:
        await self.submit(
            TradingDecision(evaluation.symbol, DecisionAction.SELL, evaluation.time_ms, reason=evaluation.source)
        )


class KlineProducer(AbstractModeProducer):
    async def on_kline(self, kline: Any) -> None:
        await self.submit(TradingDecision(kline.symbol, DecisionAction.REBALANCE, kline.timestamp))


class EveryCandleMode(AbstractTradingMode):
    config_model = EveryCandleConfig
    producer_classes: ClassVar[tuple[type[AbstractModeProducer], ...]] = (EveryCandleProducer,)
    consumer_classes: ClassVar[tuple[type[AbstractModeConsumer], ...]] = (Recorder,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "every_candle"


class KlineMode(EveryCandleMode):
    producer_classes = (KlineProducer,)


class EvaluationMode(EveryCandleMode):
    producer_classes = (EvaluationProducer,)


def _context(md: ExchangeMarketData, clock: ot.SimulatedClock, **kw: Any) -> ModeContext:
    return ModeContext(
        channels=md.channels,
        trader=None,
        portfolio=None,
        clock=clock,
        symbols=["BTC/USDT"],
        time_frames=[ot.TimeFrame.M5],
        market_spec=lambda s: ot.MarketSpec(),
        **kw,
    )


@pytest.fixture(autouse=True)
def _clear() -> None:
    Recorder.seen = []


async def test_producer_waits_for_readiness_then_runs_direct() -> None:
    clock = ot.SimulatedClock()
    md = ExchangeMarketData(clock, synchronized=True)
    md.readiness.require(topic(ReadinessTopic.CANDLES, "BTC/USDT", "5m"), "balance")
    mode = EveryCandleMode(_context(md, clock, is_ready=lambda: md.readiness.is_ready), {"step": 2})
    await mode.start()
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 0, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert Recorder.seen == []  # balance not seen yet: no decision on incomplete state
    md.readiness.mark_ready("balance")
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 300_000, 1.5, 2.0, 1.0, 1.2, 3.0)
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 600_000, 1.2, 2.0, 1.0, 1.1, 3.0)
    assert [d.time_ms for d in Recorder.seen] == [300_000, 600_000]
    assert Recorder.seen[0].reason == "step=2"
    # on a synchronized channel the gate gave its place to the producer's own method
    assert md.channels.ohlcv.callbacks_for("BTC/USDT", "5m") == [mode.producers[0].on_candle]
    await mode.stop()
    assert md.channels.ohlcv.callbacks_for("BTC/USDT", "5m") == []
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 900_000, 1.2, 2.0, 1.0, 1.1, 3.0)
    assert len(Recorder.seen) == 2


async def test_ready_context_subscribes_the_producer_directly() -> None:
    clock = ot.SimulatedClock()
    md = ExchangeMarketData(clock, synchronized=True)
    mode = EveryCandleMode(_context(md, clock), {})
    await mode.start()
    assert md.channels.ohlcv.callbacks_for("BTC/USDT", "5m") == [mode.producers[0].on_candle]


async def test_other_symbols_and_time_frames_are_filtered_out() -> None:
    clock = ot.SimulatedClock()
    md = ExchangeMarketData(clock, synchronized=True)
    mode = EveryCandleMode(_context(md, clock), {})
    await mode.start()
    await md.on_closed_candle("ETH/USDT", ot.TimeFrame.M5, 0, 1.0, 2.0, 0.5, 1.5, 3.0)
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.H1, 0, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert Recorder.seen == []
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 0, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert len(Recorder.seen) == 1


async def test_evaluation_and_kline_triggers() -> None:
    clock = ot.SimulatedClock()
    md = ExchangeMarketData(clock, synchronized=True)
    evaluations = EvaluationChannel("signals")
    mode = EvaluationMode(_context(md, clock, evaluations=evaluations), {})
    await mode.start()
    await evaluations.publish(Evaluation("BTC/USDT", "rsi", Decimal("-0.8"), 42))
    assert Recorder.seen[-1].action is DecisionAction.SELL and Recorder.seen[-1].reason == "rsi"
    kline_mode = KlineMode(_context(md, clock), {})
    await kline_mode.start()
    await md.on_kline("BTC/USDT", "5m", ot.Candle(0, Decimal(1), Decimal(2), Decimal(1), Decimal(2), Decimal(1)))
    assert Recorder.seen[-1].action is DecisionAction.REBALANCE
    await mode.stop()
    assert evaluations.subscriber_count == 0
    no_channel = EvaluationMode(_context(md, clock), {})
    with pytest.raises(TradingModeError, match="evaluation channel"):
        await no_channel.start()


async def test_config_validation_and_reload() -> None:
    clock = ot.SimulatedClock()
    md = ExchangeMarketData(clock, synchronized=True)
    with pytest.raises(ConfigurationError, match="step"):
        EveryCandleMode(_context(md, clock), {"step": 0})
    with pytest.raises(ConfigurationError, match="unknown"):
        EveryCandleMode(_context(md, clock), {"unknown": 1})
    with pytest.raises(TypeError):
        EveryCandleMode(_context(md, clock), {"threshold": 0.5})
    mode = EveryCandleMode(_context(md, clock), {"step": 3})
    await mode.start()
    with pytest.raises(ConfigurationError, match="time frame 1h is not configured"):
        mode.reload_config({"time_frame": "1h"})
    assert mode.config.step == 3  # a bad config changed nothing
    mode.reload_config({"step": 4})
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 0, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert Recorder.seen[-1].reason == "step=4"
    with pytest.raises(ConfigurationError, match="fast_period"):
        SmaCrossMode(_context(md, clock), {"fast_period": 30, "slow_period": 10})


class SmaRecorderMode(SmaCrossMode):
    consumer_classes = (Recorder,)


async def test_sma_cross_signals_match_the_reference_crossings_on_real_data() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    series = data.get("BTC/USDT", "5m")
    clock = ot.SimulatedClock()
    md = ExchangeMarketData(clock, synchronized=True)
    mode = SmaRecorderMode(_context(md, clock), {"fast_period": 5, "slow_period": 20})
    await mode.start()
    await BacktestDriver(data, clock=clock, market_data=md).run()
    # with a buy fraction of 1 and no fees, every crossing trades in the reference loop
    reference = sma_cross_reference(
        series.times.tolist(),
        series.closes.tolist(),
        300_000,
        fast_period=5,
        slow_period=20,
        buy_fraction="1",
        taker_fee="0",
    )
    assert len(Recorder.seen) >= len(reference.fills) > 10
    # each reference fill happens at a recorded crossing of the same direction and price
    by_time = {d.time_ms: d for d in Recorder.seen}
    for fill in reference.fills:
        decision = by_time[fill.time]
        assert decision.action.value == fill.side.value and decision.price == fill.price
    # decisions alternate buy / sell
    actions = [d.action for d in Recorder.seen]
    assert all(a != b for a, b in itertools.pairwise(actions))


async def test_gate_swap_during_a_publish_skips_and_repeats_no_consumer() -> None:
    clock = ot.SimulatedClock()
    md = ExchangeMarketData(clock, synchronized=True)
    ready = [False]
    mode = EveryCandleMode(_context(md, clock, is_ready=lambda: ready[0]), {})
    await mode.start()
    calls: list[str] = []

    async def same_priority(payload: Any) -> None:
        calls.append("medium")

    async def low(payload: Any) -> None:
        calls.append("low")

    md.channels.ohlcv.subscribe(same_priority, symbol="BTC/USDT", time_frame="5m")
    md.channels.ohlcv.subscribe(low, symbol="BTC/USDT", time_frame="5m", priority=ChannelPriority.LOW)
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 0, 1.0, 2.0, 0.5, 1.5, 3.0)
    ready[0] = True
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 300_000, 1.0, 2.0, 0.5, 1.5, 3.0)
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 600_000, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert calls == ["medium", "low"] * 3
    assert [d.time_ms for d in Recorder.seen] == [300_000, 600_000]
    await mode.stop()  # the swapped subscription is still the one removed
    await md.on_closed_candle("BTC/USDT", ot.TimeFrame.M5, 900_000, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert len(Recorder.seen) == 2 and calls[-2:] == ["medium", "low"]
