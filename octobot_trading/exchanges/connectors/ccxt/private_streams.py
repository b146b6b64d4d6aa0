"""The account's private streams of the ccxt connector (mixed into ``CCXTConnector``).

They run on a ``ccxt.pro`` client of their own (a second :class:`.websocket.CCXTWebsocketFeeds`,
created on first use from the connector's configuration and client hook), apart from the
market-data streams: :meth:`CCXTPrivateStreamsMixin.reset_private_streams` reconnects the
account's streams only. Each new ``ccxt.pro`` client (one per reconnection) gets the connector's
loaded markets instead of downloading them, and every connection attempt first passes the venue's
rate gate (none during a 418 ban). A venue without them in ccxt.pro raises ``NotSupported``; a connector
without credentials reports no private streams.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.config import ExchangeConfig
from octobot_trading.errors import AuthenticationError, NotSupported
from octobot_trading.exchanges.connectors.ccxt.client import create_ccxt_client
from octobot_trading.exchanges.connectors.ccxt.order_placement import is_clock_skew
from octobot_trading.exchanges.connectors.ccxt.websocket import CCXTWebsocketFeeds, supports_websockets
from octobot_trading.exchanges.rate_limit import VenueRateGate
from octobot_trading.exchanges.types import Balance, ExchangeOrder, ExchangePosition, ExchangeTrade, MarketInfo

__all__ = ["CCXTPrivateStreamsMixin"]


class CCXTPrivateStreamsMixin:
    """``subscribe_private_streams`` / ``watch_orders`` / ``watch_my_trades`` / ``watch_balance`` /
    ``watch_positions``."""

    config: ExchangeConfig
    name: str
    clock: Clock
    adapter: Any
    _client_hook: Any
    client: Any
    rate_gate: VenueRateGate
    _private_ws: CCXTWebsocketFeeds | None = None

    async def load_markets(self, reload: bool = False) -> Mapping[str, MarketInfo]:  # the connector's
        raise NotImplementedError

    async def _prepare_ws_client(self, client: Any) -> None:
        """Give a new ``ccxt.pro`` client the connector's markets (loaded once through the venue's
        gate, or from the process-wide cache: no ``exchangeInfo`` download per reconnect) and the
        venue clock offset the REST client measured (signed subscriptions carry the venue's time)."""
        await self.load_markets()
        client.set_markets(self.client.markets, self.client.currencies or None)
        offset = self.client.options.get("timeDifference")
        if offset is not None:
            client.options["timeDifference"] = offset

    @property
    def supports_private_streams(self) -> bool:
        """True when ccxt.pro has this venue and the connector has credentials."""
        return supports_websockets(self.name) and self.config.api_key is not None

    def _private_streams(self) -> CCXTWebsocketFeeds:
        if not self.supports_private_streams:
            raise NotSupported(
                f"{self.name}: no private websocket streams (ccxt.pro venue and credentials needed)", exchange=self.name
            )
        if self._private_ws is None:
            self._private_ws = CCXTWebsocketFeeds(
                self.config,
                self.clock,
                self.adapter,
                lambda: create_ccxt_client(self.config, self._client_hook, pro=True),
                rate_gate=self.rate_gate,
                prepare_client=self._prepare_ws_client,
            )
        return self._private_ws

    async def resync_clock(self, cause: BaseException | None = None) -> None:  # the connector's
        raise NotImplementedError

    async def subscribe_private_streams(self) -> None:
        """Subscribe the account's streams; return once the venue confirmed them.

        A subscription refused for its timestamp (Binance -1021) re-syncs with the venue clock and
        is tried once more on a new connection; refused credentials (Binance -2015) raise
        ``AuthenticationError`` carrying the venue's code and message."""
        feeds = self._private_streams()
        try:
            await feeds.subscribe_private()
        except AuthenticationError as exc:
            if not is_clock_skew(exc):
                raise
            await self.resync_clock(exc)
            await feeds.reset()  # the next client signs with the new offset
            await feeds.subscribe_private()

    async def watch_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Wait for the next order update(s) of the account (websocket)."""
        return await self._private_streams().watch_orders(symbol)

    async def watch_my_trades(self, symbol: str | None = None) -> list[ExchangeTrade]:
        """Wait for the account's next fill(s) (websocket)."""
        return await self._private_streams().watch_my_trades(symbol)

    async def watch_balance(self) -> dict[str, Balance]:
        """Wait for the next balance update (websocket)."""
        return await self._private_streams().watch_balance()

    async def watch_positions(self, symbols: list[str] | None = None) -> list[ExchangePosition]:
        """Wait for the next position update(s) of the account (websocket); 0 contracts: closed."""
        return await self._private_streams().watch_positions(symbols)

    async def reset_private_streams(self) -> None:
        """Close the private streams' connection; the next subscribe reconnects."""
        if self._private_ws is not None:
            await self._private_ws.reset()

    @property
    def private_stream_client(self) -> Any:
        """The ``ccxt.pro`` client of the private streams (None before first use)."""
        return self._private_ws._client if self._private_ws is not None else None
