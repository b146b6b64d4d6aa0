"""Futures backtests on real data, through the trader and the simulated venue, checked against the
independent plain-Decimal reference event by event.

A short-enabled SMA cross (the built-in mode) trades Binance's XRP/USDT:USDT 5-minute perpetual
candles with its 1-hour mark candles and 8-hour funding rates (linear), and a month of 1-minute
BTC-PERP candles read as the inverse BTC/USD:BTC (a fixed funding schedule: that data set has no
funding history). The reference is replayed over the same candles in the documented order — at
each candle close: the mark candle closing then (its path checked for isolated liquidations, its
close the new mark), the funding events since the previous close, the cross check, then the
fills the backtest made at that close — and must agree on every fill's realized PnL and fee,
every funding payment, every liquidation and the final wallet.
"""

from __future__ import annotations

import bisect
from decimal import Decimal as D
from typing import Any

import pytest

from octobot_trading.backtesting import CandleData, FundingData, run_backtest
from octobot_trading.enums import MarginMode
from octobot_trading.modes import SmaCrossMode
from octobot_trading.testing.shared_data import require_shared_data_file
from octobot_trading.util.contract_spec import ContractSpec
from octobot_trading.util.decimals import decimal_from_data_float
from octobot_trading.util.fees import Fees
from tests.personal_data.futures_reference import Contract, Reference

EIGHT_HOURS = 8 * 3600 * 1000
FEES = Fees(maker="0.0002", taker="0.0005")


def _path(o: D, h: D, low: D, c: D) -> list[D]:
    return [o, low, h, c] if o - low <= h - o else [o, h, low, c]


def _replay_reference(
    data: CandleData, marks: CandleData | None, funding: FundingData, contract: Contract, start: D, result: Any
) -> dict[str, int]:
    symbol, currency = contract.symbol, contract.settle
    (series,) = list(data)
    tf_ms = series.time_frame.ms
    mark_rows: dict[int, tuple[D, D, D, D]] = {}
    for mark_series in marks or [series]:
        for i in range(len(mark_series)):
            close_ms = int(mark_series.times[i]) + mark_series.time_frame.ms
            columns = (mark_series.opens, mark_series.highs, mark_series.lows, mark_series.closes)
            mark_rows[close_ms] = tuple(decimal_from_data_float(float(c[i])) for c in columns)  # type: ignore[assignment]
    fills_at: dict[int, list[Any]] = {}
    for fill in result.trades:
        fills_at.setdefault(fill.time, []).append(fill)
    reference = Reference({symbol: contract}, {currency: start})
    liquidations, payments = [], []
    previous = None
    last_fill, mark_tf = -1, max((m.time_frame.ms for m in marks or []), default=tf_ms)
    mark_closes = sorted(mark_rows)
    for i, t in enumerate(series.times.tolist()):
        close_ms = t + tf_ms
        mark = mark_rows.get(close_ms)
        k = bisect.bisect_left(mark_closes, close_ms)
        held = k < len(mark_closes) and mark_closes[k] - mark_tf < close_ms
        if not held:  # no mark candle holds this close: the traded candle is the mark
            columns = (series.opens, series.highs, series.lows, series.closes)
            mark = tuple(decimal_from_data_float(float(c[i])) for c in columns)  # type: ignore[assignment]
        if mark is not None:
            # a mark candle's path only acts on positions unchanged since its open; else its close
            changed = marks is not None and held and last_fill > close_ms - mark_tf
            liquidations += reference.isolated_liquidations(symbol, [mark[3]] if changed else _path(*mark))
            reference.set_mark(symbol, mark[3])
        if previous is not None:
            for when, rate in funding.between(previous, close_ms):
                payments += [(when, side, amount) for side, amount in reference.funding(symbol, rate)]
        previous = close_ms
        liquidations += reference.cross_liquidations(currency)
        if close_ms in fills_at:
            last_fill = close_ms
        for fill in fills_at.pop(close_ms, []):
            expected = reference.fill(symbol, fill.side.value, fill.amount, fill.price, FEES.taker)
            assert (fill.realized_pnl, fill.fee) == expected, fill
    assert not fills_at  # every fill happened at a candle close
    assert payments == [(p.time, p.side.value, p.amount) for p in result.funding]
    assert liquidations == [(x.symbol, x.side.value, x.size, x.price, x.margin_lost) for x in result.liquidations]
    assert result.final_portfolio[currency] == reference.wallets[currency]
    held = [(p.side.value, p.contracts, p.entry_price) for p in result.positions]
    assert held == [(p.side, p.contracts, p.entry) for _, p in sorted(reference.positions.items())]
    realized = sum((f.realized_pnl for f in result.trades), D(0)) - sum(
        (x.margin_lost for x in result.liquidations), D(0)
    )
    fees = sum((f.fee for f in result.trades), D(0))
    assert reference.wallets[currency] == start + realized - fees + sum((p.amount for p in result.funding), D(0))
    return {"fills": len(result.trades), "funding": len(payments), "liquidations": len(liquidations)}


