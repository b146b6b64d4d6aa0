"""Importers: what a data file may hold and where its errors are (digits, offsets, units, blanks, columns)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather
import pyarrow.parquet
import pytest

from octobot_trading.backtesting import CandleData, CandleSeries, FundingData, data_file
from octobot_trading.errors import DataFileError

HEADER = "timestamp,open,high,low,close,volume\n"
START = 1609459200000  # 2021-01-01T00:00:00Z
HOUR = 3_600_000


def _load(path: Path, **kwargs: object) -> CandleSeries:
    kwargs.setdefault("symbol", "BTC/USDT")
    kwargs.setdefault("time_frame", "1h")
    return CandleData.from_file(path, **kwargs).get("BTC/USDT", str(kwargs["time_frame"]))  # type: ignore[arg-type]


def _lines(count: int = 3, first: int = START) -> str:
    return "".join(f"{first + i * HOUR},100,110,90,105,1\n" for i in range(count))


def _write_table(path: Path, columns: dict[str, object]) -> Path:
    table = pa.table(columns)
    if path.suffix == ".parquet":
        pyarrow.parquet.write_table(table, path)
    else:
        pyarrow.feather.write_feather(table, path)
    return path


def _prices(count: int, kind: pa.DataType = pa.float64()) -> dict[str, object]:
    return {
        "open": pa.array([100.1] * count, kind),
        "high": pa.array([110.1] * count, kind),
        "low": pa.array([90.1] * count, kind),
        "close": pa.array([105.1] * count, kind),
        "volume": pa.array([1.1] * count, kind),
    }


# --- digits of other scripts ---------------------------------------------------------------------


ARABIC_INDIC, FULLWIDTH, DEVANAGARI = 0x0660, 0xFF10, 0x0966  # each script's digit zero


def _digits(number: int, zero: int) -> str:
    """``number`` written with the digits of another script."""
    return "".join(chr(zero + int(c)) for c in str(number))


@pytest.mark.parametrize(
    ("text", "column"),
    [
        (f"{START},{_digits(100, ARABIC_INDIC)},110,90,105,1\n", "open"),
        (f"{START},{_digits(100, FULLWIDTH)},110,90,105,1\n", "open"),
        (f"{START},100,110,90,{_digits(105, DEVANAGARI)},1\n", "close"),
        (f"{_digits(START, ARABIC_INDIC)},100,110,90,105,1\n", "timestamp"),
        (f'{START},100,110,90,"{_digits(105, FULLWIDTH)}",1\n', "close"),
        (f"{START},100.{_digits(5, ARABIC_INDIC)},110,90,105,1\n", "open"),
    ],
)
def test_csv_refuses_digits_of_other_scripts_naming_row_and_column(tmp_path: Path, text: str, column: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + text, encoding="utf-8")
    with pytest.raises(DataFileError, match="not a") as info:
        _load(path)
    assert (info.value.row, info.value.column) == (0, column)


def test_headerless_csv_with_digits_of_other_scripts_in_the_open_time_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(_lines(2) + f"{_digits(START + 2 * HOUR, ARABIC_INDIC)},100,110,90,105,1\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="not a time") as info:
        _load(path)
    assert (info.value.row, info.value.column) == (2, "timestamp")


def test_json_refuses_digits_of_other_scripts(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(f"[[{START},100,110,90,105,1],[{START + HOUR},100,110,90,10{_digits(5, FULLWIDTH)},1]]")
    with pytest.raises(DataFileError, match="not a number") as info:
        _load(path)
    assert (info.value.row, info.value.column) == (1, "close")


# --- ISO-8601 UTC offsets ------------------------------------------------------------------------


@pytest.mark.parametrize("offset", ["+25:00", "+24:00", "+02:60", "+99:99", "+2:00", "+02:0", "+020", "+0a:00"])
def test_impossible_or_malformed_utc_offsets_are_refused(tmp_path: Path, offset: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        f"date,open,high,low,close,volume\n2021-01-01T00:00:00Z,100,110,90,105,1\n"
        f"2021-01-01T01:00:00{offset},100,110,90,105,1\n"
    )
    with pytest.raises(DataFileError, match="bad UTC offset") as info:
        _load(path)
    assert (info.value.row, info.value.column) == (1, "date")


@pytest.mark.parametrize(
    "date",
    [
        "2021-01-01T02:00:00+0200",
        "2021-01-01T02:00:00+02",
        "2020-12-31T19:00:00-05",
        "2021-01-01T05:30:00.000+05:30",
        "2021-01-01 00:00:00-0000",
    ],
)
def test_basic_and_hour_only_offsets_are_applied_and_count_as_offsets(tmp_path: Path, date: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(f"date,open,high,low,close,volume\n{date},100,110,90,105,1\n")
    series = _load(path)
    assert series.times.tolist() == [START]
    assert series.report.notes == ()


@pytest.mark.parametrize("header", ["date,open,high,low,close,volume\n", ""])
def test_quoted_or_spaced_iso_dates_read_like_quoted_numbers(tmp_path: Path, header: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        header + '"2021-01-01 00:00:00",100,110,90,105,1\n'
        " 2021-01-01T01:00:00Z ,100,110,90,105,1\n"
        ' " 2021-01-01T02:00:00+00:00" ,100,110,90,105,1\n'
    )
    series = _load(path)
    assert series.times.tolist() == [START, START + HOUR, START + 2 * HOUR]
    assert series.report.time_format == "iso-8601"


# --- time_unit= against the values ---------------------------------------------------------------


@pytest.mark.parametrize(("scale", "unit"), [(1, "s"), (1, "us"), (1, "ns"), (1 / 1000, "ms"), (1000, "s")])
def test_time_unit_contradicting_the_magnitude_of_the_values_is_refused(
    tmp_path: Path, scale: float, unit: str
) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + "".join(f"{int((START + i * HOUR) * scale)},100,110,90,105,1\n" for i in range(3)))
    with pytest.raises(DataFileError, match="as time_unit= says") as info:
        _load(path, time_unit=unit)
    assert (info.value.row, info.value.column) == (0, "timestamp")


def test_time_unit_contradicted_by_a_later_row_names_that_row(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(
        json.dumps([[0, 100, 110, 90, 105, 1], [3600, 100, 110, 90, 105, 1], [START, 100, 110, 90, 105, 1]])
    )
    with pytest.raises(DataFileError, match="is in ms by its magnitude, not in s") as info:
        _load(path, time_unit="s")
    assert (info.value.row, info.value.column) == (2, "timestamp")
    # values too small to say their unit still take the one given
    path.write_text(json.dumps([[0, 100, 110, 90, 105, 1], [3600, 100, 110, 90, 105, 1]]))
    assert _load(path, time_unit="s").times.tolist() == [0, HOUR]


def test_timestamp_ms_column_with_another_time_unit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("timestamp_ms,open,high,low,close,volume\n" + _lines())
    with pytest.raises(DataFileError, match="holds ms by its name") as info:
        _load(path, time_unit="s")
    assert info.value.column == "timestamp_ms"
    assert _load(path, time_unit="ms").times[0] == START


@pytest.mark.parametrize("suffix", [".feather", ".parquet"])
def test_table_time_unit_is_checked_like_csv(tmp_path: Path, suffix: str) -> None:
    times = [START + i * HOUR for i in range(3)]
    path = _write_table(tmp_path / f"x{suffix}", {"timestamp": times, **_prices(3)})
    with pytest.raises(DataFileError, match="is in ms by its magnitude, not in s") as info:
        _load(path, time_unit="s")
    assert (info.value.row, info.value.column) == (0, "timestamp")
    series = _load(path, time_unit="ms")
    assert series.times.tolist() == times and series.report.notes == ("time unit ms given by the caller",)
    named = _write_table(tmp_path / f"y{suffix}", {"timestamp_ms": [t // 1000 for t in times], **_prices(3)})
    with pytest.raises(DataFileError, match="holds times in s, not ms") as info:
        _load(named)
    assert info.value.column == "timestamp_ms"


# --- blank lines --------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["   \n", "\t\n", " \t \r\n", "  "])
def test_lines_of_spaces_or_tabs_are_blank_lines(tmp_path: Path, blank: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes((HEADER + _lines(3) + blank).encode())
    assert len(_load(path)) == 3
    body = blank if blank.endswith("\n") else blank + "\n"
    path.write_bytes((body + HEADER + _lines(2) + body + _lines(1, START + 2 * HOUR) + blank).encode())
    assert _load(path).times.tolist() == [START, START + HOUR, START + 2 * HOUR]
    path.write_bytes((body + _lines(2) + body + f"{START + 2 * HOUR},100,110,90,x,1\n").encode())
    with pytest.raises(DataFileError, match="not a number") as info:  # blank lines are not counted as rows
        _load(path)
    assert (info.value.row, info.value.column) == (2, "close")


# --- headerless files with a bad first row ------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "column", "message"),
    [
        (f"{START},100,110,90,nan,1\n", "close", "not a number: 'nan'"),
        (f"{START},100,110,90,105,\n", "volume", "not a number: ''"),
        (f"{START},100,x,90,105,1\n", "high", "not a number: 'x'"),
        ("2021-01-01T00:00:00Z,100,110,90,105,abc\n", "volume", "not a number: 'abc'"),
    ],
)
def test_headerless_csv_with_a_bad_value_in_its_first_row_names_row_0(
    tmp_path: Path, first: str, column: str, message: str
) -> None:
    path = tmp_path / "x.csv"
    rest = _lines(2, START + HOUR)
    if first.startswith("2021-"):
        rest = "2021-01-01T01:00:00Z,100,110,90,105,1\n2021-01-01T02:00:00Z,100,110,90,105,1\n"
    path.write_text(first + rest)
    with pytest.raises(DataFileError, match=message) as info:
        _load(path)
    assert (info.value.row, info.value.column) == (0, column)


# --- feather / parquet ISO text -----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".feather", ".parquet"])
@pytest.mark.parametrize(
    ("dates", "time_frame", "noted"),
    [
        (["2021-01-01 00:00:00", "2021-01-01 01:00:00"], "1h", True),
        (["2021-01-01", "2021-01-02"], "1d", True),
        (["2021-01-01T00:00:00.000000", "2021-01-01T01:00:00"], "1h", True),
        (["2021-01-01T02:00:00+02:00", "2021-01-01T01:00:00Z"], "1h", False),
        (["2021-01-01T02:00:00+0200", "2020-12-31T20:00:00-05"], "1h", False),
    ],
)
def test_table_iso_text_reads_like_csv(
    tmp_path: Path, suffix: str, dates: list[str], time_frame: str, noted: bool
) -> None:
    path = _write_table(tmp_path / f"x{suffix}", {"date": dates, **_prices(2)})
    series = _load(path, time_frame=time_frame)
    csv = tmp_path / "x.csv"
    csv.write_text("date,open,high,low,close,volume\n" + "".join(f"{d},100.1,110.1,90.1,105.1,1.1\n" for d in dates))
    twin = _load(csv, time_frame=time_frame)
    assert series.times.tolist() == twin.times.tolist()
    assert series.times[0] == START
    assert series.report.time_format == "iso-8601"
    assert series.report.notes == twin.report.notes
    assert bool(series.report.notes) is noted


@pytest.mark.parametrize("suffix", [".feather", ".parquet"])
def test_table_iso_text_errors_name_row_and_column(tmp_path: Path, suffix: str) -> None:
    dates = [datetime.fromtimestamp((START + i * HOUR) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") for i in range(5)]
    for bad, message in (("2021-01-01T04:00:00+25:00", "bad UTC offset"), ("yesterday", "not an ISO-8601 date")):
        path = _write_table(tmp_path / f"x{suffix}", {"date": [*dates[:4], bad], **_prices(5)})
        with pytest.raises(DataFileError, match=message) as info:
            _load(path)
        assert (info.value.row, info.value.column) == (4, "date")


def test_long_table_iso_text_is_read_in_blocks_with_rows_across_them(tmp_path: Path) -> None:
    count = 70_000  # more than one block of rows
    times = START + np.arange(count, dtype=np.int64) * 60_000
    dates = np.datetime_as_string(times.astype("datetime64[ms]"), unit="s").tolist()
    path = _write_table(tmp_path / "x.parquet", {"date": dates, **_prices(count)})
    assert _load(path, time_frame="1m").times.tolist() == times.tolist()
    dates[66_000] = dates[66_000] + "+24:00"
    _write_table(path, {"date": dates, **_prices(count)})
    with pytest.raises(DataFileError, match="bad UTC offset") as info:
        _load(path, time_frame="1m")
    assert info.value.row == 66_000


# --- float32 values -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".feather", ".parquet"])
@pytest.mark.parametrize("kind", [pa.float32(), pa.float16()])
def test_narrow_float_values_become_decimals_of_their_own_shortest_text(
    tmp_path: Path, suffix: str, kind: pa.DataType
) -> None:
    times = [START + i * HOUR for i in range(3)]
    path = _write_table(tmp_path / f"x{suffix}", {"timestamp": times, **_prices(3, kind)})
    candle = _load(path).candle(0)
    expected = tuple(Decimal(x) for x in ("100.1", "110.1", "90.1", "105.1", "1.1"))
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == expected


def test_float32_random_values_read_back_to_the_same_float32(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    opens = (rng.random(2000) * 50_000 + 1).astype(np.float32)
    times = [START + i * HOUR for i in range(len(opens))]
    columns = {"timestamp": times, "open": opens, "high": opens * 2, "low": opens / 2, "close": opens, "volume": opens}
    series = _load(_write_table(tmp_path / "x.feather", columns))
    assert (series.opens.astype(np.float32) == opens).all()
    shortest = [np.format_float_positional(x, unique=True, trim="-") for x in opens[:200]]
    assert [series.candle(i).open for i in range(200)] == [Decimal(text) for text in shortest]


def test_float32_funding_rates_keep_their_shortest_text(tmp_path: Path) -> None:
    times = [START + i * 8 * HOUR for i in range(3)]
    columns = {"date": pa.array(times, pa.timestamp("ms", tz="UTC")), **_prices(3, pa.float32())}
    columns["open"] = pa.array([0.0001, -0.00025, 0.0003], pa.float32())
    path = _write_table(tmp_path / "XRP_USDT_USDT-8h-funding_rate.feather", columns)
    rates = FundingData.from_file(path).rates
    assert rates == (Decimal("0.0001"), Decimal("-0.00025"), Decimal("0.0003"))


# --- err.column of validation errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        (f"{START + 2 * HOUR},-100,110,90,105,1", "open", "open must be positive"),
        (f"{START + 2 * HOUR},100,110,0,105,1", "low", "low must be positive"),
        (f"{START + 2 * HOUR},100,110,90,105,-1", "Volume", "volume must not be negative"),
        (f"{START + 2 * HOUR},100,110,90,1e400,1", "CLOSE", "close is not a finite number"),
        (f"{START + HOUR},100,110,90,105,1", "Time", "duplicate timestamp"),
        (f"{START},100,110,90,105,1", "Time", "not sorted by time"),
        (f"{START + 2 * HOUR + 1000},100,110,90,105,1", "Time", "not aligned"),
    ],
)
def test_validation_errors_name_the_files_column(tmp_path: Path, line: str, column: str, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Time,open,high,low,CLOSE,Volume\n" + _lines(2) + line + "\n")
    with pytest.raises(DataFileError, match=message) as info:
        _load(path)
    assert (info.value.row, info.value.column) == (2, column)


def test_non_finite_values_of_json_and_parquet_name_their_column(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(f"[[{START},100,110,90,105,1],[{START + HOUR},100,110,90,1e400,1]]")
    with pytest.raises(DataFileError, match="close is not a finite number") as info:
        _load(path)
    assert (info.value.row, info.value.column) == (1, "close")
    table = {"timestamp": [START, START + HOUR], **_prices(2)}
    table["high"] = [110.0, float("nan")]
    parquet = _write_table(tmp_path / "x.parquet", table)
    with pytest.raises(DataFileError, match="high is not a finite number") as info:
        _load(parquet)
    assert (info.value.row, info.value.column) == (1, "high")


# --- the SQLite data file -----------------------------------------------------------------------


def _data_file(path: Path) -> Path:
    series = CandleSeries.from_arrays(
        "BTC/USDT", "1h", [START + i * HOUR for i in range(3)], [100] * 3, [110] * 3, [90] * 3, [105] * 3, [1] * 3
    )
    data_file.write(path, CandleData([series]))
    return path


def _update(path: Path, statement: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(statement)
    conn.close()


def test_data_file_value_that_is_not_a_number_names_row_and_column(tmp_path: Path) -> None:
    path = _data_file(tmp_path / "x.sqlite")
    _update(path, f"UPDATE candles SET high = 'abc' WHERE timestamp = {START + 2 * HOUR}")
    with pytest.raises(DataFileError, match="column high: not a number: 'abc'") as info:
        CandleData.from_file(path)
    assert (info.value.row, info.value.column) == (2, "high")


def test_data_file_timestamp_with_a_fraction_of_a_ms_is_refused_not_truncated(tmp_path: Path) -> None:
    path = _data_file(tmp_path / "x.sqlite")
    _update(path, f"UPDATE candles SET timestamp = {START + HOUR}.5 WHERE timestamp = {START + HOUR}")
    with pytest.raises(DataFileError, match="not a whole number of ms") as info:
        CandleData.from_file(path)
    assert (info.value.row, info.value.column) == (1, "timestamp")
    # a REAL column holding whole ms reads as those ms
    _update(path, f"UPDATE candles SET timestamp = {START + HOUR}.0 WHERE timestamp = {START + HOUR}.5")
    assert CandleData.from_file(path).get("BTC/USDT", "1h").times.tolist() == [START + i * HOUR for i in range(3)]


def test_data_file_funding_rate_that_is_not_a_number_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    data_file.write_funding(path, "binance", "XRP/USDT:USDT", [(START, "0.0001"), (START + 8 * HOUR, "0.0002")])
    assert FundingData.from_file(path).rates == (Decimal("0.0001"), Decimal("0.0002"))
    for bad in ("'abc'", "'NaN'", "'Infinity'", f"'{_digits(1, ARABIC_INDIC)}'"):
        _update(path, f"UPDATE funding_rates SET rate = {bad} WHERE timestamp = {START + 8 * HOUR}")
        with pytest.raises(DataFileError, match="column rate: not a number") as info:
            FundingData.from_file(path)
        assert (info.value.row, info.value.column) == (1, "rate")
    _update(path, f"UPDATE funding_rates SET rate = '0.0002', timestamp = {START}.5 WHERE timestamp = {START}")
    with pytest.raises(DataFileError, match="not a whole number of ms") as info:
        FundingData.from_file(path)
    assert (info.value.row, info.value.column) == (0, "timestamp")
