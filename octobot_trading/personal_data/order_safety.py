"""Order-safety rules checked by the trader before an order leaves the process.

Each refusal is an ``OrderSafetyError`` (an ``InvalidOrder``) whose ``rule`` names the rule:

* ``max_price_deviation_percent`` — a limit-priced order priced more than this % *through* the
  mark price (a buy above it, a sell below it);
* ``max_spread_percent`` — a market order while the book's spread is wider than this %;
* ``max_price_age_seconds`` — a market order while the last price is older than this;
* ``max_position_value`` — a buy that would lift the symbol's holding above this value in the
  quote currency;
* ``max_open_orders_per_symbol`` — one more order than the cap on one symbol (always enforced).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from octobot_trading.clock import Clock
from octobot_trading.config import OrderSafetyConfig
from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import OrderSafetyError
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.util.decimals import decimal_to_str

__all__ = ["OrderSafety"]

PriceOf = Callable[[str], "Decimal | None"]
_MARKET = OrderType.MARKET
_BUY = OrderSide.BUY
TimeOf = Callable[[str], "int | None"]


class OrderSafety:
    """Apply :class:`~octobot_trading.config.OrderSafetyConfig` to orders.

    Parameters
    ----------
    config:
        The rules (``enabled=False`` turns all but the open-orders cap off).
    clock:
        For the age of the last price.
    price_of, price_time_of, spread_of:
        Injected market views: mark price, time (ms) of the last price, spread in percent.
    """

    def __init__(
        self,
        config: OrderSafetyConfig,
        clock: Clock,
        *,
        price_of: PriceOf | None = None,
        price_time_of: TimeOf | None = None,
        spread_of: PriceOf | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.price_of = price_of
        self.price_time_of = price_time_of
        self.spread_of = spread_of

    def check(self, order: Order, *, open_orders: int, holding: Decimal, mark: Decimal | None = None) -> None:
        """Raise ``OrderSafetyError`` naming the first rule ``order`` breaks.

        ``mark`` is the mark price when the caller has just read it (None: read here when a rule
        needs it: a limit-priced order's deviation, a buy's position value).
        """
        cfg = self.config
        if open_orders >= cfg.max_open_orders_per_symbol:
            raise OrderSafetyError(
                f"{open_orders} open orders on {order.symbol}: the cap is {cfg.max_open_orders_per_symbol}",
                rule="max_open_orders_per_symbol",
                symbol=order.symbol,
            )
        if not cfg.enabled:
            return
        at_market = order.order_type is _MARKET
        if at_market:
            self._check_market(order)
            if cfg.max_position_value is None or order.side is not _BUY:
                return  # no rule below reads the mark price
        if mark is None and self.price_of is not None:
            mark = self.price_of(order.symbol)
        if not at_market:
            self._check_limit_price(order, mark)
        self._check_position_value(order, holding, order.amount, mark)

    def check_edit(self, order: Order, *, price_changed: bool, amount_increased: bool, holding: Decimal) -> None:
        """Raise ``OrderSafetyError`` when an edit's new terms (already set on ``order``) break a rule.

        The rules :meth:`check` applies to a new order's price and amount: the limit price when the
        edit moves it, the position value (holding plus the order's unfilled amount) when it
        increases the amount. The open-orders cap does not apply (the order is already counted).
        """
        if not self.config.enabled:
            return
        mark = self.price_of(order.symbol) if self.price_of is not None else None
        if price_changed and order.order_type is not OrderType.MARKET:
            self._check_limit_price(order, mark)
        if amount_increased:
            self._check_position_value(order, holding, order.remaining, mark)

    def _check_limit_price(self, order: Order, mark: Decimal | None) -> None:
        cfg = self.config
        if order.price is not None and mark is not None and mark > 0:
            through = (order.price - mark) if order.side is OrderSide.BUY else (mark - order.price)
            if through * 100 > cfg.max_price_deviation_percent * mark:
                raise OrderSafetyError(
                    f"{order.side.value} limit at {decimal_to_str(order.price)} is more than "
                    f"{decimal_to_str(cfg.max_price_deviation_percent)}% through the mark price {decimal_to_str(mark)}",
                    rule="max_price_deviation_percent",
                    symbol=order.symbol,
                )

    def _check_position_value(self, order: Order, holding: Decimal, amount: Decimal, mark: Decimal | None) -> None:
        cfg = self.config
        if cfg.max_position_value is not None and order.side is OrderSide.BUY:
            price = order.reference_price or mark
            if price is not None and (holding + amount) * price > cfg.max_position_value:
                raise OrderSafetyError(
                    f"the position on {order.symbol} would exceed {decimal_to_str(cfg.max_position_value)}",
                    rule="max_position_value",
                    symbol=order.symbol,
                )

    def _check_market(self, order: Order) -> None:
        cfg = self.config
        if self.spread_of is not None:
            spread = self.spread_of(order.symbol)
            if spread is not None and spread > cfg.max_spread_percent:
                raise OrderSafetyError(
                    f"spread {decimal_to_str(spread)}% on {order.symbol} is above {cfg.max_spread_percent}%",
                    rule="max_spread_percent",
                    symbol=order.symbol,
                )
        if self.price_time_of is not None:
            last = self.price_time_of(order.symbol)
            if last is not None and self.clock.now_ms() - last > cfg.max_price_age_seconds * 1000:
                raise OrderSafetyError(
                    f"last price of {order.symbol} is older than {cfg.max_price_age_seconds}s",
                    rule="max_price_age_seconds",
                    symbol=order.symbol,
                )
