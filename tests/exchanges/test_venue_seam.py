"""A registered venue class is the seam of the whole engine: its hooks see every venue result.

The engine (trader, its sync, the trader component's poll, the market-data updaters) calls the
manager's exchange, so a class registered for the venue repairs what the engine works with, not
only what a user's direct ``manager.exchange.fetch_*`` call returns. Runs the real builder,
real trader and real ccxt client against the fake Binance server.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar

import pytest

import octobot_trading as ot
from octobot_trading.clock import LiveClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.connectors.ccxt import CCXTAdapter, CCXTConnector
from octobot_trading.exchanges.exchange_classes import (
    register_exchange_class,
    registered_exchange_classes,
    unregister_exchange_class,
)
from octobot_trading.exchanges.types import Balance, Candle, ExchangeOrder, ExchangeTrade, Ticker
from octobot_trading.exchanges.venues import BinanceExchange
from octobot_trading.testing.fake_exchange import FakeExchangeServer

from .conftest import FAST

BTC = "BTC/USDT"


class RecordingBinance(BinanceExchange):
    """Binance with hooks that count their calls; the ticker hook also leaves a visible mark."""

    exchange_id: ClassVar[str | None] = "binance"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: Counter[str] = Counter()

    def fix_order(self, order: ExchangeOrder) -> ExchangeOrder:
        self.calls["fix_order"] += 1
        return super().fix_order(order)

    def fix_trade(self, trade: ExchangeTrade) -> ExchangeTrade:
        self.calls["fix_trade"] += 1
        return trade

    def fix_balance(self, balances: dict[str, Balance]) -> dict[str, Balance]:
        self.calls["fix_balance"] += 1
        return balances

    def fix_candles(self, candles: list[Candle]) -> list[Candle]:
        self.calls["fix_candles"] += 1
        return candles

    def fix_markets(self, markets: Any) -> Any:
        self.calls["fix_markets"] += 1
        return super().fix_markets(markets)

    def fix_ticker(self, ticker: Ticker) -> Ticker:
        self.calls["fix_ticker"] += 1
        return replace(ticker, quote_volume=Decimal("-1"))  # a mark only this hook leaves


@pytest.fixture
async def manager(server: FakeExchangeServer) -> AsyncIterator[ot.ExchangeManager]:
    built = await (
        ot.ExchangeBuilder("binance")
        .with_exchange_class(RecordingBinance)
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols([BTC])
        .with_time_frames(["5m"])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .rest_only(True)
        .use_real_trader()
        .build()
    )
    try:
        yield built
    finally:
        await built.stop()


async def test_the_engine_calls_the_registered_venue_class_hooks(
    manager: ot.ExchangeManager, server: FakeExchangeServer
) -> None:
    exchange = manager.exchange
    assert isinstance(exchange, RecordingBinance)
    calls = exchange.calls
    # the manager's first component loaded (and checked) the markets through the exchange
    assert calls["fix_markets"] >= 1
    # the trader component's start read the account through the exchange
    assert calls["fix_balance"] >= 1
    # the market-data updaters read candles and tickers through it
    await manager.wait_ready(timeout=20)
    assert calls["fix_candles"] >= 1 and calls["fix_ticker"] >= 1
    symbol_data = manager.exchange_symbols_data.get(BTC)
    assert symbol_data.ticker is not None and symbol_data.ticker.quote_volume == Decimal("-1")
    # the trader places and settles through it
    before = dict(calls)
    price = (await exchange.fetch_ticker(BTC)).last
    assert price is not None
    resting = await manager.trader.create_order(ot.OrderType.LIMIT, ot.OrderSide.BUY, BTC, "0.01", price * 2 / 3)
    assert calls["fix_order"] > before.get("fix_order", 0)
    await manager.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, BTC, "0.01")
    await manager.trader.sync_with_exchange([BTC])
    await manager.trader.refresh_balances()
    assert calls["fix_trade"] > before.get("fix_trade", 0)
    assert calls["fix_balance"] > before["fix_balance"]
    orders_seen = calls["fix_order"]
    await manager.trader.cancel_order(resting)
    assert calls["fix_order"] > orders_seen
    assert resting.status is ot.OrderStatus.CANCELED


async def test_an_exchange_class_given_to_one_build_stays_in_that_build(server: FakeExchangeServer) -> None:
    def builder() -> ot.ExchangeBuilder:
        return (
            ot.ExchangeBuilder("binance")
            .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
            .with_symbols([BTC])
            .with_time_frames(["5m"])
            .with_ccxt_options(FAST)
            .with_client_hook(server.client_hook)
            .rest_only(True)
            .use_real_trader()
        )

    registered_before = registered_exchange_classes()
    async with await builder().with_exchange_class(RecordingBinance).build() as chosen:
        async with await builder().build() as default:
            assert type(chosen.exchange) is RecordingBinance and type(default.exchange) is BinanceExchange
    assert registered_exchange_classes() == registered_before
    assert ot.exchanges.get_exchange_class("binance") is BinanceExchange
    for wrong in (dict, RecordingBinance(chosen.connector, chosen.clock)):
        with pytest.raises(ot.errors.ConfigurationError) as refused:
            ot.ExchangeBuilder("binance").with_exchange_class(wrong)  # type: ignore[arg-type]
        assert refused.value.field == "exchange_class"


async def test_unregistering_restores_the_builtin_class() -> None:
    register_exchange_class(RecordingBinance)
    try:
        assert ot.exchanges.get_exchange_class("binance") is RecordingBinance
    finally:
        unregister_exchange_class("binance")
    assert ot.exchanges.get_exchange_class("binance") is BinanceExchange
    unregister_exchange_class("binance")  # nothing registered: no error


class _MarkingAdapter(CCXTAdapter):
    """A venue adapter repairing raw ccxt tickers (leaves a mark on the bid)."""

    def fix_ticker(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "bid": "1"}


class AdapterVenue(ot.RestExchange):
    exchange_id: ClassVar[str | None] = "adaptervenue"
    ccxt_adapter_class: ClassVar[type[Any] | None] = _MarkingAdapter


class OwnConnectorVenue(ot.RestExchange):
    exchange_id: ClassVar[str | None] = "ownconnector"
    connector_class: ClassVar[type[ExchangeConnector] | None] = CCXTConnector


async def test_a_venue_brings_its_own_connector_or_ccxt_adapter(server: FakeExchangeServer) -> None:
    options = {**BinanceExchange.default_ccxt_options(ot.MarketType.SPOT), **FAST}
    config = ExchangeConfig(exchange="binance", ccxt_options=options)
    clock = LiveClock()
    with_adapter = AdapterVenue.create_connector(config, clock, client_hook=server.client_hook)
    own = OwnConnectorVenue.create_connector(config, clock, client_hook=server.client_hook)
    generic = ot.RestExchange.create_connector(config, clock, client_hook=server.client_hook)
    try:
        assert isinstance(with_adapter, CCXTConnector) and isinstance(with_adapter.adapter, _MarkingAdapter)
        assert isinstance(own, CCXTConnector) and type(own.adapter) is CCXTAdapter
        assert isinstance(generic, CCXTConnector) and type(generic.adapter) is CCXTAdapter
        exchange = AdapterVenue(with_adapter, clock)
        assert (await exchange.fetch_ticker(BTC)).bid == Decimal("1")
    finally:
        await asyncio.gather(with_adapter.close(), own.close(), generic.close())


class _DelistingBinance(BinanceExchange):
    """A venue class whose market hook drops ETH/USDT (say, a market the venue lists but refuses)."""

    exchange_id: ClassVar[str | None] = "binance"

    def fix_markets(self, markets: Any) -> Any:
        return {symbol: info for symbol, info in markets.items() if symbol != "ETH/USDT"}


async def test_the_symbol_check_at_build_sees_the_markets_hook(server: FakeExchangeServer) -> None:
    builder = (
        ot.ExchangeBuilder("binance")
        .with_exchange_class(_DelistingBinance)
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols(["ETH/USDT"])
        .with_time_frames(["5m"])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .rest_only(True)
        .use_real_trader()
    )
    with pytest.raises(ot.errors.UnknownSymbol):
        await builder.build()
