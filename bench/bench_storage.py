"""Measure the storage component: the journal on the order path, bulk writes, the idle diff, restoring a file.

A paper-trading manager (``ExchangeBuilder.use_simulated_trader().with_storage(path)``) on the
project's fake Binance server (loopback) places N resting limit orders and N market orders
(filled). Measured in one run:

* placing them with storage (every intent and every fill committed and fsynced on the order
  path) against the same placements on a manager without storage (the same-run baseline);
* a bulk write of all the rows (2N orders + N trades) into a new file: rows/s, one transaction;
* an idle flush (nothing changed) over the 2N orders: µs per order — the writer's steady cost,
  against ``Order.to_dict()`` over the same orders;
* restore on restart (read, validate, rebuild, re-place on the simulated venue), ms.

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


def _builder(server: FakeExchangeServer, path: Path | None, count: int) -> ot.ExchangeBuilder:
    builder = (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols(["BTC/USDT"])
        .with_ccxt_options({"rateLimit": 1, "timeout": 5000})
        .with_client_hook(server.client_hook)
        .rest_only(True)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10, "max_open_orders_per_symbol": count + 10})
        .use_simulated_trader(starting_portfolio={"USDT": "100000000"})
    )
    return builder if path is None else builder.with_storage(path)


async def _place(manager: ot.ExchangeManager, count: int, last: Decimal) -> float:
    """Seconds to place ``count`` resting limit orders and ``count`` market orders."""
    trader = manager.trader
    start = time.perf_counter()
    for i in range(count):
        await trader.create_order("limit", "buy", "BTC/USDT", "0.001", last * Decimal("0.9") - i)
        await trader.create_order("market", "buy", "BTC/USDT", "0.001")
    return time.perf_counter() - start


async def main(count: int) -> None:
    from octobot_trading.storage import SqliteStore, StorageComponent, codec

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite"
        async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as server:
            last = server.state.markets["BTCUSDT"].last_price
            async with await _builder(server, None, count).build() as plain:
                without = await _place(plain, count, last)
            manager = await _builder(server, path, count).build()
            async with manager:
                storage = manager.get_component("storage", StorageComponent)
                journaled = await _place(manager, count, last)
                personal = manager.exchange_personal_data
                orders = personal.orders_manager.all_orders()
                rows = [codec.order_row(o) for o in orders]
                trades = [codec.trade_row(t) for t in personal.trades_manager.trades()]
                bulk_store = SqliteStore(Path(folder) / "bulk.sqlite")
                await bulk_store.open()
                start = time.perf_counter()
                await bulk_store.save(orders=rows, trades=trades)
                bulk = time.perf_counter() - start
                await bulk_store.close()
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
    placed = 2 * count
    print(f"orders: {len(orders)} ({count} resting, {count} filled), trades: {count}, file {size / 1e6:.1f} MB")
    print(
        f"placing with the journal: {journaled * 1e3 / placed:.2f} ms per order, without storage "
        f"{without * 1e3 / placed:.2f} ms (ratio {journaled / without:.2f}, "
        f"+{(journaled - without) * 1e3 / placed:.2f} ms per order)"
    )
    bulk_rows = len(rows) + len(trades)
    print(f"bulk write: {bulk_rows} rows in {bulk * 1e3:.0f} ms ({bulk_rows / bulk:,.0f} rows/s)")
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
