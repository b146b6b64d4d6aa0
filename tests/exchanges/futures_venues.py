"""The two fake futures venues as a parameter of the tests: the USDⓈ-M one (``binanceusdm``, linear
``XRP/USDT:USDT`` margined in USDT) and the COIN-M one (``binancecoinm``, inverse ``BTC/USD:BTC``
margined in BTC). A :class:`VenueKind` names a venue's ccxt exchange, market type, traded symbol
and margin; :func:`venue_connector`, :func:`venue_session`, :func:`venue_client` and the
conformance bases build on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import ccxt.async_support as ccxt_async
import pytest

from octobot_trading.clock import LiveClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import MarketType
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.exchanges.retry import RetryPolicy
from octobot_trading.testing import FakeCoinMServer, FakeFuturesServer
from octobot_trading.testing.futures_conformance import FuturesConnectorConformance


@dataclass(frozen=True)
class VenueKind:
    """One fake futures venue as the tests use it."""

    server: type[FakeFuturesServer]
    #: ccxt's exchange id (and ``ccxt.async_support`` class name).
    exchange: str
    market_type: MarketType
    #: The perpetual the tests trade, and its id on the venue.
    symbol: str
    venue_id: str
    #: The margin asset and the default account's balance of it.
    margin_asset: str
    margin: Decimal
    #: The candles the live engine follows.
    time_frame: str
    #: The venue id of a symbol, for the prices paper trading is fed.
    venue_id_of: Callable[[str], str]


USDM = VenueKind(
    server=FakeFuturesServer,
    exchange="binanceusdm",
    market_type=MarketType.LINEAR,
    symbol="XRP/USDT:USDT",
    venue_id="XRPUSDT",
    margin_asset="USDT",
    margin=Decimal("10000"),
    time_frame="5m",
    venue_id_of=lambda symbol: symbol.split(":")[0].replace("/", ""),
)
COINM = VenueKind(
    server=FakeCoinMServer,
    exchange="binancecoinm",
    market_type=MarketType.INVERSE,
    symbol="BTC/USD:BTC",
    venue_id="BTCUSD_PERP",
    margin_asset="BTC",
    margin=Decimal("1"),
    time_frame="1h",
    venue_id_of=lambda symbol: "BTCUSD_PERP",
)


def venue_connector(
    kind: VenueKind,
    server: FakeFuturesServer,
    symbols: tuple[str, ...] | None = None,
    retry_policy: RetryPolicy | None = None,
) -> CCXTConnector:
    """The ccxt connector of ``kind`` trading ``symbols`` (default: the kind's symbol) on ``server``."""
    config = ExchangeConfig(
        exchange=kind.exchange,
        market_type=kind.market_type,
        api_key=server.api_key,
        api_secret=server.api_secret,
        ccxt_options={**server.ccxt_config(), "rateLimit": 1, "timeout": 3000},
        symbols=symbols if symbols is not None else (kind.symbol,),
    )
    return CCXTConnector(config, LiveClock(), client_hook=server.client_hook, retry_policy=retry_policy)


@asynccontextmanager
async def venue_session(
    kind: VenueKind, symbols: tuple[str, ...] | None = None, retry_policy: RetryPolicy | None = None
) -> AsyncIterator[tuple[FakeFuturesServer, CCXTConnector]]:
    """A started fake venue of ``kind`` and its ccxt connector (:func:`venue_connector`); both
    closed after."""
    async with kind.server() as server:
        connector = venue_connector(kind, server, symbols, retry_policy)
        try:
            yield server, connector
        finally:
            await connector.close()


@asynccontextmanager
async def venue_client(kind: VenueKind, venue: FakeFuturesServer) -> AsyncIterator[Any]:
    """A bare ccxt client of ``kind`` on ``venue``'s default account (another client than the
    engine's); closed on exit."""
    client = getattr(ccxt_async, kind.exchange)(
        {"apiKey": venue.api_key, "secret": venue.api_secret, "rateLimit": 1, **venue.ccxt_config()}
    )
    venue.client_hook(client)
    try:
        yield client
    finally:
        await client.close()


class CCXTVenueConformance(FuturesConnectorConformance):
    """The futures conformance suite on the ccxt connector of :attr:`kind` against its fake venue."""

    kind: ClassVar[VenueKind]
    server: FakeFuturesServer

    async def move_mark_price(self, connector: ExchangeConnector, price: Decimal) -> None:
        self.server.set_mark_price(self.kind.venue_id, price)

    @pytest.fixture
    async def connector(self) -> AsyncIterator[CCXTConnector]:
        async with venue_session(self.kind) as (self.server, connector):
            yield connector


class PaperVenueConformance(FuturesConnectorConformance):
    """The futures conformance suite on paper trading's simulated futures venue fed by :attr:`kind`'s."""

    kind: ClassVar[VenueKind]

    async def move_mark_price(self, connector: ExchangeConnector, price: Decimal) -> None:
        assert isinstance(connector, SimulatedConnector)
        await connector.on_price(self.kind.symbol, price)  # paper trading's mark price: the price it is fed

    @pytest.fixture
    async def connector(self) -> AsyncIterator[SimulatedConnector]:
        kind = self.kind
        async with venue_session(kind) as (server, market_data):
            paper = SimulatedConnector(
                LiveClock(),
                market_data=market_data,
                starting_balances={kind.margin_asset: kind.margin},
                price_source=lambda symbol: server.market(kind.venue_id_of(symbol)).last_price,
                market_type=kind.market_type,
            )
            paper.enable_futures({})
            try:
                yield paper
            finally:
                await paper.close()
