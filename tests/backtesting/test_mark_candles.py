"""Mark-price candles: CandleData.from_file(..., kind="mark") accepts missing volumes, the default stays strict."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import data_file
from octobot_trading.errors import ConfigurationError, DataFileError
from octobot_trading.testing.shared_data import require_shared_data_file

FIXTURE = Path(__file__).parent / "fixtures" / "XRP_USDT_USDT-1h-mark.json"


def _rows() -> list[list[float]]:
    return json.loads(FIXTURE.read_text().replace("NaN", "null"))


def test_freqtrade_mark_file_with_nan_volumes_loads_as_mark_candles_with_exact_prices():
    data = ot.backtesting.CandleData.from_file(FIXTURE, kind="mark")
    series = data.get("XRP/USDT:USDT", "1h")
    rows = _rows()
    assert len(series) == len(rows) == 100
    assert [series.close_decimal(i) for i in range(3)] == [D(repr(r[4])) for r in rows[:3]]
    assert series.close_decimal(0) == D("1.21431")
    assert not series.volumes.any()
    (report,) = data.load_reports
    assert report.notes == ("price-only data: 100 missing volume(s) read as 0",)


def test_the_same_mark_file_is_refused_by_the_default_strict_reader_naming_the_volume():
    with pytest.raises(DataFileError) as caught:
        ot.backtesting.CandleData.from_file(FIXTURE)
    assert caught.value.row == 0 and caught.value.column == "volume"


def test_an_unknown_candle_kind_is_a_configuration_error():
    with pytest.raises(ConfigurationError) as caught:
        ot.backtesting.CandleData.from_file(FIXTURE, kind="index")
    assert caught.value.field == "kind"


def test_mark_kind_still_refuses_a_missing_price(tmp_path):
    rows = _rows()
    text = json.dumps(rows).replace(repr(rows[3][4]), "null", 1)
    path = tmp_path / "XRP_USDT_USDT-1h-mark.json"
    path.write_text(text)
    with pytest.raises(DataFileError) as caught:
        ot.backtesting.CandleData.from_file(path, kind="mark")
    assert caught.value.row == 3 and caught.value.column == "close"


def test_mark_kind_still_refuses_a_negative_volume(tmp_path):
    rows = _rows()
    rows[5][5] = -1
    path = tmp_path / "XRP_USDT_USDT-1h-mark.json"
    path.write_text(json.dumps(rows))
    with pytest.raises(DataFileError, match="volume must not be negative") as caught:
        ot.backtesting.CandleData.from_file(path, kind="mark")
    assert caught.value.row == 5


def test_a_csv_mark_file_may_have_no_volume_column_or_empty_volumes(tmp_path):
    rows = _rows()[:20]
    no_column = tmp_path / "XRP_USDT_USDT-1h-mark.csv"
    no_column.write_text(
        "timestamp,open,high,low,close\n" + "".join(f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]}\n" for r in rows)
    )
    empty = tmp_path / "XRP_USDT_USDT-1h-empty.csv"
    empty.write_text(
        "timestamp,open,high,low,close,volume\n" + "".join(f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},\n" for r in rows)
    )
    a = ot.backtesting.CandleData.from_file(no_column, kind="mark").get("XRP/USDT:USDT", "1h")
    b = ot.backtesting.CandleData.from_file(empty, symbol="XRP/USDT:USDT", time_frame="1h", kind="mark").get(
        "XRP/USDT:USDT", "1h"
    )
    assert list(a.closes) == list(b.closes) == [r[4] for r in rows]
    assert not a.volumes.any() and not b.volumes.any()
    with pytest.raises(DataFileError, match="no volume column"):
        ot.backtesting.CandleData.from_file(no_column)


def test_mark_candles_round_trip_through_their_own_table_of_the_sqlite_data_file(tmp_path):
    marks = ot.backtesting.CandleData.from_file(FIXTURE, kind="mark")
    path = tmp_path / "data.sqlite"
    data_file.write(path, marks, kind="mark")
    back = ot.backtesting.CandleData.from_file(path, kind="mark").get("XRP/USDT:USDT", "1h")
    assert list(back.closes) == list(marks.get("XRP/USDT:USDT", "1h").closes)
    # the traded-candles table holds none of them
    with pytest.raises(DataFileError, match="no candles"):
        ot.backtesting.CandleData.from_file(path)


def test_a_data_file_without_mark_candles_says_so(tmp_path):
    path = tmp_path / "data.sqlite"
    data_file.write(path, ot.backtesting.CandleData.from_file(FIXTURE, kind="mark"))
    with pytest.raises(DataFileError, match="no mark-price candles"):
        ot.backtesting.CandleData.from_file(path, kind="mark")


def test_the_shared_mark_files_load_as_mark_candles():
    hourly = require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-1h-mark.json")
    eight = require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-8h-mark.json")
    assert ot.backtesting.CandleData.from_file(hourly, kind="mark").get("XRP/USDT:USDT", "1h").closes[-1] > 0
    series = ot.backtesting.CandleData.from_file(eight, kind="mark").get("XRP/USDT:USDT", "8h")
    assert len(series) == 91
