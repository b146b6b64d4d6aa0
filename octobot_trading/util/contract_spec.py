"""Contract specifications: a :class:`MarketSpec` for futures, with leverage, margin and position modes.

``ContractSpec`` adds to a market's precision and limits what position accounting needs:
``contract_size`` (already on :class:`MarketSpec`), the default ``leverage`` and its allowed range,
the ``margin_mode`` (isolated or cross), the ``position_mode`` (one-way or hedge) and the
maintenance margin rate, flat or by notional tiers (:class:`MarginTier`). Every money-like value
accepts ``Decimal``, ``int`` or ``str``; a ``float`` raises ``TypeError``; a bad value raises
``ConfigurationError`` naming the field.

The symbol says the kind of contract (:func:`contract_kind`): ``BASE/QUOTE:QUOTE`` is linear
(margined and settled in the quote currency), ``BASE/QUOTE:BASE`` inverse (settled in the base
currency, contract size in quote), and ``BASE/QUOTE:SETTLE-YYMMDD`` a dated future of either kind.
A spec bound to a spot symbol is refused.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from octobot_trading.enums import MarginMode, PositionMode
from octobot_trading.errors import ConfigurationError, InvalidOrder, InvalidSymbol
from octobot_trading.util.decimals import ONE, ZERO, decimal_to_str, to_decimal
from octobot_trading.util.market_spec import COST_DIVISION, EXACT_COST, MarketSpec
from octobot_trading.util.symbols import cached_symbol

__all__ = ["DEFAULT_MAX_LEVERAGE", "ContractKind", "ContractSpec", "MarginTier", "contract_kind", "settle_currency"]

#: Highest leverage of a :class:`ContractSpec` given no ``max_leverage`` (the highest any Binance
#: USDⓈ-M contract allows); a venue's own range replaces it when the spec is built from the venue.
DEFAULT_MAX_LEVERAGE = Decimal(125)

ContractKind = Literal["linear", "inverse"]


_KINDS: dict[str, tuple[ContractKind, str]] = {}  # symbol -> (kind, settle currency), valid contracts only


def contract_kind(symbol: str) -> ContractKind:
    """Return ``"linear"`` or ``"inverse"`` for a contract symbol; ``ConfigurationError`` otherwise.

    ``BTC/USDT:USDT`` and ``BTC/USDT:USDT-250627`` are linear, ``BTC/USD:BTC`` inverse; a spot
    symbol, an option, or a contract settled in a third currency is refused. The answer for a
    valid symbol is kept (backtests ask once per candle); refusals are checked every time.
    """
    known = _KINDS.get(symbol)
    if known is not None:
        return known[0]
    kind = _contract_kind(symbol)
    settle = cached_symbol(symbol).settle
    assert settle is not None
    if len(_KINDS) < 65536:
        _KINDS[symbol] = (kind, settle)
    return kind


def _contract_kind(symbol: str) -> ContractKind:
    try:
        parsed = cached_symbol(symbol)
    except InvalidSymbol as exc:
        raise ConfigurationError(str(exc.message), field="symbol", symbol=str(symbol)) from exc
    if parsed.is_spot:
        raise ConfigurationError(
            f"{symbol} is a spot symbol, not a contract (use BASE/QUOTE:SETTLE)", field="symbol", symbol=symbol
        )
    if parsed.is_option:
        raise ConfigurationError(
            f"{symbol} is an option, not a linear or inverse contract", field="symbol", symbol=symbol
        )
    if parsed.is_linear:
        return "linear"
    if parsed.is_inverse:
        return "inverse"
    raise ConfigurationError(
        f"{symbol} settles in {parsed.settle}, neither its base nor its quote", field="symbol", symbol=symbol
    )


def settle_currency(symbol: str) -> str:
    """The margin and settlement currency of a contract symbol (``USDT`` for ``BTC/USDT:USDT``)."""
    known = _KINDS.get(symbol)
    if known is not None:
        return known[1]
    contract_kind(symbol)
    return _KINDS[symbol][1] if symbol in _KINDS else str(cached_symbol(symbol).settle)


def _decimal_field(value: object, name: str) -> Decimal:
    result = to_decimal(value, name=name)  # type: ignore[arg-type]
    return result


@dataclass(frozen=True, slots=True)
class MarginTier:
    """One maintenance-margin bracket: positions with a notional up to ``max_notional`` (inclusive).

    Maintenance margin in this tier is ``notional x maintenance_margin_rate - maintenance_amount``
    (the venue's "cum" amount keeps the margin continuous between tiers). ``max_notional=None``
    is the last, unbounded tier. ``max_leverage`` is informative (the venue's cap in this tier).
    """

    max_notional: Decimal | None
    maintenance_margin_rate: Decimal
    maintenance_amount: Decimal = ZERO
    max_leverage: Decimal | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            max_notional: Decimal | int | str | None,
            maintenance_margin_rate: Decimal | int | str,
            maintenance_amount: Decimal | int | str = ...,
            max_leverage: Decimal | int | str | None = None,
        ) -> None: ...

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        rate = _decimal_field(self.maintenance_margin_rate, "maintenance_margin_rate")
        if not ZERO <= rate < ONE:
            raise ConfigurationError(
                f"maintenance_margin_rate must be in [0, 1), got {decimal_to_str(rate)}",
                field="maintenance_margin_rate",
            )
        set_(self, "maintenance_margin_rate", rate)
        amount = _decimal_field(self.maintenance_amount, "maintenance_amount")
        if amount < 0:
            raise ConfigurationError("maintenance_amount must not be negative", field="maintenance_amount")
        set_(self, "maintenance_amount", amount)
        for name in ("max_notional", "max_leverage"):
            raw = getattr(self, name)
            if raw is not None:
                value = _decimal_field(raw, name)
                if value <= 0:
                    raise ConfigurationError(f"{name} must be positive, got {decimal_to_str(value)}", field=name)
                set_(self, name, value)


@dataclass(frozen=True, slots=True)
class ContractSpec(MarketSpec):
    """A :class:`MarketSpec` for a futures contract (linear or inverse, perpetual or dated).

    Parameters (keyword-only, besides every :class:`MarketSpec` field)
    ------------------------------------------------------------------
    leverage
        Leverage of new positions (default 1), within ``[min_leverage, max_leverage]``.
    min_leverage, max_leverage
        Allowed leverage range (default 1 and :data:`DEFAULT_MAX_LEVERAGE`, 125; ``max_leverage=None``
        means that default too).
    margin_mode
        ``MarginMode.ISOLATED`` (default) or ``MarginMode.CROSS``.
    position_mode
        ``PositionMode.ONE_WAY`` (default) or ``PositionMode.HEDGE``.
    maintenance_margin_rate
        Flat maintenance margin rate in ``[0, 1)``; required unless ``margin_tiers`` are given.
    margin_tiers
        Maintenance-margin brackets by notional, increasing, the last one possibly unbounded.

    ``contract_size`` is in the base currency for linear contracts and in the quote currency for
    inverse ones (``BTC/USD:BTC`` with ``contract_size="100"``: one contract is 100 USD).
    """

    leverage: Decimal = field(default=ONE, kw_only=True)
    min_leverage: Decimal = field(default=ONE, kw_only=True)
    max_leverage: Decimal = field(default=DEFAULT_MAX_LEVERAGE, kw_only=True)
    margin_mode: MarginMode = field(default=MarginMode.ISOLATED, kw_only=True)
    position_mode: PositionMode = field(default=PositionMode.ONE_WAY, kw_only=True)
    maintenance_margin_rate: Decimal | None = field(default=None, kw_only=True)
    margin_tiers: tuple[MarginTier, ...] = field(default=(), kw_only=True)

    if TYPE_CHECKING:

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
            precision_mode: object = ...,
            amount_significant_digits: int | None = None,
            symbol: str | None = None,
            *,
            leverage: Decimal | int | str = ...,
            min_leverage: Decimal | int | str = ...,
            max_leverage: Decimal | int | str | None = None,
            margin_mode: MarginMode | str = ...,
            position_mode: PositionMode | str = ...,
            maintenance_margin_rate: Decimal | int | str | None = None,
            margin_tiers: tuple[MarginTier, ...] | list[MarginTier] = (),
        ) -> None: ...

    def __post_init__(self) -> None:
        try:
            MarketSpec.__post_init__(self)
        except InvalidOrder as exc:  # a bad spec is bad configuration, not a refused order
            raise ConfigurationError(str(exc.message), field=exc.limit, symbol=self.symbol) from exc
        set_ = object.__setattr__
        if self.symbol is not None:
            contract_kind(self.symbol)
        for name in ("leverage", "min_leverage"):
            value = _decimal_field(getattr(self, name), name)
            if value <= 0:
                raise ConfigurationError(f"{name} must be positive, got {decimal_to_str(value)}", field=name)
            set_(self, name, value)
        top = DEFAULT_MAX_LEVERAGE if self.max_leverage is None else _decimal_field(self.max_leverage, "max_leverage")
        set_(self, "max_leverage", top)
        if top < self.min_leverage:
            raise ConfigurationError(
                f"max_leverage {decimal_to_str(top)} is below min_leverage {decimal_to_str(self.min_leverage)}",
                field="max_leverage",
            )
        self.check_leverage(self.leverage)
        try:
            set_(self, "margin_mode", MarginMode(self.margin_mode))
        except ValueError:
            raise ConfigurationError(f"unknown margin_mode {self.margin_mode!r}", field="margin_mode") from None
        try:
            set_(self, "position_mode", PositionMode(self.position_mode))
        except ValueError:
            raise ConfigurationError(f"unknown position_mode {self.position_mode!r}", field="position_mode") from None
        tiers = tuple(self.margin_tiers)
        for tier in tiers:
            if not isinstance(tier, MarginTier):
                raise ConfigurationError("margin_tiers must hold MarginTier values", field="margin_tiers")
        for low, high in itertools.pairwise(tiers):
            if low.max_notional is None or (high.max_notional is not None and high.max_notional <= low.max_notional):
                raise ConfigurationError(
                    "margin_tiers must have increasing max_notional, only the last unbounded", field="margin_tiers"
                )
        set_(self, "margin_tiers", tiers)
        if self.maintenance_margin_rate is None:
            if not tiers:
                raise ConfigurationError(
                    "maintenance_margin_rate is required (or margin_tiers)", field="maintenance_margin_rate"
                )
        else:
            rate = _decimal_field(self.maintenance_margin_rate, "maintenance_margin_rate")
            if not ZERO <= rate < ONE:
                raise ConfigurationError(
                    f"maintenance_margin_rate must be in [0, 1), got {decimal_to_str(rate)}",
                    field="maintenance_margin_rate",
                )
            set_(self, "maintenance_margin_rate", rate)

    def check_leverage(self, leverage: Decimal | int | str) -> Decimal:
        """Return ``leverage`` as a Decimal; ``TypeError`` for a float, ``ConfigurationError`` outside the range."""
        value = to_decimal(leverage, name="leverage")
        if not self.min_leverage <= value <= self.max_leverage:
            raise ConfigurationError(
                f"leverage {decimal_to_str(value)} is outside the allowed range "
                f"[{decimal_to_str(self.min_leverage)}, {decimal_to_str(self.max_leverage)}]",
                field="leverage",
                symbol=self.symbol,
            )
        return value

    def for_symbol(self, symbol: str) -> ContractSpec:
        """Return this spec bound to ``symbol`` (refused with ``ConfigurationError`` for a spot symbol)."""
        contract_kind(symbol)
        return dataclasses.replace(self, symbol=symbol)

    @property
    def kind(self) -> ContractKind:
        """``"linear"`` or ``"inverse"`` (the spec must be bound to a symbol)."""
        if self.symbol is None:
            raise ConfigurationError("the contract spec is not bound to a symbol", field="symbol")
        return contract_kind(self.symbol)

    def order_cost(self, amount: Decimal, price: Decimal) -> Decimal:
        """The notional that ``min_cost`` / ``max_cost`` bound: ``contracts x contract_size x price``
        (quote) for a linear contract, ``contracts x contract_size / price`` (settle, base) for an
        inverse one, whose contract size is in the quote currency."""
        if self.symbol is not None and contract_kind(self.symbol) == "inverse":
            return COST_DIVISION.divide(EXACT_COST.multiply(amount, self.contract_size), price)
        return MarketSpec.order_cost(self, amount, price)

    def tier_for(self, notional: Decimal) -> tuple[Decimal, Decimal]:
        """``(maintenance_margin_rate, maintenance_amount)`` that apply at ``notional``."""
        if not self.margin_tiers:
            assert self.maintenance_margin_rate is not None
            return self.maintenance_margin_rate, ZERO
        for tier in self.margin_tiers:
            if tier.max_notional is None or notional <= tier.max_notional:
                return tier.maintenance_margin_rate, tier.maintenance_amount
        last = self.margin_tiers[-1]
        return last.maintenance_margin_rate, last.maintenance_amount

    def maintenance_margin(self, notional: Decimal) -> Decimal:
        """Maintenance margin of a position of ``notional`` (never negative)."""
        rate, amount = self.tier_for(notional)
        return max(notional * rate - amount, ZERO)
