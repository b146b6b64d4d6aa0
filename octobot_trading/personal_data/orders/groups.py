"""Order groups: one-cancels-the-other and balanced take-profit / stop-loss.

A group records its members and its kind, and owns the rule tying them: :meth:`OrderGroup.on_fill`
says what a member's fill does to the others (cancel them for OCO, shrink them for BALANCED) as
a list of actions, :class:`CancelOrder` and :class:`ResizeOrder`. The
:class:`~octobot_trading.personal_data.trader.Trader` executes them (through the venue for
active orders, locally for inactive ones) from an order hook, the same way in live, paper and
backtest trading.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from octobot_trading.util.decimals import ZERO

if TYPE_CHECKING:
    from octobot_trading.personal_data.orders.order import Order

__all__ = ["CancelOrder", "GroupAction", "GroupKind", "OrderGroup", "ResizeOrder", "pass_on_reservation"]


class GroupKind(StrEnum):
    """How members of a group affect each other."""

    OCO = "oco"
    """When one member fills (even partly), the others are canceled."""
    BALANCED = "balanced"
    """Members cover the same amount: a fill of one shrinks the others to its remaining amount."""


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel ``order`` (a group sibling of a filled member)."""

    order: Order


@dataclass(frozen=True, slots=True)
class ResizeOrder:
    """Change the total amount of ``order`` to ``amount`` (it keeps what it already filled)."""

    order: Order
    amount: Decimal


GroupAction = CancelOrder | ResizeOrder
"""What a group asks the trader to do after a member's fill."""


class OrderGroup:
    """A set of orders tied together by ``kind``."""

    def __init__(self, kind: GroupKind | str = GroupKind.OCO, name: str | None = None) -> None:
        self.kind = GroupKind(kind)
        self.name = name or f"{self.kind.value}-{uuid.uuid4().hex[:12]}"
        self.orders: list[Order] = []

    def add(self, order: Order) -> None:
        """Add ``order`` to the group (an order belongs to one group at most)."""
        if order.group is not None and order.group is not self:
            raise ValueError(f"order {order.id} already belongs to group {order.group.name}")
        order.group = self
        if order not in self.orders:
            self.orders.append(order)

    def siblings(self, order: Order) -> list[Order]:
        """The other members of the group."""
        return [o for o in self.orders if o is not order]

    def on_fill(self, order: Order) -> list[GroupAction]:
        """The actions a fill of member ``order`` calls for, one per sibling not done yet.

        OCO: cancel every sibling. BALANCED: once ``order`` is completely filled, cancel the
        siblings; while it is partly filled, shrink each sibling covering more than its remaining
        amount to exactly that (the sibling's filled amount plus ``order``'s remaining amount).
        """
        actions: list[GroupAction] = []
        remaining = order.remaining
        cancel_all = self.kind is GroupKind.OCO or remaining == 0
        for sibling in self.orders:
            if sibling is order or sibling.is_done:
                continue
            if cancel_all:
                actions.append(CancelOrder(sibling))
            elif sibling.remaining > remaining:
                actions.append(ResizeOrder(sibling, sibling.filled + remaining))
        return actions

    def __repr__(self) -> str:
        return f"OrderGroup({self.kind.value}, {self.name}, {len(self.orders)} orders)"


def pass_on_reservation(order: Order) -> None:
    """Hand what ``order`` still reserves to the group member still open that shares it.

    Called when ``order`` ends without filling: the first sibling still open whose reservation is
    ``order``'s (same funds) takes it over and becomes the owner the other sharers use. Nothing is
    released or reserved again: the funds stay locked for that sibling's remaining amount.
    """
    group = order.group
    if group is None or order.reserved_currency is None or not order.reserved_amount:
        return
    heir: Order | None = None
    for sibling in group.orders:
        if sibling.reservation_owner is not order or sibling.is_done:
            continue
        if heir is None:
            if sibling.sub_portfolio != order.sub_portfolio or sibling.reserved_currency not in (
                None,
                order.reserved_currency,
            ):
                return
            heir = sibling
            heir.reservation_owner = None
            heir.reserved_currency = order.reserved_currency
            heir.reserved_amount += order.reserved_amount
            order.reserved_amount = ZERO
        else:
            sibling.reservation_owner = heir