@pytest.mark.parametrize(("margin_mode", "leverage"), [("isolated", "50"), ("cross", "20")])
async def test_linear_xrp_backtest_with_marks_and_funding_agrees_with_the_reference(margin_mode, leverage):
    symbol = "XRP/USDT:USDT"
    marks = CandleData.from_file(
        require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-1h-mark.json"), kind="mark"
    )
    # the 1h marks start 6 hours after the 5m candles and end 2.5 days before them: the traded
    # candles are the marks there
    data = CandleData.from_file(require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-5m-futures.json"))
    funding = FundingData.from_file(require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-8h-funding_rate.json"))
    spec = ContractSpec(
        price_tick="0.0001",
        amount_step="0.1",
        leverage=leverage,
        max_leverage="75",
        maintenance_margin_rate="0.005",
        margin_mode=MarginMode(margin_mode),
    )
    result = await run_backtest(
        data,
        trading_mode=SmaCrossMode,
        mode_config={"allow_short": True, "buy_fraction": "0.5"},
        starting_portfolio={"USDT": "1000"},
        contracts={symbol: spec},
        funding_rates=funding,
        mark_prices=marks,
        fees=FEES,
    )
    contract = Contract(symbol, False, D(1), D(leverage), D("0.005"), margin_mode, "one_way")
    counts = _replay_reference(data, marks, funding, contract, D(1000), result)
    assert counts["fills"] > 50 and counts["funding"] > 5
    assert sum(f.candles for f in result.mark_fallback) == 72 + 727  # before and after the marks
    if margin_mode == "isolated":
        assert counts["liquidations"] > 0


@pytest.mark.parametrize("margin_mode", ["isolated", "cross"])
async def test_inverse_btc_backtest_agrees_with_the_reference(margin_mode):
    symbol = "BTC/USD:BTC"
    path = require_shared_data_file("nautilus", "btc-perp-20211231-20220201_1m.csv")
    full = CandleData.from_file(path, symbol=symbol, time_frame="1m")
    (series,) = list(full)
    first = int(series.times[0])
    data = CandleData([series.slice(first, first + 20_000 * 60_000)], exchange=full.exchange)
    start_funding = first - first % EIGHT_HOURS
    times = [start_funding + k * EIGHT_HOURS for k in range(1, 30)]
    funding = FundingData(symbol, times, ["0.0001" if k % 3 else "-0.00005" for k in range(1, 30)])
    spec = ContractSpec(
        price_tick="0.5",
        amount_step="1",
        contract_size="100",
        leverage="50",
        max_leverage="100",
        maintenance_margin_rate="0.005",
        margin_mode=MarginMode(margin_mode),
    )
    result = await run_backtest(
        data,
        trading_mode=SmaCrossMode,
        mode_config={"allow_short": True, "buy_fraction": "0.5", "fast_period": 60, "slow_period": 240},
        starting_portfolio={"BTC": "0.1"},
        contracts={symbol: spec},
        funding_rates=funding,
        fees=FEES,
        reference_market="BTC",
    )
    contract = Contract(symbol, True, D(100), D(50), D("0.005"), margin_mode, "one_way")
    counts = _replay_reference(data, None, funding, contract, D("0.1"), result)
    assert counts["fills"] > 50 and counts["funding"] > 5
    if margin_mode == "isolated":
        assert counts["liquidations"] > 0
