"""What an order reserves before it is sent: its valuation price, fee terms and the funds check.

A buy is valued at :func:`~octobot_trading.util.reservation.reserve_price` (a market order at the
last price plus the venue's market-order slippage, or a 2 % safety margin on a live venue); the
fee is reserved too when the market charges it in the spent currency. A member of a group that
sells the same funds as a sibling (OCO exits) reserves only what the sibling's reservation does
not already cover. The check compares with the free funds of the order's sub-portfolio (or the
account's unallocated funds) and raises ``InsufficientFunds`` before anything changes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import InsufficientFunds, InvalidOrder
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.portfolios.portfolio_manager import PortfolioManager
from octobot_trading.util.decimals import ONE, ZERO
from octobot_trading.util.fees import Fees
from octobot_trading.util.reservation import reserve_price

__all__ = ["LIVE_MARKET_RESERVE_MARGIN", "OrderFunds"]

#: A market buy on a live venue reserves its cost at the last price plus this fraction.
LIVE_MARKET_RESERVE_MARGIN = Decimal("0.02")
_MARKET = OrderType.MARKET
_BUY = OrderSide.BUY


def _no_price() -> Decimal | None:
    return None  # (never asked: only a market order is valued at the market price)


class OrderFunds:
    """Reservation of an order's funds (see the module docstring).

    Parameters
    ----------
    portfolio_manager:
        Where funds are reserved.
    market_of:
        ``market_of(symbol)``: the market of a symbol or None (its fee side).
    fees:
        The account's fee rates (the taker rate is reserved).
    last_price:
        ``last_price(symbol)``: the price a market order is valued at.
    market_margin:
        ``market_margin()``: the venue's market-order slippage (a fraction), None for a live venue.
    """

    def __init__(
        self,
        portfolio_manager: PortfolioManager,
        fees: Fees,
        *,
        market_of: Callable[[str], MarketInfo | None],
        last_price: Callable[[str], Decimal | None],
        market_margin: Callable[[], Decimal | None],
    ) -> None:
        self.portfolio_manager = portfolio_manager
        self.market_of = market_of
        self.fees = fees
        self.last_price = last_price
        self.market_margin = market_margin
        #: ``contract_reservation(order, price)``: a contract order's margin (set by the trader).
        self.contract_reservation: Callable[[Order, Decimal], tuple[str, Decimal]] | None = None

    def reserve_price(self, order: Order, last: Decimal | None = None) -> Decimal | None:
        """The unit price ``order`` is valued at (a self-managed order without a limit: the market price)."""
        order_type = order.order_type
        if order_type is _MARKET or (order.self_managed and order.price is None):
            price = self.last_price(order.symbol) if last is None else last
            if price is None:
                return None
            margin = self.market_margin()
            return price * (ONE + (LIVE_MARKET_RESERVE_MARGIN if margin is None else margin))
        return reserve_price(order_type, order.price, order.trigger_price, order.limit_offset, market_price=_no_price)

    def fee_terms(self, order: Order) -> tuple[Decimal, bool | None]:
        """Return ``(fee rate, charged in the spent currency?)`` for reserving ``order`` (market's fee side)."""
        return self.fee_terms_for(order.symbol, order.side)

    def fee_terms_for(self, symbol: str, side: OrderSide) -> tuple[Decimal, bool | None]:
        """``(taker rate, charged in the spent currency?)`` of a ``side`` order on ``symbol``; the second
        is None when the market does not say (the portfolio manager's default then applies)."""
        market = self.market_of(symbol)
        fee_side = None if market is None else market.fee_side
        fee_in_spent = (
            None if fee_side is None else (fee_side == "give" or fee_side == ("quote" if side is _BUY else "base"))
        )
        return self.fees.taker, fee_in_spent

    def reservation(self, order: Order, last: Decimal | None = None) -> tuple[str, Decimal]:
        """``(currency, amount)`` to reserve for ``order`` now; ``InvalidOrder`` when a buy has no price."""
        price = self.reserve_price(order, last)
        if self.contract_reservation is not None and ":" in order.symbol:
            if price is None:
                raise InvalidOrder(f"no price known for {order.symbol} to value the margin", symbol=order.symbol)
            return self.contract_reservation(order, price)
        if price is None and order.side is _BUY:
            raise InvalidOrder(
                f"no price known for {order.symbol} to value the order", limit="price", symbol=order.symbol
            )
        currency, amount = self.portfolio_manager.reservation_for(
            order, price, *self.fee_terms_for(order.symbol, order.side)
        )
        owner = order.reservation_owner
        if owner is not None and owner.reserved_currency == currency and not owner.is_done:
            amount = max(ZERO, amount - owner.reserved_amount)
        return currency, amount

    def sharers_need(self, order: Order, currency: str) -> Decimal:
        """The most any open group sibling sharing ``order``'s reservation needs of it (beyond its own)."""
        needed = ZERO
        group = order.group
        if group is None:
            return needed
        for sibling in group.orders:
            if sibling.reservation_owner is not order or sibling.is_done:
                continue
            own_currency, own = self.portfolio_manager.reservation_for(
                sibling, self.reserve_price(sibling), *self.fee_terms(sibling)
            )
            if own_currency == currency:
                needed = max(needed, own - sibling.reserved_amount)
        return needed

    def check(self, order: Order, last: Decimal | None = None) -> tuple[str, Decimal]:
        """The reservation of ``order``, or ``InsufficientFunds`` when the free funds do not cover it."""
        currency, amount = self.reservation(order, last)
        pm = self.portfolio_manager
        free = (
            pm.get_portfolio(order.sub_portfolio).available(currency)
            if order.sub_portfolio
            else pm.unallocated_available(currency)
            if pm.sub_portfolios
            else pm.portfolio.available(currency)  # (no sub-portfolio: the account's available)
        )
        if amount > free:
            raise InsufficientFunds(f"not enough {currency}: {amount} needed, {free} available", symbol=order.symbol)
        return currency, amount
