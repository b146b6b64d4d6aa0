"""Test helpers shipped with the library: the fake exchange servers and the connector conformance suite."""

from octobot_trading.testing.fake_exchange import (
    FakeExchangeServer,
    FakeMarket,
    Fault,
    FaultKind,
    default_markets,
)
from octobot_trading.testing.fake_exchange.futures import FakeFuturesServer, FuturesMarket, default_futures_markets

__all__ = [
    "FakeExchangeServer",
    "FakeFuturesServer",
    "FakeMarket",
    "Fault",
    "FaultKind",
    "FuturesMarket",
    "default_futures_markets",
    "default_markets",
]
