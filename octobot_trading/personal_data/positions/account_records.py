"""The records of futures accounting: what a fill did, a funding payment, a liquidation.

Re-exported by :mod:`~octobot_trading.personal_data.positions.accounting` (their documented home).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.enums import MarginMode, OrderSide, PositionSide
from octobot_trading.errors import InvalidOrder
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.decimals import MAX_MONEY_ADJUSTED_EXPONENT, MIN_MONEY_EXPONENT, decimal_to_str, to_decimal
from octobot_trading.util.records import fast_frozen_init

__all__ = ["FillResult", "FundingPayment", "Liquidation", "checked_mark", "exact_input"]


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class FillResult:
    """What one fill did: contracts ``closed`` and ``opened``, gross ``realized_pnl``, ``fee`` paid."""

    fill_id: str
    symbol: str
    side: OrderSide
    contracts: Decimal
    price: Decimal
    fee: Decimal
    realized_pnl: Decimal
    closed: Decimal
    opened: Decimal
    position: Position | None
    timestamp: int


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One funding payment: ``amount`` signed in ``currency`` (negative when the position paid)."""

    timestamp: int
    symbol: str
    side: PositionSide
    rate: Decimal
    mark_price: Decimal
    amount: Decimal
    currency: str


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class Liquidation:
    """A liquidated position: closed at ``price`` losing ``margin_lost`` (settle currency), no fee."""

    timestamp: int
    symbol: str
    side: PositionSide
    size: Decimal
    price: Decimal
    margin_lost: Decimal
    margin_mode: MarginMode


def exact_input(value: Decimal | int | str, name: str) -> Decimal:
    """``to_decimal(value, name=name)``, with no call for the common input: a finite, non-zero
    Decimal within the money bounds (returned as it is, as ``to_decimal`` does)."""
    if type(value) is Decimal and value and value.is_finite():
        if MIN_MONEY_EXPONENT <= value.adjusted() <= MAX_MONEY_ADJUSTED_EXPONENT:
            return value
    return to_decimal(value, name=name)


def checked_mark(symbol: str, mark_price: Decimal | int | str) -> Decimal:
    """``mark_price`` as a Decimal; ``InvalidOrder`` unless positive."""
    mark = exact_input(mark_price, "mark_price")
    if mark <= 0:
        raise InvalidOrder(f"mark price must be positive, got {decimal_to_str(mark)}", symbol=symbol)
    return mark
