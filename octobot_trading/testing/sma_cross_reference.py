"""An independent plain-Python SMA-cross backtest: a test oracle and benchmark baseline.

Not part of the trading engine: tests compare ``run_backtest`` with ``SmaCrossMode`` against it,
and ``bench/bench_backtest.py`` uses it as the same-run baseline. The loop follows the documented
``SmaCrossMode`` semantics (docs/modes.md) and the simulated-fill rules (docs/trading.md) directly,
with no channel, manager, trader or mode: Decimal closes (``Decimal(repr(x))``), Decimal running
sums for the two averages (exact, so the sign of ``d`` is exact), market fills at the close with
the taker fee charged in the currency received. It shares no code with
:class:`octobot_trading.modes.SmaCrossMode` (which keeps scaled-integer sums) or with the
trading core, so agreement between the two is evidence, not tautology.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.enums import OrderSide
from octobot_trading.util.decimals import to_decimal
from octobot_trading.util.market_spec import MarketSpec

__all__ = ["ReferenceFill", "ReferenceResult", "sma_cross_reference"]


@dataclass(frozen=True, slots=True)
class ReferenceFill:
    """One market fill of the reference loop."""

    time: int
    side: OrderSide
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str


@dataclass(slots=True)
class ReferenceResult:
    """Fills and final balances of :func:`sma_cross_reference`."""

    fills: list[ReferenceFill]
    base: Decimal
    quote: Decimal


def sma_cross_reference(
    open_times: Sequence[int],
    closes: Sequence[float],
    time_frame_ms: int,
    *,
    base: str = "BTC",
    quote: str = "USDT",
    starting_quote: Decimal | int | str = "10000",
    starting_base: Decimal | int | str = "0",
    fast_period: int = 10,
    slow_period: int = 30,
    buy_fraction: Decimal | str = "0.95",
    taker_fee: Decimal | str = "0.001",
    market: MarketSpec | None = None,
) -> ReferenceResult:
    """Run SMA-cross over ``closes`` in a plain loop and return its fills and final balances.

    Parameters
    ----------
    open_times, closes
        Candle open times (ms) and closes (floats read from a data file), oldest first.
    time_frame_ms
        Candle length; orders happen at ``open_time + time_frame_ms`` (the close).
    starting_quote, starting_base
        Starting balances.
    fast_period, slow_period, buy_fraction
        The mode's configuration (the ``SmaCrossMode`` defaults).
    taker_fee
        Fee rate of market fills.
    market
        Precision and limits (default: ``1e-8`` steps, no minimums).
    """
    spec = market or MarketSpec()
    fraction = to_decimal(buy_fraction, name="buy_fraction")
    rate = to_decimal(taker_fee, name="taker_fee")
    quote_balance = to_decimal(starting_quote, name="starting_quote")
    base_balance = to_decimal(starting_base, name="starting_base")
    fills: list[ReferenceFill] = []
    window: list[Decimal] = []
    fast_sum = Decimal(0)
    slow_sum = Decimal(0)
    fast_n = Decimal(fast_period)
    slow_n = Decimal(slow_period)
    previous_d: Decimal | None = None
    longest = max(fast_period, slow_period)
    for index in range(len(closes)):
        close = Decimal(repr(float(closes[index])))
        window.append(close)
        fast_sum += close
        slow_sum += close
        count = len(window)
        if count > fast_period:
            fast_sum -= window[count - 1 - fast_period]
        if count > slow_period:
            slow_sum -= window[count - 1 - slow_period]
        if count < longest:
            continue
        # d = fast_sum / fast_n - slow_sum / slow_n, compared to 0 without dividing
        d = fast_sum * slow_n - slow_sum * fast_n
        if previous_d is not None:
            time = int(open_times[index]) + time_frame_ms
            held = spec.adapt_quantity(base_balance)
            holds_base = held > 0 and spec.passes_limits(held, close)
            if previous_d <= 0 < d and not holds_base:
                amount = spec.adapt_quantity(fraction * quote_balance / close)
                if amount > 0 and spec.passes_limits(amount, close):
                    fee = amount * rate
                    quote_balance -= amount * close
                    base_balance += amount - fee
                    fills.append(ReferenceFill(time, OrderSide.BUY, close, amount, fee, base))
            elif previous_d >= 0 > d and holds_base:
                cost = held * close
                fee = cost * rate
                base_balance -= held
                quote_balance += cost - fee
                fills.append(ReferenceFill(time, OrderSide.SELL, close, held, fee, quote))
        previous_d = d
        if count > 2 * longest + 2:
            del window[: count - longest - 1]
    return ReferenceResult(fills, base_balance, quote_balance)
