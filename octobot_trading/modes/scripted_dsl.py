"""The order DSL of scripted modes: amount and price strings, parsed and sized exactly.

Amounts (:func:`parse_amount`)

* ``"0.01"`` (or a ``Decimal`` / ``int``): that many units of the base currency;
* ``"10%"``: of what the order can spend, *available* quote for a buy (converted to base at the
  order's price) or available base for a sell;
* ``"10%t"``: of the *total* balance of that currency (still capped by what is available);
* ``"10%p"``: of the open position's size (futures; spot has no position: :class:`DSLError`);
* ``"all"``: everything available (= ``"100%"``).

On contract symbols the script context measures relative amounts differently: an order closing
the open position takes them from its contracts, an opening order on a linear contract from the
quote (see the scripted modes guide).

Prices (:func:`parse_price`)

* ``"25000"`` or ``"@25000"`` (or a ``Decimal`` / ``int``): that price;
* ``"+2%"`` / ``"-1%"``: relative to the current price (the close of the trigger candle);
* ``"e+2%"`` / ``"e-1%"``: relative to the open position's entry price (spot: :class:`DSLError`).

Strings are stripped at their ends only: a space inside a form (``"10 %"``, ``"+1 0%"``) and any
digit other than ASCII ``0-9`` make it malformed. Every malformed string raises
:class:`DSLError` naming it, before anything is sent. A float
raises ``TypeError`` (money is never a float). :func:`size_amount` turns an amount spec into the
order amount: exact Decimal arithmetic, rounded DOWN to the market's amount step, and, for
relative amounts, never above what is available (the cost of a buy, with a fee charged in the
quote currency and the market-order price allowance, stays within the available quote).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from octobot_trading.enums import OrderSide
from octobot_trading.errors import TradingModeError
from octobot_trading.util.decimals import ONE, ZERO
from octobot_trading.util.market_spec import MarketSpec

__all__ = [
    "AmountKind",
    "AmountSpec",
    "DSLError",
    "PriceKind",
    "PriceSpec",
    "ScriptError",
    "parse_amount",
    "parse_price",
    "resolve_price",
    "size_amount",
]

_HUNDRED = Decimal(100)
# ASCII digits only (``\d`` would take any Unicode digit); no space inside a form: a string is
# only stripped at its ends, so "10 %", "+1 0%" or "@ 25000" are malformed.
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_AMOUNT_RE = re.compile(rf"^({_NUMBER})(%[tp]?)?$")
_PRICE_RE = re.compile(rf"^(e)?([+-])({_NUMBER})%$")
_ABS_PRICE_RE = re.compile(rf"^@?({_NUMBER})$")
_MAX_TEXT = 64


class ScriptError(TradingModeError):
    """A trading script failed: it does not load, or one of its calls went wrong.

    ``path`` and ``line`` name the script file and line when known.
    """

    def __init__(self, message: str = "", *, path: str | None = None, line: int | None = None, **context: Any) -> None:
        where = f"{path}:{line}: " if path is not None and line is not None else f"{path}: " if path else ""
        super().__init__(f"{where}{message}", **context)
        self.path = path
        self.line = line

    def locate(self, path: str, line: int | None) -> None:
        """Name the script ``path`` (and ``line``) of an error raised without them (a DSL error
        raised inside a callback), prefixing the message as the constructor would."""
        if self.path is not None:
            return
        self.path, self.line = path, line
        where = f"{path}:{line}: " if line is not None else f"{path}: "
        self.message = f"{where}{self.message}"
        self.args = (self.message,)


class DSLError(ScriptError, ValueError):
    """An amount or price string of the scripted-mode DSL is malformed or cannot apply.

    ``text`` is the string (or value) that was refused.
    """

    def __init__(self, message: str = "", *, text: object = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.text = text


class AmountKind(StrEnum):
    """How an amount spec is measured."""

    ABSOLUTE = "absolute"
    AVAILABLE = "available"
    TOTAL = "total"
    POSITION = "position"


class PriceKind(StrEnum):
    """How a price spec is measured."""

    ABSOLUTE = "absolute"
    CURRENT = "current"
    ENTRY = "entry"


@dataclass(frozen=True, slots=True)
class AmountSpec:
    """A parsed amount: ``value`` base units (ABSOLUTE) or a percentage of the ``kind`` balance."""

    kind: AmountKind
    value: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class PriceSpec:
    """A parsed price: ``value`` (ABSOLUTE) or a signed percentage from the ``kind`` reference."""

    kind: PriceKind
    value: Decimal
    text: str

    @property
    def is_relative(self) -> bool:
        """True for ``+2%`` / ``e+2%`` forms."""
        return self.kind is not PriceKind.ABSOLUTE


def _as_text(value: object, what: str) -> str:
    if isinstance(value, float):
        raise TypeError(f'{what} {value!r} is a float; money is a string or a Decimal (e.g. "0.01")')
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise DSLError(f"{what} must be a string, a Decimal or an int, got {value!r}", text=value)
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        raise DSLError(f"{what} string too long ({len(value)} characters): {value[:20]!r}...", text=value[:20])
    return str(value).strip() if isinstance(value, str) else str(value)


def _number(text: str, original: object, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DSLError(f"malformed {what} {original!r}", text=original) from None
    if not value.is_finite() or value.adjusted() > 18:
        raise DSLError(f"{what} {original!r} is out of range", text=original)
    return value


def parse_amount(value: object) -> AmountSpec:
    """Parse an amount (``"0.01"``, ``"10%"``, ``"10%t"``, ``"10%p"``, ``"all"``, Decimal, int).

    Raises :class:`DSLError` naming the value when malformed, zero, negative or a percentage
    above 100; ``TypeError`` for a float.
    """
    text = _as_text(value, "amount")
    if text.lower() == "all":
        return AmountSpec(AmountKind.AVAILABLE, _HUNDRED, text)
    if isinstance(value, Decimal | int):
        number = _number(text, value, "amount")
        if number <= 0:
            raise DSLError(f"amount {value!r} must be positive", text=value)
        return AmountSpec(AmountKind.ABSOLUTE, number, text)
    match = _AMOUNT_RE.match(text)
    if match is None:
        raise DSLError(f'malformed amount {value!r} (expected e.g. "0.01", "10%", "10%t", "10%p", "all")', text=value)
    number = _number(match.group(1), value, "amount")
    if number <= 0:
        raise DSLError(f"amount {value!r} must be positive", text=value)
    suffix = match.group(2)
    if suffix is None:
        return AmountSpec(AmountKind.ABSOLUTE, number, text)
    if number > _HUNDRED:
        raise DSLError(f"amount {value!r} is above 100%", text=value)
    kind = {"%": AmountKind.AVAILABLE, "%t": AmountKind.TOTAL, "%p": AmountKind.POSITION}[suffix]
    return AmountSpec(kind, number, text)


def parse_price(value: object) -> PriceSpec:
    """Parse a price (``"25000"``, ``"@25000"``, ``"+2%"``, ``"-1%"``, ``"e+2%"``, Decimal, int).

    Raises :class:`DSLError` naming the value when malformed or not positive (an offset of
    ``-100%`` or below is refused); ``TypeError`` for a float.
    """
    text = _as_text(value, "price")
    if not isinstance(value, str):
        number = _number(text, value, "price")
        if number <= 0:
            raise DSLError(f"price {value!r} must be positive", text=value)
        return PriceSpec(PriceKind.ABSOLUTE, number, text)
    match = _PRICE_RE.match(text)
    if match is not None:
        offset = _number(match.group(3), value, "price offset")
        signed = -offset if match.group(2) == "-" else offset
        if signed <= -_HUNDRED:
            raise DSLError(f"price offset {value!r} would make the price zero or negative", text=value)
        return PriceSpec(PriceKind.ENTRY if match.group(1) else PriceKind.CURRENT, signed, text)
    match = _ABS_PRICE_RE.match(text)
    if match is None:
        raise DSLError(f'malformed price {value!r} (expected e.g. "25000", "@25000", "+2%", "-1%", "e+2%")', text=value)
    number = _number(match.group(1), value, "price")
    if number <= 0:
        raise DSLError(f"price {value!r} must be positive", text=value)
    return PriceSpec(PriceKind.ABSOLUTE, number, text)


def resolve_price(spec: PriceSpec, *, current: Decimal | None, entry: Decimal | None) -> Decimal:
    """Return the price ``spec`` designates (exact; the trader rounds it to the tick).

    ``current`` is the current price, ``entry`` the open position's entry price (None when there
    is no position: an ``e±x%`` spec then raises :class:`DSLError`).
    """
    if spec.kind is PriceKind.ABSOLUTE:
        return spec.value
    if spec.kind is PriceKind.ENTRY:
        if entry is None:
            raise DSLError(
                f"price {spec.text!r} is relative to a position's entry price, and there is no "
                "open position (spot markets have none)",
                text=spec.text,
            )
        reference = entry
    else:
        if current is None:
            raise DSLError(f"price {spec.text!r} is relative to the current price, which is unknown", text=spec.text)
        reference = current
    return reference * (ONE + spec.value / _HUNDRED)


def size_amount(
    spec: AmountSpec,
    *,
    side: OrderSide,
    price: Decimal,
    market: MarketSpec,
    available_base: Decimal,
    available_quote: Decimal,
    total_base: Decimal = ZERO,
    total_quote: Decimal = ZERO,
    position_size: Decimal | None = None,
    quote_cost_factor: Decimal = ONE,
) -> Decimal:
    """Return the order amount (base units) for ``spec``: exact, rounded DOWN to the step.

    ``price`` values a buy (the limit price, or the current price for a market buy).
    ``quote_cost_factor`` is what one quote unit of order value costs from the available quote
    (``1 + taker fee`` when the fee is charged in quote, times ``1 + price allowance`` for market
    buys); a relative buy's ``amount * price * quote_cost_factor`` never exceeds the available
    quote, and a relative sell never exceeds the available base. An ABSOLUTE amount is only
    rounded down (a short balance is the trader's ``InsufficientFunds``). The result may be zero.
    """
    if price <= 0:
        raise DSLError(f"amount {spec.text!r} needs a positive price, got {price}", text=spec.text)
    if quote_cost_factor < ONE:
        raise ValueError("quote_cost_factor must be at least 1")
    if spec.kind is AmountKind.ABSOLUTE:
        return market.adapt_quantity(spec.value)
    fraction = spec.value / _HUNDRED
    buy = side is OrderSide.BUY
    available = max(available_quote if buy else available_base, ZERO)
    unit_cost = price * quote_cost_factor
    if spec.kind is AmountKind.AVAILABLE:
        raw = fraction * available / unit_cost if buy else fraction * available
    elif spec.kind is AmountKind.TOTAL:
        raw = fraction * max(total_quote, ZERO) / unit_cost if buy else fraction * max(total_base, ZERO)
    else:
        if position_size is None:
            raise DSLError(
                f"amount {spec.text!r} is relative to a position, and there is no open position "
                "(spot markets have none)",
                text=spec.text,
            )
        raw = fraction * abs(position_size)
        return market.adapt_quantity(raw)
    raw = min(raw, available / unit_cost if buy else available)  # never above what is available
    amount = market.adapt_quantity(raw)
    step = market.amount_step
    # the division above is rounded to the context precision: step down until the cap holds exactly
    if buy:
        while amount > 0 and amount * unit_cost > available:
            amount = market.adapt_quantity(max(amount - step, ZERO))
    else:
        while amount > available:
            amount = market.adapt_quantity(max(amount - step, ZERO))
    return amount
