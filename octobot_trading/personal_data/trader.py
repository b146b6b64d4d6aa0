"""The trader: creates, cancels and edits orders through the manager's exchange class.

It is given ``manager.exchange`` (a ``RestExchange``: the one venue seam, with the venue's
``fix_*`` hooks). The same class serves live trading, paper trading and backtests (the exchange
then wraps the simulated venue); only the exchange's connector and the clock differ. ``create_order`` validates and
adapts the order to the market spec, applies order safety and reserves funds BEFORE anything is
sent, so a refused order leaves no trace. Placement is never retried: when the venue's answer is
lost (``AmbiguousOrderOutcome`` / ``NetworkError``), the order stays in flight (pending
creation, funds reserved) and :meth:`Trader.resolve_in_flight` looks it up by client order id.

The trader orchestrates collaborators, each given its dependencies when the trader is built:
:class:`~.order_funds.OrderFunds` (what an order reserves), :class:`~.order_safety.OrderSafety`
(price protection, limits), :class:`~.price_triggers.PriceTriggers` (price triggers and
self-managed orders: types the venue does not hold natively, fired on price events),
:class:`~.live_sync.LiveSync` (in-flight lookups, live polls),
:class:`~.order_changes.OrderChanges` (cancel and edit of existing orders) and
:class:`~.order_listeners.OrderListeners` (observers of create / edit / cancel). Order features
run as order hooks, identical in every mode: chained orders (submitted when their parent fills,
amounts adjusted for the parent's fees) and groups (OCO / balanced: the group's rule says what a
fill does to the others, the trader executes it). Restart recovery restores orders through the
public methods :meth:`Trader.follow_links`, :meth:`Trader.rearm` and
:meth:`Trader.resume_interrupted_chains`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.config import OrderSafetyConfig
from octobot_trading.enums import (
    MarginMode,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    TraderType,
)
from octobot_trading.errors import (
    AmbiguousOrderOutcome,
    InvalidOrder,
    NetworkError,
    OctoBotTradingError,
    StorageError,
    UnknownSymbol,
)
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import MarketInfo
from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
from octobot_trading.personal_data.futures_trading import FuturesTrading, is_contract_symbol
from octobot_trading.personal_data.live_sync import IN_FLIGHT_GIVE_UP_MS, IN_FLIGHT_MIN_LOOKUPS, LiveSync
from octobot_trading.personal_data.order_changes import OrderChanges
from octobot_trading.personal_data.order_funds import OrderFunds
from octobot_trading.personal_data.order_links import OrderLinks, group_owner
from octobot_trading.personal_data.order_listeners import (
    OrderListener,
    OrderListeners,
    OrderOperation,
    reports_operation,
)
from octobot_trading.personal_data.order_safety import OrderSafety
from octobot_trading.personal_data.order_terms import adapt_to_market
from octobot_trading.personal_data.orders.groups import OrderGroup
from octobot_trading.personal_data.orders.order import Order
from octobot_trading.personal_data.orders.order_types import create_order_instance
from octobot_trading.personal_data.price_triggers import PriceTrigger, PriceTriggers
from octobot_trading.util.fees import Fees
from octobot_trading.util.ids import new_client_order_id
from octobot_trading.util.logging import get_logger

__all__ = ["IN_FLIGHT_GIVE_UP_MS", "IN_FLIGHT_MIN_LOOKUPS", "PriceTrigger", "Trader"]

PriceOf = Callable[[str], "Decimal | None"]
_T = OrderType
# enum members as module constants: attribute access on an Enum class is slow on the order path
_MARKET = OrderType.MARKET


class Trader:
    """Order entry point of one exchange account (``manager.trader``).

    Parameters
    ----------
    connector:
        Where orders go: anything implementing the ``ExchangeConnector`` contract (the venue's
        exchange class live, the simulated connector in paper trading and backtests).
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
    client_order_id_prefix:
        When several engines share the account: this engine's orders get client ids starting
        with ``<prefix>-`` and only the account's orders with such an id are adopted (see
        ``TradingConfig.client_order_id_prefix``); None: ``ot-`` ids, every order adopted.
    """

    def __init__(
        self,
        connector: ExchangeConnector,
        personal_data: ExchangePersonalData,
        *,
        clock: Clock,
        simulated: bool,
        markets: Mapping[str, MarketInfo] | None = None,
        price_of: PriceOf | None = None,
        price_time_of: Callable[[str], int | None] | None = None,
        spread_of: PriceOf | None = None,
        safety: OrderSafetyConfig | None = None,
        fees: Fees | None = None,
        price_events_for: Callable[[str], Any] | None = None,
        supported_order_types: Collection[OrderType] | None = None,
        client_order_id_prefix: str | None = None,
    ) -> None:
        self._logger = get_logger("personal_data.trader")
        self.personal_data = personal_data
        self.orders_manager = personal_data.orders_manager
        self.portfolio_manager = personal_data.portfolio_manager
        self.clock = clock
        self.is_simulated = simulated
        self.trader_type = TraderType.SIMULATED if simulated else TraderType.REAL
        self.markets: dict[str, MarketInfo] = dict(markets or {})
        self.price_of = price_of
        self.fees = fees or Fees()
        self.supported_order_types = frozenset(supported_order_types) if supported_order_types else frozenset(_T)
        self.safety = OrderSafety(
            safety or OrderSafetyConfig(),
            clock,
            price_of=self._last_price,
            price_time_of=price_time_of,
            spread_of=spread_of,
        )
        #: What an order reserves (valuation price, fee terms, the funds check).
        self.funds = OrderFunds(
            self.portfolio_manager,
            self.fees,
            market_of=self._market_or_none,
            last_price=self._last_price,
            market_margin=self._market_margin,
        )
        self.orders_manager.fee_terms = self.funds.fee_terms  # adopted / restored orders reserve like placed ones
        #: Contract symbols: settings, order checks, margin reservations (docs/futures.md).
        self.futures = FuturesTrading(personal_data, market=self.market, venue=lambda: self.connector, fees=self.fees)
        self.funds.contract_reservation = self.futures.reservation
        self.orders_manager.contract_size_of = self.futures.contract_size
        #: Price triggers and self-managed orders.
        self.triggers = PriceTriggers(
            self.orders_manager,
            market=self.market,
            last_price=self._last_price,
            submit=self._submit_protective,
            price_events_for=price_events_for,
            logger=self._logger,
        )
        #: In-flight lookups and the live REST sync.
        self.client_order_id_prefix = client_order_id_prefix
        self.live_sync = LiveSync(
            connector,
            self.orders_manager,
            self.portfolio_manager,
            clock=clock,
            logger=self._logger,
            client_order_id_prefix=client_order_id_prefix,
        )
        #: Bundled exits, groups and chained orders: what a linked order's fill or cancel does.
        self.links = OrderLinks(
            self.orders_manager,
            clock=clock,
            market=self.market,
            triggers=self.triggers,
            is_native=self._is_native,
            submit=self._submit_protective,
            cancel=self.cancel_order,
            edit=self.edit_order,
            logger=self._logger,
        )
        #: Observers of create / edit / cancel (:meth:`add_order_listener`).
        self.order_listeners = OrderListeners()
        #: Cancels and edits of existing orders.
        self.changes = OrderChanges(
            connector,
            self.orders_manager,
            self.portfolio_manager,
            funds=self.funds,
            safety=self.safety,
            triggers=self.triggers,
            market=self.market,
            last_price=self._last_price,
            resolve_in_flight=self.live_sync.resolve_in_flight,
            apply_placed=self._apply_placed,
        )
        self._connector = connector
        #: Awaited with each order after it is registered and before its placement request is sent
        #: (storage makes the intent durable there); a failure undoes the order, nothing is sent.
        self.pre_send: Callable[[Order], Awaitable[None]] | None = None

    @property
    def connector(self) -> ExchangeConnector:
        """Where orders go (the ``ExchangeConnector`` contract)."""
        return self._connector

    @connector.setter
    def connector(self, connector: ExchangeConnector) -> None:
        self._connector = connector
        self.live_sync.connector = connector
        self.changes.connector = connector

    @property
    def price_events_for(self) -> Callable[[str], Any] | None:
        """The source of price events (see the class docstring); None: no price trigger possible."""
        return self.triggers.price_events_for

    @price_events_for.setter
    def price_events_for(self, source: Callable[[str], Any] | None) -> None:
        self.triggers.price_events_for = source

    @property
    def due_triggers(self) -> list[Order] | None:
        """None: fired triggers are submitted in tasks. A list (synchronized backtests): fired
        orders queue there until :meth:`run_due_triggers` is awaited."""
        return self.triggers.due

    @due_triggers.setter
    def due_triggers(self, queue: list[Order] | None) -> None:
        self.triggers.due = queue

    async def run_due_triggers(self) -> None:
        """Submit, in firing order, the orders queued in :attr:`due_triggers`."""
        await self.triggers.run_due()

    def add_order_listener(self, listener: OrderListener) -> Callable[[], None]:
        """Call ``await listener(event)`` after each order operation; return a function removing it."""
        return self.order_listeners.add(listener)

    def remove_order_listener(self, listener: OrderListener) -> None:
        """Stop calling ``listener`` (unknown listeners are ignored)."""
        self.order_listeners.remove(listener)

    # -- lifecycle -----------------------------------------------------------------------------------
    async def initialize(self) -> None:
        """Load markets (when not given) and subscribe to the connector's order updates."""
        if not self.markets:
            self.markets.update(await self.connector.load_markets())
        setter = getattr(self.connector, "set_order_update_listener", None)
        if setter is not None:
            setter(self.orders_manager.apply_exchange_update)
        positions_setter = getattr(self.connector, "set_position_update_listener", None)
        if positions_setter is not None:
            positions_setter(self.futures.on_positions)

    async def stop(self) -> None:
        """Cancel the trader's background tasks and price-event registrations (idempotent)."""
        await self.triggers.stop()

    # -- live sync (LiveSync) ------------------------------------------------------------------------------
    async def resolve_in_flight(self) -> list[Order]:
        """Look up orders whose placement outcome is unknown by client id (see :meth:`LiveSync.resolve_in_flight`)."""
        return await self.live_sync.resolve_in_flight()

    async def look_up_given_up(self) -> list[Order]:
        """Look given-up orders up again by client id (see :meth:`LiveSync.look_up_given_up`)."""
        return await self.live_sync.look_up_given_up()

    async def sync_with_exchange(self, symbols: Collection[str] | None = None) -> None:
        """Poll the venue (live REST): apply fills, cancels and unknown open orders, each once."""
        await self.live_sync.sync(symbols)

    async def refresh_balances(self) -> None:
        """Replace the account's balances with the venue's (see :meth:`LiveSync.refresh_balances`)."""
        await self.live_sync.refresh_balances()

    # -- creation ------------------------------------------------------------------------------------------
    def market(self, symbol: str) -> MarketInfo:
        """The market of ``symbol`` or ``UnknownSymbol``."""
        try:
            return self.markets[symbol]
        except KeyError:
            raise UnknownSymbol(f"{symbol} is not a market of this exchange", symbol=symbol) from None

    def _market_or_none(self, symbol: str) -> MarketInfo | None:
        return self.markets.get(symbol)

    def _is_native(self, order_type: OrderType) -> bool:
        return order_type in self.supported_order_types

    @reports_operation(OrderOperation.CREATE)
    async def create_order(
        self,
        order_type: OrderType | str,
        side: OrderSide | str,
        symbol: str,
        amount: Decimal | int | str,
        price: Decimal | int | str | None = None,
        *,
        trigger_price: Decimal | int | str | None = None,
        trailing_percent: Decimal | int | str | None = None,
        trailing_offset: Decimal | int | str | None = None,
        limit_offset: Decimal | int | str | None = None,
        stop_loss_price: Decimal | int | str | None = None,
        take_profit_price: Decimal | int | str | None = None,
        group: OrderGroup | None = None,
        chained_to: Order | None = None,
        price_trigger: PriceTrigger | None = None,
        sub_portfolio: str | None = None,
        tag: str | None = None,
        reduce_only: bool = False,
        client_order_id: str | None = None,
        position_side: PositionSide | str | None = None,
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
        prefix = self.client_order_id_prefix
        if client_order_id is None and prefix is not None:
            client_order_id = new_client_order_id(prefix=prefix)
        order = create_order_instance(
            order_type,
            side,
            symbol,
            amount,
            price,
            clock=self.clock,
            trigger_price=trigger_price,
            trailing_percent=trailing_percent,
            trailing_offset=trailing_offset,
            limit_offset=limit_offset,
            client_order_id=client_order_id,
            reduce_only=reduce_only,
            tag=tag,
            sub_portfolio=sub_portfolio,
            position_side=None if position_side is None else PositionSide(position_side),
        )
        if is_contract_symbol(symbol):
            self.futures.check(order, bundled=stop_loss_price is not None or take_profit_price is not None)
        portfolio = self.portfolio_manager.get_portfolio(sub_portfolio)
        last = self._last_price(symbol)
        adapt_to_market(order, market, last)
        exits = self.links.build_exits(order, market, stop_loss_price, take_profit_price)
        if prefix is not None:  # the bundled exits are this engine's orders too
            for child in exits:
                child.client_order_id = new_client_order_id(prefix=prefix)
        holding = portfolio.total(market.base)
        self.safety.check(order, open_orders=self.orders_manager.count_open(symbol), holding=holding, mark=last)
        if group is not None:
            order.reservation_owner = group_owner(order, group)
        native = order.order_type in self.supported_order_types
        inactive = chained_to is not None or price_trigger is not None or not native
        needs_events = (
            price_trigger is not None
            or (chained_to is None and not native)
            or (bool(exits) and any(child.order_type not in self.supported_order_types for child in exits))
        )
        if needs_events and not self.triggers.available_for(symbol):
            raise InvalidOrder(
                "price triggers and self-managed orders (types the venue lacks, e.g. a bundled "
                "stop-loss) need a price-event source",
                limit="price_trigger",
                symbol=symbol,
            )
        reservation = None if inactive else self.funds.check(order, last)
        # -- from here on, state changes --
        if group is not None:
            self.links.join_group(order, group)
        for child in exits:
            self.links.chain(child, order)
        if chained_to is not None:
            self.links.chain(order, chained_to)
            return order
        if price_trigger is not None:
            order.is_active = False
            self.orders_manager.add(order)
            self.triggers.watch(order, price_trigger.threshold, price_trigger.above)
            return order
        if not native:
            self.triggers.self_manage(order)
            return order
        await self._submit(order, reservation=reservation)
        return order

    def _last_price(self, symbol: str) -> Decimal | None:
        if self.price_of is not None:
            price = self.price_of(symbol)
            if price is not None:
                return price
        last = getattr(self.connector, "last_price", None)
        return last(symbol) if callable(last) else None

    def _market_margin(self) -> Decimal | None:
        """The venue's market-order slippage (simulated venues); None on a live venue."""
        return getattr(self._connector, "market_order_slippage", None)

    def _submit_protective(self, order: Order, *, as_type: OrderType | None = None) -> Awaitable[None]:
        """A fired trigger or a released chained exit: sent even when its intent cannot be committed."""
        return self._submit(order, as_type=as_type, protective=True)

    async def _submit(
        self, order: Order, *, as_type: OrderType | None = None, reservation: Any = None, protective: bool = False
    ) -> None:
        """Reserve funds, register and send ``order``; on refusal undo everything and re-raise."""
        currency, amount = reservation or self.funds.reservation(order)
        self.portfolio_manager.reserve(order, currency, amount)
        order.is_active = True
        self.orders_manager.add(order)
        if self.pre_send is not None:
            try:
                await self.pre_send(order)
            except BaseException as exc:
                if not (protective and isinstance(exc, StorageError)):
                    self._undo_refused(order)
                    raise
                self._logger.error("order %s sent UNJOURNALED (durability suspended): %s", order.client_order_id, exc)
        params: dict[str, Any] = {}
        if order.trailing_percent is not None:
            params["trailing_percent"] = order.trailing_percent
        if order.trailing_offset is not None:
            params["trailing_offset"] = order.trailing_offset
        if order.limit_offset is not None:
            params["limit_offset"] = order.limit_offset
        if order.reduce_only and is_contract_symbol(order.symbol):
            params["reduceOnly"] = True
        if order.position_side is not None:
            params["positionSide"] = order.position_side.value
        owner = order.reservation_owner
        if owner is not None and owner.exchange_order_id and not owner.is_done and self.connector.shares_reservations:
            params["shares_funds_with"] = owner.exchange_order_id  # simulator-only: never sent to a venue
        order_type = as_type or order.order_type
        price = order.price if order_type is not _MARKET else None
        try:
            exchange_order = await self._connector.create_order(
                order_type,
                order.side,
                order.symbol,
                order.remaining,
                price,
                client_order_id=order.client_order_id,
                trigger_price=None
                if order.trigger_price is None or not order_type.is_triggered
                else order.trigger_price,
                params=params,
            )
        except (AmbiguousOrderOutcome, NetworkError) as exc:
            if not (isinstance(exc, NetworkError) and exc.not_processed):
                self._logger.warning("order %s outcome unknown (%s); kept in flight", order.client_order_id, exc)
                return
            # a definite refusal (rate limit, no connection): nothing was placed, undo like any refusal
            self._undo_refused(order)
            raise
        except OctoBotTradingError:
            self._undo_refused(order)
            raise
        await self._apply_placed(exchange_order)

    # -- futures settings (FuturesTrading) ---------------------------------------------------------------
    async def set_leverage(self, symbol: str, leverage: Decimal | int | str) -> Decimal:
        """Set a contract symbol's leverage at the venue (see :class:`FuturesTrading`); return it."""
        return await self.futures.set_leverage(symbol, leverage)

    async def set_margin_mode(self, symbol: str, mode: MarginMode | str) -> None:
        """Set a contract symbol's margin mode at the venue (see :class:`FuturesTrading`)."""
        await self.futures.set_margin_mode(symbol, mode)

    async def set_position_mode(self, symbol: str, mode: PositionMode | str) -> None:
        """Set a contract symbol's position mode at the venue (see :class:`FuturesTrading`)."""
        await self.futures.set_position_mode(symbol, mode)

    def _undo_refused(self, order: Order) -> None:
        if order.status is OrderStatus.PENDING_CREATION:
            self.portfolio_manager.release(order)
            order.transition(OrderStatus.REJECTED)
            self.orders_manager.forget(order)

    # -- cancel / edit ----------------------------------------------------------------------------------------
    @reports_operation(OrderOperation.CANCEL)
    async def cancel_order(self, order: Order) -> Order:
        """Cancel ``order`` (inactive ones locally); a filled order raises ``InvalidOrderState``."""
        return await self.changes.cancel(order)

    async def _apply_placed(self, exchange_order: Any) -> None:
        """Apply the venue's reply to a placement / cancel it has accepted; never raise for local books.

        The venue has acted: an error applying its reply locally must not reach the caller as a
        failure (it would invite a re-send); it is logged and the next sync applies the order.
        """
        try:
            await self.live_sync.apply_with_trades(exchange_order)
        except asyncio.CancelledError:
            raise
        except OctoBotTradingError as exc:
            self._logger.error(
                "the venue accepted order %s but applying its reply failed, retried next sync: %r",
                exchange_order.id,
                exc,
            )

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
    async def edit_order(
        self,
        order: Order,
        *,
        amount: Decimal | int | str | None = None,
        price: Decimal | int | str | None = None,
        trigger_price: Decimal | int | str | None = None,
    ) -> Order:
        """Change an open order's amount, price and/or trigger; funds are checked before the venue is asked.

        ``price`` is the limit price (a stop-loss / take-profit without a limit has none: there it
        moves the trigger); ``trigger_price`` moves the trigger of a triggered order.
        """
        return await self.changes.edit(order, amount=amount, price=price, trigger_price=trigger_price)

    def follow_links(self, order: Order) -> None:
        """React to the fills and cancels of ``order`` for its group and chained orders (idempotent).

        Orders created through :meth:`create_order` get this when linked; restart recovery calls it
        for each restored order that has a group or chained orders.
        """
        self.links.follow(order)

    # -- restart recovery --------------------------------------------------------------------------------------
    def price_trigger_of(self, order: Order) -> PriceTrigger | None:
        """The price trigger an inactive ``order`` waits on (persisted by storage), None when none."""
        return self.triggers.trigger_of(order)

    def rearm(self, order: Order, price_trigger: PriceTrigger | None = None) -> None:
        """Watch the price for a restored inactive ``order`` again: a self-managed order's trigger, or
        ``price_trigger``. Raises ``InvalidOrder`` when neither applies or no price events exist."""
        self.triggers.rearm(order, price_trigger)

    async def resume_interrupted_chains(self) -> None:
        """Submit the chained orders of parents filled before a restart whose children were not sent.

        See :meth:`OrderLinks.resume_interrupted`.
        """
        await self.links.resume_interrupted(self.connector)
