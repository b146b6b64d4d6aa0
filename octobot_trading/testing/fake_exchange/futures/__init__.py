"""Fake Binance futures venues (aiohttp on 127.0.0.1) for tests: USDⓈ-M, spoken to by ccxt's
``binanceusdm``, and COIN-M (inverse contracts), spoken to by ccxt's ``binancecoinm``."""

from octobot_trading.testing.fake_exchange.futures.coinm import FakeCoinMServer, default_coinm_markets
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
    "FakeCoinMServer",
    "FakeFuturesServer",
    "FakeFuturesUserData",
    "ForceOrder",
    "FuturesFill",
    "FuturesMarket",
    "FuturesOrder",
    "FuturesVenueAccount",
    "FuturesVenueState",
    "Income",
    "default_coinm_markets",
    "default_futures_markets",
]
