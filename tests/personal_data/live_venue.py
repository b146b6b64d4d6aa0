"""The real trader on the real ccxt client against the project's fake Binance server (loopback).

Shared by the live-trading tests (each imports ``live as live``): the ``live`` fixture yields
``(server, connector, personal, trader)`` with the trader initialised and its balances read;
:func:`assert_matches_exchange` checks the local portfolio against the venue's balances exactly.
The ``venue`` fixture (imported ``venue as venue``) is a fresh fake venue with its streams, for a
test building the whole engine on it (``tests.faults.conftest.live_builder``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from octobot_trading.clock import LiveClock
from octobot_trading.personal_data import ExchangePersonalData, Trader
from octobot_trading.testing.fake_exchange import (
    FakeBinanceStreams,
    FakeBinanceUserData,
    FakeExchangeServer,
    default_markets,
)
from tests.exchanges.conftest import FIXTURES, make_connector
from tests.faults.conftest import Venue


@pytest.fixture
async def live() -> AsyncIterator[tuple[FakeExchangeServer, Any, ExchangePersonalData, Trader]]:
    """A real trader (mark prices of BTC/USDT and ETH/USDT read once) on a fresh fake venue."""
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as server:
        connector = make_connector(server)
        clock = LiveClock()
        personal = ExchangePersonalData(clock)
        prices: dict[str, Decimal] = {}
        trader = Trader(connector, personal, clock=clock, simulated=False, price_of=prices.get)
        try:
            await trader.initialize()
            await trader.refresh_balances()
            for symbol in ("BTC/USDT", "ETH/USDT"):
                last = (await connector.fetch_ticker(symbol)).last
                assert last is not None
                prices[symbol] = last
            yield server, connector, personal, trader
        finally:
            await trader.stop()
            await connector.close()


@pytest.fixture
async def venue() -> AsyncIterator[Venue]:
    """A fresh fake venue (5m fixture candles, from candle 100, its default account) with its public
    and user-data streams."""
    server = FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100)
    streams, user_data = FakeBinanceStreams(server), FakeBinanceUserData(server)
    async with server:
        yield Venue(server, streams, user_data)


async def assert_matches_exchange(connector: Any, personal: ExchangePersonalData) -> None:
    """Every venue balance equals the local asset exactly (total and available)."""
    balances = await connector.fetch_balance()
    portfolio = personal.portfolio_manager.portfolio
    for currency, balance in balances.items():
        asset = portfolio.get_currency_portfolio(currency)
        assert (asset.total, asset.available) == (balance.total, balance.free), currency
