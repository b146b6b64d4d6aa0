"""The local order: identity, parameters, fill progress and its state machine.

An :class:`Order` is the library's view of one order, whatever the venue. It has a stable
internal UUID (``id``), the client order id sent to the exchange, the exchange's id once
known, creation / update times read from a :class:`~octobot_trading.clock.Clock`, the filled
amount, the average fill price and the fees paid. Every status change goes through
:meth:`Order.transition`, which enforces :mod:`.states` and changes nothing when it refuses.

Subclasses (one per :class:`~octobot_trading.enums.OrderType`, never one per side) live in
:mod:`.order_types`; they validate their own parameters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from octobot_trading.clock import Clock
from octobot_trading.enums import OrderSide, OrderStatus, OrderType, PositionSide
from octobot_trading.errors import InvalidOrder, InvalidOrderState
from octobot_trading.personal_data.orders.states import check_transition
from octobot_trading.util.decimals import ZERO, decimal_to_str, to_decimal
from octobot_trading.util.ids import new_client_order_id, random_hex, uuid_text

if TYPE_CHECKING:
    from octobot_trading.personal_data.orders.groups import OrderGroup

__all__ = ["Order", "OrderEvent", "OrderHook", "OrderTerms", "new_client_order_id"]

_NO_FEES: Mapping[str, Decimal] = MappingProxyType({})


class OrderEvent(StrEnum):
    """Lifecycle events an order hook can listen to."""

    OPEN = "open"
    FILL = "fill"
    CANCEL = "cancel"
    CLOSE = "close"


# enum members as module constants: class attribute access on an Enum is slow on the order path
_OPEN = OrderStatus.OPEN
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_CANCELING = OrderStatus.CANCELING
_FILLED = OrderStatus.FILLED
_CLOSED = OrderStatus.CLOSED
_CANCELED = OrderStatus.CANCELED
_EXPIRED = OrderStatus.EXPIRED
_REJECTED = OrderStatus.REJECTED
_PENDING_CREATION = OrderStatus.PENDING_CREATION

OrderHook = Callable[["Order"], Awaitable[None]]
"""An async callback receiving the order whose event happened."""


class OrderTerms(NamedTuple):
    """What an order asks for: its amount, limit price and trigger (see :meth:`Order.amend`)."""

    amount: Decimal
    price: Decimal | None
    trigger_price: Decimal | None


def _positive(value: Decimal | int | str | None, name: str, symbol: str) -> Decimal | None:
    if value is None:
        return None
    result = to_decimal(value, name=name)
    if result <= 0:
        raise InvalidOrder(f"{name} must be positive, got {decimal_to_str(result)}", limit=name, symbol=symbol)
    return result


class Order:
    """One order and its lifecycle.

    Parameters
    ----------
    side, symbol, amount:
        What to trade; ``amount`` is in base currency (contracts on futures).
    price:
        Limit price (limit-priced types) or stop price (``STOP_LOSS`` / ``TAKE_PROFIT`` when no
        ``trigger_price`` is given).
    clock:
        Source of the creation and update times.
    trigger_price:
        Stop / take-profit trigger of the triggered types.
    trailing_percent, trailing_offset:
        Distance of a trailing stop from the best price seen (one of them for trailing types).
    limit_offset:
        For ``TRAILING_STOP_LIMIT``: the limit sits this far beyond the stop once triggered.
    client_order_id:
        Sent to the exchange; generated when omitted.
    reduce_only, tag, sub_portfolio:
        Free metadata carried with the order (``reduce_only`` is enforced on contract symbols).
    position_side:
        Contract orders in hedge mode: the position (``PositionSide.LONG`` / ``SHORT``) acted on.
    """

    order_type: ClassVar[OrderType]

    # slots: a backtest keeps every order it placed; an instance dictionary was ~1.5 KB per order
    __slots__ = (
        "_hooks",
        "amount",
        "chained_orders",
        "client_order_id",
        "clock",
        "created_at",
        "exchange_order_id",
        "fees",
        "filled",
        "filled_cost",
        "group",
        "id",
        "is_active",
        "limit_offset",
        "parent_id",
        "position_side",
        "price",
        "reduce_only",
        "reservation_owner",
        "reserved_amount",
        "reserved_currency",
        "self_managed",
        "side",
        "status",
        "sub_portfolio",
        "symbol",
        "tag",
        "trailing_offset",
        "trailing_percent",
        "trigger_price",
        "updated_at",
    )

    def __init__(
        self,
        side: OrderSide | str,
        symbol: str,
        amount: Decimal | int | str,
        price: Decimal | int | str | None = None,
        *,
        clock: Clock,
        trigger_price: Decimal | int | str | None = None,
        trailing_percent: Decimal | int | str | None = None,
        trailing_offset: Decimal | int | str | None = None,
        limit_offset: Decimal | int | str | None = None,
        client_order_id: str | None = None,
        reduce_only: bool = False,
        tag: str | None = None,
        sub_portfolio: str | None = None,
        position_side: PositionSide | None = None,
    ) -> None:
        if type(side) is not OrderSide:
            try:
                side = OrderSide(side)
            except ValueError:
                raise InvalidOrder(f"unknown order side {side!r}", limit="side", symbol=symbol) from None
        self.side: OrderSide = side
        self.symbol = symbol
        self.amount: Decimal = _positive(amount, "amount", symbol)  # type: ignore[assignment]
        self.price = None if price is None else _positive(price, "price", symbol)
        self.trigger_price = None if trigger_price is None else _positive(trigger_price, "trigger_price", symbol)
        self.trailing_percent = (
            None if trailing_percent is None else _positive(trailing_percent, "trailing_percent", symbol)
        )
        self.trailing_offset = (
            None if trailing_offset is None else _positive(trailing_offset, "trailing_offset", symbol)
        )
        self.limit_offset = None if limit_offset is None else to_decimal(limit_offset, name="limit_offset")
        if self.limit_offset is not None and self.limit_offset < 0:
            raise InvalidOrder("limit_offset must not be negative", limit="limit_offset", symbol=symbol)
        self.clock = clock
        unique = random_hex()
        self.id: str = uuid_text(unique)
        self.client_order_id: str = client_order_id or new_client_order_id(random=unique)
        self.exchange_order_id: str | None = None
        self.status: OrderStatus = _PENDING_CREATION
        self.created_at: int = clock.now_ms()
        self.updated_at: int = self.created_at
        self.filled: Decimal = ZERO
        self.filled_cost: Decimal = ZERO
        #: Fees paid by currency (a shared empty mapping until the first fee: fewer objects per order).
        self.fees: Mapping[str, Decimal] = _NO_FEES
        self.reduce_only = reduce_only
        #: The hedge-mode position a contract order acts on (LONG / SHORT), None in one-way mode.
        self.position_side = position_side
        self.tag = tag
        self.sub_portfolio = sub_portfolio
        #: False while the order waits for a parent fill or a price trigger (not sent yet).
        self.is_active: bool = True
        #: Orders to submit when this one is filled (chained orders).
        self.chained_orders: Sequence[Order] = ()
        self.parent_id: str | None = None
        self.group: OrderGroup | None = None
        #: Currency and amount currently reserved in the portfolio for this order.
        self.reserved_currency: str | None = None
        self.reserved_amount: Decimal = ZERO
        #: Group sibling whose reservation this order draws on (OCO exits selling the same funds).
        self.reservation_owner: Order | None = None
        #: True when the venue cannot hold this type: the trader triggers it on price events.
        self.self_managed: bool = False
        self._hooks: dict[OrderEvent, list[OrderHook]] | None = None
        self.validate()

    # -- validation ------------------------------------------------------------------------
    def validate(self) -> None:
        """Check the type-specific parameters; raise ``InvalidOrder`` naming what is wrong."""

    def _require(self, value: Any, name: str) -> None:
        if value is None:
            raise InvalidOrder(f"{self.order_type.value} order needs {name}", limit=name, symbol=self.symbol)

    # -- derived values ---------------------------------------------------------------------
    @property
    def remaining(self) -> Decimal:
        """Amount not filled yet."""
        return self.amount - self.filled

    @property
    def average_price(self) -> Decimal | None:
        """Average fill price (exact quotient of filled cost by filled amount), None before a fill."""
        if self.filled == 0:
            return None
        return self.filled_cost / self.filled

    @property
    def is_open(self) -> bool:
        """True while the order may still fill (open, partially filled or being canceled)."""
        status = self.status
        return status is _OPEN or status is _PARTIALLY_FILLED or status is _CANCELING

    @property
    def is_done(self) -> bool:
        """True once the order can no longer fill (filled, closed, canceled, expired, rejected)."""
        status = self.status
        return (
            status is _FILLED or status is _CLOSED or status is _CANCELED or status is _EXPIRED or status is _REJECTED
        )

    @property
    def reference_price(self) -> Decimal | None:
        """Price used to value the order before it fills: the limit price, else the trigger."""
        return self.price if self.price is not None else self.trigger_price

    # -- state machine ------------------------------------------------------------------------
    def transition(self, new_status: OrderStatus) -> None:
        """Move to ``new_status`` or raise ``InvalidOrderState`` (nothing changes then)."""
        check_transition(self.status, new_status, order_id=self.id, symbol=self.symbol)
        self.status = new_status
        self.updated_at = self.clock.now_ms()

    def mark_open(self, exchange_order_id: str) -> None:
        """Record that the exchange accepted the order under ``exchange_order_id``."""
        if not exchange_order_id:
            raise InvalidOrderState("an open order needs an exchange order id", order_id=self.id)
        self.transition(OrderStatus.OPEN)
        self.exchange_order_id = exchange_order_id
        self.is_active = True  # on the venue: a chained order matched there is never submitted again

    def load_state(
        self,
        *,
        order_id: str,
        exchange_order_id: str | None,
        status: OrderStatus,
        created_at: int,
        updated_at: int,
        filled: Decimal,
        filled_cost: Decimal,
        fees: Mapping[str, Decimal],
        is_active: bool,
        self_managed: bool,
        parent_id: str | None,
        reserved_currency: str | None,
        reserved_amount: Decimal,
    ) -> None:
        """Put back the identity and progress of a stored order (restart recovery, before it is registered)."""
        self.id, self.exchange_order_id, self.status = order_id, exchange_order_id, status
        self.created_at, self.updated_at = created_at, updated_at
        self.filled, self.filled_cost = filled, filled_cost
        if fees:
            self.fees = dict(fees)
        self.is_active, self.self_managed, self.parent_id = is_active, self_managed, parent_id
        self.reserved_currency, self.reserved_amount = reserved_currency, reserved_amount

    def add_chained(self, child: Order) -> None:
        """Link ``child`` as a chained order of this one (submitted when this one fills)."""
        child.parent_id = self.id
        self.chained_orders = [*self.chained_orders, child]

    def replaced_on_venue(self, exchange_order_id: str) -> None:
        """Record the new exchange id of an open order placed again on a venue that lost it
        (the simulated venue restarted from a stored state)."""
        if not exchange_order_id or not self.is_open:
            raise InvalidOrderState(
                "only an open order is placed again, under a new exchange order id",
                order_id=self.id,
                symbol=self.symbol,
            )
        self.exchange_order_id = exchange_order_id

    def apply_fill(self, amount: Decimal, price: Decimal, fee: Decimal = ZERO, fee_currency: str | None = None) -> None:
        """Add one fill; the status becomes PARTIALLY_FILLED or FILLED.

        Raises ``InvalidOrderState`` (nothing changed) for a non-positive fill, one larger than
        the remaining amount, or a fill on an order that cannot fill.
        """
        if amount <= 0 or price <= 0:
            raise InvalidOrderState(f"invalid fill {amount} @ {price}", order_id=self.id, symbol=self.symbol)
        remaining = self.amount - self.filled if self.filled else self.amount
        if amount > remaining:
            raise InvalidOrderState(
                f"fill of {decimal_to_str(amount)} exceeds the remaining {decimal_to_str(remaining)}",
                order_id=self.id,
                symbol=self.symbol,
            )
        new_status = _FILLED if amount == remaining else _PARTIALLY_FILLED
        self.transition(new_status)
        self.filled += amount
        self.filled_cost += amount * price
        if fee and fee_currency:
            fees = self.fees if isinstance(self.fees, dict) else {}
            fees[fee_currency] = fees.get(fee_currency, ZERO) + fee
            self.fees = fees

    @property
    def terms(self) -> OrderTerms:
        """The current amount, limit price and trigger."""
        return OrderTerms(self.amount, self.price, self.trigger_price)

    def amend(
        self, *, amount: Decimal | None = None, price: Decimal | None = None, trigger_price: Decimal | None = None
    ) -> OrderTerms:
        """Change the amount, limit price and/or trigger (None: unchanged); return the previous terms.

        The only way the library changes what an order asks for (market precision, edits, balanced
        groups, chained orders after fees, trailing stops). Raises ``InvalidOrder`` (nothing
        changed) for a value that is not positive or an amount below the filled amount.
        """
        previous = OrderTerms(self.amount, self.price, self.trigger_price)
        if amount is not None and (amount <= 0 or amount < self.filled):
            raise InvalidOrder(
                f"cannot set the amount to {decimal_to_str(amount)} (filled {decimal_to_str(self.filled)})",
                limit="amount",
                symbol=self.symbol,
            )
        if price is not None and price <= 0:
            raise InvalidOrder(
                f"price must be positive, got {decimal_to_str(price)}", limit="price", symbol=self.symbol
            )
        if trigger_price is not None and trigger_price <= 0:
            raise InvalidOrder(
                f"trigger_price must be positive, got {decimal_to_str(trigger_price)}",
                limit="trigger_price",
                symbol=self.symbol,
            )
        if amount is not None:
            self.amount = amount
        if price is not None:
            self.price = price
        if trigger_price is not None:
            self.trigger_price = trigger_price
        return previous

    def restore_terms(self, terms: OrderTerms) -> None:
        """Put back terms returned by :meth:`amend` (undo of a change the venue refused)."""
        self.amount, self.price, self.trigger_price = terms

    def correct_fill(self, cost_change: Decimal, fee: Decimal = ZERO, fee_currency: str | None = None) -> None:
        """Correct fills already applied: their cost moves by ``cost_change`` (an inferred fill's
        price replaced by the venue's real one) and ``fee`` is added; the filled amount is unchanged."""
        self.filled_cost += cost_change
        if fee and fee_currency:
            fees = dict(self.fees)
            fees[fee_currency] = fees.get(fee_currency, ZERO) + fee
            self.fees = fees

    def reopen_given_up(self) -> None:
        """Back from REJECTED to pending creation: the venue shows an order given up as not placed.

        The only way back from REJECTED: the venue proves it accepted the order after all.
        """
        if self.status is not _REJECTED:
            raise InvalidOrderState(
                f"only a rejected order can be reopened, not a {self.status.value} one",
                order_id=self.id,
                symbol=self.symbol,
            )
        self.status = OrderStatus.PENDING_CREATION

    def shrink(self, new_amount: Decimal) -> None:
        """Reduce the order's amount (balanced groups); never below what is already filled."""
        if new_amount < self.filled or new_amount <= 0 or new_amount > self.amount:
            raise InvalidOrderState(
                f"cannot resize order to {decimal_to_str(new_amount)}", order_id=self.id, symbol=self.symbol
            )
        self.amount = new_amount

    # -- hooks ----------------------------------------------------------------------------------
    def add_hook(self, event: OrderEvent, hook: OrderHook) -> None:
        """Call ``await hook(order)`` each time ``event`` happens to this order."""
        if self._hooks is None:
            self._hooks = {}
        self._hooks.setdefault(event, []).append(hook)

    def has_hooks(self, event: OrderEvent) -> bool:
        """True when a hook listens to ``event``."""
        return self._hooks is not None and event in self._hooks

    async def emit(self, event: OrderEvent) -> None:
        """Run the hooks registered for ``event``, in registration order."""
        for hook in list(self._hooks.get(event, ()) if self._hooks is not None else ()):
            await hook(self)

    # -- misc --------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return a plain description (strings for Decimals) for storage and reports."""

        def text(value: Decimal | None) -> str | None:
            return None if value is None else decimal_to_str(value)

        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "exchange_order_id": self.exchange_order_id,
            "type": self.order_type.value,
            "side": self.side.value,
            "symbol": self.symbol,
            "status": self.status.value,
            "amount": text(self.amount),
            "price": text(self.price),
            "trigger_price": text(self.trigger_price),
            "filled": text(self.filled),
            "average_price": text(self.average_price),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "fees": {k: text(v) for k, v in self.fees.items()},
            "tag": self.tag,
            "sub_portfolio": self.sub_portfolio,
            "parent_id": self.parent_id,
        }

    def __repr__(self) -> str:
        price = f" @ {decimal_to_str(self.price)}" if self.price is not None else ""
        trigger = f" trigger {decimal_to_str(self.trigger_price)}" if self.trigger_price is not None else ""
        return (
            f"{type(self).__name__}({self.side.value} {decimal_to_str(self.amount)} {self.symbol}{price}{trigger}"
            f", {self.status.value}, filled {decimal_to_str(self.filled)}, id={self.id})"
        )

    def ensure_status(self, *allowed: OrderStatus) -> None:
        """Raise ``InvalidOrderState`` unless the order is in one of ``allowed``."""
        if self.status not in allowed:
            raise InvalidOrderState(
                f"order is {self.status.value}, expected one of {[s.value for s in allowed]}",
                order_id=self.id,
                symbol=self.symbol,
            )
