"""How the simulated venue fits a new order to its market's rules before accepting it.

Amounts are rounded down to the market's step (an amount already on the step is kept as is),
limit prices to the tick (buys down, sells up), triggers to the nearest tick; an order whose
amount rounds to zero or that falls outside the market's limits is refused with ``InvalidOrder``.
"""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.enums import OrderSide, OrderType, PrecisionMode
from octobot_trading.errors import InvalidOrder
from octobot_trading.exchanges.types import MarketInfo

__all__ = ["adapt_order"]

# enum members as module constants: attribute access on an Enum class is slow on the order path
_MARKET = OrderType.MARKET
_SIGNIFICANT = PrecisionMode.SIGNIFICANT_DIGITS


def adapt_order(
    market: MarketInfo,
    order_type: OrderType,
    side: OrderSide,
    amount: Decimal,
    price: Decimal | None,
    trigger: Decimal | None,
    last: Decimal | None,
    exchange: str,
    reduce_only: bool = False,
) -> tuple[Decimal, Decimal | None, Decimal | None]:
    """``(amount, price, trigger)`` of a new order adapted to ``market`` and checked against its limits.

    A market order's limits are checked at ``last``, the price it would fill at; ``exchange`` names
    the venue in the ``InvalidOrder`` raised for a refused order; a ``reduce_only`` contract order
    is exempt from ``min_cost`` (the futures venue refuses it when it would not only close).
    """
    spec = market.spec
    # an amount already on the step is kept as is (the common case: the trader adapted it)
    on_step = spec.precision_mode is not _SIGNIFICANT and amount > 0 and amount % spec.amount_step == 0
    qty = amount if on_step else spec.adapt_quantity(amount)
    px = None if price is None else spec.adapt_price(price, side)
    trig = None if trigger is None else spec.adapt_price(trigger, rounding="nearest")
    if qty <= 0:
        raise InvalidOrder(
            f"amount {amount} rounds to zero at step {spec.amount_step}",
            limit="min_amount",
            symbol=market.symbol,
            exchange=exchange,
        )
    check_price = px if px is not None else trig
    if check_price is None and order_type is _MARKET:
        check_price = last
    spec.check_limits(qty, check_price, reduce_only=reduce_only)
    return qty, px, trig
