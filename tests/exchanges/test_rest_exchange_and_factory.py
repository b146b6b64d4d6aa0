"""RestExchange (capabilities, fix hooks, pagination), the class registry and ExchangeFactory errors."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import ClassVar

import pytest

import octobot_trading as ot
from octobot_trading import errors
from octobot_trading.clock import LiveClock
from octobot_trading.exchanges import exchange_classes
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.types import Ticker
from octobot_trading.testing.fake_exchange import FakeExchangeServer

from .conftest import FAST

BTC = "BTC/USDT"


class TinyPages(ot.RestExchange):
    """A venue returning at most 7 candles per request, with a ticker quirk to repair."""

    exchange_id: ClassVar[str | None] = "tinypages"
    max_candles_per_request: ClassVar[int] = 7

    def fix_ticker(self, ticker: Ticker) -> Ticker:
        return replace(ticker, bid=None)


async def test_capabilities_are_checked_before_any_request(
    connector: CCXTConnector, server: FakeExchangeServer
) -> None:
    exchange = ot.RestExchange(connector, LiveClock())
    await exchange.load_markets()
    before = len(server.faults.requests)
    with pytest.raises(errors.NotSupported):
        await exchange.create_order(ot.OrderType.STOP_LOSS, ot.OrderSide.SELL, BTC, "0.01", trigger_price="15000")
    with pytest.raises(TypeError):
        await exchange.create_order(ot.OrderType.LIMIT, ot.OrderSide.BUY, BTC, 0.01, "17000")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await exchange.execute_trade(BTC, ot.OrderSide.BUY, "0.01", 17000.5)  # type: ignore[arg-type]
    assert len(server.faults.requests) == before


async def test_fetch_ohlcv_paginates_past_the_venue_page_size(
    connector: CCXTConnector, server: FakeExchangeServer
) -> None:
    exchange = TinyPages(connector, LiveClock())
    market = server.state.markets["BTCUSDT"]
    since = market.candles[3][0]
    candles = await exchange.fetch_ohlcv(BTC, "5m", since=since, limit=20)
    assert [c.timestamp for c in candles] == [row[0] for row in market.candles[3:23]]
    assert server.faults.count("GET", "/api/v3/klines") == 3  # 7 + 7 + 6
    latest = await exchange.fetch_ohlcv(BTC, "5m", limit=16)
    assert [c.timestamp for c in latest] == [row[0] for row in market.candles[85:101]]
    assert server.faults.count("GET", "/api/v3/klines") == 6  # 7, then 7 and 2 further back
    assert (await exchange.fetch_ticker(BTC)).bid is None  # fix hook applied


async def test_exchange_class_registry_and_plugins() -> None:
    assert ot.exchanges.get_exchange_class("binance").__name__ == "BinanceExchange"
    assert ot.exchanges.get_exchange_class("kraken") is ot.RestExchange
    ot.exchanges.register_exchange_class(TinyPages)
    try:
        assert ot.exchanges.get_exchange_class("TinyPages") is TinyPages
        assert "tinypages" in exchange_classes.registered_exchange_classes()
    finally:
        exchange_classes.unregister_exchange_class("tinypages")
    assert ot.exchanges.get_exchange_class("tinypages") is ot.RestExchange
    with pytest.raises(errors.ConfigurationError):
        ot.exchanges.register_exchange_class(ot.RestExchange)  # no exchange_id
    with pytest.raises(errors.ConfigurationError):
        ot.exchanges.register_exchange_class(dict)  # type: ignore[arg-type]
    assert exchange_classes.ENTRY_POINT_GROUP == "octobot_trading.exchanges"


async def test_binance_class_keeps_to_the_traded_market_type() -> None:
    from octobot_trading.exchanges.venues import BinanceExchange

    assert BinanceExchange.default_ccxt_options(ot.MarketType.SPOT)["options"]["fetchMarkets"] == {"types": ["spot"]}
    assert BinanceExchange.default_ccxt_options(ot.MarketType.LINEAR)["options"]["fetchMarkets"] == {
        "types": ["linear"]
    }
    assert "fetchMarkets" not in BinanceExchange.ccxt_options["options"]  # defaults are copied, not mutated


async def test_portfolio_value_refuses_unconvertible_assets() -> None:
    async with FakeExchangeServer(balances={"USDT": Decimal("5"), "XYZ": Decimal("3")}) as srv:
        async with ot.ExchangeFactory.create_exchange(
            "binance", api_key=srv.api_key, api_secret=srv.api_secret, ccxt_options=FAST, client_hook=srv.client_hook
        ) as exchange:
            with pytest.raises(errors.NotSupported, match="XYZ"):
                await exchange.get_portfolio_value("USDT")
            srv.account().free["XYZ"] = Decimal(0)  # once the asset is gone, the value is exact
            assert await exchange.get_portfolio_value("USDT") == Decimal("5")


async def test_factory_errors_are_typed(registry_before: set[str], server: FakeExchangeServer) -> None:
    with pytest.raises(errors.ConfigurationError):
        async with ot.ExchangeFactory.create_exchange("nosuchexchange"):
            pass
    with pytest.raises(errors.AuthenticationError):  # at the account's first read, whichever reads it
        async with ot.ExchangeFactory.create_exchange(
            "binance", api_key="wrong", api_secret="bad", ccxt_options=FAST, client_hook=server.client_hook
        ) as exchange:
            await exchange.get_balances()
    async with ot.ExchangeFactory.create_exchange(
        "binance",
        api_key=server.api_key,
        api_secret=server.api_secret,
        ccxt_options=FAST,
        client_hook=server.client_hook,
    ) as exchange:
        with pytest.raises(errors.UnknownSymbol):
            await exchange.get_ticker_price("NOPE/USDT")
    assert set(ot.exchanges_registry.ids()) == registry_before


async def test_portfolio_value_converts_through_one_intermediate_market() -> None:
    async with FakeExchangeServer(balances={"USDT": Decimal("100"), "ETH": Decimal("2"), "BTC": Decimal("0")}) as srv:
        async with ot.ExchangeFactory.create_exchange(
            "binance", api_key=srv.api_key, api_secret=srv.api_secret, ccxt_options=FAST, client_hook=srv.client_hook
        ) as exchange:
            btc_usdt = srv.state.markets["BTCUSDT"].last_price
            eth_usdt = srv.state.markets["ETHUSDT"].last_price
            # no ETH/BTC market on the fake venue: ETH -> USDT -> BTC, USDT -> BTC through BTC/USDT
            value = await exchange.get_portfolio_value("BTC")
            assert value == Decimal("100") * (1 / btc_usdt) + Decimal("2") * (eth_usdt * (1 / btc_usdt))
