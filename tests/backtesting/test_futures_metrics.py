"""Metrics of futures runs: position round trips (flat to flat, flips, liquidations), realized PnL and net funding."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np

from octobot_trading.backtesting.futures_results import FundingEvent, LiquidationEvent
from octobot_trading.backtesting.metrics import EquityCurve, Fill, compute_metrics, round_trips
from octobot_trading.enums import MarginMode, OrderSide, PositionSide

XRP = "XRP/USDT:USDT"
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def _fill(time: int, side: OrderSide, amount: str, price: str, fee: str, pnl: str) -> Fill:
    return Fill(time, XRP, side, D(price), D(amount), D(fee), "USDT", realized_pnl=D(pnl))


def _curve() -> EquityCurve:
    times = np.array([0, 1, 2, 3], dtype=np.int64)
    values = np.array([1000.0, 1010.0, 990.0, 1005.0])
    exposure = np.array([0.0, 1010.0, 990.0, 0.0])  # a position open in the middle samples
    return EquityCurve(times, values, exposure, np.array([1.0, 1.1, 0.9, 1.0]), "USDT")


def test_a_short_round_trip_counts_realized_pnl_minus_fees() -> None:
    fills = [_fill(1, SELL, "100", "1.2", "0.048", "0"), _fill(2, BUY, "100", "1.1", "0.044", "10")]
    (trip,) = round_trips(fills, {XRP: "XRP"})
    assert (trip.open_time, trip.close_time, trip.fills) == (1, 2, 2)
    assert trip.profit == D("10") - D("0.048") - D("0.044")


def test_a_flip_closes_one_trip_and_opens_the_next_with_the_rest() -> None:
    fills = [
        _fill(1, BUY, "100", "1.2", "0.05", "0"),
        _fill(2, SELL, "300", "1.1", "0.13", "-10"),  # closes 100 long, opens 200 short
        _fill(3, BUY, "200", "1.0", "0.08", "20"),
    ]
    first, second = round_trips(fills, {XRP: "XRP"})
    assert (first.open_time, first.close_time, first.profit) == (1, 2, D("-10") - D("0.05") - D("0.13"))
    assert (second.open_time, second.close_time, second.fills, second.profit) == (2, 3, 2, D("20") - D("0.08"))


def test_a_liquidation_closes_the_trip_losing_its_margin() -> None:
    fills = [_fill(1, BUY, "100", "1.2", "0.05", "0"), _fill(9, BUY, "50", "1.0", "0.02", "0")]
    liquidation = LiquidationEvent(5, XRP, PositionSide.LONG, D("100"), D("1.08"), D("12"), MarginMode.ISOLATED)
    trips = round_trips(fills, {XRP: "XRP"}, [liquidation])
    assert len(trips) == 1  # the position opened at 9 is still open
    assert (trips[0].close_time, trips[0].profit, trips[0].fills) == (5, D("-12") - D("0.05"), 2)


def test_metrics_of_a_futures_run_add_realized_pnl_funding_and_liquidations_rows() -> None:
    fills = [_fill(1, SELL, "100", "1.2", "0.048", "0"), _fill(2, BUY, "100", "1.1", "0.044", "10")]
    funding = [
        FundingEvent(1, XRP, PositionSide.SHORT, D("0.0001"), D("1.15"), D("0.0115"), "USDT"),
        FundingEvent(2, XRP, PositionSide.SHORT, D("-0.0002"), D("1.1"), D("-0.022"), "USDT"),
    ]
    metrics = compute_metrics(
        _curve(), fills, start_value=D(1000), final_value=D(1005), bases={XRP: "XRP"}, funding=funding
    )
    assert metrics.futures and metrics.realized_pnl == {"USDT": D("10")}
    assert metrics.funding == {"USDT": D("-0.0105")} and metrics.liquidations == 0
    assert metrics.round_trips == 1 and metrics.win_rate == 1.0
    assert metrics.exposure == 0.5
    rows = dict(metrics.rows())
    assert rows["Realized PnL"] == "10 USDT" and rows["Funding (net)"] == "-0.0105 USDT" and rows["Liquidations"] == "0"


def test_spot_metrics_have_no_futures_rows() -> None:
    fills = [Fill(1, "BTC/USDT", BUY, D("100"), D("1"), D("0.001"), "BTC")]
    metrics = compute_metrics(_curve(), fills, start_value=D(1000), final_value=D(1005), bases={"BTC/USDT": "BTC"})
    assert not metrics.futures
    assert "Funding (net)" not in dict(metrics.rows())
