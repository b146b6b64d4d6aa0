"""A fake Binance spot exchange server (aiohttp on 127.0.0.1) for tests and plugin authors."""

from octobot_trading.testing.fake_exchange.faults import Fault, FaultInjector, FaultKind
from octobot_trading.testing.fake_exchange.server import DEFAULT_DATA_DIR, FakeExchangeServer, default_markets
from octobot_trading.testing.fake_exchange.state import FakeExchangeError, FakeExchangeState, FakeMarket, load_candles
from octobot_trading.testing.fake_exchange.user_data import FakeBinanceUserData
from octobot_trading.testing.fake_exchange.ws import FakeBinanceStreams

__all__ = [
    "DEFAULT_DATA_DIR",
    "FakeBinanceStreams",
    "FakeBinanceUserData",
    "FakeExchangeError",
    "FakeExchangeServer",
    "FakeExchangeState",
    "FakeMarket",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "default_markets",
    "load_candles",
]
