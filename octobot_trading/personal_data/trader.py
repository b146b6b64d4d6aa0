"""The trader: creates, cancels and edits orders through an ``ExchangeConnector``.

The same class serves live trading (``CCXTConnector``), paper trading and backtests (the
simulated connector); only the connector and the clock differ. ``create_order`` validates and
adapts the order to the market spec, applies order safety and reserves funds BEFORE anything is
sent, so a refused order leaves no trace. Placement is never retried: when the venue's answer is
lost (``AmbiguousOrderOutcome`` / ``NetworkError``), the order stays in flight (pending
creation, funds reserved) and :meth:`Trader.resolve_in_flight` looks it up by client order id.

Order features live here as order hooks, identical in every mode: chained orders (submitted
when their parent fills, amounts adjusted for the parent's fees), groups (OCO / balanced), price
triggers and self-managed orders (types the venue does not hold natively, fired on price events).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.config import OrderSafetyConfig
from octobot_trading.enums import OrderSide, OrderStatus, OrderType, PrecisionMode, TraderType
from octobot_trading.errors import (
    AmbiguousOrderOutcome,
    InvalidOrder,
    InvalidOrderState,
    NetworkError,
    OctoBotTradingError,
    OrderNotFound,
    UnknownSymbol,
)
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
from octobot_trading.personal_data.live_sync import IN_FLIGHT_GIVE_UP_MS, IN_FLIGHT_MIN_LOOKUPS, LiveSync
from octobot_trading.personal_data.order_funds import OrderFunds
from octobot_trading.personal_data.order_safety import OrderSafety
from octobot_trading.personal_data.orders.groups import CancelOrder, GroupKind, OrderGroup
from octobot_trading.personal_data.orders.order import Order, OrderEvent
from octobot_trading.personal_data.orders.order_types import create_order_instance
from octobot_trading.personal_data.price_triggers import PriceTrigger, PriceTriggers
from octobot_trading.util.decimals import ZERO, to_decimal
from octobot_trading.util.fees import Fees
from octobot_trading.util.logging import get_logger
from octobot_trading.util.symbols import cached_symbol

__all__ = ["IN_FLIGHT_GIVE_UP_MS", "IN_FLIGHT_MIN_LOOKUPS", "PriceTrigger", "Trader"]

PriceOf = Callable[[str], "Decimal | None"]
_T = OrderType
# enum members as module constants: attribute access on an Enum class is slow on the order path
_MARKET = OrderType.MARKET
_TRAILING = (OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT)
_STOP_WITHOUT_LIMIT = (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT)


class Trader(LiveSyncMixin, PriceTriggersMixin, OrderListenersMixin):
    """Order entry point of one exchange account (``manager.trader``).

    Parameters
    ----------
    connector:
        Where orders go (``CCXTConnector`` live, the simulated connector otherwise).
    personal_data:
        Orders, portfolio, trades, transactions and positions of the account.
    clock:
        Time source.
    simulated:
        True for paper trading and backtests (sets :attr:`trader_type`).
    markets:
        Market specs by symbol (default: ``connector.load_markets()`` on :meth:`initialize`).
    price_of:
        Mark / last price by symbol (market-order reservation, safety, trailing stops).
    price_events_for:
        ``price_events_for(symbol)`` returns an object with ``register(threshold, crossing,
        callback)`` (the market-data layer's ``PriceEventsManager``): used by price triggers
        and self-managed orders.
    supported_order_types:
        Types the venue holds natively (default: all); others are self-managed.
    """

    def __init__(
        self, connector: ExchangeConnector, personal_data: ExchangePersonalData, *, clock: Clock,
        simulated: bool, markets: Mapping[str, MarketInfo] | None = None, price_of: PriceOf | None = None,
        price_time_of: Callable[[str], int | None] | None = None, spread_of: PriceOf | None = None,
        safety: OrderSafetyConfig | None = None, fees: Fees | None = None,
        price_events_for: Callable[[str], Any] | None = None,
        supported_order_types: Collection[OrderType] | None = None,
    ) -> None:
        self.connector = connector
        self.personal_data = personal_data
        self.orders_manager = personal_data.orders_manager
        self.orders_manager.fee_terms = self._fee_terms  # adopted / restored orders reserve like placed ones
        self.portfolio_manager = personal_data.portfolio_manager
        self.clock = clock
        self.is_simulated = simulated
        self.trader_type = TraderType.SIMULATED if simulated else TraderType.REAL
        self.markets: dict[str, MarketInfo] = dict(markets or {})
        self.price_of = price_of
        self.fees = fees or Fees()
        self.safety = OrderSafety(safety or OrderSafetyConfig(), clock, price_of=price_of,
                                  price_time_of=price_time_of, spread_of=spread_of)
        self.price_events_for = price_events_for
        self.supported_order_types = frozenset(supported_order_types) if supported_order_types else frozenset(_T)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._price_events: dict[str, Any] = {}
        self._in_flight_misses: dict[str, int] = {}
        self._logger = get_logger("personal_data.trader")

    # -- lifecycle -----------------------------------------------------------------------------------
    async def initialize(self) -> None:
        """Load markets (when not given) and subscribe to the connector's order updates."""
        if not self.markets:
            self.markets = dict(await self.connector.load_markets())
        setter = getattr(self.connector, "set_order_update_listener", None)
        if setter is not None:
            setter(self.orders_manager.apply_exchange_update)

    async def stop(self) -> None:
        """Cancel the trader's background tasks and price-event registrations (idempotent)."""
        for event in self._price_events.values():
            event.cancel()
        self._price_events.clear()
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise
            except Exception as exc:
                self._logger.warning("trader task ended with %r", exc)

    # -- creation ------------------------------------------------------------------------------------------
    def market(self, symbol: str) -> MarketInfo:
        """The market of ``symbol`` or ``UnknownSymbol``."""
        try:
            return self.markets[symbol]
        except KeyError:
            raise UnknownSymbol(f"{symbol} is not a market of this exchange", symbol=symbol) from None

    @reports_operation(OrderOperation.CREATE)
    async def create_order(
        self, order_type: OrderType | str, side: OrderSide | str, symbol: str, amount: Decimal | int | str,
        price: Decimal | int | str | None = None, *, trigger_price: Decimal | int | str | None = None,
        trailing_percent: Decimal | int | str | None = None, trailing_offset: Decimal | int | str | None = None,
        limit_offset: Decimal | int | str | None = None, stop_loss_price: Decimal | int | str | None = None,
        take_profit_price: Decimal | int | str | None = None, group: OrderGroup | None = None,
        chained_to: Order | None = None, price_trigger: PriceTrigger | None = None,
        sub_portfolio: str | None = None, tag: str | None = None, reduce_only: bool = False,
        client_order_id: str | None = None,
    ) -> Order:
        """Create an order; return it (open, filled, or in flight).

        Adapts amount and prices to the market spec (amount down to the step, buy prices down and
        sell prices up to the tick, triggers to the nearest tick) or raises ``InvalidOrder`` /
        ``OrderSafetyError`` / ``InsufficientFunds`` / ``UnknownSymbol`` before any state change.
        ``stop_loss_price`` / ``take_profit_price`` bundle exits with this entry: chained orders
        on the other side, submitted when the entry fills, grouped so that one cancels (and,
        partly filled, shrinks) the other. ``chained_to`` / ``price_trigger`` keep the order
        inactive until the parent fills / the price crosses the threshold.
        """
        market = self.market(symbol)
        order = create_order_instance(
            order_type, side, symbol, amount, price, clock=self.clock, trigger_price=trigger_price,
            trailing_percent=trailing_percent, trailing_offset=trailing_offset, limit_offset=limit_offset,
            client_order_id=client_order_id, reduce_only=reduce_only, tag=tag, sub_portfolio=sub_portfolio,
        )
        portfolio = self.portfolio_manager.get_portfolio(sub_portfolio)
        last = self._last_price(symbol)
        self._adapt(order, market, last)
        exits = self._build_exits(order, market, stop_loss_price, take_profit_price)
        holding = portfolio.total(market.base)
        self.safety.check(order, open_orders=self.orders_manager.count_open(symbol), holding=holding)
        if group is not None:
            order.reservation_owner = self._group_owner(order, group)
        native = order.order_type in self.supported_order_types
        inactive = chained_to is not None or price_trigger is not None or not native
        needs_events = price_trigger is not None or (chained_to is None and not native) or any(
            child.order_type not in self.supported_order_types for child in exits)
        if needs_events and not self._has_price_events(symbol):
            raise InvalidOrder("price triggers and self-managed orders (types the venue lacks, e.g. a bundled "
                               "stop-loss) need a price-event source", limit="price_trigger", symbol=symbol)
        reservation = None if inactive else self._check_funds(order, last)
        # -- from here on, state changes --
        if group is not None:
            self._join_group(order, group)
        for child in exits:
            self._chain(child, order)
        if chained_to is not None:
            self._chain(order, chained_to)
            return order
        if price_trigger is not None:
            order.is_active = False
            self.orders_manager.add(order)
            self._watch(order, price_trigger.threshold, price_trigger.above)
            return order
        if not native:
            self._self_manage(order)
            return order
        await self._submit(order, reservation=reservation)
        return order

    def _has_price_events(self, symbol: str) -> bool:
        """True when price events of ``symbol`` can be watched (self-managed orders, price triggers)."""
        if self.price_events_for is None:
            return False
        try:
            self.price_events_for(symbol)
        except OctoBotTradingError:
            return False
        return True

    def _adapt(self, order: Order, market: MarketInfo, last: Decimal | None) -> None:
        spec = market.spec
        amount = order.amount
        if spec.precision_mode is PrecisionMode.SIGNIFICANT_DIGITS or amount % spec.amount_step != 0:
            order.amount = spec.adapt_quantity(amount)  # (already on the step: kept as is)
        if order.amount <= 0:
            raise InvalidOrder(f"amount rounds to zero at step {spec.amount_step}", limit="min_amount",
                               symbol=order.symbol)
        if order.price is not None:
            order.price = spec.adapt_price(order.price, order.side)
        if order.trigger_price is not None:
            order.trigger_price = spec.adapt_price(order.trigger_price, rounding="nearest")
        if order.trigger_price is None and order.order_type in _TRAILING:
            if last is None:
                raise InvalidOrder("no price known to place the trailing stop", limit="price", symbol=order.symbol)
            order.trigger_price = spec.adapt_price(order.stop_from(last), rounding="nearest")  # type: ignore[attr-defined]
        reference = order.reference_price or last
        spec.check_limits(order.amount, reference)

    def _last_price(self, symbol: str) -> Decimal | None:
        if self.price_of is not None:
            price = self.price_of(symbol)
            if price is not None:
                return price
        last = getattr(self.connector, "last_price", None)
        return last(symbol) if callable(last) else None

    def _reserve_price(self, order: Order, last: Decimal | None = None) -> Decimal | None:
        t = order.order_type
        if t is _MARKET or (order.self_managed and order.price is None):
            if last is None:
                last = self._last_price(order.symbol)
            margin = getattr(self.connector, "market_order_slippage", None)
            if margin is None:
                margin = _LIVE_MARKET_RESERVE_MARGIN
            return None if last is None else last * (ONE + margin)
        if t is _T.TRAILING_STOP_LIMIT:
            return None if order.trigger_price is None else order.trigger_price + (order.limit_offset or ZERO)
        if t in (_T.LIMIT, _T.STOP_LOSS_LIMIT, _T.TAKE_PROFIT_LIMIT):
            return order.price
        return order.trigger_price

    def _fee_terms(self, order: Order) -> tuple[Decimal, bool | None]:
        """Return ``(fee rate, charged in the spent currency?)`` for reserving ``order`` (market's fee side)."""
        market = self.markets.get(order.symbol)
        fee_side = None if market is None else market.fee_side
        fee_in_spent = None if fee_side is None else (
            fee_side == "give" or fee_side == ("quote" if order.side is _BUY else "base"))
        return self.fees.taker, fee_in_spent

    def _reservation(self, order: Order, last: Decimal | None = None) -> tuple[str, Decimal]:
        price = self._reserve_price(order, last)
        if price is None and order.side is _BUY:
            raise InvalidOrder(f"no price known for {order.symbol} to value the order", limit="price",
                               symbol=order.symbol)
        currency, amount = self.portfolio_manager.reservation_for(order, price, *self._fee_terms(order))
        owner = order.reservation_owner
        if owner is not None and owner.reserved_currency == currency and not owner.is_done:
            amount = max(ZERO, amount - owner.reserved_amount)
        return currency, amount

    def _check_funds(self, order: Order, last: Decimal | None = None) -> tuple[str, Decimal]:
        currency, amount = self._reservation(order, last)
        portfolio = self.portfolio_manager.get_portfolio(order.sub_portfolio)
        free = portfolio.available(currency) if order.sub_portfolio else \
            self.portfolio_manager.unallocated_available(currency)
        if amount > free:
            from octobot_trading.errors import InsufficientFunds
            raise InsufficientFunds(f"not enough {currency}: {amount} needed, {free} available", symbol=order.symbol)
        return currency, amount

    async def _submit(self, order: Order, *, as_type: OrderType | None = None,
                      reservation: tuple[str, Decimal] | None = None) -> None:
        """Reserve funds, register and send ``order``; on refusal undo everything and re-raise."""
        currency, amount = reservation or self._reservation(order)
        self.portfolio_manager.reserve(order, currency, amount)
        order.is_active = True
        self.orders_manager.add(order)
        params: dict[str, Any] = {}
        if order.trailing_percent is not None:
            params["trailing_percent"] = order.trailing_percent
        if order.trailing_offset is not None:
            params["trailing_offset"] = order.trailing_offset
        if order.limit_offset is not None:
            params["limit_offset"] = order.limit_offset
        owner = order.reservation_owner
        if owner is not None and owner.exchange_order_id and not owner.is_done and self.connector.shares_reservations:
            params["shares_funds_with"] = owner.exchange_order_id  # simulator-only: never sent to a venue
        order_type = as_type or order.order_type
        price = order.price if order_type is not _MARKET else None
        try:
            exchange_order = await self.connector.create_order(
                order_type, order.side, order.symbol, order.remaining, price,
                client_order_id=order.client_order_id,
                trigger_price=order.trigger_price if order_type.is_triggered else None, params=params,
            )
        except (AmbiguousOrderOutcome, NetworkError) as exc:
            if not (isinstance(exc, NetworkError) and exc.not_processed):
                self._logger.warning("order %s outcome unknown (%s); kept in flight", order.client_order_id, exc)
                return
            # a definite refusal (rate limit, no connection): nothing was placed, undo like any refusal
            if order.status is OrderStatus.PENDING_CREATION:
                self.portfolio_manager.release(order)
                order.transition(OrderStatus.REJECTED)
                self.orders_manager.forget(order)
            raise
        except OctoBotTradingError:
            if order.status is OrderStatus.PENDING_CREATION:
                self.portfolio_manager.release(order)
                order.transition(OrderStatus.REJECTED)
                self.orders_manager.forget(order)
            raise
        await self._apply_placed(exchange_order)

    # -- cancel / edit ----------------------------------------------------------------------------------------
    @reports_operation(OrderOperation.CANCEL)
    async def cancel_order(self, order: Order) -> Order:
        """Cancel ``order`` (inactive ones locally); a filled order raises ``InvalidOrderState``."""
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
            return order
        if order.is_done:
            raise InvalidOrderState(f"order is {order.status.value}", order_id=order.id, symbol=order.symbol)
        if not order.is_active or order.exchange_order_id is None:
            for key in (order.id, f"{order.id}:trail"):
                event = self._price_events.pop(key, None)
                if event is not None:
                    event.cancel()
            if order.status is OrderStatus.PENDING_CREATION and order.is_active:
                await self.resolve_in_flight()
                if order.status is OrderStatus.PENDING_CREATION:  # the venue does not show it (yet)
                    raise AmbiguousOrderOutcome(
                        "the order is in flight (placement outcome unknown): it cannot be canceled before "
                        "the venue shows it; retry after the next sync", client_order_id=order.client_order_id,
                        order_id=order.id, symbol=order.symbol)
                if order.exchange_order_id is None or order.is_done:
                    return order
            else:
                await self.orders_manager.cancel_locally(order)
                return order
        previous = order.status
        order.transition(OrderStatus.CANCELING)
        try:
            try:
                exchange_order = await self.connector.cancel_order(order.exchange_order_id, order.symbol)
            except OrderNotFound:
                exchange_order = await self.connector.fetch_order(order.exchange_order_id, order.symbol)
                if exchange_order.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
                    raise
        except BaseException:  # (the lookup's failure too): the order is what it was
            if order.status is OrderStatus.CANCELING:
                order.transition(previous)
            raise
        await self._apply_placed(exchange_order)
        return order

    async def _apply_placed(self, exchange_order: Any) -> None:
        """Apply the venue's reply to a placement / cancel it has accepted; never raise for local books.

        The venue has acted: an error applying its reply locally must not reach the caller as a
        failure (it would invite a re-send); it is logged and the next sync applies the order.
        """
        try:
            await self._apply_with_trades(exchange_order)
        except asyncio.CancelledError:
            raise
        except OctoBotTradingError as exc:
            self._logger.error("the venue accepted order %s but applying its reply failed, retried next sync: %r",
                               exchange_order.id, exc)

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open or inactive order (of ``symbol`` when given); return them.

        An order still in flight that the venue does not show yet cannot be canceled: it is left
        out (logged); cancel it once a sync resolves it.
        """
        canceled = []
        for order in self.orders_manager.open_orders(symbol):
            if not order.is_done:
                try:
                    await self.cancel_order(order)
                except AmbiguousOrderOutcome as exc:
                    self._logger.warning("order %s not canceled: %s", order.client_order_id, exc)
                    continue
                canceled.append(order)
        return canceled

    @reports_operation(OrderOperation.EDIT)
    async def edit_order(self, order: Order, *, amount: Decimal | int | str | None = None,
                         price: Decimal | int | str | None = None,
                         trigger_price: Decimal | int | str | None = None) -> Order:
        """Change an open order's amount, price and/or trigger; funds are checked before the venue is asked.

        ``price`` is the limit price (a stop-loss / take-profit without a limit has none: there it
        moves the trigger); ``trigger_price`` moves the trigger of a triggered order.
        """
        from octobot_trading.util.decimals import to_decimal
        market = self.market(order.symbol)
        new_amount = None if amount is None else market.spec.adapt_quantity(to_decimal(amount, name="amount"))
        new_price = None if price is None else market.spec.adapt_price(to_decimal(price, name="price"), order.side)
        new_trigger = None if trigger_price is None else market.spec.adapt_price(
            to_decimal(trigger_price, name="trigger_price"), rounding="nearest")
        if new_trigger is not None and not order.order_type.is_triggered:
            raise InvalidOrder(f"a {order.order_type.value} order has no trigger price", limit="trigger_price",
                               symbol=order.symbol)
        if new_amount is not None and new_amount <= order.filled:
            raise InvalidOrder("the new amount must exceed the filled amount", limit="amount", symbol=order.symbol)
        if not order.is_active:
            order.amount = new_amount or order.amount
            if new_price is not None:
                if order.order_type in (_T.STOP_LOSS, _T.TAKE_PROFIT):
                    order.trigger_price = new_price
                else:
                    order.price = new_price
            if new_trigger is not None:
                order.trigger_price = new_trigger
            event = self._price_events.get(order.id) if order.self_managed and order.order_type not in _TRAILING \
                else None
            if event is not None and (new_trigger is not None or order.order_type in (_T.STOP_LOSS, _T.TAKE_PROFIT)):
                self._price_events.pop(order.id).cancel()
                self._self_manage(order)  # watch the new trigger
            return order
        order.ensure_status(OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
        old = (order.amount, order.price, order.trigger_price)
        if new_amount is not None:
            order.amount = new_amount
        if new_price is not None:
            if order.order_type in (_T.STOP_LOSS, _T.TAKE_PROFIT):
                order.trigger_price = new_price
            else:
                order.price = new_price
        if new_trigger is not None:
            order.trigger_price = new_trigger
        try:
            spec_price = order.reference_price or self._last_price(order.symbol)
            market.spec.check_limits(order.remaining, spec_price)
            currency, needed = self._reservation(order)
            delta = needed - order.reserved_amount
            if delta > 0:
                self.portfolio_manager.reserve(order, currency, delta)
        except BaseException:
            order.amount, order.price, order.trigger_price = old
            raise
        try:
            extra = {} if new_trigger is None else {"trigger_price": new_trigger}
            await self.connector.edit_order(order.exchange_order_id, order.symbol,  # type: ignore[arg-type]
                                             amount=new_amount, price=new_price, **extra)
        except BaseException:
            if delta > 0:
                self.portfolio_manager.release(order, delta)
            order.amount, order.price, order.trigger_price = old
            raise
        if delta < 0:
            self.portfolio_manager.release(order, -delta)
        return order

    # -- features ---------------------------------------------------------------------------------------------
    def _build_exits(self, entry: Order, market: MarketInfo, stop_loss: Any, take_profit: Any) -> list[Order]:
        exits: list[Order] = []
        if stop_loss is None and take_profit is None:
            return exits
        side = entry.side.opposite
        if stop_loss is not None:
            exits.append(create_order_instance(_T.STOP_LOSS, side, entry.symbol, entry.amount, clock=self.clock,
                                               trigger_price=stop_loss, sub_portfolio=entry.sub_portfolio))
        if take_profit is not None:
            exits.append(create_order_instance(_T.LIMIT, side, entry.symbol, entry.amount, take_profit,
                                               clock=self.clock, sub_portfolio=entry.sub_portfolio))
        for child in exits:
            if child.price is not None:
                child.price = market.spec.adapt_price(child.price, child.side)
            if child.trigger_price is not None:
                child.trigger_price = market.spec.adapt_price(child.trigger_price, rounding="nearest")
        if len(exits) == 2:
            group = OrderGroup(GroupKind.BALANCED)
            for child in exits:
                self._join_group(child, group)
        return exits

    @staticmethod
    def _group_owner(order: Order, group: OrderGroup) -> Order | None:
        """The group member whose reservation ``order`` shares (same symbol and side), if any."""
        if group.kind not in (GroupKind.OCO, GroupKind.BALANCED):
            return None
        for sibling in group.orders:
            if sibling.side is order.side and sibling.symbol == order.symbol and not sibling.is_done:
                return sibling.reservation_owner or sibling
        return None

    def _join_group(self, order: Order, group: OrderGroup) -> None:
        if order.reservation_owner is None:
            order.reservation_owner = self._group_owner(order, group)
        group.add(order)
        self._watch_lifecycle(order)

    def _watch_lifecycle(self, order: Order) -> None:
        """Install the feature hooks (groups, chained orders) once; plain orders carry none."""
        if not order.has_hooks(OrderEvent.FILL):
            order.add_hook(OrderEvent.FILL, self._after_fill)
            order.add_hook(OrderEvent.CANCEL, self._after_cancel)

    def _chain(self, child: Order, parent: Order) -> None:
        self._watch_lifecycle(parent)
        child.is_active = False
        child.parent_id = parent.id
        parent.chained_orders = [*parent.chained_orders, child]
        self.orders_manager.add(child)

    async def _after_fill(self, order: Order) -> None:
        group = order.group
        if group is not None:
            for sibling in group.siblings(order):
                if sibling.is_done:
                    continue
                try:
                    if group.kind is GroupKind.OCO or order.remaining == 0:
                        await self._cancel_quietly(sibling)
                    elif sibling.remaining > order.remaining:
                        target = sibling.filled + order.remaining
                        if sibling.is_active and sibling.exchange_order_id:
                            await self.edit_order(sibling, amount=target)
                        else:
                            sibling.amount = target
                except OctoBotTradingError as exc:  # never break the fill being applied
                    self._logger.error("group %s: could not adjust order %s: %s", group.name, sibling.id, exc)
        if order.status is OrderStatus.FILLED and order.chained_orders:
            await self._release_children(order)

    async def _cancel_quietly(self, order: Order) -> None:
        try:
            await self.cancel_order(order)
        except OrderNotFound:
            self._logger.info("group sibling %s already gone", order.id)

    async def _release_children(self, parent: Order) -> None:
        received = self._net_received(parent)
        for child in list(parent.chained_orders):
            if child.is_done or child.is_active:
                continue
            market = self.market(child.symbol)
            if child.side is not parent.side:
                limit = received if parent.side is OrderSide.BUY else None
                if limit is None and child.reference_price:
                    limit = received / child.reference_price
                if limit is not None and child.amount > limit:
                    child.amount = market.spec.adapt_quantity(limit)
            if child.amount <= 0 or not market.spec.passes_limits(child.amount, child.reference_price):
                self._logger.warning("chained order %s below the market minimum after fees; dropped", child.id)
                await self.orders_manager.cancel_locally(child)
                continue
            try:
                if child.order_type not in self.supported_order_types:
                    self._self_manage(child)
                else:
                    await self._submit(child)
            except OctoBotTradingError as exc:  # never break the parent's fill being applied
                self._logger.error("chained order %s refused: %s", child.id, exc)
                if not child.is_done and child.status is OrderStatus.PENDING_CREATION and not child.is_active:
                    await self.orders_manager.cancel_locally(child)

    @staticmethod
    def _net_received(parent: Order) -> Decimal:
        symbol = _parse(parent.symbol)
        if parent.side is OrderSide.BUY:
            return parent.filled - parent.fees.get(symbol.base, ZERO)
        return parent.filled_cost - parent.fees.get(symbol.quote, ZERO)

    async def _after_cancel(self, order: Order) -> None:
        for child in order.chained_orders:
            if not child.is_done and not child.is_active:
                await self.orders_manager.cancel_locally(child)
