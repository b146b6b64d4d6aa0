"""Portfolio value in a reference market, with multi-hop conversion, and profitability.

Prices come from an injected ``price_of(symbol) -> Decimal | None`` (mark prices from the
market-data layer, or the backtest's last closes). A currency without a direct pair to the
reference market is converted through a chain of known pairs (ETH -> BTC -> USDT), found by a
breadth-first search over the symbols given. Values are computed when read, never per price
update. Futures positions count with their unrealized PnL (``positions=``): each position's
``unrealized_pnl``, in its settle currency, is added to the totals before conversion.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from octobot_trading.util.decimals import ONE, ZERO
from octobot_trading.util.symbols import parse_symbol

__all__ = ["PortfolioValuator", "Profitability"]

PriceOf = Callable[[str], "Decimal | None"]


@dataclass(frozen=True, slots=True)
class Profitability:
    """Current value and its change vs the start and vs holding the starting assets."""

    value: Decimal
    starting_value: Decimal
    holding_value: Decimal
    vs_start_percent: Decimal
    vs_holding_percent: Decimal


class PortfolioValuator:
    """Convert currency amounts to ``reference_market`` through the pairs in ``symbols``."""

    def __init__(self, reference_market: str, symbols: Iterable[str], price_of: PriceOf) -> None:
        self.reference_market = reference_market
        self.price_of = price_of
        self._edges: dict[str, list[tuple[str, str, bool]]] = {}
        for symbol in symbols:
            self.add_symbol(symbol)

    def add_symbol(self, symbol: str) -> None:
        """Make ``symbol``'s pair usable for conversions."""
        parsed = parse_symbol(symbol)
        self._edges.setdefault(parsed.base, []).append((parsed.quote, symbol, False))
        self._edges.setdefault(parsed.quote, []).append((parsed.base, symbol, True))

    def rate(self, currency: str) -> Decimal | None:
        """Return the value of one unit of ``currency`` in the reference market, or None if unknown."""
        if currency == self.reference_market:
            return ONE
        seen = {currency}
        queue: deque[tuple[str, Decimal]] = deque([(currency, ONE)])
        while queue:
            current, rate = queue.popleft()
            for other, symbol, inverse in self._edges.get(current, ()):
                if other in seen:
                    continue
                price = self.price_of(symbol)
                if price is None or price <= 0:
                    continue
                next_rate = rate / price if inverse else rate * price
                if other == self.reference_market:
                    return next_rate
                seen.add(other)
                queue.append((other, next_rate))
        return None

    def value(self, totals: Mapping[str, Decimal], positions: Iterable[Any] = ()) -> Decimal:
        """Value of ``totals`` plus the ``positions``' unrealized PnL (``ot.Position``) in the
        reference market; currencies without a price count as zero."""
        amounts = dict(totals)
        for position in positions:
            pnl = position.unrealized_pnl
            settle = parse_symbol(position.symbol).settle
            if pnl and settle:
                amounts[settle] = amounts.get(settle, ZERO) + pnl
        result = ZERO
        for currency, amount in amounts.items():
            if amount == 0:
                continue
            rate = self.rate(currency)
            if rate is not None:
                result += amount * rate
        return result

    def profitability(
        self,
        current: Mapping[str, Decimal],
        starting: Mapping[str, Decimal],
        starting_value: Decimal | None = None,
        positions: Iterable[Any] = (),
    ) -> Profitability:
        """Compare ``current`` totals (with the open ``positions``' unrealized PnL) with ``starting``
        ones (valued then at ``starting_value``)."""
        value = self.value(current, positions)
        holding = self.value(starting)
        start = holding if starting_value is None else starting_value
        vs_start = (value - start) / start * 100 if start else ZERO
        vs_holding = (value - holding) / holding * 100 if holding else ZERO
        return Profitability(value, start, holding, vs_start, vs_holding)
