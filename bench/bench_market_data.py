"""Market-data micro-benchmarks, each reported as a ratio against a baseline measured in the same run.

1. synchronized channel: ``await channel.publish(payload)`` to one consumer vs a plain loop that
   awaits the same consumer directly (the floor of any dispatch);
2. candle path: ``CandlesManager.add_candle`` + synchronized publish per candle vs a bare numpy
   write of the same six values; also ``ExchangeMarketData.on_closed_candle`` (buffer, candle
   price, price events, readiness, publish);
3. order-book deltas: ``OrderBookManager.apply_deltas`` (one level per delta, sequence checked)
   vs a plain ``dict`` update of the same levels; goal >= 200,000 deltas/s;
4. memory: 1,000 symbol x time-frame candle buffers of 3,000 candles (tracemalloc) vs the raw
   array size (3,000 x 6 x 8 bytes each); goal <= 1.2x.

Data: real Binance BTC/USDT 1h candles (tests/exchange_data/fixtures, see its PROVENANCE.md),
replayed in a loop. Run: ``python bench/bench_market_data.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import numpy as np

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import TimeFrame
from octobot_trading.exchange_data import CandlesManager, ExchangeChannels, ExchangeMarketData, OrderBookManager
from octobot_trading.exchange_data.payloads import CandleUpdate

ROOT = Path(__file__).resolve().parents[1]
CANDLES = ROOT / "tests" / "exchange_data" / "fixtures" / "BTC_USDT-1h-first600.json"


def _rows(n: int) -> list[tuple[int, float, float, float, float, float]]:
    base = json.loads(CANDLES.read_text())
    step = TimeFrame.H1.ms
    start = base[0][0]
    return [(start + i * step, *base[i % len(base)][1:]) for i in range(n)]  # type: ignore[misc]


async def bench_channel(n: int) -> dict[str, float]:
    channels = ExchangeChannels(synchronized=True)
    count = 0

    async def consumer(payload: CandleUpdate) -> None:
        nonlocal count
        count += 1

    channels.ohlcv.subscribe(consumer, symbol="BTC/USDT", time_frame="1h")
    payload = CandleUpdate("BTC/USDT", TimeFrame.H1, 0, 1.0, 2.0, 0.5, 1.5, 3.0)
    t0 = time.perf_counter()
    for _ in range(n):
        await consumer(payload)
    baseline = time.perf_counter() - t0
    publish = channels.ohlcv.publish
    t0 = time.perf_counter()
    for _ in range(n):
        await publish(payload)
    took = time.perf_counter() - t0
    assert count == 2 * n
    return {"messages_per_s": n / took, "baseline_per_s": n / baseline, "ratio_vs_direct_call": took / baseline}


async def bench_candles(n: int) -> dict[str, float]:
    rows = _rows(n)
    # baseline: bare numpy writes of the same six values into preallocated arrays
    cap = 3000
    t_arr = np.zeros(cap, dtype=np.int64)
    data = np.zeros((5, cap), dtype=np.float64)
    o_arr, h_arr, l_arr, c_arr, v_arr = data
    t0 = time.perf_counter()
    for i, (ts, o, h, lo, c, v) in enumerate(rows):
        j = i % cap
        t_arr[j] = ts
        o_arr[j] = o
        h_arr[j] = h
        l_arr[j] = lo
        c_arr[j] = c
        v_arr[j] = v
    baseline = time.perf_counter() - t0

    channels = ExchangeChannels(synchronized=True)
    seen = 0

    async def consumer(payload: CandleUpdate) -> None:
        nonlocal seen
        seen += 1

    channels.ohlcv.subscribe(consumer, symbol="BTC/USDT", time_frame="1h")
    buffer = CandlesManager("BTC/USDT", "1h")
    add, publish, tf = buffer.add_candle, channels.ohlcv.publish, TimeFrame.H1
    t0 = time.perf_counter()
    for ts, o, h, lo, c, v in rows:
        add(ts, o, h, lo, c, v)
        await publish(CandleUpdate("BTC/USDT", tf, ts, o, h, lo, c, v))
    write_publish = time.perf_counter() - t0

    clock = SimulatedClock(rows[0][0])
    md = ExchangeMarketData(clock, synchronized=True)
    md.channels.ohlcv.subscribe(consumer, symbol="BTC/USDT", time_frame="1h")
    on_closed = md.on_closed_candle
    t0 = time.perf_counter()
    for ts, o, h, lo, c, v in rows:
        await on_closed("BTC/USDT", tf, ts, o, h, lo, c, v)
    hub = time.perf_counter() - t0
    assert seen == 2 * n
    return {
        "numpy_write_us": baseline / n * 1e6,
        "write_publish_us": write_publish / n * 1e6,
        "write_publish_ratio_vs_numpy": write_publish / baseline,
        "hub_on_closed_candle_us": hub / n * 1e6,
    }


def bench_order_book(n: int) -> dict[str, float]:
    rng = random.Random(7)
    mid = 20000
    book = OrderBookManager("BTC/USDT")
    bids = [(Decimal(mid - i), Decimal("1.5")) for i in range(1, 501)]
    asks = [(Decimal(mid + i), Decimal("1.5")) for i in range(1, 501)]
    book.apply_snapshot(bids, asks, seq=0)
    amounts = [Decimal(0), Decimal("0.25"), Decimal("1"), Decimal("2.125")]
    deltas = []
    for _ in range(n):
        is_bid = rng.random() < 0.5
        price = Decimal(mid - rng.randint(1, 500)) if is_bid else Decimal(mid + rng.randint(1, 500))
        deltas.append((is_bid, [(price, rng.choice(amounts))]))
    plain_bids = {p: a for p, a in bids}
    plain_asks = {p: a for p, a in asks}
    t0 = time.perf_counter()
    for is_bid, levels in deltas:
        side = plain_bids if is_bid else plain_asks
        for price, amount in levels:
            if amount:
                side[price] = amount
            else:
                side.pop(price, None)
    baseline = time.perf_counter() - t0
    empty: list[tuple[Decimal, Decimal]] = []
    apply = book.apply_deltas
    t0 = time.perf_counter()
    for seq, (is_bid, levels) in enumerate(deltas, 1):
        if is_bid:
            apply(levels, empty, first_seq=seq, last_seq=seq)
        else:
            apply(empty, levels, first_seq=seq, last_seq=seq)
    took = time.perf_counter() - t0
    assert book.valid
    return {"deltas_per_s": n / took, "dict_baseline_per_s": n / baseline, "ratio_vs_dict": took / baseline}


def bench_memory(buffers: int, capacity: int) -> dict[str, float]:
    tracemalloc.start()
    start, _ = tracemalloc.get_traced_memory()
    kept = [CandlesManager(f"S{i}/USDT", "1h", capacity) for i in range(buffers)]
    used, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    raw = buffers * capacity * 6 * 8
    assert len(kept) == buffers
    return {
        "buffers": buffers,
        "raw_mb": raw / 1e6,
        "traced_mb": (used - start) / 1e6,
        "ratio_vs_raw": (used - start) / raw,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    args = parser.parse_args()
    n = 50_000 if args.quick else 500_000
    results = {
        "synchronized channel": await bench_channel(n),
        "candle write + publish": await bench_candles(n),
        "order-book deltas": bench_order_book(n // 2),
        "memory of candle buffers": bench_memory(100 if args.quick else 1000, 3000),
    }
    for name, values in results.items():
        print(f"{name}:")
        for key, value in values.items():
            print(f"  {key:32s} {value:,.3f}")


if __name__ == "__main__":
    asyncio.run(main())
