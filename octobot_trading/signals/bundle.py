"""``SignalBundle``: one order operation of a leader, in a versioned JSON wire format.

A bundle describes one operation (create, edit or cancel) with everything a follower needs to
rebuild it on its own account:

* ``create``: the entry order and its dependency graph: bundled exits (stop-loss / take-profit
  chained to the entry, grouped), the parent it is chained to, its group (OCO / balanced), its
  price trigger and trailing profile. Amounts are relative: the entry's ``fraction`` is the share
  of the leader's holdings of the currency it spends (quote for buys, base for sells) that the
  order uses; an exit's ``fraction`` is its share of its parent's amount. The leader's absolute
  amounts travel too (``amount``) for followers sizing with ``"absolute"``.
* ``edit``: the target order (``ref``, the leader's order id) and the new values; a new amount
  is sent as ``amount_ratio`` = new / previous amount.
* ``cancel``: the target order.

Every bundle carries a unique ``id`` and a ``sequence`` number per publisher (1, 2, ...): a
follower applies each id once. Money travels as decimal strings (``"0.01"``), never JSON
numbers, in ASCII digits. :meth:`SignalBundle.from_json` is strict: malformed JSON, a duplicate
key, unknown fields, a number for money, a missing field, a version other than
:data:`WIRE_VERSION`, a zero amount or ratio, an exit ``fraction`` outside ``(0, 1]``, an entry
``fraction`` of zero or, for a spot entry without a parent (a share of holdings), above one, or an
inconsistent graph (an order whose parent chain does not reach the entry, a cycle, an order on
another symbol than the entry's) raise ``InvalidSignal``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from octobot_trading.errors import InvalidSignal
from octobot_trading.util.decimals import decimal_to_str

__all__ = ["WIRE_VERSION", "GroupRef", "Role", "SignalBundle", "SignalOrder", "TriggerRef", "money", "optional_money"]

WIRE_VERSION = 1
"""The wire-format version this library writes and reads."""

# ASCII digits only ([0-9]: a regex \d would accept any script's digits)
PositiveText = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,40}(\.[0-9]{1,80})?$")]
"""A non-negative decimal string."""


def _not_zero(text: str) -> str:
    if Decimal(text) == 0:
        raise ValueError("must be greater than zero")
    return text


NonZeroText = Annotated[PositiveText, AfterValidator(_not_zero)]
"""A strictly positive decimal string (amounts, ratios, prices)."""
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Role = Literal["entry", "stop_loss", "take_profit", "chained"]
OrderTypeText = Literal[
    "market",
    "limit",
    "stop_loss",
    "stop_loss_limit",
    "take_profit",
    "take_profit_limit",
    "trailing_stop",
    "trailing_stop_limit",
]
_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)


def money(value: Decimal) -> str:
    """Return ``value`` as wire text (plain decimal notation)."""
    return decimal_to_str(value)


def optional_money(value: Decimal | None) -> str | None:
    """Return ``value`` as wire text, None stays None."""
    return None if value is None else decimal_to_str(value)


class GroupRef(BaseModel):
    """The leader's order group an order belongs to."""

    model_config = _STRICT
    name: Identifier
    kind: Literal["oco", "balanced"]


class TriggerRef(BaseModel):
    """A price trigger keeping the order inactive until the price crosses ``threshold``."""

    model_config = _STRICT
    threshold: NonZeroText
    above: bool


class SignalOrder(BaseModel):
    """One order of a create bundle.

    ``ref`` is the leader's order id; ``role`` says how it relates to the entry: ``"entry"``,
    ``"stop_loss"`` / ``"take_profit"`` (exits bundled with the entry and chained to it) or
    ``"chained"``. ``parent`` is the ref of the order it is chained to (inside the bundle for
    exits, an earlier bundle's order otherwise).
    """

    model_config = _STRICT
    ref: Identifier
    role: Role
    type: OrderTypeText
    side: Literal["buy", "sell"]
    symbol: Annotated[str, StringConstraints(min_length=3, max_length=64)]
    amount: NonZeroText
    fraction: PositiveText
    price: NonZeroText | None = None
    trigger_price: NonZeroText | None = None
    reference_price: NonZeroText | None = None
    trailing_percent: PositiveText | None = None
    trailing_offset: PositiveText | None = None
    limit_offset: PositiveText | None = None
    reduce_only: bool = False
    parent: Identifier | None = None
    group: GroupRef | None = None
    price_trigger: TriggerRef | None = None

    def decimal(self, name: str) -> Decimal | None:
        """The money field ``name`` as a Decimal (None when absent)."""
        value = getattr(self, name)
        return None if value is None else Decimal(value)


