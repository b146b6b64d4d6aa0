"""Backtest metrics: returns, drawdown, risk ratios and trade statistics.

Money results (final value, total return, round-trip profits) are exact Decimals computed
from the fills and balances; curve statistics (drawdown, Sharpe, Sortino, exposure) are
computed on the sampled equity curve (float64 arrays, a derived display series, sampled at a
fixed interval rather than per price, so its size does not grow with the data).

Definitions
-----------
* ``total_return``: ``final_value / start_value - 1`` (exact).
* ``buy_and_hold_return``: return of converting the starting value into the traded asset at the
  first close and holding it to the last close (first symbol, no fees).
* ``max_drawdown``: the largest fall from a running peak of the equity curve, as a fraction.
* ``sharpe`` / ``sortino``: mean of the per-sample simple returns divided by their standard
  deviation (Sortino: by the downside deviation ``sqrt(mean(min(r, 0)^2))``), annualised by
  ``sqrt(samples per 365 days)``; risk-free rate 0. None when undefined (flat curve, < 3 samples).
* Round trips: per symbol, from a flat position to the next sell that leaves less than 0.1 %
  of the sold amount (dust below the amount step, valued at that sell's price). Profit of a
  round trip = quote received from its sells - quote spent on its buys - quote fees (fees
  charged in base reduce the position instead). Exact Decimals.
* ``win_rate``: winning round trips / round trips; ``profit_factor``: gross profit / gross loss
  (None when there is no losing round trip); ``trades``: number of fills.
* ``exposure``: fraction of equity samples in which assets other than the reference market are
  worth more than 1 % of the equity.

Contract symbols (fills with ``realized_pnl``): the equity includes the open positions'
unrealized PnL; a round trip runs from a flat position to the fill (or liquidation) that leaves
it flat again (a fill that flips the position closes the trip and opens the next); its profit
is the realized PnL of its fills minus their fees, a liquidation counting as ``-margin_lost``
(settle currency; funding is reported apart). ``funding`` is the net funding received per
settle currency (negative when paid), ``liquidations`` their count, ``realized_pnl`` the
gross realized PnL per settle currency, liquidations included (each ``-margin_lost``), so that
``start + realized_pnl - fees_paid + funding`` is the final wallet; ``exposure`` counts samples
with an open position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from octobot_trading.enums import OrderSide
from octobot_trading.util.records import fast_frozen_init
from octobot_trading.util.symbols import parse_symbol

__all__ = ["BacktestMetrics", "EquityCurve", "Fill", "RoundTrip", "compute_metrics", "round_trips"]

_YEAR_MS = 365 * 24 * 3600 * 1000


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class Fill:
    """One fill of a backtest: time (ms), symbol, side, price, amount, fee and its currency.

    On a contract symbol ``amount`` is in contracts and ``realized_pnl`` is the gross PnL (settle
    currency) the fill realized on the part of a position it closed (0 when it only opened);
    it is None on spot.
    """

    time: int
    symbol: str
    side: OrderSide
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str
    order_type: str = "market"
    order_id: str = field(default="", compare=False)  # the order's random internal UUID
    realized_pnl: Decimal | None = None  # contract fills: gross PnL of the part of a position closed


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """A flat-to-flat sequence of fills of one symbol and its exact profit in quote."""

    symbol: str
    open_time: int
    close_time: int
    profit: Decimal
    fills: int


@dataclass(slots=True)
class EquityCurve:
    """Portfolio value in the reference market, sampled: ``times`` (ms) and ``values``.

    ``exposure`` is the value held in other assets at each sample; ``prices`` the close of the
    first symbol (for buy-and-hold and the report's price chart).
    """

    times: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    exposure: npt.NDArray[np.float64]
    prices: npt.NDArray[np.float64]
    reference_market: str = "USDT"

    def __len__(self) -> int:
        return int(self.times.shape[0])

    def drawdown(self) -> npt.NDArray[np.float64]:
        """Fall from the running peak at each sample, as a fraction (0 at a new peak)."""
        if len(self) == 0:
            return np.zeros(0)
        peaks = np.maximum.accumulate(self.values)
        return np.where(peaks > 0, (peaks - self.values) / np.where(peaks > 0, peaks, 1), 0.0)


@dataclass(slots=True)
class BacktestMetrics:
    """Summary statistics of a backtest (see the module docstring for definitions)."""

    start_value: Decimal
    final_value: Decimal
    total_return: Decimal
    buy_and_hold_return: Decimal | None
    max_drawdown: float
    sharpe: float | None
    sortino: float | None
    win_rate: float | None
    profit_factor: float | None
    trades: int
    round_trips: int
    exposure: float
    fees_paid: dict[str, Decimal] = field(default_factory=dict)
    futures: bool = False
    funding: dict[str, Decimal] = field(default_factory=dict)
    liquidations: int = 0
    realized_pnl: dict[str, Decimal] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the metrics as a plain dict (Decimals kept)."""
        return asdict(self)

    def rows(self) -> list[tuple[str, str]]:
        """Return ``(label, formatted value)`` rows for tables."""

        def pct(value: float | Decimal | None) -> str:
            return "n/a" if value is None else f"{float(value) * 100:.2f} %"

        def num(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        def amounts(values: dict[str, Decimal]) -> str:
            return ", ".join(f"{amount.normalize():f} {cur}" for cur, amount in sorted(values.items())) or "0"

        fees = amounts(self.fees_paid)
        futures = [
            ("Realized PnL", amounts(self.realized_pnl)),
            ("Funding (net)", amounts(self.funding)),
            ("Liquidations", str(self.liquidations)),
        ]
        return [
            ("Start value", f"{self.start_value.normalize():f}"),
            ("Final value", f"{self.final_value.quantize(Decimal('0.01')):f}"),
            ("Total return", pct(self.total_return)),
            ("Buy & hold return", pct(self.buy_and_hold_return)),
            ("Max drawdown", pct(self.max_drawdown)),
            ("Sharpe (annualised)", num(self.sharpe)),
            ("Sortino (annualised)", num(self.sortino)),
            ("Win rate", pct(self.win_rate)),
            ("Profit factor", num(self.profit_factor)),
            ("Trades (fills)", str(self.trades)),
            ("Round trips", str(self.round_trips)),
            ("Exposure", pct(self.exposure)),
            ("Fees paid", fees),
            *(futures if self.futures else []),
        ]


def round_trips(fills: Sequence[Fill], bases: dict[str, str], liquidations: Sequence[Any] = ()) -> list[RoundTrip]:
    """Group ``fills`` into flat-to-flat round trips per symbol (``bases``: symbol -> base).

    A round trip closes on a sell after which less than 0.1 % of the sold amount is left (the
    rest is dust below the amount step); that leftover is valued at the sell price. Contract
    fills (``realized_pnl`` set) and ``liquidations`` follow the position instead (module docstring).
    """
    trips: list[RoundTrip] = []
    state: dict[str, list[Any]] = {}  # symbol -> [position, cash, open time, fills]
    contract_fills = [f for f in fills if f.realized_pnl is not None]
    if contract_fills or liquidations:
        trips = _contract_round_trips(contract_fills, liquidations)
        fills = [f for f in fills if f.realized_pnl is None]
    for fill in fills:
        base = bases[fill.symbol]
        entry = state.get(fill.symbol)
        if entry is None:
            entry = state[fill.symbol] = [Decimal(0), Decimal(0), fill.time, 0]
        if entry[3] == 0:
            entry[2] = fill.time
        fee_in_base = fill.fee if fill.fee_currency == base else Decimal(0)
        fee_in_quote = Decimal(0) if fill.fee_currency == base else fill.fee
        cost = fill.amount * fill.price
        if fill.side is OrderSide.BUY:
            entry[0] += fill.amount - fee_in_base
            entry[1] -= cost + fee_in_quote
        else:
            entry[0] -= fill.amount + fee_in_base
            entry[1] += cost - fee_in_quote
        entry[3] += 1
        if fill.side is OrderSide.SELL and entry[0] * 1000 < fill.amount:
            trips.append(RoundTrip(fill.symbol, entry[2], fill.time, entry[1] + entry[0] * fill.price, entry[3]))
            state[fill.symbol] = [Decimal(0), Decimal(0), fill.time, 0]
    return trips


def _contract_round_trips(fills: Sequence[Fill], liquidations: Sequence[Any]) -> list[RoundTrip]:
    """Round trips of contract positions: signed contracts from flat to flat (see the module docstring)."""
    events: list[tuple[int, int, Any]] = [(q.time, 0, q) for q in liquidations]  # liquidations first at a time
    events.extend((f.time, 1, f) for f in fills)
    events.sort(key=lambda event: (event[0], event[1]))
    trips: list[RoundTrip] = []
    state: dict[str, list[Any]] = {}  # symbol -> [signed contracts, profit, open time, events]
    for time, _, event in events:
        entry = state.setdefault(event.symbol, [Decimal(0), Decimal(0), time, 0])
        if entry[3] == 0:
            entry[2] = time
        entry[3] += 1
        if isinstance(event, Fill):
            signed = event.amount if event.side is OrderSide.BUY else -event.amount
            before = entry[0]
            entry[0] = before + signed
            entry[1] += (event.realized_pnl or Decimal(0)) - event.fee
            closed = before != 0 and (entry[0] == 0 or (entry[0] > 0) != (before > 0))
        else:
            entry[0] = Decimal(0)
            entry[1] -= event.margin_lost
            closed = True
        if closed:
            trips.append(RoundTrip(event.symbol, entry[2], time, entry[1], entry[3]))
            remainder = entry[0]
            state[event.symbol] = [remainder, Decimal(0), time, 1 if remainder else 0]
    return trips


def _ratio(returns: npt.NDArray[np.float64], denominator: float, per_year: float) -> float | None:
    if denominator <= 0 or not math.isfinite(denominator):
        return None
    return float(returns.mean() / denominator * math.sqrt(per_year))


def compute_metrics(
    curve: EquityCurve,
    fills: Sequence[Fill],
    *,
    start_value: Decimal,
    final_value: Decimal,
    bases: dict[str, str],
    buy_and_hold_return: Decimal | None = None,
    funding: Sequence[Any] = (),
    liquidations: Sequence[Any] = (),
) -> BacktestMetrics:
    """Compute :class:`BacktestMetrics` from the equity curve, the fills and exact values.

    ``funding`` / ``liquidations``: a futures run's funding payments and liquidations
    (:mod:`~octobot_trading.backtesting.futures_results`).
    """
    total_return = final_value / start_value - 1 if start_value else Decimal(0)
    drawdown = curve.drawdown()
    max_dd = float(drawdown.max()) if len(drawdown) else 0.0
    sharpe = sortino = None
    values = curve.values
    if len(values) >= 3:
        previous = values[:-1]
        # a sample at zero equity (an account wiped out) has no return to the next one
        returns = np.divide(np.diff(values), previous, out=np.zeros(len(previous)), where=previous != 0)
        step_ms = float(np.median(np.diff(curve.times)))
        per_year = _YEAR_MS / step_ms if step_ms > 0 else 0.0
        if per_year > 0 and len(returns) >= 2:
            sharpe = _ratio(returns, float(returns.std(ddof=1)), per_year)
            downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)))
            sortino = _ratio(returns, downside, per_year)
    trips = round_trips(fills, bases, liquidations)
    wins = [t.profit for t in trips if t.profit > 0]
    losses = [-t.profit for t in trips if t.profit < 0]
    win_rate = len(wins) / len(trips) if trips else None
    profit_factor = float(sum(wins) / sum(losses)) if losses and sum(losses) > 0 else None
    exposure = float(np.mean(curve.exposure > 0.01 * np.abs(curve.values))) if len(curve) else 0.0
    fees: dict[str, Decimal] = {}
    realized: dict[str, Decimal] = {}
    for fill in fills:
        fees[fill.fee_currency] = fees.get(fill.fee_currency, Decimal(0)) + fill.fee
        if fill.realized_pnl is not None:
            settle = parse_symbol(fill.symbol).settle or fill.fee_currency
            realized[settle] = realized.get(settle, Decimal(0)) + fill.realized_pnl
    for liquidation in liquidations:  # closed at the liquidation price: realized -margin_lost
        settle = parse_symbol(liquidation.symbol).settle or ""
        realized[settle] = realized.get(settle, Decimal(0)) - liquidation.margin_lost
    net_funding: dict[str, Decimal] = {}
    for payment in funding:
        net_funding[payment.currency] = net_funding.get(payment.currency, Decimal(0)) + payment.amount
    return BacktestMetrics(
        start_value=start_value,
        final_value=final_value,
        total_return=total_return,
        buy_and_hold_return=buy_and_hold_return,
        max_drawdown=max_dd,
        sharpe=sharpe,
        sortino=sortino,
        win_rate=win_rate,
        profit_factor=profit_factor,
        trades=len(fills),
        round_trips=len(trips),
        exposure=exposure,
        fees_paid=fees,
        futures=bool(realized or funding or liquidations or any(not parse_symbol(s).is_spot for s in bases)),
        funding=net_funding,
        liquidations=len(liquidations),
        realized_pnl=realized,
    )
