"""``ot.ExchangeFactory``: a ready exchange for simple scripts, through the same builder.

``create_exchange(...)`` returns an async context manager; entering it builds an
``ExchangeManager`` (real trader, REST only, no trading mode) and yields its ``RestExchange``,
which implements ``MarketDataProvider``, ``TradingOperations`` and ``AccountOperations``;
leaving it stops the manager. The exchange's ``execute_trade`` goes through the manager's
trader, so a script's order gets the same checks as an engine order (market limits, order
safety, local balance) before anything reaches the venue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from octobot_trading.enums import MarketType
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.exchanges.rest_exchange import RestExchange

__all__ = ["ExchangeFactory", "ExchangeSession"]


class ExchangeSession:
    """What :meth:`ExchangeFactory.create_exchange` returns: ``async with`` yields the exchange."""

    def __init__(self, builder: ExchangeBuilder) -> None:
        self._builder = builder
        self.manager: ExchangeManager | None = None

    async def open(self) -> RestExchange:
        """Build the manager and return its exchange (call :meth:`close` when done)."""
        if self.manager is None:
            self.manager = await self._builder.build()
        exchange = self.manager.exchange
        if exchange.order_entry is None and self.manager.has_account:
            exchange.set_order_entry(self.manager.trader)
        return exchange

    async def close(self) -> None:
        """Stop the manager (idempotent)."""
        if self.manager is not None:
            await self.manager.stop()

    async def __aenter__(self) -> RestExchange:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class ExchangeFactory:
    """Entry point for scripts that need an exchange and no trading mode."""

    @staticmethod
    def create_exchange(
        exchange_id: str,
        api_key: str | None = None,
        api_secret: str | None = None,
        testnet: bool = True,
        ccxt_options: Mapping[str, Any] | None = None,
        client_hook: Callable[[Any], None] | None = None,
        *,
        password: str | None = None,
        symbols: Iterable[str] | None = None,
        market_type: MarketType | str = MarketType.SPOT,
        order_safety: Mapping[str, Any] | None = None,
    ) -> ExchangeSession:
        """Return a session whose ``async with`` yields a ready :class:`RestExchange`.

        Parameters
        ----------
        exchange_id:
            ccxt exchange id.
        api_key, api_secret, password:
            Credentials; without an ``api_key`` the exchange serves public data only (prices,
            candles, books) and ``execute_trade`` raises ``NotSupported``.
        testnet:
            Use the venue's sandbox / testnet (default True, to be safe).
        ccxt_options, client_hook:
            As ``ExchangeBuilder.with_ccxt_options`` / ``with_client_hook``.
        symbols:
            Symbols checked at start and used by calls that span symbols (``get_order_history()``).
        market_type:
            Spot by default.
        order_safety:
            ``OrderSafetyConfig`` fields applied to ``execute_trade`` (e.g.
            ``{"max_position_value": "5000"}``); default: the library's defaults.
        """
        builder = (
            ExchangeBuilder(exchange_id)
            .with_credentials(api_key=api_key, api_secret=api_secret, password=password)
            .with_market_type(market_type)
            .sandboxed(testnet)
            .rest_only(True)
        )
        # without an API key the session reads public data only: no account to sync, and
        # execute_trade raises NotSupported instead of the build failing on authentication
        if api_key:
            builder.use_real_trader()
        else:
            builder.public_data_only()
        if symbols is not None:
            builder.with_symbols(list(symbols))
        if order_safety is not None:
            builder.with_trading_config(order_safety=dict(order_safety))
        if ccxt_options:
            builder.with_ccxt_options(ccxt_options)
        if client_hook is not None:
            builder.with_client_hook(client_hook)
        return ExchangeSession(builder)
