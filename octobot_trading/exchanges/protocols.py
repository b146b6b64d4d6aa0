"""The exchange's public surface split into three runtime-checkable protocols.

Code that only needs prices can depend on :class:`MarketDataProvider`, code that trades on
:class:`TradingOperations`, code that reads the account on :class:`AccountOperations`.
:class:`~octobot_trading.exchanges.rest_exchange.RestExchange` implements all three, so does
what ``ot.ExchangeFactory.create_exchange`` yields. :class:`OrderEntry` is what the exchange's
``execute_trade`` places orders through (the manager's trader).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from octobot_trading.enums import OrderSide, OrderType, TimeFrame
from octobot_trading.exchanges.types import Balance, Candle, ExchangeOrder, ExchangePosition, OrderBook

__all__ = ["AccountOperations", "MarketDataProvider", "OrderEntry", "TradingOperations"]


@runtime_checkable
class MarketDataProvider(Protocol):
    """Prices, candles and order books."""

    async def get_ticker_price(self, symbol: str) -> Decimal:
        """Return the last traded price of ``symbol``."""
        ...

    async def fetch_ohlcv(
        self, symbol: str, time_frame: TimeFrame | str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return candles, oldest first."""
        ...

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Return an order-book snapshot."""
        ...


@runtime_checkable
class TradingOperations(Protocol):
    """Placing, reading and cancelling orders."""

    async def execute_trade(
        self, symbol: str, side: OrderSide, amount: Decimal | int | str, price: Decimal | int | str | None = None
    ) -> ExchangeOrder:
        """Place a market order (no price) or a limit order (with a price)."""
        ...

    async def get_order_history(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Return the account's orders, open and closed, oldest first."""
        ...

    async def fetch_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Return one order by exchange id."""
        ...

    async def cancel_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Cancel one open order."""
        ...


@runtime_checkable
class AccountOperations(Protocol):
    """Balances, portfolio value and positions."""

    async def get_balances(self) -> dict[str, Balance]:
        """Return balances by currency."""
        ...

    async def get_portfolio_value(self, currency: str) -> Decimal:
        """Return the account's total value expressed in ``currency``."""
        ...

    async def get_positions(self) -> list[ExchangePosition]:
        """Return open positions (``[]`` on spot)."""
        ...


class OrderEntry(Protocol):
    """The engine's order path (``Trader.create_order``): checks, reserves, then sends."""

    async def create_order(
        self,
        order_type: OrderType,
        side: OrderSide,
        symbol: str,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str | None = None,
    ) -> Any:
        """Validate and place an order; raise a typed error, sending nothing, when it is refused."""
        ...
