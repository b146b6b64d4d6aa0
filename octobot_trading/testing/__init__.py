"""Test helpers shipped with the library: the fake exchange servers and the connector conformance suite."""

from octobot_trading.testing.fake_exchange import (
    FakeExchangeServer,
    FakeMarket,
    Fault,
    FaultKind,
    default_markets,
)
from octobot_trading.testing.fake_exchange.futures import (
    FakeCoinMServer,
    FakeFuturesServer,
    FuturesMarket,
    default_coinm_markets,
    default_futures_markets,
)

__all__ = [
    "FakeCoinMServer",
    "FakeExchangeServer",
    "FakeFuturesServer",
    "FakeMarket",
    "Fault",
    "FaultKind",
    "FuturesMarket",
    "default_coinm_markets",
    "default_futures_markets",
    "default_markets",
]
