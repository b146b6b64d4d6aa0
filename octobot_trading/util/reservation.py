"""The unit price at which an order's funds are reserved (the trader and the simulated venue).

A buy locks ``amount x unit price`` of the quote currency until it fills or is canceled; the
unit price depends on the order type only: the limit price for limit-priced types, the trigger
for stops and take-profits without a limit, the trigger plus the limit offset for a trailing
stop-limit, and the market price (last price plus a safety margin / slippage) for market orders.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from octobot_trading.enums import OrderType
from octobot_trading.util.decimals import ZERO

__all__ = ["reserve_price"]

_MARKET = OrderType.MARKET
_TRAILING_STOP_LIMIT = OrderType.TRAILING_STOP_LIMIT
_LIMIT_PRICED = (OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)


def reserve_price(
    order_type: OrderType,
    price: Decimal | None,
    trigger_price: Decimal | None,
    limit_offset: Decimal | None,
    *,
    market_price: Callable[[], Decimal | None],
) -> Decimal | None:
    """Return the unit price funds are reserved at, None when no price is known.

    ``market_price()`` is called for market orders only: the last price with the caller's margin.
    """
    if order_type is _MARKET:
        return market_price()
    if order_type is _TRAILING_STOP_LIMIT:
        return None if trigger_price is None else trigger_price + (limit_offset or ZERO)
    if order_type in _LIMIT_PRICED:
        return price
    return trigger_price
