"""One order class per order type (never one per side) and the factory that picks it.

Parameter conventions (all prices Decimal):

* ``MarketOrder``: no price.
* ``LimitOrder``: ``price`` is the limit.
* ``StopLossOrder`` / ``TakeProfitOrder``: ``trigger_price`` (or ``price`` when no trigger is
  given) is the stop; the fill happens at the stop.
* ``StopLossLimitOrder`` / ``TakeProfitLimitOrder``: ``trigger_price`` is the stop, ``price`` the
  limit the order becomes once triggered.
* ``TrailingStopOrder``: ``trailing_percent`` or ``trailing_offset`` sets the distance from the
  best price seen; ``trigger_price`` optionally sets the initial stop.
* ``TrailingStopLimitOrder``: as trailing stop; once triggered it becomes a limit at the stop
  moved by ``limit_offset`` (down for sells, up for buys; default 0).
"""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.clock import Clock
from octobot_trading.enums import OrderSide, OrderType, PositionSide
from octobot_trading.errors import InvalidOrder
from octobot_trading.personal_data.orders.order import Order

__all__ = [
    "ORDER_CLASSES",
    "LimitOrder",
    "MarketOrder",
    "StopLossLimitOrder",
    "StopLossOrder",
    "TakeProfitLimitOrder",
    "TakeProfitOrder",
    "TrailingStopLimitOrder",
    "TrailingStopOrder",
    "create_order_instance",
]


class MarketOrder(Order):
    """Fills at once at the market price."""

    __slots__ = ()

    order_type = OrderType.MARKET

    def validate(self) -> None:
        """Accept an optional price (used only as the reservation estimate)."""


class LimitOrder(Order):
    """Rests at ``price``; fills at ``price`` or better."""

    __slots__ = ()

    order_type = OrderType.LIMIT

    def validate(self) -> None:
        """Require a limit price."""
        self._require(self.price, "price")


class _StopOrder(Order):
    __slots__ = ()

    def validate(self) -> None:
        if self.trigger_price is None:
            self.trigger_price = self.price
            self.price = None
        self._require(self.trigger_price, "trigger_price")


class StopLossOrder(_StopOrder):
    """Triggers when the price reaches the stop against the position; fills at the stop."""

    __slots__ = ()

    order_type = OrderType.STOP_LOSS


class TakeProfitOrder(_StopOrder):
    """Triggers when the price reaches the target in the position's favour; fills at the target."""

    __slots__ = ()

    order_type = OrderType.TAKE_PROFIT


class _StopLimitOrder(Order):
    __slots__ = ()

    def validate(self) -> None:
        self._require(self.trigger_price, "trigger_price")
        self._require(self.price, "price")


class StopLossLimitOrder(_StopLimitOrder):
    """Becomes a limit order at ``price`` once the stop ``trigger_price`` is reached."""

    __slots__ = ()

    order_type = OrderType.STOP_LOSS_LIMIT


class TakeProfitLimitOrder(_StopLimitOrder):
    """Becomes a limit order at ``price`` once the target ``trigger_price`` is reached."""

    __slots__ = ()

    order_type = OrderType.TAKE_PROFIT_LIMIT


class _TrailingOrder(Order):
    __slots__ = ()

    def validate(self) -> None:
        if (self.trailing_percent is None) == (self.trailing_offset is None):
            raise InvalidOrder(
                f"{self.order_type.value} order needs exactly one of trailing_percent / trailing_offset",
                limit="trailing",
                symbol=self.symbol,
            )
        if self.trailing_percent is not None and self.trailing_percent >= 100:
            raise InvalidOrder("trailing_percent must be below 100", limit="trailing_percent", symbol=self.symbol)

    def stop_from(self, best_price: Decimal) -> Decimal:
        """Return the stop that trails ``best_price`` (the peak for sells, the trough for buys)."""
        if self.trailing_percent is not None:
            distance = best_price * self.trailing_percent / 100
        else:
            distance = self.trailing_offset  # type: ignore[assignment]
        return best_price - distance if self.side is OrderSide.SELL else best_price + distance


class TrailingStopOrder(_TrailingOrder):
    """A stop that follows the price by a percentage or an offset; fills at the stop."""

    __slots__ = ()

    order_type = OrderType.TRAILING_STOP


class TrailingStopLimitOrder(_TrailingOrder):
    """A trailing stop that becomes a limit at the stop moved by ``limit_offset`` once triggered."""

    __slots__ = ()

    order_type = OrderType.TRAILING_STOP_LIMIT

    def limit_price_for(self, stop: Decimal) -> Decimal:
        """Return the limit price used once the stop ``stop`` is triggered."""
        offset = self.limit_offset or Decimal(0)
        return stop - offset if self.side is OrderSide.SELL else stop + offset


ORDER_CLASSES: dict[OrderType, type[Order]] = {
    cls.order_type: cls
    for cls in (
        MarketOrder,
        LimitOrder,
        StopLossOrder,
        StopLossLimitOrder,
        TakeProfitOrder,
        TakeProfitLimitOrder,
        TrailingStopOrder,
        TrailingStopLimitOrder,
    )
}


def create_order_instance(
    order_type: OrderType | str,
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
) -> Order:
    """Build the order class matching ``order_type``; raise ``InvalidOrder`` for unknown types.

    The options are :class:`~.order.Order`'s keyword parameters.
    """
    try:
        cls = ORDER_CLASSES[order_type if type(order_type) is OrderType else OrderType(order_type)]
    except ValueError:
        raise InvalidOrder(f"unknown order type {order_type!r}", limit="type", symbol=symbol) from None
    # object.__new__ then __init__: cls(...) without the class call's argument packing
    order = object.__new__(cls)
    if trigger_price is None and trailing_percent is None and trailing_offset is None and limit_offset is None:
        # the common case (market and limit orders): fewer keywords to pass
        cls.__init__(order, side, symbol, amount, price, clock=clock, client_order_id=client_order_id)
    else:
        cls.__init__(
            order,
            side,
            symbol,
            amount,
            price,
            clock=clock,
            trigger_price=trigger_price,
            trailing_percent=trailing_percent,
            trailing_offset=trailing_offset,
            limit_offset=limit_offset,
            client_order_id=client_order_id,
        )
    # (plain metadata the constructor only stores)
    order.reduce_only = reduce_only
    order.tag = tag
    order.sub_portfolio = sub_portfolio
    order.position_side = position_side
    return order
