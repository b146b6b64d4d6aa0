"""Reduce-only orders share their position: the room left for one more.

A ``reduce_only`` order is accepted only for what its position has left after the other resting
``reduce_only`` orders that close it (as Binance does): two reduce-only sells of 100 on a long of
100 are not both accepted. The trader (``FuturesTrading.check``) and the simulated venue
(``FuturesVenue.reserve``) both apply :func:`check_room`. A resting reduce-only order that no
longer fits because the position shrank another way is canceled by the venue when its price is
reached (its fill would open or grow a position); it never opens or grows one.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from octobot_trading.errors import InvalidOrder
from octobot_trading.util.decimals import ZERO, decimal_to_str

__all__ = ["check_room", "room"]


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
