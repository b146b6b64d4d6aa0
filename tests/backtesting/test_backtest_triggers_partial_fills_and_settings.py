"""Backtest behaviour: price-triggered orders execute during the replay, slippage and partial
fills are validated keywords of ``run_backtest``, and partial fills follow the candle volume.
Real data slices from ``fixtures/`` (see PROVENANCE.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.enums import OrderSide
from octobot_trading.errors import ConfigurationError
from octobot_trading.modes import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, TradingDecision
from octobot_trading.modes.sma_cross import SmaCrossMode
from octobot_trading.personal_data.price_triggers import PriceTrigger
from octobot_trading.util.decimals import decimal_from_data_float

FIXTURES = Path(__file__).parent / "fixtures"
D = Decimal


class _Quiet(AbstractModeConsumer):
    async def on_decision(self, decision: TradingDecision) -> None:
        return None


class _TriggerProducer(AbstractModeProducer):
    created: ClassVar[list[Any]] = []
    created_at: ClassVar[list[int]] = []

    async def on_candle(self, candle: Any) -> None:
        if not type(self).created:
            threshold = decimal_from_data_float(candle.close) * D("1.002")
            order = await self.context.create_order(
                "market", "buy", candle.symbol, "0.01", price_trigger=PriceTrigger(threshold, above=True)
            )
            type(self).created.append((threshold, order))
            type(self).created_at.append(candle.timestamp)


class _TriggerMode(AbstractTradingMode):
    producer_classes = (_TriggerProducer,)
    consumer_classes = (_Quiet,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "trigger_probe"


async def test_price_triggered_market_order_fills_at_the_close_of_the_crossing_candle() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    _TriggerProducer.created = []
    result = await run_backtest(data, trading_mode=_TriggerMode)
    threshold, order = _TriggerProducer.created[0]
    series = data.get("BTC/USDT", "5m")
    first = next(i for i in range(1, len(series)) if series.highs[i] >= float(threshold))
    assert len(result.trades) == 1
    fill = result.trades[0]
    assert (fill.side, fill.amount) == (OrderSide.BUY, D("0.01"))
    assert fill.time == int(series.times[first]) + 300_000
    assert fill.price == series.close_decimal(first)
    assert order.is_done


async def test_bad_slippage_and_partial_fill_settings_are_refused_before_running() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    for bad in ("-0.1", "-50", "100", "150"):
        with pytest.raises(ConfigurationError, match="slippage_percent") as info:
            await run_backtest(data, trading_mode=SmaCrossMode, slippage_percent=bad)
        assert info.value.field == "slippage_percent"
    for bad in ("0", "-0.5", "1.5"):
        with pytest.raises(ConfigurationError, match="partial_fill_fraction"):
            await run_backtest(data, trading_mode=SmaCrossMode, partial_fill_fraction=bad)
    with pytest.raises(TypeError):
        await run_backtest(data, trading_mode=SmaCrossMode, partial_fill_fraction=0.5)  # type: ignore[arg-type]


class _LimitProducer(AbstractModeProducer):
    created: ClassVar[list[Any]] = []

    async def on_candle(self, candle: Any) -> None:
        if not type(self).created:
            price = (decimal_from_data_float(candle.close) * D("1.01")).quantize(D("0.01"))
            order = await self.context.create_order("limit", "buy", candle.symbol, "0.2", price)
            type(self).created.append(order)


class _LimitMode(AbstractTradingMode):
    producer_classes = (_LimitProducer,)
    consumer_classes = (_Quiet,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "limit_probe"


@pytest.mark.parametrize("fraction", [None, "0.0001"])
async def test_partial_fills_cap_each_candle_at_a_fraction_of_its_volume(fraction: str | None) -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    _LimitProducer.created = []
    result = await run_backtest(data, trading_mode=_LimitMode, partial_fill_fraction=fraction)
    order = _LimitProducer.created[0]
    assert order.is_done
    assert sum(f.amount for f in result.trades) == D("0.2")
    if fraction is None:
        assert len(result.trades) == 1
        return
    series = data.get("BTC/USDT", "5m")
    index = {int(t) + 300_000: i for i, t in enumerate(series.times.tolist())}
    assert len(result.trades) > 1
    for fill in result.trades:
        volume = decimal_from_data_float(float(series.volumes[index[fill.time]]))
        assert fill.amount <= volume * D(fraction)
    assert len({f.time for f in result.trades}) == len(result.trades)  # at most one fill per candle


async def test_triggers_and_partial_fills_work_on_the_multi_time_frame_replay_too() -> None:
    five = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    data = five.merge(CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json"))
    series = five.get("BTC/USDT", "5m")
    _TriggerProducer.created, _TriggerProducer.created_at = [], []
    result = await run_backtest(data, trading_mode=_TriggerMode)  # the mode starts once 1h is ready too
    threshold, _ = _TriggerProducer.created[0]
    start = series.times.tolist().index(_TriggerProducer.created_at[0])
    first = next(i for i in range(start + 1, len(series)) if series.highs[i] >= float(threshold))
    assert [(f.time, f.price) for f in result.trades] == [
        (int(series.times[first]) + 300_000, series.close_decimal(first))
    ]
    _LimitProducer.created = []
    result = await run_backtest(data, trading_mode=_LimitMode, partial_fill_fraction="0.0001")
    index = {int(t) + 300_000: i for i, t in enumerate(series.times.tolist())}
    assert len(result.trades) > 1 and sum(f.amount for f in result.trades) == D("0.2")
    for fill in result.trades:
        assert fill.amount <= decimal_from_data_float(float(series.volumes[index[fill.time]])) * D("0.0001")


async def test_run_backtest_refuses_an_empty_portfolio_and_markets_for_unknown_symbols() -> None:
    import octobot_trading as ot

    data = CandleData.from_file(Path(__file__).parent / "fixtures" / "BTC_USDT-5m-head600.json", exchange="binance")
    with pytest.raises(ConfigurationError) as exc:
        await run_backtest(data, trading_mode=ot.modes.SmaCrossMode, starting_portfolio={})
    assert exc.value.field == "starting_portfolio"
    with pytest.raises(ConfigurationError) as exc:
        await run_backtest(data, trading_mode=ot.modes.SmaCrossMode, markets={"ETH/USDT": ot.MarketSpec()})
    assert exc.value.field == "markets.ETH/USDT"


async def test_run_backtest_mode_defaults_to_first_configured_time_frame(tmp_path: Path) -> None:
    import json

    import octobot_trading as ot

    rows: list[list[Any]] = []
    price = Decimal("100")
    start = 1_600_000_000_000 // 300_000 * 300_000
    for i in range(1500):  # a deterministic zig-zag 1m walk, aggregated exactly into 5m candles
        step = Decimal(((i * 7919) % 13) - 6) / 10
        close = price + step
        rows.append(
            [
                start + i * 60_000,
                str(price),
                str(max(price, close) + Decimal("0.1")),
                str(min(price, close) - Decimal("0.1")),
                str(close),
                "1",
            ]
        )
        price = close
    to_float = [[r[0], *(float(v) for v in r[1:])] for r in rows]
    agg = [
        [c[0][0], c[0][1], max(x[2] for x in c), min(x[3] for x in c), c[-1][4], 5.0]
        for c in (to_float[j : j + 5] for j in range(0, len(to_float), 5))
    ]
    (tmp_path / "Z_USDT-1m.json").write_text(json.dumps(to_float))
    (tmp_path / "Z_USDT-5m.json").write_text(json.dumps(agg))
    d1 = CandleData.from_file(tmp_path / "Z_USDT-1m.json", exchange="binance", symbol="Z/USDT", time_frame="1m")
    d5 = CandleData.from_file(tmp_path / "Z_USDT-5m.json", exchange="binance", symbol="Z/USDT", time_frame="5m")

    def key(result: Any) -> list[tuple[Any, ...]]:
        return [(t.time, t.side, t.price, t.amount) for t in result.trades]

    only5 = await run_backtest(d5, trading_mode=ot.modes.SmaCrossMode)
    both_5_first = await run_backtest(d1.merge(d5), trading_mode=ot.modes.SmaCrossMode, time_frames=["5m", "1m"])
    only1 = await run_backtest(d1, trading_mode=ot.modes.SmaCrossMode)
    assert only5.trades and key(only5) != key(only1)
    assert key(both_5_first) == key(only5)
