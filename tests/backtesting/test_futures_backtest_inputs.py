"""run_backtest's futures arguments: every bad one is refused with a ConfigurationError naming it, nothing built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.backtesting.candle_series import CandleSeries
from octobot_trading.errors import ConfigurationError
from octobot_trading.modes.sma_cross import SmaCrossMode

FIXTURES = Path(__file__).parent / "fixtures"
MARK_FILE = FIXTURES / "XRP_USDT_USDT-1h-mark.json"
FUNDING_FILE = FIXTURES / "XRP_USDT_USDT-8h-funding_rate.json"
SYMBOL = "XRP/USDT:USDT"


def _relabel(series: CandleSeries, symbol: str, time_frame: str | None = None) -> CandleSeries:
    tf = ot.TimeFrame.parse(time_frame or series.time_frame)
    return CandleSeries.from_arrays(
        symbol, tf, series.times, series.opens, series.highs, series.lows, series.closes, series.volumes
    )


def _contract_candles() -> CandleData:
    """Real 1h XRP mark prices, read as the traded candles of XRP/USDT:USDT (their prices are real)."""
    marks = CandleData.from_file(MARK_FILE, kind="mark").get(SYMBOL, "1h")
    return CandleData([marks])


def _spec() -> ot.ContractSpec:
    return ot.ContractSpec(leverage="5", maintenance_margin_rate="0.004")


def _registered() -> list[str]:
    return list(ot.exchanges_registry.ids())


async def _refused(data: CandleData, field: str, **futures: Any) -> ConfigurationError:
    before = _registered()
    series_before = [(s.symbol, s.time_frame, len(s)) for s in data]
    with pytest.raises(ConfigurationError) as caught:
        await run_backtest(
            data, trading_mode=SmaCrossMode, mode_config={}, starting_portfolio={"USDT": "1000"}, **futures
        )
    assert caught.value.field == field, caught.value
    assert _registered() == before  # no manager was built
    assert [(s.symbol, s.time_frame, len(s)) for s in data] == series_before
    return caught.value


async def test_a_contract_spec_for_a_spot_symbol_is_refused() -> None:
    spot = CandleData([_relabel(_contract_candles().get(SYMBOL, "1h"), "XRP/USDT")])
    error = await _refused(spot, "contracts", contracts={"XRP/USDT": _spec()})
    assert "spot symbol" in str(error)


async def test_a_contract_spec_for_a_symbol_not_backtested_is_refused() -> None:
    error = await _refused(_contract_candles(), "contracts", contracts={"BTC/USDT:USDT": _spec()})
    assert "not a backtested symbol" in str(error)


async def test_a_contract_key_that_is_not_a_symbol_is_refused() -> None:
    error = await _refused(_contract_candles(), "contracts", contracts={"garbage": _spec()})
    assert "'garbage'" in str(error)


async def test_a_contract_value_that_is_not_a_contract_spec_is_refused() -> None:
    await _refused(_contract_candles(), "contracts", contracts={SYMBOL: ot.MarketSpec()})


async def test_funding_data_of_another_symbol_is_refused() -> None:
    funding = ot.backtesting.FundingData.from_file(FUNDING_FILE)
    other = CandleData([_relabel(_contract_candles().get(SYMBOL, "1h"), "ADA/USDT:USDT")])
    error = await _refused(other, "funding_rates", contracts={"ADA/USDT:USDT": _spec()}, funding_rates=funding)
    assert "XRP/USDT:USDT" in str(error)


async def test_two_funding_sets_of_one_symbol_are_refused() -> None:
    funding = ot.backtesting.FundingData.from_file(FUNDING_FILE)
    await _refused(_contract_candles(), "funding_rates", funding_rates=[funding, funding])


async def test_mark_prices_of_another_symbol_are_refused() -> None:
    marks = CandleData([_relabel(_contract_candles().get(SYMBOL, "1h"), "ADA/USDT:USDT")])
    await _refused(_contract_candles(), "mark_prices", mark_prices=marks)


async def test_mark_prices_finer_than_the_replay_or_not_a_multiple_of_it_are_refused() -> None:
    hourly = _contract_candles().get(SYMBOL, "1h")
    data = CandleData([hourly])
    # 1h candles with 30m marks: finer than the replay
    finer = CandleData([_relabel(hourly, SYMBOL, "30m")])
    error = await _refused(data, "mark_prices", mark_prices=finer)
    assert "whole multiple" in str(error)


async def test_mark_prices_for_a_spot_symbol_are_refused() -> None:
    spot_series = _relabel(_contract_candles().get(SYMBOL, "1h"), "XRP/USDT")
    await _refused(CandleData([spot_series]), "mark_prices", mark_prices=CandleData([spot_series]))


async def test_mark_prices_that_are_not_candle_data_are_refused() -> None:
    await _refused(_contract_candles(), "mark_prices", mark_prices=[1, 2, 3])


async def test_a_contract_symbol_without_futures_arguments_trades_positions_with_the_default_spec() -> None:
    data = CandleData.from_file(FIXTURES / "XRP_USDT_USDT-5m-futures-head600.json")
    result = await run_backtest(data, trading_mode=SmaCrossMode, mode_config={}, starting_portfolio={"USDT": "1000"})
    assert result.trades and all(f.realized_pnl is not None for f in result.trades)
    assert set(result.final_portfolio) == {"USDT"}  # no XRP bought: positions, not spot balances
    assert result.metrics.futures and not result.funding and not result.liquidations
    assert result.positions  # the last cross left a long open
    for position in result.positions:
        assert position.leverage == 1 and position.liquidation_price is None  # 1x long: no liquidation price
