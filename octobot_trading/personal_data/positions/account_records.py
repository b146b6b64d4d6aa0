"""The records of futures accounting: what a fill did, a funding payment, a liquidation.

Re-exported by :mod:`~octobot_trading.personal_data.positions.accounting` (their documented home).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.enums import MarginMode, OrderSide, PositionSide
from octobot_trading.errors import InvalidOrder
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.decimals import decimal_to_str, to_decimal
from octobot_trading.util.records import fast_frozen_init

__all__ = ["FillResult", "FundingPayment", "Liquidation", "checked_mark"]


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


def checked_mark(symbol: str, mark_price: Decimal | int | str) -> Decimal:
    """``mark_price`` as a Decimal; ``InvalidOrder`` unless positive."""
    mark = to_decimal(mark_price, name="mark_price")
    if mark <= 0:
        raise InvalidOrder(f"mark price must be positive, got {decimal_to_str(mark)}", symbol=symbol)
    return mark
