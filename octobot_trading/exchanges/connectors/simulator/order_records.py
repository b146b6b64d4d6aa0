"""The simulated venue's order book-keeping: one record per order and the arithmetic on records.

A :class:`SimOrder` is what the simulated connector keeps for each order it accepted (status,
fills, fees, the funds it locks and the order whose locked funds it shares). The plain functions
here settle one fill on a record against the account, value the funds an edited order needs,
answer the closed-orders and fills queries, drop done records and continue the venue's ids after a
restart. They take every collaborator as an argument and change only what they are given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.exchanges.connectors.simulator.account import SimulatedAccount
from octobot_trading.exchanges.connectors.simulator.matching import RestingOrder
from octobot_trading.exchanges.types import ExchangeOrder, ExchangeTrade, MarketInfo
from octobot_trading.util.decimals import ONE, ZERO, to_decimal
from octobot_trading.util.records import record_builder

__all__ = [
    "SimOrder",
    "closed_order_views",
    "first_free_id",
    "forget_done_orders",
    "funds_needed",
    "matching_trades",
    "optional_decimal",
    "pass_on_reservation",
    "settle_fill",
]

# enum members as module constants: attribute access on an Enum class is slow on the order path
_BUY = OrderSide.BUY
_OPEN, _PARTIALLY_FILLED, _FILLED = OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED
_DONE = (OrderStatus.FILLED, OrderStatus.CANCELED)
_new_view = record_builder(ExchangeOrder)  # ExchangeOrder(...) without the class call (once per order)
#: the simulated venue's order ids ``sim-N`` and trade ids ``sim-t-N``
_SIM_ID = re.compile(r"^sim-(?:t-)?(\d+)$")


class SimOrder:
    """The venue's record of one order: its resting part in the engine plus fills, fees and locked funds."""

    __slots__ = (
        "_view",
        "average",
        "client_order_id",
        "cost",
        "fee",
        "fee_currency",
        "fill_value",
        "filled",
        "id",
        "owner",
        "reserve_unit",
        "reserved",
        "reserved_currency",
        "resting",
        "sharers",
        "status",
        "timestamp",
        "updated",
    )

    def __init__(self, resting: RestingOrder, timestamp: int) -> None:
        self.id = resting.id
        self.client_order_id = resting.client_order_id
        self.resting = resting
        self.status = _OPEN
        self.filled = ZERO
        self.cost = ZERO
        #: Average fill price when it is not ``cost / filled`` (an inverse contract's harmonic mean)
        self.average: Decimal | None = None
        #: An inverse contract's Σ (contracts / price) of the fills, exact (None before a fill)
        self.fill_value: Fraction | None = None
        self.fee = ZERO
        self.fee_currency: str | None = None
        self.reserved = ZERO
        self.reserved_currency: str | None = None
        #: Price the reservation of a buy was valued at (trailing stops keep their initial stop).
        self.reserve_unit = ZERO
        #: Order whose locked funds this one shares (OCO exits on the same funds).
        self.owner: SimOrder | None = None
        #: Orders sharing this one's locked funds (None when none).
        self.sharers: list[SimOrder] | None = None
        self.timestamp = timestamp
        self.updated = timestamp
        self._view: ExchangeOrder | None = None

    def touch(self) -> None:
        """Forget the cached view after a change."""
        self._view = None

    def view(self) -> ExchangeOrder:
        if self._view is not None:
            return self._view
        self._view = self._build_view()
        return self._view

    def _build_view(self) -> ExchangeOrder:
        r = self.resting
        status, filled = self.status, self.filled
        resting = status is _OPEN or status is _PARTIALLY_FILLED
        amount = r.amount if resting or not filled > r.amount else filled  # (a done order: the larger)
        return _new_view(
            id=self.id,
            client_order_id=self.client_order_id,
            symbol=r.symbol,
            type=r.order_type,
            side=r.side,
            status=status,
            price=r.price,
            amount=amount,
            filled=filled,
            remaining=amount - filled if resting else ZERO,
            average=self.average if self.average is not None else self.cost / filled if filled else None,
            fee=self.fee,
            timestamp=self.timestamp,
            fee_currency=self.fee_currency,
            trigger_price=r.trigger,
            last_update_timestamp=self.updated,
        )


