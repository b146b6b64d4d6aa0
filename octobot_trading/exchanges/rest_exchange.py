"""``RestExchange``: the one seam between the engine and a venue.

Every venue call of the engine (the trader and its sync, the trader component's poll, the
market-data updaters, storage reconciliation, trading modes through the trader) goes through
the manager's ``RestExchange`` (``manager.exchange``), never through the raw connector
(``manager.connector``, still available). ``RestExchange`` implements the whole
:class:`~octobot_trading.exchanges.connector.ExchangeConnector` contract by delegating to its
connector and passing every typed result through the matching ``fix_*`` hook:

========================================================  =====================================
results of                                                hook
========================================================  =====================================
``load_markets``                                          ``fix_markets`` (the whole mapping)
``fetch_ticker`` / ``fetch_tickers`` / ``watch_ticker``   ``fix_ticker`` (each ticker)
``fetch_ohlcv`` / ``watch_ohlcv``                         ``fix_candles`` (the list)
``fetch_order_book`` / ``watch_order_book``               ``fix_order_book``
``fetch_recent_trades`` / ``watch_trades``                ``fix_public_trades`` (the list)
``fetch_balance`` / ``watch_balance``                     ``fix_balance`` (the mapping)
``create_order``, ``edit_order``, ``cancel_order``,       ``fix_order`` (each order)
``fetch_order``, ``fetch_order_by_client_id``,
``fetch_open_orders``, ``fetch_closed_orders``,
``watch_orders``, and the simulator's order updates
``fetch_my_trades`` / ``watch_my_trades`` and the         ``fix_trade`` (each fill)
simulator's fill updates
``fetch_positions`` / ``watch_positions``                 ``fix_position`` (each position)
``fetch_funding_rate``                                    ``fix_funding_rate``
``set_position_mode``, ``fetch_funding_rate_history``,    ``fix_funding_rate``, ``fix_mark_price``,
``fetch_mark_price``, ``fetch_mark_ohlcv``,               ``fix_candles``, ``fix_funding_payment``,
``fetch_funding_history``, ``fetch_my_liquidations``      ``fix_liquidation`` (:mod:`.rest_futures`)
``fetch_deposits``, ``fetch_withdrawals``, ``withdraw``   ``fix_transaction`` (:mod:`.rest_transfers`)
========================================================  =====================================

A venue subclass declares its capabilities as class attributes (``exchange_id``,
``supported_order_types``, ``max_candles_per_request``, ``native_stop_orders``,
``max_client_order_id_length``, default ``ccxt_options``), overrides hooks to repair a venue's
quirks, and may bring its own backend: ``connector_class`` (a whole connector) or
``ccxt_adapter_class`` (a parser of ccxt structures for the ccxt connector), both used by
:meth:`RestExchange.create_connector`, which the builder calls for live trading and for paper
trading's market data. Register the class with
:func:`~octobot_trading.exchanges.exchange_classes.register_exchange_class` or the
``octobot_trading.exchanges`` entry-point group; the builder then picks it by ccxt id.

``RestExchange`` also implements the three simple-script protocols of
:mod:`octobot_trading.exchanges.protocols` (``get_ticker_price``, ``execute_trade``,
``get_balances``, ...). Its methods behave the same whatever the connector (ccxt, simulator).
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from octobot_trading.clock import Clock
from octobot_trading.enums import MarginMode, MarketType, OrderSide, OrderType, TimeFrame
from octobot_trading.errors import NotSupported
from octobot_trading.exchanges import script_calls
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.exchanges.protocols import OrderEntry
from octobot_trading.exchanges.rest_futures import FuturesCalls
from octobot_trading.exchanges.rest_transfers import TransferCalls
from octobot_trading.exchanges.script_calls import order_kind as _order_kind
from octobot_trading.exchanges.script_calls import order_side as _order_side
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ExchangeOrder,
    ExchangePosition,
    ExchangeTrade,
    FundingRate,
    MarketInfo,
    OrderBook,
    PublicTrade,
    Ticker,
)
from octobot_trading.util.decimals import to_decimal
from octobot_trading.util.ids import new_client_order_id  # re-exported: one generator for every order
from octobot_trading.util.logging import get_logger

if TYPE_CHECKING:
    from octobot_trading.config import ExchangeConfig

__all__ = ["RestExchange", "new_client_order_id"]

OrderListener = Callable[[ExchangeOrder, list[ExchangeTrade]], Awaitable[None]]
_T = TypeVar("_T")
_EVERY_ORDER_TYPE = frozenset(OrderType)


class RestExchange(TransferCalls, FuturesCalls, ExchangeConnector):
    """One venue's exchange class; see the module docstring.

    Parameters
    ----------
    connector:
        The backend answering the calls.
    clock:
        Time source (pagination of candles).
    market_type:
        The market type traded (``get_positions`` is ``[]`` on spot).
    """

    #: ccxt id this class applies to (None: the generic class used for any venue).
    exchange_id: ClassVar[str | None] = None
    #: Order types the venue accepts; others raise ``NotSupported`` before any request.
    supported_order_types: ClassVar[frozenset[OrderType]] = frozenset({OrderType.MARKET, OrderType.LIMIT})
    #: Most candles one request returns; larger ``limit`` values are paginated.
    max_candles_per_request: ClassVar[int] = 500
    #: True when stop orders rest on the exchange (else they must be simulated locally).
    native_stop_orders: ClassVar[bool] = False
    #: Longest client order id the venue accepts.
    max_client_order_id_length: ClassVar[int] = 36
    #: Default ccxt options for this venue, deep-merged UNDER the user's ``with_ccxt_options``.
    ccxt_options: ClassVar[dict[str, Any]] = {}
    #: The venue's own connector class (None: the ccxt connector). It is called as
    #: ``connector_class(exchange_config, clock, client_hook=client_hook)``.
    connector_class: ClassVar[type[ExchangeConnector] | None] = None
    #: The ccxt connector's parser of ccxt structures for this venue (a ``CCXTAdapter``
    #: subclass; None: the default adapter). Unused when ``connector_class`` is set.
    ccxt_adapter_class: ClassVar[type[Any] | None] = None

    @classmethod
    def default_ccxt_options(cls, market_type: MarketType) -> dict[str, Any]:
        """The venue's default ccxt options for ``market_type`` (a fresh copy of ``ccxt_options``)."""
        return copy.deepcopy(cls.ccxt_options)

    @classmethod
    def create_connector(
        cls, exchange_config: ExchangeConfig, clock: Clock, *, client_hook: Callable[[Any], None] | None = None
    ) -> ExchangeConnector:
        """The connector this venue trades through: ``connector_class`` when set, else the ccxt
        connector (with ``ccxt_adapter_class`` when set). Override for anything else."""
        if cls.connector_class is not None:
            make: Callable[..., ExchangeConnector] = cls.connector_class
            return make(exchange_config, clock, client_hook=client_hook)
        from octobot_trading.exchanges.connectors.ccxt import CCXTConnector

        return CCXTConnector(exchange_config, clock, client_hook=client_hook, adapter_class=cls.ccxt_adapter_class)

    def __init__(
        self, connector: ExchangeConnector, clock: Clock, *, market_type: MarketType = MarketType.SPOT
    ) -> None:
        super().__init__(clock)
        self.connector = connector
        self.market_type = market_type
        self.name = connector.name
        self.shares_reservations = connector.shares_reservations
        inner = getattr(connector, "market_data", None)
        # a connector simulating the account over another one's market data (paper trading):
        # streams come from that one
        self._feed: ExchangeConnector = inner if isinstance(inner, ExchangeConnector) else connector
        # paper trading: that market data comes from this venue class over the live connector, so
        # its market-data hooks already ran there (they run once, not twice)
        self._repaired_upstream = isinstance(inner, RestExchange)
        self._tickers: dict[str, Ticker] = {}
        self._order_entry: OrderEntry | None = None
        self._placements: dict[str, ExchangeOrder | None] = {}
        self._log = get_logger(f"octobot_trading.exchanges.{self.name or 'exchange'}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, market_type={self.market_type.value!r})"

    # -- capabilities -----------------------------------------------------------------------
    @property
    def native_order_types(self) -> frozenset[OrderType]:
        """Order types the backend holds itself: the venue's ``supported_order_types``, or every
        type when the connector simulates the venue (paper trading, backtests)."""
        if isinstance(self.connector, SimulatedConnector):
            return _EVERY_ORDER_TYPE
        return self.supported_order_types

    @property
    def supports_websockets(self) -> bool:
        """True when the ``watch_*`` methods stream from the venue."""
        return self._feed.supports_websockets

    @property
    def market_order_slippage(self) -> Decimal | None:
        """The slippage a simulating connector applies to market orders (None on a real venue)."""
        value = getattr(self.connector, "market_order_slippage", None)
        return value if isinstance(value, Decimal) else None

    def last_price(self, symbol: str) -> Decimal | None:
        """The simulating connector's last price, else the last price of the latest ticker read
        through this exchange (None when neither is known)."""
        own = getattr(self.connector, "last_price", None)
        if callable(own):
            price: Decimal | None = own(symbol)
            if price is not None:
                return price
        ticker = self._tickers.get(symbol)
        if ticker is None:
            return None
        return ticker.last if ticker.last is not None else ticker.close

    def set_order_update_listener(self, callback: OrderListener | None) -> None:
        """Receive the connector's pushed order updates (the simulator's), repaired by ``fix_order``
        / ``fix_trade``; a connector without pushed updates ignores this."""
        setter = getattr(self.connector, "set_order_update_listener", None)
        if setter is None:
            return
        if callback is None:
            setter(None)
            return

        async def repaired(order: ExchangeOrder, trades: list[ExchangeTrade]) -> None:
            await callback(self.fix_order(order), [self.fix_trade(t) for t in trades])

        setter(repaired)

    def set_position_update_listener(self, callback: Callable[..., Awaitable[None]] | None) -> None:
        """Receive the connector's pushed positions (the simulator's ``await callback(positions, margin,
        liquidations)``), each venue report (``ExchangePosition``) repaired by ``fix_position``; the
        simulator's accounted positions (``ot.Position``, every field set) pass as they are. Ignored
        without pushed positions."""
        setter = getattr(self.connector, "set_position_update_listener", None)
        if setter is None or callback is None:
            if setter is not None:
                setter(None)
            return

        async def repaired(positions: list[Any], *rest: Any) -> None:
            fix = self.fix_position
            await callback([fix(p) if type(p) is ExchangePosition else p for p in positions], *rest)

        setter(repaired)

    async def reset_websockets(self) -> None:
        """Drop the venue's websocket subscriptions (the next ``watch_*`` resubscribes), if it has any."""
        reset = getattr(self._feed, "reset_websockets", None)
        if reset is not None:
            await reset()

    # -- fix hooks (identity by default) ---------------------------------------------------
    def fix_markets(self, markets: dict[str, MarketInfo]) -> dict[str, MarketInfo]:
        """Repair the listed markets before they are returned."""
        return markets

    def fix_ticker(self, ticker: Ticker) -> Ticker:
        """Repair a ticker before it is returned."""
        return ticker

    def fix_candles(self, candles: list[Candle]) -> list[Candle]:
        """Repair candles before they are returned."""
        return candles

    def fix_order_book(self, book: OrderBook) -> OrderBook:
        """Repair an order-book snapshot before it is returned."""
        return book

    def fix_public_trades(self, trades: list[PublicTrade]) -> list[PublicTrade]:
        """Repair public trades before they are returned."""
        return trades

    def fix_balance(self, balances: dict[str, Balance]) -> dict[str, Balance]:
        """Repair balances before they are returned."""
        return balances

    def fix_order(self, order: ExchangeOrder) -> ExchangeOrder:
        """Repair an order before it is returned."""
        return order

    def fix_trade(self, trade: ExchangeTrade) -> ExchangeTrade:
        """Repair a fill before it is returned."""
        return trade

    def fix_position(self, position: ExchangePosition) -> ExchangePosition:
        """Repair a futures position before it is returned."""
        return position

    def fix_funding_rate(self, rate: FundingRate) -> FundingRate:
        """Repair a funding rate before it is returned."""
        return rate

    def _repair(self, hook: Callable[[_T], _T], value: _T) -> _T:
        return value if self._repaired_upstream else hook(value)

    # -- market data -------------------------------------------------------------------------
    async def load_markets(self, reload: bool = False) -> dict[str, MarketInfo]:
        """Return the listed markets by symbol."""
        return self._repair(self.fix_markets, dict(await self.connector.load_markets(reload)))

    def _ticker(self, ticker: Ticker) -> Ticker:
        fixed = self._repair(self.fix_ticker, ticker)
        self._tickers[fixed.symbol] = fixed
        return fixed

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Return the ticker of ``symbol``."""
        return self._ticker(await self.connector.fetch_ticker(symbol))

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        """Return tickers by symbol."""
        return {s: self._ticker(t) for s, t in (await self.connector.fetch_tickers(symbols)).items()}

    async def fetch_ohlcv(
        self, symbol: str, time_frame: TimeFrame | str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return candles oldest first, paginating past ``max_candles_per_request``.

        With ``since``, pages go forward from it; without, from the latest candles backwards.
        """
        tf = TimeFrame.parse(time_frame)
        page = self.max_candles_per_request
        if limit is None or limit <= page:
            return self._repair(self.fix_candles, await self.connector.fetch_ohlcv(symbol, tf, since, limit))
        if since is None:  # the latest page, then pages further back until ``limit`` candles
            candles = await self.connector.fetch_ohlcv(symbol, tf, None, page)
            while candles and len(candles) < limit:
                need = min(page, limit - len(candles))
                older = await self.connector.fetch_ohlcv(symbol, tf, candles[0].timestamp - need * tf.ms, need)
                older = [c for c in older if c.timestamp < candles[0].timestamp]
                if not older:
                    break
                candles = older + candles
            return self._repair(self.fix_candles, candles[-limit:])
        candles = []
        start = since
        while len(candles) < limit:
            batch = await self.connector.fetch_ohlcv(symbol, tf, start, min(page, limit - len(candles)))
            batch = [c for c in batch if not candles or c.timestamp > candles[-1].timestamp]
            if not batch:
                break
            candles.extend(batch)
            start = batch[-1].timestamp + tf.ms
        return self._repair(self.fix_candles, candles[:limit])

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Return an order-book snapshot."""
        return self._repair(self.fix_order_book, await self.connector.fetch_order_book(symbol, limit))

    async def fetch_recent_trades(self, symbol: str, limit: int | None = None) -> list[PublicTrade]:
        """Return the latest public trades, oldest first."""
        return self._repair(self.fix_public_trades, await self.connector.fetch_recent_trades(symbol, limit))

    async def watch_ohlcv(self, symbol: str, time_frame: TimeFrame | str) -> list[Candle]:
        """Wait for the next candle update(s) of ``symbol`` (websocket)."""
        return self._repair(self.fix_candles, await self._feed.watch_ohlcv(symbol, time_frame))

    async def watch_ticker(self, symbol: str) -> Ticker:
        """Wait for the next ticker of ``symbol`` (websocket)."""
        return self._ticker(await self._feed.watch_ticker(symbol))

    async def watch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Wait for the next order-book state of ``symbol`` (websocket)."""
        return self._repair(self.fix_order_book, await self._feed.watch_order_book(symbol, limit))

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """Wait for the next public trades of ``symbol`` (websocket)."""
        return self._repair(self.fix_public_trades, await self._feed.watch_trades(symbol))

    # -- the account's private streams (the connector's; paper trading has none) ---------------
    @property
    def supports_private_streams(self) -> bool:
        """True when the connector streams the account's orders, fills and balances."""
        return self.connector.supports_private_streams

    async def subscribe_private_streams(self) -> None:
        """Open the account's streams; return once the venue confirmed them."""
        await self.connector.subscribe_private_streams()

    async def watch_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Wait for the next order update(s) of the account (websocket)."""
        return [self.fix_order(o) for o in await self.connector.watch_orders(symbol)]

    async def watch_my_trades(self, symbol: str | None = None) -> list[ExchangeTrade]:
        """Wait for the account's next fill(s) (websocket)."""
        return [self.fix_trade(t) for t in await self.connector.watch_my_trades(symbol)]

    async def watch_balance(self) -> dict[str, Balance]:
        """Wait for the next balance update (websocket); only the currencies it reports."""
        return self.fix_balance(await self.connector.watch_balance())

    async def watch_positions(self, symbols: list[str] | None = None) -> list[ExchangePosition]:
        """Wait for the next futures position update(s) (websocket)."""
        return [self.fix_position(p) for p in await self.connector.watch_positions(symbols)]

    async def reset_private_streams(self) -> None:
        """Close the private streams' connection; the next subscribe reconnects."""
        await self.connector.reset_private_streams()

    # -- account -----------------------------------------------------------------------------
    async def fetch_balance(self) -> dict[str, Balance]:
        """Return balances by currency."""
        return self.fix_balance(await self.connector.fetch_balance())

    async def create_order(
        self,
        order_type: OrderType | str,
        side: OrderSide | str,
        symbol: str,
        amount: Decimal | int | str,
        price: Decimal | int | str | None = None,
        *,
        client_order_id: str | None = None,
        trigger_price: Decimal | int | str | None = None,
        params: dict[str, Any] | None = None,
    ) -> ExchangeOrder:
        """Place an order (a client order id is generated when none is given).

        Money accepts ``Decimal``, ``int`` or ``str``; a ``float`` raises ``TypeError``. An order
        type the backend does not hold (:attr:`native_order_types`) raises ``NotSupported``
        before any request. No order-safety or balance check here: that is the trader's
        (``manager.trader.create_order``, or :meth:`execute_trade`).
        """
        kind, order_side = _order_kind(order_type, symbol), _order_side(side, symbol)
        if kind not in self.native_order_types:
            raise NotSupported(
                f"{kind.value} orders are not supported on {self.name}", exchange=self.name, symbol=symbol
            )
        qty = to_decimal(amount, name="amount")
        px = to_decimal(price, name="price") if price is not None else None
        trigger = to_decimal(trigger_price, name="trigger_price") if trigger_price is not None else None
        cid = client_order_id or new_client_order_id(self.max_client_order_id_length)
        order = self.fix_order(
            await self.connector.create_order(
                kind, order_side, symbol, qty, px, client_order_id=cid, trigger_price=trigger, params=params
            )
        )
        if cid in self._placements:
            self._placements[cid] = order
        return order

    async def edit_order(
        self,
        order_id: str,
        symbol: str,
        *,
        amount: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> ExchangeOrder:
        """Change an open order's amount, price and/or trigger price (see the connector contract)."""
        extra = {} if trigger_price is None else {"trigger_price": trigger_price}
        return self.fix_order(await self.connector.edit_order(order_id, symbol, amount=amount, price=price, **extra))

    async def fetch_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Return one order by exchange id (``OrderNotFound`` when unknown)."""
        return self.fix_order(await self.connector.fetch_order(order_id, symbol))

    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> ExchangeOrder | None:
        """Return the order placed with ``client_order_id``, or None."""
        order = await self.connector.fetch_order_by_client_id(client_order_id, symbol)
        return self.fix_order(order) if order is not None else None

    async def fetch_open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Return open orders."""
        return [self.fix_order(o) for o in await self.connector.fetch_open_orders(symbol)]

    async def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeOrder]:
        """Return closed orders."""
        return [self.fix_order(o) for o in await self.connector.fetch_closed_orders(symbol, since, limit)]

    async def cancel_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Cancel an open order (``OrderNotFound`` when unknown or already closed)."""
        return self.fix_order(await self.connector.cancel_order(order_id, symbol))

    async def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTrade]:
        """Return the account's fills, oldest first."""
        return [self.fix_trade(t) for t in await self.connector.fetch_my_trades(symbol, since, limit)]

    # -- futures -------------------------------------------------------------------------------
    async def fetch_positions(self, symbols: list[str] | None = None) -> list[ExchangePosition]:
        """Return open futures positions."""
        return [self.fix_position(p) for p in await self.connector.fetch_positions(symbols)]

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        """Set the leverage of a futures symbol."""
        await self.connector.set_leverage(symbol, leverage)

    async def set_margin_mode(self, symbol: str, margin_mode: MarginMode) -> None:
        """Set the margin mode of a futures symbol."""
        await self.connector.set_margin_mode(symbol, margin_mode)

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        """Return the current funding rate of a perpetual."""
        return self._repair(self.fix_funding_rate, await self.connector.fetch_funding_rate(symbol))

    async def close(self) -> None:
        """Release the connector's resources (idempotent)."""
        await self.connector.close()

    # -- simple-script protocols -----------------------------------------------------------
    async def get_ticker_price(self, symbol: str) -> Decimal:
        """Return the last price of ``symbol`` (the ticker's ``last``, else its ``close``)."""
        return await script_calls.ticker_price(self, symbol)

    async def get_balances(self) -> dict[str, Balance]:
        """Return balances by currency (same as :meth:`fetch_balance`)."""
        return await self.fetch_balance()

    def set_order_entry(self, entry: OrderEntry | None) -> None:
        """Route :meth:`execute_trade` through ``entry`` (the manager's trader; None: unset).

        The trader component of a build sets it, so the simple-script path applies the engine's
        own pre-trade checks.
        """
        self._order_entry = entry

    @property
    def order_entry(self) -> OrderEntry | None:
        """What :meth:`execute_trade` places orders through (the manager's trader), if set."""
        return self._order_entry

    async def execute_trade(
        self, symbol: str, side: OrderSide | str, amount: Decimal | int | str, price: Decimal | int | str | None = None
    ) -> ExchangeOrder:
        """Place a market order without ``price``, a limit order with one; return the venue's view.

        The order goes through the trader's ``create_order`` (:attr:`order_entry`), so it gets the
        same checks as any engine order before anything is sent: the market's precision and
        limits, order safety (price protection, position limits, open-order cap:
        ``OrderSafetyError``) and the local balance (``InsufficientFunds``). The ticker is read
        first so the price protection always has a current price. Without an order entry (a bare
        exchange outside a build) ``NotSupported`` is raised and nothing is sent. When the venue's
        answer is lost, ``AmbiguousOrderOutcome`` is raised (the trader keeps the order in flight
        and resolves it on its next sync: never re-send it).
        """
        return await script_calls.execute_trade(self, self._order_entry, self._placements, symbol, side, amount, price)

    async def get_order_history(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Return open and closed orders, oldest first (duplicates by id removed)."""
        orders = {o.id: o for o in await self.fetch_closed_orders(symbol)}
        for order in await self.fetch_open_orders(symbol):
            orders.setdefault(order.id, order)
        return sorted(orders.values(), key=lambda o: (o.timestamp or 0, o.id))

    async def get_portfolio_value(self, currency: str) -> Decimal:
        """Return the total balance value in ``currency`` at last prices.

        An asset is converted through the ``ASSET/currency`` market (or the inverse
        ``currency/ASSET`` one), else through one intermediate currency (``ETH -> USDT -> BTC``),
        preferring the common quote currencies. Assets with a non-zero balance and no such path
        raise ``NotSupported`` naming them rather than being silently left out. (Valuation only:
        divisions round to the context precision; no money moves here.)
        """
        return await script_calls.portfolio_value(self, currency)

    async def get_positions(self) -> list[ExchangePosition]:
        """Return open positions: ``[]`` on spot, the connector's positions on futures."""
        if not self.market_type.is_future:
            return []
        return await self.fetch_positions()