class SignalBundle(BaseModel):
    """One order operation of a leader (see the module docstring)."""

    model_config = _STRICT
    version: Literal[1] = 1
    id: Identifier
    source: Identifier
    sequence: Annotated[int, Field(ge=1)]
    timestamp: Annotated[int, Field(ge=0)]
    operation: Literal["create", "edit", "cancel"]
    orders: tuple[SignalOrder, ...] = ()
    ref: Identifier | None = None
    amount_ratio: NonZeroText | None = None
    price: NonZeroText | None = None
    trigger_price: NonZeroText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SignalBundle:
        if self.operation == "create":
            entries = [o for o in self.orders if o.role == "entry"]
            if len(entries) != 1 or self.orders[0] is not entries[0]:
                raise ValueError("a create bundle has exactly one entry order, listed first")
            refs = {o.ref for o in self.orders}
            if len(refs) != len(self.orders):
                raise ValueError("order refs must be unique in a bundle")
            _check_entry_fraction(self.orders[0])
            _check_graph(self.orders)
            if self.ref is not None or self.amount_ratio or self.price or self.trigger_price:
                raise ValueError("a create bundle carries its values in its orders")
        else:
            if self.ref is None or self.orders:
                raise ValueError(f"an {self.operation} bundle names its target order in ref and has no orders")
            if self.operation == "cancel" and (self.amount_ratio or self.price or self.trigger_price):
                raise ValueError("a cancel bundle carries no values")
        return self

    @property
    def entry(self) -> SignalOrder:
        """The entry order of a create bundle."""
        if self.operation != "create":
            raise InvalidSignal(f"an {self.operation} bundle has no entry order")
        return self.orders[0]

    def to_json(self) -> str:
        """Return the bundle's wire text (compact JSON, money as strings)."""
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> SignalBundle:
        """Parse wire text; raise ``InvalidSignal`` naming what is wrong (nothing else happens)."""
        try:
            raw: Any = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
        except _DuplicateKey as exc:
            raise InvalidSignal(f"signal bundle has a duplicate key {exc.key!r}") from None
        except (ValueError, TypeError) as exc:
            raise InvalidSignal(f"signal bundle is not valid JSON: {exc}") from exc
        except RecursionError:  # nesting deeper than the parser's stack: no bundle is nested that deep
            raise InvalidSignal("signal bundle is not valid JSON: nested too deeply") from None
        if not isinstance(raw, dict):
            raise InvalidSignal(f"signal bundle must be a JSON object, got {type(raw).__name__}")
        version = raw.get("version")
        if version != WIRE_VERSION or type(version) is not int:
            raise InvalidSignal(
                f"unsupported signal bundle version {version!r} (this library reads version {WIRE_VERSION})"
            )
        try:
            return cls.model_validate_json(text, strict=True)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'bundle'}: {error['msg']}" for error in exc.errors()[:5]
            )
            raise InvalidSignal(f"invalid signal bundle: {problems}") from exc


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _check_entry_fraction(entry: SignalOrder) -> None:
    """An entry's fraction is above zero; without a parent, on a spot symbol, it is a share of the
    leader's holdings, so at most one (a contract's notional may exceed the margin held: leverage;
    an order chained to a parent may be larger than its parent)."""
    fraction = Decimal(entry.fraction)
    share_of_holdings = entry.parent is None and ":" not in entry.symbol
    if fraction <= 0 or (fraction > 1 and share_of_holdings):
        bounds = "in (0, 1] (a share of the leader's holdings)" if share_of_holdings else "above 0"
        raise ValueError(f"entry {entry.ref}: fraction {entry.fraction} must be {bounds}")


def _check_graph(orders: tuple[SignalOrder, ...]) -> None:
    """Every non-entry order chains back to the entry (no cycle), on the entry's symbol, with a fraction in (0, 1]."""
    entry = orders[0]
    if entry.parent == entry.ref:
        raise ValueError(f"order {entry.ref} is chained to itself")
    by_ref = {order.ref: order for order in orders}
    for order in orders[1:]:
        if order.symbol != entry.symbol:
            raise ValueError(f"order {order.ref} is on {order.symbol}, not on the entry's symbol {entry.symbol}")
        if not 0 < Decimal(order.fraction) <= 1:
            raise ValueError(f"order {order.ref}: fraction {order.fraction} of its parent must be in (0, 1]")
        seen = {order.ref}
        current = order
        while current.ref != entry.ref:
            parent = by_ref.get(current.parent) if current.parent is not None else None
            if parent is None:
                raise ValueError(f"order {order.ref} is not chained to an order of the bundle")
            if parent.ref in seen:
                raise ValueError(f"order {order.ref}: its parent chain loops (a cycle) instead of reaching the entry")
            seen.add(parent.ref)
            current = parent
