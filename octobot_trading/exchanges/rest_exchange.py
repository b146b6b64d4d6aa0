"""``RestExchange``: the per-venue class that users subclass, wrapping an ``ExchangeConnector``.

A subclass declares a venue's capabilities as class attributes (``exchange_id``,
``supported_order_types``, ``max_candles_per_request``, ``native_stop_orders``,
``max_client_order_id_length``, default ``ccxt_options``) and may override the ``fix_*`` hooks,
which receive every typed result before it is returned (repair a venue's quirk there), or add
methods for extra endpoints. Register it with
:func:`~octobot_trading.exchanges.exchange_classes.register_exchange_class` or the
``octobot_trading.exchanges`` entry-point group; the builder then picks it by ccxt id.

``RestExchange`` also implements the three seed protocols of
:mod:`octobot_trading.exchanges.protocols` (``get_ticker_price``, ``execute_trade``,
``get_balances``, ...). Its methods behave the same whatever the connector (ccxt, simulator).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from octobot_trading.clock import Clock
from octobot_trading.enums import MarketType, OrderSide, OrderType, TimeFrame
from octobot_trading.errors import BadExchangeResponse, NotSupported
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ExchangeOrder,
    ExchangePosition,
    ExchangeTrade,
    MarketInfo,
    OrderBook,
    PublicTrade,
    Ticker,
)
from octobot_trading.util.decimals import ZERO, to_decimal
from octobot_trading.util.ids import new_client_order_id  # re-exported: one generator for every order
from octobot_trading.util.logging import get_logger

__all__ = ["RestExchange", "new_client_order_id"]


class RestExchange:
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

    @classmethod
    def default_ccxt_options(cls, market_type: MarketType) -> dict[str, Any]:
        """The venue's default ccxt options for ``market_type`` (a fresh copy of ``ccxt_options``)."""
        return copy.deepcopy(cls.ccxt_options)

    def __init__(self, connector: ExchangeConnector, clock: Clock, *,
                 market_type: MarketType = MarketType.SPOT) -> None:
        self.connector = connector
        self.clock = clock
        self.market_type = market_type
        self.name = connector.name
        self._log = get_logger(f"octobot_trading.exchanges.{self.name or 'exchange'}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, market_type={self.market_type.value!r})"

    # -- fix hooks (identity by default) ---------------------------------------------------
    def fix_ticker(self, ticker: Ticker) -> Ticker:
        """Repair a ticker before it is returned."""
        return ticker

    def fix_order(self, order: ExchangeOrder) -> ExchangeOrder:
        """Repair an order before it is returned."""
        return order

    def fix_trade(self, trade: ExchangeTrade) -> ExchangeTrade:
        """Repair a fill before it is returned."""
        return trade

    def fix_balance(self, balances: dict[str, Balance]) -> dict[str, Balance]:
        """Repair balances before they are returned."""
        return balances

    def fix_candles(self, candles: list[Candle]) -> list[Candle]:
        """Repair candles before they are returned."""
        return candles

    # -- API.md calls ----------------------------------------------------------------------
    async def load_markets(self, reload: bool = False) -> dict[str, MarketInfo]:
        """Return the listed markets by symbol."""
        return dict(await self.connector.load_markets(reload))

    async def fetch_balance(self) -> dict[str, Balance]:
        """Return balances by currency."""
        return self.fix_balance(await self.connector.fetch_balance())

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Return the ticker of ``symbol``."""
        return self.fix_ticker(await self.connector.fetch_ticker(symbol))

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        """Return tickers by symbol."""
        return {s: self.fix_ticker(t) for s, t in (await self.connector.fetch_tickers(symbols)).items()}

    async def fetch_ohlcv(self, symbol: str, time_frame: TimeFrame | str, since: int | None = None,
                          limit: int | None = None) -> list[Candle]:
        """Return candles oldest first, paginating past ``max_candles_per_request``.

        With ``since``, pages go forward from it; without, from the latest candles backwards.
        """
        tf = TimeFrame.parse(time_frame)
        page = self.max_candles_per_request
        if limit is None or limit <= page:
            return self.fix_candles(await self.connector.fetch_ohlcv(symbol, tf, since, limit))
        if since is None:  # the latest page, then pages further back until ``limit`` candles
            candles = await self.connector.fetch_ohlcv(symbol, tf, None, page)
            while candles and len(candles) < limit:
                need = min(page, limit - len(candles))
                older = await self.connector.fetch_ohlcv(symbol, tf, candles[0].timestamp - need * tf.ms, need)
                older = [c for c in older if c.timestamp < candles[0].timestamp]
                if not older:
                    break
                candles = older + candles
            return self.fix_candles(candles[-limit:])
        candles = []
        start = since
        while len(candles) < limit:
            batch = await self.connector.fetch_ohlcv(symbol, tf, start, min(page, limit - len(candles)))
            batch = [c for c in batch if not candles or c.timestamp > candles[-1].timestamp]
            if not batch:
                break
            candles.extend(batch)
            start = batch[-1].timestamp + tf.ms
        return self.fix_candles(candles[:limit])

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Return an order-book snapshot."""
        return await self.connector.fetch_order_book(symbol, limit)

    async def fetch_recent_trades(self, symbol: str, limit: int | None = None) -> list[PublicTrade]:
        """Return the latest public trades, oldest first."""
        return await self.connector.fetch_recent_trades(symbol, limit)

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
        type the venue does not support raises ``NotSupported`` before any request.
        """
        kind, order_side = OrderType(order_type), OrderSide(side)
        if kind not in self.supported_order_types:
            raise NotSupported(f"{kind.value} orders are not supported on {self.name}", exchange=self.name,
                               symbol=symbol)
        qty = to_decimal(amount, name="amount")
        px = to_decimal(price, name="price") if price is not None else None
        trigger = to_decimal(trigger_price, name="trigger_price") if trigger_price is not None else None
        cid = client_order_id or new_client_order_id(self.max_client_order_id_length)
        order = await self.connector.create_order(kind, order_side, symbol, qty, px, client_order_id=cid,
                                                  trigger_price=trigger, params=params)
        return self.fix_order(order)

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

    async def fetch_closed_orders(self, symbol: str | None = None, since: int | None = None,
                                  limit: int | None = None) -> list[ExchangeOrder]:
        """Return closed orders."""
        return [self.fix_order(o) for o in await self.connector.fetch_closed_orders(symbol, since, limit)]

    async def cancel_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Cancel an open order (``OrderNotFound`` when unknown or already closed)."""
        return self.fix_order(await self.connector.cancel_order(order_id, symbol))

    async def fetch_my_trades(self, symbol: str | None = None, since: int | None = None,
                              limit: int | None = None) -> list[ExchangeTrade]:
        """Return the account's fills, oldest first."""
        return [self.fix_trade(t) for t in await self.connector.fetch_my_trades(symbol, since, limit)]

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[ExchangePosition]:
        """Return open futures positions."""
        return await self.connector.fetch_positions(symbols)

    # -- seed protocols --------------------------------------------------------------------
    async def get_ticker_price(self, symbol: str) -> Decimal:
        """Return the last price of ``symbol`` (the ticker's ``last``, else its ``close``)."""
        ticker = await self.fetch_ticker(symbol)
        price = ticker.last if ticker.last is not None else ticker.close
        if price is None:
            raise BadExchangeResponse(f"ticker of {symbol} has no price", exchange=self.name, symbol=symbol)
        return price

    async def get_balances(self) -> dict[str, Balance]:
        """Return balances by currency (same as :meth:`fetch_balance`)."""
        return await self.fetch_balance()

    async def execute_trade(self, symbol: str, side: OrderSide | str, amount: Decimal | int | str,
                            price: Decimal | int | str | None = None) -> ExchangeOrder:
        """Place a market order without ``price``, a limit order with one."""
        kind = OrderType.MARKET if price is None else OrderType.LIMIT
        return await self.create_order(kind, side, symbol, amount, price)

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
        balances = await self.fetch_balance()
        markets = await self.load_markets()
        total = ZERO
        missing: list[str] = []
        for asset, balance in balances.items():
            if balance.total == 0:
                continue
            rate = await self._conversion_rate(asset, currency, markets)
            if rate is None:
                missing.append(asset)
            else:
                total += balance.total * rate
        if missing:
            raise NotSupported(f"no market converts {', '.join(sorted(missing))} to {currency} on {self.name}",
                               exchange=self.name)
        return total

    async def _direct_rate(self, source: str, target: str, markets: Mapping[str, Any]) -> Decimal | None:
        if source == target:
            return Decimal(1)
        if f"{source}/{target}" in markets:
            return await self.get_ticker_price(f"{source}/{target}")
        if f"{target}/{source}" in markets:
            return 1 / await self.get_ticker_price(f"{target}/{source}")
        return None

    async def _conversion_rate(self, source: str, target: str, markets: Mapping[str, Any]) -> Decimal | None:
        """Price of one ``source`` in ``target``: direct, else through one intermediate currency."""
        direct = await self._direct_rate(source, target, markets)
        if direct is not None:
            return direct
        linked = {part for symbol in markets for part in symbol.split(":")[0].split("/")
                  if source in symbol.split(":")[0].split("/")} - {source, target}
        preferred = ("USDT", "USDC", "USD", "BTC", "ETH", "BUSD", "EUR")
        for middle in sorted(linked, key=lambda c: (preferred.index(c) if c in preferred else len(preferred), c)):
            second = await self._direct_rate(middle, target, markets)
            if second is None:
                continue
            first = await self._direct_rate(source, middle, markets)
            if first is not None:
                return first * second
        return None

    async def get_positions(self) -> list[ExchangePosition]:
        """Return open positions: ``[]`` on spot, the connector's positions on futures."""
        if not self.market_type.is_future:
            return []
        return await self.fetch_positions()

    async def close(self) -> None:
        """Release the connector's resources."""
        await self.connector.close()