def settle_fill(
    record: SimOrder,
    market: MarketInfo,
    account: SimulatedAccount,
    rate: Decimal,
    amount: Decimal,
    price: Decimal,
    now: int,
) -> tuple[Decimal, str]:
    """Settle ``amount`` of ``record``'s order filled at ``price`` on ``account`` and update the record.

    The fee is ``rate`` of the received amount, in the received currency; the funds come from what
    the record locks (or, once spent, from the order it shares funds with). Returns ``(fee, fee_currency)``.
    """
    resting = record.resting
    cost = amount * price
    last_fill = resting.amount - resting.filled <= 0  # (nothing remaining)
    if resting.side is _BUY:
        spent, spent_amount, received, received_amount = market.quote, cost, market.base, amount
    else:
        spent, spent_amount, received, received_amount = market.base, amount, market.quote, cost
    fee = received_amount * rate
    source = record if record.reserved > 0 or record.owner is None else record.owner
    unlock = source.reserved if (last_fill and source is record) else min(spent_amount, source.reserved)
    account.settle(spent, spent_amount, unlock, received, received_amount, received, fee)
    # (the shared ZERO once all unlocked: no zero Decimal kept per order)
    source.reserved = ZERO if unlock == source.reserved else source.reserved - unlock
    record.filled += amount
    record.cost += cost
    record.fee += fee
    record.fee_currency = received
    record.updated = now
    record.status = _FILLED if last_fill else _PARTIALLY_FILLED
    record.touch()
    return fee, received


def pass_on_reservation(record: SimOrder) -> None:
    """Hand what ``record`` (ending unfilled) still locks to the first open order sharing it.

    That order becomes the owner the other open sharers use; the funds stay locked.
    """
    heir: SimOrder | None = None
    for sharer in record.sharers or ():
        if sharer.owner is not record or sharer.status not in (_OPEN, _PARTIALLY_FILLED):
            continue
        if heir is None:
            heir = sharer
            heir.owner = None
            heir.reserved += record.reserved
            record.reserved = ZERO
        else:
            sharer.owner = heir
            heir.sharers = [*(heir.sharers or ()), sharer]
    record.sharers = None


def funds_needed(record: SimOrder, reserve_price_of: Callable[[RestingOrder], Decimal | None]) -> Decimal:
    """What ``record`` must lock for its remaining amount once edited, after the funds of the order it shares.

    A sell locks its base amount; a trailing buy keeps the unit its reservation was valued at;
    another buy is valued at ``reserve_price_of(resting)``. An order whose locked funds others
    share keeps at least what each open sharer needs beyond its own locked part.
    """
    needed = _own_need(record, reserve_price_of)
    owner = record.owner
    if owner is not None and owner.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
        needed = max(ZERO, needed - owner.reserved)
    for sharer in record.sharers or ():
        if sharer.owner is record and sharer.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            needed = max(needed, _own_need(sharer, reserve_price_of) - sharer.reserved)
    return needed


def _own_need(record: SimOrder, reserve_price_of: Callable[[RestingOrder], Decimal | None]) -> Decimal:
    resting = record.resting
    remaining = resting.amount - resting.filled
    if resting.side is OrderSide.SELL:
        unit: Decimal | None = ONE
    elif resting.order_type in (OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT):
        unit = record.reserve_unit
    else:
        unit = reserve_price_of(resting)
    return remaining * (unit or ZERO)


def closed_order_views(
    records: Iterable[SimOrder], symbol: str | None, since: int | None, limit: int | None
) -> list[ExchangeOrder]:
    """Views of the filled and canceled ``records`` on ``symbol`` updated since ``since``, the last ``limit``."""
    result = [
        r.view()
        for r in records
        if r.status in _DONE
        and (symbol is None or r.resting.symbol == symbol)
        and (since is None or r.updated >= since)
    ]
    return result[-limit:] if limit else result


def matching_trades(
    trades: Iterable[ExchangeTrade], symbol: str | None, since: int | None, limit: int | None
) -> list[ExchangeTrade]:
    """The ``trades`` on ``symbol`` made since ``since``, the last ``limit``."""
    result = [t for t in trades if (symbol is None or t.symbol == symbol) and (since is None or t.timestamp >= since)]
    return result[-limit:] if limit else result


def forget_done_orders(orders: dict[str, SimOrder], by_client_id: dict[str, SimOrder]) -> int:
    """Remove the done (filled, canceled) records from both indexes; returns how many were removed."""
    done = [record for record in orders.values() if record.status not in (_OPEN, _PARTIALLY_FILLED)]
    for record in done:
        del orders[record.id]
        if record.client_order_id is not None:
            by_client_id.pop(record.client_order_id, None)
    return len(done)


def first_free_id(known_ids: Iterable[str | None]) -> int:
    """The first id number after the largest ``sim-N`` / ``sim-t-N`` among ``known_ids`` (1 when none)."""
    numbers = [int(match.group(1)) for match in (_SIM_ID.match(x or "") for x in known_ids) if match]
    return max(numbers, default=0) + 1


def optional_decimal(value: Any) -> Decimal | None:
    """An order parameter as a Decimal, or None when absent."""
    return None if value is None else to_decimal(value, name="order parameter")
