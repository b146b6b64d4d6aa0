"""Reduce-only orders share their position: the room left for one more.

A ``reduce_only`` order is accepted only for what its position has left after the other resting
``reduce_only`` orders that close it (as Binance does): two reduce-only sells of 100 on a long of
100 are not both accepted. The trader (``FuturesTrading.check``) and the simulated venue
(``FuturesVenue.reserve``) both apply :func:`check_room`. A resting reduce-only order that no
longer fits because the position shrank another way fills, when its price is reached, only what
the position still holds (:func:`fillable`) and the rest of it is canceled (a position already
closed: all of it); it never opens, grows or flips one.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from octobot_trading.enums import OrderSide, PositionSide
from octobot_trading.errors import InvalidOrder
from octobot_trading.util.decimals import ZERO, decimal_to_str

if TYPE_CHECKING:
    from octobot_trading.personal_data.positions.position import Position

__all__ = ["check_room", "closable", "fill_excess", "fillable", "room"]


def room(held: Decimal, others: Iterable[Decimal]) -> Decimal:
    """Contracts of a position of ``held`` contracts that the other resting reduce-only orders
    (their remaining amounts, ``others``) do not already close; never below 0."""
    return max(held - sum(others, ZERO), ZERO)


def check_room(symbol: str, amount: Decimal, held: Decimal, others: Iterable[Decimal]) -> None:
    """Refuse (``InvalidOrder(limit="reduce_only")``, naming ``symbol``) a reduce-only order of
    ``amount`` contracts larger than the :func:`room` its position has left."""
    left = room(held, others)
    if amount > left:
        raise InvalidOrder(
            f"a reduce_only order of {decimal_to_str(amount)} on {symbol} would open or grow a position: "
            f"{decimal_to_str(left)} of the {decimal_to_str(held)} contracts held are not already "
            "closed by other resting reduce_only orders",
            limit="reduce_only",
            symbol=symbol,
        )


def closable(position_side: PositionSide | None, contracts: Decimal, order_side: OrderSide) -> Decimal:
    """Contracts an order on ``order_side`` can close of a position on ``position_side`` holding
    ``contracts`` (``position_side`` None: no position): all of them when the order goes against
    it, none otherwise."""
    if position_side is None or (order_side is OrderSide.SELL) != (position_side is PositionSide.LONG):
        return ZERO
    return contracts


def fillable(amount: Decimal, held: Decimal) -> Decimal:
    """What a fill of ``amount`` contracts of a reduce-only order may take when the position it
    closes holds ``held`` contracts: at most what is held (the rest of the order is canceled)."""
    return max(min(amount, held), ZERO)


def fill_excess(position: Position | None, order_side: OrderSide, amount: Decimal) -> Decimal:
    """Contracts of a reduce-only fill of ``amount`` beyond what ``position`` (the one it closes)
    holds, to cut from the fill and cancel; 0 when it fits, and 0 when nothing is held at all (the
    venue then refuses the fill and cancels the whole order)."""
    held = ZERO if position is None else closable(position.side, position.contracts, order_side)
    allowed = fillable(amount, held)
    return amount - allowed if allowed > 0 else ZERO
