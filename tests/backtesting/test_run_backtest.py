"""run_backtest end to end: the full engine against the independent plain-Python reference."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, CandleSeries, run_backtest
from octobot_trading.backtesting.report import render_report, write_report
from octobot_trading.errors import ConfigurationError
from octobot_trading.modes import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, TradingDecision
from octobot_trading.modes.sma_cross import SmaCrossMode
from octobot_trading.testing.shared_data import require_shared_data_file
from octobot_trading.testing.sma_cross_reference import sma_cross_reference

SHARED_BTC_5M = ("binance_spot_nfi", "BTC_USDT-5m.json")
FIXTURES = Path(__file__).parent / "fixtures"


def _compare(result: Any, reference: Any, base: str = "BTC", quote: str = "USDT") -> None:
    assert len(result.trades) == len(reference.fills)
    for ours, theirs in zip(result.trades, reference.fills, strict=True):
        assert (ours.time, ours.side, ours.price, ours.amount, ours.fee, ours.fee_currency) == (
            theirs.time,
            theirs.side,
            theirs.price,
            theirs.amount,
            theirs.fee,
            theirs.fee_currency,
        )
    assert result.final_portfolio.get(quote, Decimal(0)) == reference.quote
    assert result.final_portfolio.get(base, Decimal(0)) == reference.base


async def test_sma_cross_on_real_btc_5m_matches_the_independent_reference() -> None:
    data = CandleData.from_file(require_shared_data_file(*SHARED_BTC_5M), exchange="binance")
    result = await run_backtest(
        data,
        trading_mode=SmaCrossMode,
        mode_config={},
        starting_portfolio={"USDT": "10000"},
        fees=ot.Fees(maker="0.001", taker="0.001"),
    )
    series = data.get("BTC/USDT", "5m")
    reference = sma_cross_reference(series.times.tolist(), series.closes.tolist(), 300_000)
    assert result.candles == 65741
    assert len(reference.fills) > 2000
    _compare(result, reference)
    assert result.metrics.trades == len(result.trades)
    assert result.metrics.final_value == result.final_portfolio["USDT"] + result.final_portfolio[
        "BTC"
    ] * series.close_decimal(len(series) - 1)


async def test_market_spec_minimums_and_steps_follow_the_reference() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    spec = ot.MarketSpec(price_tick="0.01", amount_step="0.001", min_cost="5000")
    config = {"fast_period": 5, "slow_period": 20, "buy_fraction": "0.5"}
    result = await run_backtest(
        data,
        trading_mode=SmaCrossMode,
        mode_config=config,
        starting_portfolio={"USDT": "12000"},
        fees=ot.Fees(maker="0", taker="0.00075"),
        markets={"BTC/USDT": spec},
    )
    series = data.get("BTC/USDT", "5m")
    reference = sma_cross_reference(
        series.times.tolist(),
        series.closes.tolist(),
        300_000,
        fast_period=5,
        slow_period=20,
        buy_fraction="0.5",
        taker_fee="0.00075",
        starting_quote="12000",
        market=spec,
    )
    _compare(result, reference)
    assert reference.fills, "the slice must trade"
    # every buy costs at least min_cost, every amount is on the step
    assert all(f.amount % Decimal("0.001") == 0 for f in result.trades)
    assert all(f.amount * f.price >= 5000 for f in result.trades)


async def test_same_backtest_twice_gives_identical_trades_and_hash() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    config = {"fast_period": 4, "slow_period": 12}
    first = await run_backtest(data, trading_mode=SmaCrossMode, mode_config=config)
    second = await run_backtest(data, trading_mode=SmaCrossMode, mode_config=config)
    assert first.trades and first.trades == second.trades
    assert first.event_log_hash == second.event_log_hash
    assert first.final_portfolio == second.final_portfolio
    other = await run_backtest(data, trading_mode=SmaCrossMode, mode_config={"fast_period": 5, "slow_period": 12})
    assert other.event_log_hash != first.event_log_hash


class OrderLog(AbstractModeConsumer):
    async def on_decision(self, decision: TradingDecision) -> None:
        return None


class TimelineProducer(AbstractModeProducer):
    seen: ClassVar[list[tuple[int, str, str, int]]] = []

    async def on_candle(self, candle: Any) -> None:
        type(self).seen.append((self.context.clock.now_ms(), candle.symbol, candle.time_frame.value, candle.timestamp))


class TimelineMode(AbstractTradingMode):
    producer_classes = (TimelineProducer,)
    consumer_classes = (OrderLog,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "timeline"


class TimelineBothFrames(TimelineMode):
    async def _subscribe(self, producer: AbstractModeProducer) -> None:
        for symbol in self.symbols:
            for tf in self.context.time_frames:
                self.context.channels.ohlcv.subscribe(producer.on_candle, symbol=symbol, time_frame=tf)


async def test_several_symbols_and_time_frames_replay_in_the_documented_order() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json").merge(
        CandleData.from_file(FIXTURES / "ETH_USDT-1h-head50.json")
    )
    btc5 = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    eth5 = btc5.get("BTC/USDT", "5m")
    eth5_series = ot.backtesting.CandleSeries.from_arrays(
        "ETH/USDT", "5m", eth5.times, eth5.opens, eth5.highs, eth5.lows, eth5.closes, eth5.volumes
    )
    data = data.merge(btc5).merge(CandleData([eth5_series]))
    TimelineProducer.seen = []
    result = await run_backtest(data, trading_mode=TimelineBothFrames, starting_portfolio={"USDT": "100"})
    seen = TimelineProducer.seen
    assert result.candles == 600 + 600 + 50 + 50
    assert len(seen) == result.candles
    # clock is the close time of each published candle; order is (close time, symbol, tf length)
    for now, _symbol, tf, open_ms in seen:
        assert now == open_ms + ot.TimeFrame(tf).ms
    order_keys = [(now, symbol, ot.TimeFrame(tf).ms) for now, symbol, tf, _ in seen]
    assert order_keys == sorted(order_keys)
    hour_close = 1606780800000 + 3_600_000
    at_hour = [(s, tf) for now, s, tf, _ in seen if now == hour_close]
    assert at_hour == [("BTC/USDT", "5m"), ("BTC/USDT", "1h"), ("ETH/USDT", "5m"), ("ETH/USDT", "1h")]


async def test_bad_inputs_are_refused_before_running() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    with pytest.raises(ConfigurationError, match="no candles for ETH/USDT"):
        await run_backtest(data, trading_mode=SmaCrossMode, symbols=["ETH/USDT"])
    with pytest.raises(TypeError):
        await run_backtest(data, trading_mode=SmaCrossMode, starting_portfolio={"USDT": 1000.0})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="slow_period"):
        await run_backtest(data, trading_mode=SmaCrossMode, mode_config={"slow_period": "many"})


async def test_report_is_one_self_contained_html_file(tmp_path: Path) -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    result = await run_backtest(data, trading_mode=SmaCrossMode, mode_config={"fast_period": 4, "slow_period": 12})
    assert 0 < len(result.equity_curve) <= 602
    path = write_report(result, tmp_path / "report.html")
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "plotly" in text and len(text) > 1_000_000  # the plotly library is inlined
    assert "<script src=" not in text and "cdn.plot.ly" not in text.split("/*")[0]
    for label in ("Total return", "Max drawdown", "Sharpe", "Sortino", "Win rate", "Profit factor", "Exposure"):
        assert label in text
    assert result.event_log_hash in text
    first = result.trades[0]
    assert ot.util.decimals.decimal_to_str(first.price) in render_report(result)


@pytest.mark.parametrize(("fast", "slow"), [(1, 2), (2, 3), (3, 11), (7, 8)])
async def test_sma_cross_ring_matches_the_reference_for_short_periods_and_growing_decimals(
    fast: int, slow: int
) -> None:
    """Windows as short as the ring, and closes whose decimals grow after the windows are full
    (the stored closes and sums are rescaled mid-run): the fills equal the reference's."""
    rng = np.random.default_rng(fast * 100 + slow)
    n = 400
    steps = rng.normal(0.0, 0.01, n).cumsum()
    closes = 100.0 * np.exp(steps)
    # whole numbers first, then 1, 2 and 4 decimals: each change rescales a full ring
    for start, decimals in ((0, 0), (100, 1), (200, 2), (300, 4)):
        closes[start:] = np.round(closes[start:], decimals)
    times = 60_000 * np.arange(n, dtype=np.int64)
    opens = np.concatenate(([closes[0]], closes[:-1]))
    highs, lows = np.maximum(opens, closes), np.minimum(opens, closes)
    series = CandleSeries.from_arrays("BTC/USDT", "1m", times, opens, highs, lows, closes, np.ones(n))
    result = await run_backtest(
        CandleData([series]),
        trading_mode=SmaCrossMode,
        mode_config={"fast_period": fast, "slow_period": slow},
        starting_portfolio={"USDT": "10000"},
        fees=ot.Fees(maker="0.001", taker="0.001"),
    )
    reference = sma_cross_reference(times.tolist(), closes.tolist(), 60_000, fast_period=fast, slow_period=slow)
    assert len(reference.fills) > 10
    _compare(result, reference)
