"""Measure the storage component: writing orders, the idle diff, and restoring a file.

A paper-trading manager (``ExchangeBuilder.use_simulated_trader().with_storage(path)``) on the
project's fake Binance server (loopback) holds N resting limit orders and N fills. Measured in
one run:

* first flush of N new orders (+ N trades from N market orders): rows/s, one SQLite transaction;
* an idle flush (nothing changed) over the 2N orders: µs per order — the writer's steady cost;
* restore on restart (read, validate, rebuild, re-place on the simulated venue), ms;
* baseline in the same run: ``Order.to_dict()`` over the same orders (the cheapest description).

Usage: ``python bench/bench_storage.py [--orders N]`` (default 2000).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import octobot_trading as ot
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "fake_exchange"


def _builder(server: FakeExchangeServer, path: Path, count: int) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols(["BTC/USDT"])
        .with_ccxt_options({"rateLimit": 1, "timeout": 5000})
        .with_client_hook(server.client_hook)
        .rest_only(True)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10, "max_open_orders_per_symbol": count + 10})
        .use_simulated_trader(starting_portfolio={"USDT": "100000000"})
        .with_storage(path)
    )


async def main(count: int) -> None:
    from octobot_trading.storage import StorageComponent

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite"
        async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as server:
            last = server.state.markets["BTCUSDT"].last_price
            manager = await _builder(server, path, count).build()
            async with manager:
                storage = manager.get_component("storage", StorageComponent)
                trader = manager.trader
                for i in range(count):
                    await trader.create_order("limit", "buy", "BTC/USDT", "0.001", last * Decimal("0.9") - i)
                    await trader.create_order("market", "buy", "BTC/USDT", "0.001")
                orders = manager.exchange_personal_data.orders_manager.all_orders()
                start = time.perf_counter()
                rows = await storage.flush()
                first = time.perf_counter() - start
                start = time.perf_counter()
                idle_rows = await storage.flush()
                idle = time.perf_counter() - start
                start = time.perf_counter()
                for order in orders:
                    order.to_dict()
                baseline = time.perf_counter() - start
            size = path.stat().st_size
            start = time.perf_counter()
            manager = await _builder(server, path, count).build()
            restore = time.perf_counter() - start
            async with manager:
                restored = len(manager.exchange_personal_data.orders_manager.all_orders())
    print(f"orders: {len(orders)} ({count} resting, {count} filled), trades: {count}, file {size / 1e6:.1f} MB")
    print(f"first flush: {rows} rows in {first * 1e3:.0f} ms ({rows / first:,.0f} rows/s)")
    print(
        f"idle flush: {idle_rows} rows, {idle * 1e6 / len(orders):.2f} us per order "
        f"(baseline Order.to_dict: {baseline * 1e6 / len(orders):.2f} us per order, "
        f"ratio {idle / baseline:.2f})"
    )
    print(f"restart (build incl. restore of {restored} orders and venue re-placement): {restore * 1e3:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    asyncio.run(main(parser.parse_args().orders))
