"""Funding rates for backtests: ot.backtesting.FundingData read from JSON, CSV and the SQLite data file."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal as D
from pathlib import Path

import pytest

import octobot_trading as ot
from octobot_trading.errors import ConfigurationError, DataFileError
from octobot_trading.testing.shared_data import require_shared_data_file

FIXTURE = Path(__file__).parent / "fixtures" / "XRP_USDT_USDT-8h-funding_rate.json"
EIGHT_HOURS = 8 * 3600 * 1000


def test_freqtrade_funding_file_gives_the_open_column_as_exact_rates_on_the_8h_schedule():
    funding = ot.backtesting.FundingData.from_file(FIXTURE)
    assert funding.symbol == "XRP/USDT:USDT" and funding.interval is ot.TimeFrame.H8 and len(funding) == 91
    rows = json.loads(FIXTURE.read_text())
    assert list(funding.rates) == [D(repr(row[1])) for row in rows]
    assert funding.rates[6] == D("0.00013046")
    # the venue's late timestamps (1637193600017) are moved onto the funding schedule
    assert int(funding.times[0]) == 1637193600000 and rows[0][0] == 1637193600017
    assert all(int(t) % EIGHT_HOURS == 0 for t in funding.times)
    assert funding.adjusted_times == sum(1 for row in rows if row[0] % EIGHT_HOURS)
    assert funding.between(1637193600000, 1637251200000) == [(1637222400000, D("0.0001")), (1637251200000, D("0.0001"))]


def test_the_shared_freqtrade_file_reads_like_the_bundled_copy():
    shared = ot.backtesting.FundingData.from_file(
        require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-8h-funding_rate.json")
    )
    bundled = ot.backtesting.FundingData.from_file(FIXTURE)
    assert list(shared) == list(bundled)


def test_csv_and_sqlite_data_files_give_the_same_rates(tmp_path):
    funding = ot.backtesting.FundingData.from_file(FIXTURE)
    csv_path = tmp_path / "XRP_USDT_USDT-8h-funding_rate.csv"
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{row[0]},{row[1]!r},0,0,0,0" for row in json.loads(FIXTURE.read_text())]
    csv_path.write_text("\n".join(lines) + "\n")
    assert list(ot.backtesting.FundingData.from_file(csv_path)) == list(funding)
    db = tmp_path / "data.sqlite"
    funding.write(db)
    again = ot.backtesting.FundingData.from_file(db, symbol="XRP/USDT:USDT")
    assert list(again) == list(funding) and again.symbol == "XRP/USDT:USDT"
    assert list(ot.backtesting.FundingData.from_file(db)) == list(funding)  # the only symbol in the file


def test_funding_data_for_another_symbol_is_refused(tmp_path):
    with pytest.raises(ConfigurationError) as err:
        ot.backtesting.FundingData.from_file(FIXTURE, symbol="BTC/USDT:USDT")
    assert err.value.field == "symbol"
    funding = ot.backtesting.FundingData.from_file(FIXTURE)
    funding.require_symbol("XRP/USDT:USDT")
    with pytest.raises(ConfigurationError) as err:
        funding.require_symbol("BTC/USDT:USDT")
    assert err.value.field == "funding_rates"
    db = tmp_path / "data.sqlite"
    funding.write(db)
    with pytest.raises(DataFileError, match="BTC/USDT:USDT"):
        ot.backtesting.FundingData.from_file(db, symbol="BTC/USDT:USDT")


def test_funding_data_needs_a_contract_symbol_and_exact_rates():
    with pytest.raises(ConfigurationError, match="spot"):
        ot.backtesting.FundingData("XRP/USDT", [0], ["0.0001"])
    with pytest.raises(TypeError, match="rate"):
        ot.backtesting.FundingData("XRP/USDT:USDT", [0], [0.0001])  # type: ignore[list-item]


def test_bad_funding_rows_name_the_row(tmp_path):
    with pytest.raises(DataFileError, match="one funding time") as err:
        ot.backtesting.FundingData("XRP/USDT:USDT", [0, 5, EIGHT_HOURS], ["0.1", "0.2", "0.3"])
    assert err.value.row == 1
    with pytest.raises(DataFileError, match="sorted"):
        ot.backtesting.FundingData("XRP/USDT:USDT", [EIGHT_HOURS, 0], ["0.1", "0.2"])
    bad = tmp_path / "XRP_USDT_USDT-8h-funding_rate.json"
    bad.write_text('[[1637193600000, 0.0001, 0, 0, 0, 0], [1637222400000, "x", 0, 0, 0, 0]]')
    with pytest.raises(DataFileError) as err:
        ot.backtesting.FundingData.from_file(bad)
    assert err.value.row == 1
    candles_only = tmp_path / "candles.sqlite"
    with sqlite3.connect(candles_only) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('format_version', '1')")
    conn.close()
    with pytest.raises(DataFileError, match="no funding rates"):
        ot.backtesting.FundingData.from_file(candles_only)


def test_duplicate_or_unsorted_funding_times_name_file_row_and_time_column(tmp_path):
    with pytest.raises(DataFileError, match="one funding time") as err:
        ot.backtesting.FundingData("XRP/USDT:USDT", [0, 5, EIGHT_HOURS], ["0.1", "0.2", "0.3"])
    assert (err.value.path, err.value.row, err.value.column) == ("<memory>", 1, "times_ms")
    start = 1637193600000
    unsorted = tmp_path / "XRP_USDT_USDT-8h-funding_rate.csv"
    unsorted.write_text(f"date,open,high,low,close,volume\n{start + EIGHT_HOURS},0.1,0,0,0,0\n{start},0.2,0,0,0,0\n")
    with pytest.raises(DataFileError, match="sorted") as err:
        ot.backtesting.FundingData.from_file(unsorted)
    assert (err.value.path, err.value.row, err.value.column) == (str(unsorted), 1, "date")
    assert "column date" in str(err.value)
    late = tmp_path / "XRP_USDT_USDT-8h-funding_rate.json"
    late.write_text(f"[[{start}, 0.1, 0, 0, 0, 0], [{start + 17}, 0.2, 0, 0, 0, 0]]")
    with pytest.raises(DataFileError, match="one funding time") as err:
        ot.backtesting.FundingData.from_file(late)
    assert (err.value.path, err.value.row, err.value.column) == (str(late), 1, "timestamp")
    stored = tmp_path / "funding.sqlite"
    ot.backtesting.FundingData("XRP/USDT:USDT", [start], ["0.1"]).write(stored)
    with sqlite3.connect(stored) as conn:
        conn.execute("INSERT INTO funding_rates VALUES ('XRP/USDT:USDT', ?, '0.2')", (start + 17,))
    conn.close()
    with pytest.raises(DataFileError, match="one funding time") as err:
        ot.backtesting.FundingData.from_file(stored, symbol="XRP/USDT:USDT")
    assert (err.value.path, err.value.row, err.value.column) == (str(stored), 1, "timestamp")
