"""A fake Binance USDⓈ-M futures venue (aiohttp on 127.0.0.1) for tests, spoken to by ccxt's ``binanceusdm``."""

from octobot_trading.testing.fake_exchange.futures.markets import Bracket, FuturesMarket, default_futures_markets
from octobot_trading.testing.fake_exchange.futures.records import (
    AlgoOrder,
    ForceOrder,
    FuturesFill,
    FuturesOrder,
    Income,
)
from octobot_trading.testing.fake_exchange.futures.server import FakeFuturesServer
from octobot_trading.testing.fake_exchange.futures.state import FuturesVenueAccount, FuturesVenueState
from octobot_trading.testing.fake_exchange.futures.user_data import FakeFuturesUserData

__all__ = [
    "AlgoOrder",
    "Bracket",
    "FakeFuturesServer",
    "FakeFuturesUserData",
    "ForceOrder",
    "FuturesFill",
    "FuturesMarket",
    "FuturesOrder",
    "FuturesVenueAccount",
    "FuturesVenueState",
    "Income",
    "default_futures_markets",
]
