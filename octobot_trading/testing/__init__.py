"""Test helpers shipped with the library: the fake exchange server and the connector conformance suite."""

from octobot_trading.testing.fake_exchange import (
    FakeExchangeServer,
    FakeMarket,
    Fault,
    FaultKind,
    default_markets,
)

__all__ = [
    "FakeExchangeServer",
    "FakeMarket",
    "Fault",
    "FaultKind",
    "default_markets",
]
