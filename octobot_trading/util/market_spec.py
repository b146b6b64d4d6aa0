"""Market precision and limits, and the helpers that adapt orders to them.

Rounding directions are part of the contract:

* amounts round DOWN to the amount step (never spend or sell more than asked);
* prices round to the tick in the direction that is safe for the order: a buy limit rounds
  DOWN (never pay more than asked), a sell limit rounds UP (never sell cheaper than asked).
  Callers that need another direction pass ``rounding="down" | "up" | "nearest"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal

from octobot_trading.enums import OrderSide, PrecisionMode
from octobot_trading.errors import InvalidOrder
from octobot_trading.util.decimals import (
    MAX_MONEY_ADJUSTED_EXPONENT,
    ONE,
    ZERO,
    ceil_to_step,
    decimal_to_str,
    floor_significant,
    floor_to_step,
    nearest_to_step,
    to_decimal,
)

__all__ = ["DEFAULT_STEP", "MarketSpec", "Rounding"]

DEFAULT_STEP = Decimal("0.00000001")
Rounding = Literal["down", "up", "nearest"]
_SIGNIFICANT = PrecisionMode.SIGNIFICANT_DIGITS  # (attribute access on an Enum class is slow)

#: ``(spec, amount, price, reduce_only)`` of the last terms :meth:`MarketSpec.check_limits` passed
_last_passed: tuple[object, Decimal | None, Decimal | None, bool] = (None, None, None, False)

#: exact products for the cost the limits bound: the caller's decimal context never rounds it
EXACT_COST = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])
#: an inverse contract's cost (a division) to 50 significant digits, rounded half-even, whatever
#: the caller's context: used only to compare with the cost limits and to name it in an error
COST_DIVISION = Context(prec=50, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])

_OPTIONAL_LIMITS = ("min_amount", "max_amount", "min_cost", "max_cost", "min_price", "max_price")


def _beyond_money_bounds(raw: object) -> bool:
    """True for a finite, positive limit too large to be money (see ``to_decimal``'s bounds)."""
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(raw.strip()) if isinstance(raw, str) else None
    except ArithmeticError:
        return False
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw >= 10 ** (MAX_MONEY_ADJUSTED_EXPONENT + 1)
    return value is not None and value.is_finite() and value > 0 and value.adjusted() > MAX_MONEY_ADJUSTED_EXPONENT


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """Precision and limits of one market.

    All values accept ``Decimal``, ``int`` or ``str`` (a ``float`` raises ``TypeError``) and are
    stored as ``Decimal``. ``price_tick`` and ``amount_step`` default to ``1e-8``; limits left
    to ``None`` are not checked. With ``precision_mode=SIGNIFICANT_DIGITS`` the amount keeps
    ``amount_significant_digits`` digits instead of using a step.
    """

    price_tick: Decimal = DEFAULT_STEP
    amount_step: Decimal = DEFAULT_STEP
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    min_cost: Decimal | None = None
    max_cost: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    contract_size: Decimal = ONE
    precision_mode: PrecisionMode = PrecisionMode.TICK_SIZE
    amount_significant_digits: int | None = None
    symbol: str | None = field(default=None, compare=False)

    if TYPE_CHECKING:
        # What callers may pass (``__post_init__`` converts to Decimal); at run time the
        # dataclass generates this method.
        def __init__(
            self,
            price_tick: Decimal | int | str = ...,
            amount_step: Decimal | int | str = ...,
            min_amount: Decimal | int | str | None = None,
            max_amount: Decimal | int | str | None = None,
            min_cost: Decimal | int | str | None = None,
            max_cost: Decimal | int | str | None = None,
            min_price: Decimal | int | str | None = None,
            max_price: Decimal | int | str | None = None,
            contract_size: Decimal | int | str = ...,
            precision_mode: PrecisionMode | str = ...,
            amount_significant_digits: int | None = None,
            symbol: str | None = None,
        ) -> None: ...

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("price_tick", "amount_step", "contract_size"):
            value = to_decimal(getattr(self, name), name=name)
            if value <= 0:
                raise InvalidOrder(f"{name} must be positive, got {value}", limit=name)
            set_(self, name, value)
        for name in _OPTIONAL_LIMITS:
            raw = getattr(self, name)
            if raw is not None and name.startswith("max_") and _beyond_money_bounds(raw):
                # a venue's "no real maximum" (1e30, int64 max squared, ...) is no limit at all
                set_(self, name, None)
                continue
            if raw is not None:
                value = to_decimal(raw, name=name)
                if value < 0:
                    raise InvalidOrder(f"{name} must not be negative, got {value}", limit=name)
                set_(self, name, value)
        for what in ("amount", "cost", "price"):
            low, high = getattr(self, f"min_{what}"), getattr(self, f"max_{what}")
            if low is not None and high is not None and low > high:
                raise InvalidOrder(
                    f"min_{what} {low} is above max_{what} {high}", limit=f"min_{what}", symbol=self.symbol
                )
        set_(self, "precision_mode", PrecisionMode(self.precision_mode))
        if self.precision_mode is PrecisionMode.SIGNIFICANT_DIGITS and not self.amount_significant_digits:
            raise InvalidOrder(
                "amount_significant_digits is required with SIGNIFICANT_DIGITS precision",
                limit="amount_significant_digits",
            )

    @classmethod
    def from_decimal_places(cls, price_decimals: int, amount_decimals: int, **limits: object) -> MarketSpec:
        """Build a spec from precisions given as numbers of decimal places (ccxt DECIMAL_PLACES)."""
        return cls(
            price_tick=Decimal((0, (1,), -price_decimals)),
            amount_step=Decimal((0, (1,), -amount_decimals)),
            precision_mode=PrecisionMode.DECIMAL_PLACES,
            **limits,  # type: ignore[arg-type]
        )

    def adapt_quantity(self, amount: Decimal | int | str) -> Decimal:
        """Round ``amount`` DOWN to the amount step (never above the input)."""
        value = to_decimal(amount, name="amount")
        if value < 0:
            raise InvalidOrder(f"amount must not be negative, got {decimal_to_str(value)}", symbol=self.symbol)
        if self.precision_mode is _SIGNIFICANT and self.amount_significant_digits:
            return floor_significant(value, self.amount_significant_digits)
        return floor_to_step(value, self.amount_step)

    def adapt_price(
        self,
        price: Decimal | int | str,
        side: OrderSide | None = None,
        *,
        rounding: Rounding | None = None,
    ) -> Decimal:
        """Round ``price`` to the tick: buys DOWN, sells UP, or as ``rounding`` says.

        One of ``side`` or ``rounding`` is required.
        """
        value = to_decimal(price, name="price")
        if value <= 0:
            raise InvalidOrder(f"price must be positive, got {decimal_to_str(value)}", symbol=self.symbol)
        if rounding is None:
            if side is None:
                raise ValueError("adapt_price needs a side or an explicit rounding direction")
            rounding = "down" if OrderSide(side) is OrderSide.BUY else "up"
        if rounding == "down":
            result = floor_to_step(value, self.price_tick)
            if result == 0:
                result = self.price_tick
            return result
        if rounding == "up":
            return ceil_to_step(value, self.price_tick)
        if rounding == "nearest":
            result = nearest_to_step(value, self.price_tick)
            return result if result > 0 else self.price_tick
        raise ValueError(f"unknown rounding {rounding!r}")

    def check_limits(
        self, amount: Decimal | int | str, price: Decimal | int | str | None = None, *, reduce_only: bool = False
    ) -> None:
        """Raise ``InvalidOrder`` naming the first limit that ``amount`` / ``price`` break.

        The cost (:meth:`order_cost`) is checked only when a price is given; a ``reduce_only``
        order (one that only closes a position, as the caller checked) is exempt from ``min_cost``.
        """
        global _last_passed
        passed = _last_passed
        if passed[0] is self and passed[3] is reduce_only and type(amount) is Decimal:
            # the same Decimal terms this spec just passed (an order is checked by the mode, the
            # trader and the venue): the same answer, the check is a pure function of them
            try:
                if amount == passed[1] and (price == passed[2] if type(price) is Decimal else price is passed[2]):
                    return
            except ArithmeticError:  # a signaling NaN: the full check names it
                pass
        qty = to_decimal(amount, name="amount")
        if qty <= 0:
            raise InvalidOrder(
                f"amount must be positive, got {decimal_to_str(qty)}", limit="amount", symbol=self.symbol
            )
        if self.min_amount is not None or self.max_amount is not None:
            self._check_bound("amount", qty, self.min_amount, self.max_amount)
        if price is None:
            _last_passed = (self, qty, None, reduce_only)
            return
        px = to_decimal(price, name="price")
        if px <= 0:
            raise InvalidOrder(f"price must be positive, got {decimal_to_str(px)}", limit="price", symbol=self.symbol)
        if self.min_price is not None or self.max_price is not None:
            self._check_bound("price", px, self.min_price, self.max_price)
        min_cost = None if reduce_only else self.min_cost
        if min_cost is not None or self.max_cost is not None:
            self._check_bound("cost", self.order_cost(qty, px), min_cost, self.max_cost)
        _last_passed = (self, qty, px, reduce_only)

    def order_cost(self, amount: Decimal, price: Decimal) -> Decimal:
        """The cost the limits bound: ``amount * price * contract_size`` (in the quote currency),
        exact whatever the caller's decimal context."""
        multiply = EXACT_COST.multiply
        return multiply(multiply(amount, price), self.contract_size)

    def _check_bound(self, what: str, value: Decimal, low: Decimal | None, high: Decimal | None) -> None:
        if low is not None and low > ZERO and value < low:
            raise InvalidOrder(
                f"{what} {decimal_to_str(value)} is below min_{what} {decimal_to_str(low)}",
                limit=f"min_{what}",
                symbol=self.symbol,
            )
        if high is not None and high > ZERO and value > high:
            raise InvalidOrder(
                f"{what} {decimal_to_str(value)} is above max_{what} {decimal_to_str(high)}",
                limit=f"max_{what}",
                symbol=self.symbol,
            )

    def passes_limits(self, amount: Decimal, price: Decimal | None = None) -> bool:
        """Return True when :meth:`check_limits` would not raise."""
        try:
            self.check_limits(amount, price)
        except InvalidOrder:
            return False
        return True
