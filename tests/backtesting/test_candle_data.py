"""Importers and the SQLite data file, on real data slices (see fixtures/PROVENANCE.md)."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, data_file
from octobot_trading.errors import ConfigurationError, DataFileError

FIXTURES = Path(__file__).parent / "fixtures"
HEAD = FIXTURES / "BTC_USDT-5m-head600.json"


def _rows() -> list[list[float]]:
    return json.loads(HEAD.read_text())


def _write(tmp_path: Path, rows: object, name: str = "BTC_USDT-5m.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rows))
    return path


def test_json_reads_real_file_with_exact_decimals() -> None:
    data = CandleData.from_file(HEAD, exchange="binance", symbol="BTC/USDT", time_frame="5m")
    series = data.get("BTC/USDT", "5m")
    assert len(series) == 600
    assert series.times[0] == 1606780800000
    assert series.candle(0).open == Decimal("19695.87")
    assert series.candle(0).volume == Decimal("794.500517")
    assert series.close_decimal(1) == Decimal("19537.95")
    assert series.gaps == []
    assert series.times.dtype == np.int64 and series.closes.dtype == np.float64
    assert not series.closes.flags.writeable


def test_json_gz_equals_json_and_name_gives_symbol() -> None:
    plain = CandleData.from_file(HEAD).get("BTC/USDT", "5m")
    packed = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json.gz").get("BTC/USDT", "5m")
    assert np.array_equal(plain.closes, packed.closes) and np.array_equal(plain.times, packed.times)


def test_csv_with_iso_dates() -> None:
    data = CandleData.from_file(FIXTURES / "BTC-PERP-1m-head200.csv", symbol="BTC/USD:USD", time_frame="1m")
    series = data.get("BTC/USD:USD", "1m")
    assert len(series) == 200
    assert series.times[0] == 1640991660000  # 2021-12-31 23:01 UTC
    assert series.candle(0).close == Decimal("46377.0")


def test_csv_with_ms_timestamps(tmp_path: Path) -> None:
    rows = _rows()[:5]
    text = "timestamp,open,high,low,close,volume\n" + "".join(",".join(map(repr, r)) + "\n" for r in rows)
    path = tmp_path / "x.csv"
    path.write_text(text.replace(".0,", ",", 0))
    series = CandleData.from_file(path, symbol="BTC/USDT", time_frame="5m").get("BTC/USDT", "5m")
    assert series.times.tolist() == [int(r[0]) for r in rows]
    assert series.candle(4).high == Decimal(repr(rows[4][2]))


def test_gaps_are_reported_not_invented() -> None:
    series = CandleData.from_file(FIXTURES / "BTC_USDT-5m-gap.json").get("BTC/USDT", "5m")
    assert len(series) == 40
    assert series.gaps == [ot.backtesting.Gap(1608559500000, 1608573600000, 46)]
    with pytest.raises(DataFileError, match="row 21") as info:
        CandleData.from_file(FIXTURES / "BTC_USDT-5m-gap.json", allow_gaps=False)
    assert info.value.row == 21 and "gap of 46" in str(info.value)


@pytest.mark.parametrize(
    ("mutate", "row", "message"),
    [
        (lambda rows: rows.__setitem__(slice(10, 12), [rows[11], rows[10]]), 11, "not sorted"),
        (lambda rows: rows.__setitem__(7, list(rows[6])), 7, "duplicate timestamp"),
        (lambda rows: rows[5].__setitem__(4, "abc"), 5, "not a number"),
        (lambda rows: rows[3].pop(), 3, "6 columns"),
        (lambda rows: rows[9].__setitem__(2, 1.0), 9, "inconsistent candle"),
        (lambda rows: rows[4].__setitem__(0, rows[4][0] + 1), 4, "aligned"),
        (lambda rows: rows[8].__setitem__(3, -1.0), 8, "positive"),
    ],
)
def test_bad_json_names_file_and_row(tmp_path: Path, mutate, row: int, message: str) -> None:
    rows = _rows()[:20]
    mutate(rows)
    path = _write(tmp_path, rows)
    with pytest.raises(DataFileError, match=message) as info:
        CandleData.from_file(path)
    assert info.value.row == row
    assert str(path) in str(info.value)


def test_bad_csv_header_and_values(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("moment,open,high,low,close,volume\n1,2,3,1,2,3\n")
    with pytest.raises(DataFileError, match="header"):
        CandleData.from_file(path, symbol="BTC/USDT", time_frame="1m")
    path.write_text("timestamp,open,high,low,close,volume\n1606780800000,2,3,1,2,3\n1606780860000,2,x,1,2,3\n")
    with pytest.raises(DataFileError, match="row 1"):
        CandleData.from_file(path, symbol="BTC/USDT", time_frame="1m")
    path.write_text("timestamp,open,high,low,close,volume\nyesterday,2,3,1,2,3\n")
    with pytest.raises(DataFileError, match="row 0"):
        CandleData.from_file(path, symbol="BTC/USDT", time_frame="1m")


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="no such file"):
        CandleData.from_file(tmp_path / "nope.json", symbol="BTC/USDT", time_frame="1m")
    broken = tmp_path / "BTC_USDT-1m.json.gz"
    broken.write_bytes(gzip.compress(b"[[1,2")[:-3])
    with pytest.raises(DataFileError, match="cannot read JSON"):
        CandleData.from_file(broken)
    plain = tmp_path / "candles.json"
    plain.write_text("[]")
    with pytest.raises(ConfigurationError, match="symbol"):
        CandleData.from_file(plain)
    with pytest.raises(DataFileError, match="no candles"):
        CandleData.from_file(plain, symbol="BTC/USDT", time_frame="1m")


def test_sqlite_round_trip_several_symbols_and_markets(tmp_path: Path) -> None:
    btc = CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json", exchange="binance")
    eth = CandleData.from_file(FIXTURES / "ETH_USDT-1h-head50.json", exchange="binance")
    btc5 = CandleData.from_file(HEAD, exchange="binance")
    merged = btc.merge(eth).merge(btc5)
    merged.markets["BTC/USDT"] = ot.MarketSpec(price_tick="0.01", amount_step="0.00001", min_cost="5")
    path = tmp_path / "data.sqlite"
    data_file.write(path, merged)
    loaded = CandleData.from_file(path)
    assert loaded.exchange == "binance"
    assert sorted((s.symbol, s.time_frame.value) for s in loaded) == [
        ("BTC/USDT", "1h"),
        ("BTC/USDT", "5m"),
        ("ETH/USDT", "1h"),
    ]
    assert loaded.markets["BTC/USDT"].min_cost == Decimal("5")
    for series in merged:
        again = loaded.get(series.symbol, series.time_frame)
        assert np.array_equal(again.closes, series.closes) and np.array_equal(again.times, series.times)
        assert again.candle(3) == series.candle(3)
    only = CandleData.from_file(path, symbol="ETH/USDT")
    assert only.symbols == ["ETH/USDT"]
    with pytest.raises(DataFileError, match="not kraken"):
        CandleData.from_file(path, exchange="kraken")


def test_sqlite_rejects_foreign_database(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(DataFileError, match="not a valid data file"):
        CandleData.from_file(path)


def test_slice_is_a_view_with_gaps_kept() -> None:
    series = CandleData.from_file(FIXTURES / "BTC_USDT-5m-gap.json").get("BTC/USDT", "5m")
    head = series.slice(end_ms=1608559500000)
    assert len(head) == 20 and head.gaps == []
    assert series.slice(start_ms=int(series.times[5])).gaps == series.gaps


def _data_file_of_version(path: Path, version: str) -> Path:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('format_version', ?)", (version,))
    conn.close()
    return path


def test_writing_into_a_data_file_of_another_version_is_refused_and_leaves_it_unchanged(tmp_path: Path) -> None:
    import sqlite3

    data = CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json", exchange="binance")
    path = _data_file_of_version(tmp_path / "newer.sqlite", "99")
    with pytest.raises(DataFileError, match="'99'") as info:
        data_file.write(path, data)
    assert info.value.path == str(path)
    with pytest.raises(DataFileError, match="'99'") as info:
        data_file.write_funding(path, "binance", "BTC/USDT:USDT", [(1700006400000, "0.0001")])
    assert info.value.path == str(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT key, value FROM meta").fetchall() == [("format_version", "99")]
        assert [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["meta"]
    conn.close()


def test_writing_into_a_file_that_is_not_sqlite_is_a_data_file_error_naming_it(tmp_path: Path) -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json", exchange="binance")
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"not sqlite" * 100)
    with pytest.raises(DataFileError) as info:
        data_file.write(path, data)
    assert info.value.path == str(path)
    with pytest.raises(DataFileError) as info:
        data_file.write_funding(path, "binance", "BTC/USDT:USDT", [(1700006400000, "0.0001")])
    assert info.value.path == str(path)
    assert path.read_bytes() == b"not sqlite" * 100


def test_writing_twice_into_the_same_data_file_keeps_its_version(tmp_path: Path) -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json", exchange="binance")
    path = tmp_path / "data.sqlite"
    data_file.write(path, data)
    data_file.write_funding(path, "binance", "BTC/USDT:USDT", [(1700006400000, "0.0001")])
    data_file.write(path, data)
    assert CandleData.from_file(path).symbols == ["BTC/USDT"]
