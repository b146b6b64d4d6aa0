"""Overhead of CCXTConnector over the raw ccxt client, same run, against the fake Binance server.

Measures, for N sequential calls of each kind: the raw ``ccxt.async_support.binance`` client
(``number = float``, ccxt's default), and ``CCXTConnector`` (number = str, the typed Decimal
adapter, the error boundary, the semaphore and the retry wrapper). Reports calls per second and
the connector / raw time ratio. Both use ``rateLimit = 1`` so ccxt's limiter does not dominate.

Run: ``python bench/bench_exchange_connector.py [N]``
"""

from __future__ import annotations

import asyncio
import sys
import time
from decimal import Decimal

import ccxt.async_support as ccxt_async

from octobot_trading.clock import LiveClock
from octobot_trading.config import ExchangeConfig
from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.testing import FakeExchangeServer


async def _time(calls: int, make_call: object) -> float:
    start = time.perf_counter()
    for i in range(calls):
        await make_call(i)  # type: ignore[operator]
    return time.perf_counter() - start


async def main(calls: int) -> None:
    async with FakeExchangeServer(balances={"USDT": Decimal("100000000"), "BTC": Decimal("1000")}) as server:
        options = {**server.ccxt_config(), "rateLimit": 1}
        raw = ccxt_async.binance({"apiKey": server.api_key, "secret": server.api_secret, **options})
        server.client_hook(raw)
        config = ExchangeConfig(
            exchange="binance", api_key=server.api_key, api_secret=server.api_secret, ccxt_options=options
        )
        conn = CCXTConnector(config, LiveClock(), client_hook=server.client_hook)
        try:
            await raw.load_markets()
            await conn.load_markets()
            cases = {
                "fetch_ticker": (lambda i: raw.fetch_ticker("BTC/USDT"), lambda i: conn.fetch_ticker("BTC/USDT")),
                "fetch_ohlcv(500)": (
                    lambda i: raw.fetch_ohlcv("BTC/USDT", "1h", limit=500),
                    lambda i: conn.fetch_ohlcv("BTC/USDT", "1h", limit=500),
                ),
                "fetch_order_book(100)": (
                    lambda i: raw.fetch_order_book("BTC/USDT", 100),
                    lambda i: conn.fetch_order_book("BTC/USDT", 100),
                ),
                "create_order(market)": (
                    lambda i: raw.create_order("BTC/USDT", "market", "buy", 0.001, None, {"clientOrderId": f"raw-{i}"}),
                    lambda i: conn.create_order(
                        OrderType.MARKET, OrderSide.BUY, "BTC/USDT", Decimal("0.001"), client_order_id=f"conn-{i}"
                    ),
                ),
            }
            print(f"{'call':24} {'raw ccxt /s':>12} {'connector /s':>13} {'ratio':>7}")
            for name, (raw_call, conn_call) in cases.items():
                raw_s = await _time(calls, raw_call)
                conn_s = await _time(calls, conn_call)
                print(f"{name:24} {calls / raw_s:12.0f} {calls / conn_s:13.0f} {conn_s / raw_s:7.2f}")
        finally:
            await raw.close()
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
