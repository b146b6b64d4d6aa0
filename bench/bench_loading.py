"""Loading candles: ``CandleData.from_file`` against Python's csv / json modules and pandas.

    python bench/bench_loading.py [--rows 500000] [--repeat 3]

Writes a synthetic file of ``--rows`` 1-minute candles (seeded random walk, prices with two
decimals, volumes with six) as CSV and as freqtrade JSON into a temporary folder, then times,
best of ``--repeat``, in this one run:

* ``CandleData.from_file`` (columnar numpy reader, validation included);
* Python's ``csv`` module: ``csv.reader`` and ``float()`` of every field into lists (the baseline
  of the CSV goal: from_file <= 0.25x its time);
* Python's ``json`` module: ``json.load`` alone (no conversion at all);
* pandas ``read_csv`` / ``read_json`` then ``to_numpy()`` (when pandas is installed; it is only
  a bench tool, see bench/README.md);
* pyarrow's and polars' CSV readers when installed (the measurement behind the choice of the
  parsing engine, see docs/backtesting.md).

Ratios are against the csv / json module of the same run.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from octobot_trading.backtesting import CandleData

START_MS = 1_600_000_020_000 // 60_000 * 60_000


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(42)
    closes = np.round(20_000 + np.cumsum(rng.normal(0, 5, rows)), 2)
    opens = np.round(np.concatenate([[closes[0]], closes[:-1]]), 2)
    highs = np.round(np.maximum(opens, closes) + rng.random(rows) * 3, 2)
    lows = np.round(np.minimum(opens, closes) - rng.random(rows) * 3, 2)
    volumes = np.round(rng.random(rows) * 100, 6)
    times = START_MS + np.arange(rows, dtype=np.int64) * 60_000
    table = list(
        zip(
            times.tolist(),
            opens.tolist(),
            highs.tolist(),
            lows.tolist(),
            closes.tolist(),
            volumes.tolist(),
            strict=True,
        )
    )
    csv_path, json_path = folder / "BENCH_USDT-1m.csv", folder / "BENCH_USDT-1m.json"
    with csv_path.open("w") as handle:
        handle.write("timestamp,open,high,low,close,volume\n")
        handle.writelines(",".join(map(repr, row)) + "\n" for row in table)
    with json_path.open("w") as handle:
        json.dump([list(row) for row in table], handle)
    return csv_path, json_path


def best(function: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
        del result
    return min(times)


def csv_module(path: Path) -> list[list[float]]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return [[float(value) for value in row] for row in reader]


def json_module(path: Path) -> Any:
    with path.open() as handle:
        return json.load(handle)


def optional_readers(csv_path: Path, json_path: Path) -> dict[str, Callable[[], Any]]:
    readers: dict[str, Callable[[], Any]] = {}
    try:
        import pandas as pd

        readers["pandas read_csv"] = lambda: pd.read_csv(csv_path).to_numpy()
        readers["pandas read_json"] = lambda: pd.read_json(json_path).to_numpy()
    except ImportError:
        print("(pandas not installed: pip install pandas to compare with it)")
    try:
        import pyarrow.csv as pa_csv

        readers["pyarrow read_csv"] = lambda: pa_csv.read_csv(csv_path)
        readers["pyarrow read_csv, 1 thread"] = lambda: pa_csv.read_csv(
            csv_path, read_options=pa_csv.ReadOptions(use_threads=False)
        )
    except ImportError:
        pass
    try:
        import polars as pl

        readers["polars read_csv"] = lambda: pl.read_csv(csv_path)
    except ImportError:
        pass
    return readers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv_path, json_path = write_files(Path(folder), args.rows)
        loaded = CandleData.from_file(csv_path).get("BENCH/USDT", "1m")
        reference = np.array(csv_module(csv_path))
        assert np.array_equal(loaded.closes, reference[:, 4]) and np.array_equal(loaded.times, reference[:, 0])
        sizes = f"CSV {csv_path.stat().st_size / 1e6:.1f} MB, JSON {json_path.stat().st_size / 1e6:.1f} MB"
        print(f"{args.rows:,} rows; {sizes}; best of {args.repeat}; report: {loaded.report}")
        csv_base = best(lambda: csv_module(csv_path), args.repeat)
        json_base = best(lambda: json_module(json_path), args.repeat)
        rows = [
            ("csv module (reader + float)", csv_base, "csv"),
            ("CandleData.from_file CSV", best(lambda: CandleData.from_file(csv_path), args.repeat), "csv"),
            ("json module (json.load)", json_base, "json"),
            ("CandleData.from_file JSON", best(lambda: CandleData.from_file(json_path), args.repeat), "json"),
        ]
        for name, reader in optional_readers(csv_path, json_path).items():
            rows.append((name, best(reader, args.repeat), "json" if "json" in name else "csv"))
        print(f"{'reader':34} {'seconds':>8} {'rows/s':>12} {'vs csv module':>14} {'vs json module':>15}")
        for name, seconds, _ in rows:
            print(
                f"{name:34} {seconds:8.3f} {args.rows / seconds:12,.0f} {seconds / csv_base:13.3f}x"
                f" {seconds / json_base:14.3f}x"
            )
        ratio = rows[1][1] / csv_base
        print(
            f"goal: CandleData.from_file CSV <= 0.25x the csv module: {ratio:.3f}x "
            + ("met" if ratio <= 0.25 else "NOT met")
        )


if __name__ == "__main__":
    main()
