"""The connector contract: what every exchange backend (ccxt, simulator, plugin) implements.

Required methods (abstract here):

* ``load_markets`` — listed markets with precision and limits;
* ``fetch_balance``, ``fetch_ticker``, ``fetch_tickers``, ``fetch_ohlcv``, ``fetch_order_book``,
  ``fetch_recent_trades``;
* ``create_order`` (always with a client order id), ``fetch_order``,
  ``fetch_order_by_client_id``, ``cancel_order``, ``fetch_open_orders``, ``fetch_closed_orders``,
  ``fetch_my_trades``;
* ``close``.

Optional methods (default: raise ``NotSupported``): ``edit_order``, the futures calls
``fetch_positions``, ``set_leverage``, ``set_margin_mode``, ``set_position_mode``,
``fetch_contract_settings``, ``fetch_funding_rate``, ``fetch_funding_rate_history``,
``fetch_mark_price``, ``fetch_mark_ohlcv``,
``fetch_funding_history`` (the account's payments), ``fetch_my_liquidations``, the websocket watchers
``watch_ohlcv``, ``watch_ticker``, ``watch_order_book``, ``watch_trades``, the account's private
streams ``subscribe_private_streams``, ``watch_orders``, ``watch_my_trades``, ``watch_balance`` and
``watch_positions`` (see :attr:`ExchangeConnector.supports_private_streams`), and the account's
transfers ``fetch_deposits``, ``fetch_withdrawals``, ``fetch_deposit_address`` and ``withdraw``
(refused with ``WithdrawalsDisabled``, nothing sent, unless withdrawals are enabled).

Contract rules: every result is a typed object from :mod:`octobot_trading.exchanges.types`
with Decimal money; every failure is an :mod:`octobot_trading.errors` type; order placement is
never retried blindly — on an ambiguous outcome the connector looks the order up by its client
order id and raises ``AmbiguousOrderOutcome`` only when that lookup cannot decide.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.enums import MarginMode, OrderSide, OrderType, PositionMode, TimeFrame
from octobot_trading.errors import NotSupported
from octobot_trading.exchanges.types import (
    Balance,
    Candle,
    ContractSettings,
    DepositAddress,
    ExchangeLiquidation,
    ExchangeOrder,
    ExchangePosition,
    ExchangeTrade,
    ExchangeTransaction,
    FundingPayment,
    FundingRate,
    MarketInfo,
    MarkPrice,
    OrderBook,
    PublicTrade,
    Ticker,
)

__all__ = ["ExchangeConnector"]


class ExchangeConnector(abc.ABC):
    """Abstract exchange backend. See the module docstring for the contract."""

    #: ccxt-style exchange id (``"binance"``) or ``"simulator"``.
    name: str = ""
    #: True when the connector books the funds of same-side OCO members once: the trader then
    #: passes ``params["shares_funds_with"] = <exchange id of the funds' owner>``. Real venues
    #: do not (the parameter is never sent to them).
    shares_reservations: bool = False

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    # -- market data --------------------------------------------------------------------
    @abc.abstractmethod
    async def load_markets(self, reload: bool = False) -> Mapping[str, MarketInfo]:
        """Return the listed markets by unified symbol."""

    @abc.abstractmethod
    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Return the ticker of ``symbol``."""

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        """Return tickers by symbol (default: one ``fetch_ticker`` per symbol)."""
        if symbols is None:
            symbols = list(await self.load_markets())
        return {symbol: await self.fetch_ticker(symbol) for symbol in symbols}

    @abc.abstractmethod
    async def fetch_ohlcv(
        self, symbol: str, time_frame: TimeFrame | str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return candles oldest first; ``since`` is an open time in ms."""

    @abc.abstractmethod
    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Return an order-book snapshot."""

    @abc.abstractmethod
    async def fetch_recent_trades(self, symbol: str, limit: int | None = None) -> list[PublicTrade]:
        """Return the latest public trades, oldest first."""

    # -- account ------------------------------------------------------------------------
    @abc.abstractmethod
    async def fetch_balance(self) -> dict[str, Balance]:
        """Return balances by currency."""

    @abc.abstractmethod
    async def create_order(
        self,
        order_type: OrderType,
        side: OrderSide,
        symbol: str,
        amount: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str,
        trigger_price: Decimal | None = None,
        params: dict[str, Any] | None = None,
    ) -> ExchangeOrder:
        """Place an order. Never retried blindly; see the module docstring."""

    @abc.abstractmethod
    async def fetch_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Return one order by exchange id, or raise ``OrderNotFound``."""

    @abc.abstractmethod
    async def fetch_order_by_client_id(self, client_order_id: str, symbol: str) -> ExchangeOrder | None:
        """Return the order placed with ``client_order_id``, or None if the exchange has none."""

    @abc.abstractmethod
    async def cancel_order(self, order_id: str, symbol: str) -> ExchangeOrder:
        """Cancel one order; raise ``OrderNotFound`` when it is unknown or already closed."""

    @abc.abstractmethod
    async def fetch_open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Return open orders."""

    @abc.abstractmethod
    async def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeOrder]:
        """Return closed (filled, canceled, expired) orders."""

    @abc.abstractmethod
    async def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTrade]:
        """Return the account's fills, oldest first."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources. Idempotent."""

    # -- optional -------------------------------------------------------------------------
    def _not_supported(self, what: str) -> NotSupported:
        return NotSupported(f"{what} is not supported by this connector", exchange=self.name or None)

    async def edit_order(
        self,
        order_id: str,
        symbol: str,
        *,
        amount: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> ExchangeOrder:
        """Change an open order's amount, price and/or trigger price.

        ``price`` is the limit price (for a stop or take-profit without a limit, which has none,
        its trigger); ``trigger_price`` is the trigger of a triggered order.
        """
        raise self._not_supported("edit_order")

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[ExchangePosition]:
        """Return open futures positions."""
        raise self._not_supported("fetch_positions")

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        """Set the leverage of a futures symbol."""
        raise self._not_supported("set_leverage")

    async def set_margin_mode(self, symbol: str, margin_mode: MarginMode) -> None:
        """Set the margin mode of a futures symbol."""
        raise self._not_supported("set_margin_mode")

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        """Return the current funding rate of a perpetual."""
        raise self._not_supported("fetch_funding_rate")

    async def set_position_mode(self, symbol: str, position_mode: PositionMode) -> None:
        """Set one-way or hedge mode for a futures symbol (per account on some venues)."""
        raise self._not_supported("set_position_mode")

    async def fetch_contract_settings(self, symbols: list[str]) -> list[ContractSettings]:
        """Return the venue's leverage, margin mode and position mode of each contract symbol."""
        raise self._not_supported("fetch_contract_settings")

    async def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[FundingRate]:
        """Return past funding events of a perpetual, oldest first."""
        raise self._not_supported("fetch_funding_rate_history")

    async def fetch_mark_price(self, symbol: str) -> MarkPrice:
        """Return the mark price of a contract."""
        raise self._not_supported("fetch_mark_price")

    async def fetch_mark_ohlcv(
        self, symbol: str, time_frame: TimeFrame | str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return mark-price candles of a contract, oldest first."""
        raise self._not_supported("fetch_mark_ohlcv")

    async def fetch_funding_history(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[FundingPayment]:
        """Return the account's funding payments, oldest first."""
        raise self._not_supported("fetch_funding_history")

    async def fetch_my_liquidations(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeLiquidation]:
        """Return the account's liquidations, oldest first."""
        raise self._not_supported("fetch_my_liquidations")

    async def fetch_deposits(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Return deposits to the account, oldest first."""
        raise self._not_supported("fetch_deposits")

    async def fetch_withdrawals(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Return withdrawals from the account, oldest first."""
        raise self._not_supported("fetch_withdrawals")

    async def fetch_deposit_address(self, currency: str, *, network: str | None = None) -> DepositAddress:
        """Return the address crediting ``currency`` to the account."""
        raise self._not_supported("fetch_deposit_address")

    async def withdraw(
        self, currency: str, amount: Decimal, address: str, *, tag: str | None = None, network: str | None = None
    ) -> ExchangeTransaction:
        """Send ``amount`` of ``currency`` to ``address``; ``WithdrawalsDisabled`` unless enabled."""
        raise self._not_supported("withdraw")

    @property
    def supports_websockets(self) -> bool:
        """True when the ``watch_*`` methods are implemented."""
        return False

    async def watch_ohlcv(self, symbol: str, time_frame: TimeFrame | str) -> list[Candle]:
        """Wait for the next candle update(s) of ``symbol`` (websocket)."""
        raise self._not_supported("watch_ohlcv")

    async def watch_ticker(self, symbol: str) -> Ticker:
        """Wait for the next ticker of ``symbol`` (websocket)."""
        raise self._not_supported("watch_ticker")

    async def watch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Wait for the next order-book state of ``symbol`` (websocket)."""
        raise self._not_supported("watch_order_book")

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """Wait for the next public trades of ``symbol`` (websocket)."""
        raise self._not_supported("watch_trades")

    # -- private streams (the account's own updates) -----------------------------------------
    @property
    def supports_private_streams(self) -> bool:
        """True when the account's ``watch_orders`` / ``watch_my_trades`` / ``watch_balance``
        stream from the venue (a connector may still raise ``NotSupported`` when first used)."""
        return False

    async def subscribe_private_streams(self) -> None:
        """Open the account's private streams and return once the venue confirmed them: every
        update after this returns from the ``watch_*`` calls below (what happened before must be
        read over REST)."""
        raise self._not_supported("subscribe_private_streams")

    async def watch_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Wait for the next order update(s) of the account; return the orders that changed."""
        raise self._not_supported("watch_orders")

    async def watch_my_trades(self, symbol: str | None = None) -> list[ExchangeTrade]:
        """Wait for the account's next fill(s); return the new fills, oldest first."""
        raise self._not_supported("watch_my_trades")

    async def watch_balance(self) -> dict[str, Balance]:
        """Wait for the next balance update; return the currencies it reports (possibly not all)."""
        raise self._not_supported("watch_balance")

    async def watch_positions(self, symbols: list[str] | None = None) -> list[ExchangePosition]:
        """Wait for the next futures position update(s); return the positions that changed."""
        raise self._not_supported("watch_positions")

    async def reset_private_streams(self) -> None:  # noqa: B027 - optional hook
        """Close the private streams' connection; the next subscribe reconnects (idempotent)."""
