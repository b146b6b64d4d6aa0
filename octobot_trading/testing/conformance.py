"""Connector conformance suite: reusable pytest tests for any ``ExchangeConnector``.

Subclass :class:`ConnectorConformance` in a test module, name the subclass ``Test...`` and
provide a ``connector`` fixture yielding a connected connector whose account can trade
``symbol`` (a few hundred quote units and some base)::

    import pytest
    from octobot_trading.testing.conformance import ConnectorConformance
    from octobot_trading.testing import FakeExchangeServer

    class TestMyExchange(ConnectorConformance):
        symbol = "BTC/USDT"

        @pytest.fixture
        async def connector(self):
            async with FakeExchangeServer() as server:
                conn = make_my_connector(server)        # your subclass / connector
                yield conn
                await conn.close()

The tests need ``pytest-asyncio`` (they are marked ``asyncio``). They check the contract of
:mod:`octobot_trading.exchanges.connector`: typed results with Decimal money, ordering rules,
typed errors, client order ids, and that balances move exactly by what the fills say — so run
them against a test venue (a fake server, a simulator or a sandbox) with no other activity.
The futures calls have their own suite, :class:`~.futures_conformance.FuturesConnectorConformance`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest

from octobot_trading import errors
from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ExchangeOrder,
    ExchangeTrade,
    MarketInfo,
    OrderBook,
    PublicTrade,
    Ticker,
)
from octobot_trading.util.decimals import ZERO

__all__ = ["ConnectorConformance"]


def _decimals(*values: object) -> bool:
    return all(isinstance(v, Decimal) for v in values)


class ConnectorConformance:
    """The suite; see the module docstring. Override the class attributes to fit the venue."""

    pytestmark = [pytest.mark.asyncio]

    #: A listed symbol the account can trade.
    symbol: ClassVar[str] = "BTC/USDT"
    #: A time frame the venue serves.
    time_frame: ClassVar[str] = "1h"
    #: A symbol the venue does not list.
    unlisted_symbol: ClassVar[str] = "NOTLISTED/USDT"
    #: Resting buy limits are placed at ``last x resting_price_factor`` (far from the market).
    resting_price_factor: ClassVar[Decimal] = Decimal("0.8")
    #: Orders are sized to ``min_notional_multiple x`` the market's minimum cost (or 20 quote).
    min_notional_multiple: ClassVar[Decimal] = Decimal("3")

    # -- helpers ----------------------------------------------------------------------------
    async def _market(self, connector: ExchangeConnector) -> MarketInfo:
        return (await connector.load_markets())[self.symbol]

    async def _last(self, connector: ExchangeConnector) -> Decimal:
        ticker = await connector.fetch_ticker(self.symbol)
        price = ticker.last if ticker.last is not None else ticker.close
        assert price is not None and price > 0
        return price

    async def _order_amount(self, connector: ExchangeConnector, price: Decimal) -> Decimal:
        spec = (await self._market(connector)).spec
        cost = (spec.min_cost or Decimal("20")) * self.min_notional_multiple
        amount = spec.adapt_quantity(cost / price)
        if spec.min_amount is not None and amount < spec.min_amount:
            amount = spec.min_amount
        return amount

    # -- market data ------------------------------------------------------------------------
    async def test_load_markets_is_typed(self, connector: ExchangeConnector) -> None:
        """Markets are MarketInfo with positive steps, keyed by unified symbol."""
        markets = await connector.load_markets()
        assert self.symbol in markets
        for symbol, info in markets.items():
            assert isinstance(info, MarketInfo) and info.symbol == symbol
            assert info.spec.price_tick > 0 and info.spec.amount_step > 0

    async def test_fetch_ticker(self, connector: ExchangeConnector) -> None:
        """A ticker has Decimal prices and a non-crossed spread."""
        ticker = await connector.fetch_ticker(self.symbol)
        assert isinstance(ticker, Ticker) and ticker.symbol == self.symbol
        assert isinstance(ticker.timestamp, int)
        for value in (ticker.last, ticker.bid, ticker.ask, ticker.high, ticker.low):
            assert value is None or isinstance(value, Decimal)
        if ticker.bid is not None and ticker.ask is not None:
            assert ticker.bid <= ticker.ask

    async def test_fetch_ohlcv(self, connector: ExchangeConnector) -> None:
        """Candles are oldest first, consistent, Decimal, and respect ``limit``."""
        candles = await connector.fetch_ohlcv(self.symbol, self.time_frame, limit=5)
        assert 0 < len(candles) <= 5
        stamps = [c.timestamp for c in candles]
        assert stamps == sorted(set(stamps))
        for candle in candles:
            assert isinstance(candle, Candle)
            assert _decimals(candle.open, candle.high, candle.low, candle.close, candle.volume)
            assert candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close) <= candle.high
        since = candles[0].timestamp
        again = await connector.fetch_ohlcv(self.symbol, self.time_frame, since=since, limit=2)
        assert again and again[0].timestamp == since

    async def test_fetch_order_book(self, connector: ExchangeConnector) -> None:
        """Bids best (highest) first, asks best (lowest) first, not crossed."""
        book = await connector.fetch_order_book(self.symbol, limit=5)
        assert isinstance(book, OrderBook) and book.bids and book.asks
        assert all(_decimals(p, a) and a > 0 for p, a in book.bids + book.asks)
        assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
        assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
        assert book.bids[0][0] < book.asks[0][0]

    async def test_fetch_recent_trades_is_typed(self, connector: ExchangeConnector) -> None:
        """Public trades are oldest first with Decimal price and amount."""
        trades = await connector.fetch_recent_trades(self.symbol, limit=10)
        assert [t.timestamp for t in trades] == sorted(t.timestamp for t in trades)
        assert all(isinstance(t, PublicTrade) and _decimals(t.price, t.amount) for t in trades)

    async def test_unknown_symbol(self, connector: ExchangeConnector) -> None:
        """An unlisted symbol raises UnknownSymbol, for reads and orders."""
        with pytest.raises(errors.UnknownSymbol):
            await connector.fetch_ticker(self.unlisted_symbol)
        with pytest.raises(errors.UnknownSymbol):
            await connector.create_order(
                OrderType.LIMIT,
                OrderSide.BUY,
                self.unlisted_symbol,
                Decimal(1),
                Decimal(1),
                client_order_id="conformance-unknown",
            )

    # -- account ----------------------------------------------------------------------------
    async def test_fetch_balance(self, connector: ExchangeConnector) -> None:
        """Balances are Decimal with ``free + used == total``."""
        balances = await connector.fetch_balance()
        assert balances
        for balance in balances.values():
            assert isinstance(balance, Balance) and _decimals(balance.free, balance.used, balance.total)
            assert balance.free + balance.used == balance.total

    async def test_limit_order_lifecycle(self, connector: ExchangeConnector) -> None:
        """A resting limit order: found by id and client id, listed open, reserved, canceled once."""
        market = await self._market(connector)
        price = market.spec.adapt_price((await self._last(connector)) * self.resting_price_factor, OrderSide.BUY)
        amount = await self._order_amount(connector, price)
        before = await connector.fetch_balance()
        order = await connector.create_order(
            OrderType.LIMIT, OrderSide.BUY, self.symbol, amount, price, client_order_id="conformance-limit-1"
        )
        assert isinstance(order, ExchangeOrder) and order.client_order_id == "conformance-limit-1"
        assert order.status is OrderStatus.OPEN and order.type is OrderType.LIMIT and order.side is OrderSide.BUY
        assert (order.amount, order.price, order.filled, order.remaining) == (amount, price, ZERO, amount)
        during = await connector.fetch_balance()
        assert during[market.quote].used - before[market.quote].used == amount * price
        assert during[market.quote].total == before[market.quote].total

        assert (await connector.fetch_order(order.id, self.symbol)).id == order.id
        found = await connector.fetch_order_by_client_id("conformance-limit-1", self.symbol)
        assert found is not None and found.id == order.id
        assert await connector.fetch_order_by_client_id("conformance-never-sent", self.symbol) is None
        assert order.id in [o.id for o in await connector.fetch_open_orders(self.symbol)]

        canceled = await connector.cancel_order(order.id, self.symbol)
        assert canceled.id == order.id and canceled.status is OrderStatus.CANCELED
        assert order.id not in [o.id for o in await connector.fetch_open_orders(self.symbol)]
        assert (await connector.fetch_balance())[market.quote] == before[market.quote]
        with pytest.raises(errors.OrderNotFound):
            await connector.cancel_order(order.id, self.symbol)
        closed = await connector.fetch_closed_orders(self.symbol)
        assert [o.status for o in closed if o.id == order.id] == [OrderStatus.CANCELED]

    async def test_market_order_moves_balances_exactly(self, connector: ExchangeConnector) -> None:
        """A market buy fills completely; balances move by exactly what its fills say."""
        market = await self._market(connector)
        amount = await self._order_amount(connector, await self._last(connector))
        before = await connector.fetch_balance()
        order = await connector.create_order(
            OrderType.MARKET, OrderSide.BUY, self.symbol, amount, client_order_id="conformance-market-1"
        )
        assert order.status is OrderStatus.FILLED and order.filled == amount and order.remaining == 0
        fills = [t for t in await connector.fetch_my_trades(self.symbol) if t.order_id == order.id]
        assert fills and sum((t.amount for t in fills), ZERO) == amount
        assert all(isinstance(t, ExchangeTrade) and t.side is OrderSide.BUY for t in fills)
        base_delta = sum((t.amount for t in fills), ZERO)
        quote_delta = -sum((t.amount * t.price for t in fills), ZERO)
        for fill in fills:
            if fill.fee:
                if fill.fee_currency == market.base:
                    base_delta -= fill.fee
                elif fill.fee_currency == market.quote:
                    quote_delta -= fill.fee
        after = await connector.fetch_balance()

        def total(balances: dict[str, Balance], currency: str) -> Decimal:
            return balances[currency].total if currency in balances else ZERO

        assert total(after, market.base) - total(before, market.base) == base_delta
        assert total(after, market.quote) - total(before, market.quote) == quote_delta

    async def test_unknown_order(self, connector: ExchangeConnector) -> None:
        """An unknown exchange id raises OrderNotFound."""
        await connector.load_markets()
        with pytest.raises(errors.OrderNotFound):
            await connector.fetch_order("987654321", self.symbol)

    async def test_orders_below_minimums_are_refused(self, connector: ExchangeConnector) -> None:
        """An amount that rounds to nothing is refused with InvalidOrder naming a limit."""
        spec = (await self._market(connector)).spec
        with pytest.raises(errors.InvalidOrder) as caught:
            await connector.create_order(
                OrderType.LIMIT,
                OrderSide.BUY,
                self.symbol,
                spec.amount_step / 10,
                await self._last(connector),
                client_order_id="conformance-tiny",
            )
        assert caught.value.limit

    async def test_float_money_is_refused(self, connector: ExchangeConnector) -> None:
        """A float amount raises TypeError."""
        await connector.load_markets()
        with pytest.raises(TypeError):
            await connector.create_order(
                OrderType.MARKET,
                OrderSide.BUY,
                self.symbol,
                0.01,  # type: ignore[arg-type]
                client_order_id="conformance-float",
            )
