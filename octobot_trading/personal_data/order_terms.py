"""How the trader fits a new order's terms to its market before anything is reserved or sent.

The amount goes down to the market's amount step (an amount already on the step is kept as is),
a limit price to the tick in the direction that is safe for the order (buys down, sells up), a
trigger to the nearest tick; a trailing stop without a trigger gets its first stop from the last
price. The order's amount and price are then checked against the market's limits (a market
order's at the last price); any refusal is an ``InvalidOrder`` raised before the order changes.
"""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.enums import OrderType, PrecisionMode
from octobot_trading.errors import InvalidOrder
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data.orders.order import Order

__all__ = ["adapt_to_market"]

# enum members as module constants: attribute access on an Enum class is slow on the order path
_SIGNIFICANT = PrecisionMode.SIGNIFICANT_DIGITS
_TRAILING = (OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT)


def adapt_to_market(order: Order, market: MarketInfo, last: Decimal | None) -> None:
    """Put ``order``'s amount and prices on ``market``'s steps and check its limits.

    ``last`` is the last price (the first stop of a trailing stop, the price a market order's
    limits are checked at). Raises ``InvalidOrder``; the order is not registered anywhere yet.
    """
    spec = market.spec
    amount = order.amount
    if spec.precision_mode is _SIGNIFICANT or amount % spec.amount_step != 0:
        amount = spec.adapt_quantity(amount)  # (already on the step: kept as is)
        if amount <= 0:
            raise InvalidOrder(
                f"amount rounds to zero at step {spec.amount_step}", limit="min_amount", symbol=order.symbol
            )
    price = order.price
    if price is not None:
        price = spec.adapt_price(price, order.side)
    trigger = order.trigger_price
    if trigger is not None:
        trigger = spec.adapt_price(trigger, rounding="nearest")
    elif order.order_type in _TRAILING:
        if last is None:
            raise InvalidOrder("no price known to place the trailing stop", limit="price", symbol=order.symbol)
        trigger = spec.adapt_price(order.stop_from(last), rounding="nearest")  # type: ignore[attr-defined]
    order.amend(amount=amount, price=price, trigger_price=trigger)
    reference = order.reference_price or last
    spec.check_limits(order.amount, reference, reduce_only=order.reduce_only)  # futures.check: it closes
