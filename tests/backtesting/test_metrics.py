"""Metrics on hand-computed cases."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from octobot_trading.backtesting.metrics import EquityCurve, Fill, compute_metrics, round_trips
from octobot_trading.enums import OrderSide

D = Decimal
HOUR = 3_600_000


def _curve(values: list[float], exposure: list[float] | None = None) -> EquityCurve:
    n = len(values)
    return EquityCurve(
        np.arange(n, dtype=np.int64) * HOUR,
        np.array(values, dtype=float),
        np.array(exposure if exposure is not None else [0.0] * n),
        np.array(values, dtype=float),
    )


def test_drawdown_sharpe_sortino_by_hand() -> None:
    curve = _curve([100.0, 110.0, 99.0, 120.0, 108.0])
    assert np.allclose(curve.drawdown(), [0, 0, 0.1, 0, 0.1])
    metrics = compute_metrics(curve, [], start_value=D(100), final_value=D(108), bases={})
    assert metrics.total_return == D("0.08")
    assert metrics.max_drawdown is not None and math.isclose(metrics.max_drawdown, 0.1)
    returns = np.array([0.1, -0.1, 120 / 99 - 1, 108 / 120 - 1])
    per_year = 365 * 24
    assert metrics.sharpe is not None
    assert math.isclose(metrics.sharpe, returns.mean() / returns.std(ddof=1) * math.sqrt(per_year))
    downside = math.sqrt(np.mean(np.minimum(returns, 0) ** 2))
    assert metrics.sortino is not None
    assert math.isclose(metrics.sortino, returns.mean() / downside * math.sqrt(per_year))
    assert metrics.win_rate is None and metrics.profit_factor is None and metrics.trades == 0


def test_round_trips_win_rate_profit_factor_exposure_fees() -> None:
    fills = [
        Fill(1, "BTC/USDT", OrderSide.BUY, D(100), D(2), D("0.002"), "BTC"),
        Fill(2, "BTC/USDT", OrderSide.SELL, D(110), D("1.998"), D("0.21978"), "USDT"),
        Fill(3, "BTC/USDT", OrderSide.BUY, D(100), D(1), D(0), "BTC"),
        Fill(4, "BTC/USDT", OrderSide.SELL, D(95), D("0.5"), D(0), "USDT"),
        Fill(5, "BTC/USDT", OrderSide.SELL, D(90), D("0.5"), D(0), "USDT"),
    ]
    trips = round_trips(fills, {"BTC/USDT": "BTC"})
    assert [t.fills for t in trips] == [2, 3]
    assert trips[0].profit == D("1.998") * 110 - D("0.21978") - 200  # exact
    assert trips[1].profit == D("-7.5")
    curve = _curve([100.0, 100.0, 100.0, 100.0], exposure=[0.0, 50.0, 0.5, 80.0])
    metrics = compute_metrics(curve, fills, start_value=D(100), final_value=D(100), bases={"BTC/USDT": "BTC"})
    assert metrics.win_rate == 0.5 and metrics.round_trips == 2 and metrics.trades == 5
    assert metrics.profit_factor is not None
    assert math.isclose(metrics.profit_factor, float(trips[0].profit / D("7.5")))
    assert metrics.exposure == 0.5  # 50 and 80 are above 1 % of equity, 0.5 is not
    assert metrics.fees_paid == {"BTC": D("0.002"), "USDT": D("0.21978")}
    labels = [label for label, _ in metrics.rows()]
    assert "Profit factor" in labels and "Exposure" in labels
