"""Isolated liquidations as events of the candle walk, in path order with the resting orders.

When a candle both reaches resting orders and an isolated position's liquidation price, what
happens first is decided by the price path (open -> nearer extreme -> other extreme -> close), as
between two orders (docs/futures.md, "Isolated liquidation"): a stop-loss beyond the liquidation
price never fills before the liquidation the path reaches first, a limit order beyond it never
grows the position before, a take-profit reached after a dip through it never saves the
position. On the same path point (a gap: paper trading's one-point path, an open beyond the
price) the liquidation comes first: the venue's mark was already past it.

:class:`LiquidationGuard` is what the matching engine's walk asks (``MatchingEngine.path_guard``)
at each step: the distance along the current path segment where the next isolated liquidation
of the symbol happens (:meth:`LiquidationGuard.next_at`), and :meth:`LiquidationGuard.fire` to
make it (the account's exact check on that one path point, the venue's records, the push to
the trader). The liquidation prices are read again after each fill, so a position a fill grew
or opened is judged at its new price on the rest of the path.

A symbol with mark-price candles of its own is not guarded: its liquidation is judged on the
mark candle's path after the traded candle's orders (two series have no common intra-candle
order).
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import TYPE_CHECKING

from octobot_trading.enums import MarginMode, PositionSide
from octobot_trading.util.decimals import ZERO

if TYPE_CHECKING:
    from octobot_trading.exchanges.connectors.simulator.futures_calls import FuturesCalls

__all__ = ["LiquidationGuard", "liquidation_guard"]


def liquidation_guard(connector: FuturesCalls, symbol: str, time_ms: int) -> LiquidationGuard | None:
    """The guard of ``symbol``'s walk of the candle closing at ``time_ms``; None when the symbol has
    no position, is not a contract or has its own mark candle at that time."""
    venue = connector.futures
    if venue is None or not venue.has_exposure(symbol):
        return None
    marks = venue.mark_prices.get(symbol)
    if marks is not None:
        index = bisect.bisect_left(marks[0], time_ms)
        if index < len(marks[0]) and marks[0][index] == time_ms:
            return None
    return LiquidationGuard(connector, symbol)


class LiquidationGuard:
    """The isolated liquidations of one symbol during one candle walk (see the module docstring)."""

    __slots__ = ("connector", "symbol")

    def __init__(self, connector: FuturesCalls, symbol: str) -> None:
        self.connector = connector
        self.symbol = symbol

    def next_at(self, start: Decimal, end: Decimal, position: Decimal) -> Decimal | None:
        """Distance from ``start`` along the segment ``start -> end`` (at least ``position``, the
        point already reached) where an isolated position of the symbol is liquidated; None when
        none is on this segment."""
        venue = self.connector.futures
        if venue is None:
            return None
        best: Decimal | None = None
        descending = end < start
        for held in venue.account.positions():
            liquidation = held.liquidation_price
            if held.symbol != self.symbol or held.margin_mode is not MarginMode.ISOLATED or liquidation is None:
                continue
            if held.side is PositionSide.LONG:  # acts when the price <= its liquidation price
                if descending:
                    if liquidation < end:
                        continue
                    at = max(start - liquidation, ZERO)
                elif start + position > liquidation:
                    continue
                else:
                    at = ZERO
            elif not descending:  # a short: acts when the price >= its liquidation price
                if liquidation > end:
                    continue
                at = max(liquidation - start, ZERO)
            elif start - position < liquidation:
                continue
            else:
                at = ZERO
            at = max(at, position)
            if best is None or at < best:
                best = at
        return best

    async def fire(self, point: Decimal, time_ms: int) -> bool:
        """Liquidate the isolated positions of the symbol that ``point`` reaches and push them;
        False when none was."""
        venue = self.connector.futures
        if venue is None:
            return False
        venue.flush_marks()
        done = venue.account.check_isolated_liquidation(self.symbol, (point,), time_ms)
        if not done:
            return False
        venue.liquidations.extend(done)
        venue._positions_changed()  # the venue's own bookkeeping of its open positions
        await self.connector.push_positions(done)
        return True
