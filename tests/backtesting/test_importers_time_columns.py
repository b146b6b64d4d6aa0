"""Open-time columns the importers read or refuse: Arrow date / timestamp / dictionary columns,
``time_unit=`` with dates, and CSV files separated by something else than commas."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.feather
import pyarrow.parquet
import pytest

from octobot_trading.backtesting import CandleData, CandleSeries, FundingData
from octobot_trading.errors import DataFileError

START = 1609459200000  # 2021-01-01T00:00:00Z
HOUR = 3_600_000
DAY = 24 * HOUR
SUFFIXES = [".feather", ".parquet"]


def _load(path: Path, time_frame: str = "1h", **kwargs: object) -> CandleSeries:
    data = CandleData.from_file(path, symbol="BTC/USDT", time_frame=time_frame, **kwargs)  # type: ignore[arg-type]
    return data.get("BTC/USDT", time_frame)


def _write(path: Path, columns: dict[str, object]) -> Path:
    table = pa.table(columns)
    if path.suffix == ".parquet":
        pyarrow.parquet.write_table(table, path)
    else:
        pyarrow.feather.write_feather(table, path)
    return path


def _prices(count: int) -> dict[str, object]:
    values = {"open": 100.1, "high": 110.1, "low": 90.1, "close": 105.1, "volume": 1.1}
    return {name: [value] * count for name, value in values.items()}


# --- Arrow date, timestamp and dictionary open times --------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_timestamp_columns_of_every_unit_read_as_exact_epoch_ms(tmp_path: Path, suffix: str, unit: str) -> None:
    times = [START + i * HOUR for i in range(3)]
    scale = {"s": 1 / 1000, "ms": 1, "us": 1000, "ns": 1_000_000}[unit]
    raw = pa.array([int(t * scale) for t in times], pa.int64()).cast(pa.timestamp(unit))
    series = _load(_write(tmp_path / f"x{suffix}", {"date": raw, **_prices(3)}))
    assert series.times.tolist() == times
    assert series.report.time_format == "arrow-timestamp"
    assert series.report.notes == ("timestamps without time zone were read as UTC",)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_time_zone_aware_timestamps_are_converted_to_utc(tmp_path: Path, suffix: str) -> None:
    times = [START + i * HOUR for i in range(3)]
    paris = pa.array(times, pa.int64()).cast(pa.timestamp("ms", tz="Europe/Paris"))
    series = _load(_write(tmp_path / f"x{suffix}", {"date": paris, **_prices(3)}))
    assert series.times.tolist() == times  # 01:00 in Paris is 00:00 UTC
    assert series.report.notes == ()


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_timestamps_with_a_fraction_of_a_ms_are_refused_naming_row_and_column(tmp_path: Path, suffix: str) -> None:
    nanos = [(START + i * HOUR) * 1_000_000 for i in range(3)]
    nanos[2] += 1
    path = _write(tmp_path / f"x{suffix}", {"date": pa.array(nanos, pa.int64()).cast(pa.timestamp("ns")), **_prices(3)})
    with pytest.raises(DataFileError, match="whole number of ms") as info:
        _load(path)
    assert (info.value.path, info.value.row, info.value.column) == (str(path), 2, "date")


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", [pa.date32(), pa.date64()])
def test_date_columns_are_days_at_midnight_utc(tmp_path: Path, suffix: str, kind: pa.DataType) -> None:
    times = [START + i * DAY for i in range(3)]
    days = pa.array([t // DAY for t in times], pa.int32()).cast(pa.date32()).cast(kind)
    series = _load(_write(tmp_path / f"x{suffix}", {"date": days, **_prices(3)}), time_frame="1d")
    assert series.times.tolist() == times
    assert series.report.time_format == "arrow-date"


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(
    "column",
    [
        pa.array([START + i * HOUR for i in range(3)], pa.int64()).dictionary_encode(),
        pa.array([START + i * HOUR for i in range(3)], pa.int64())
        .cast(pa.timestamp("ms", tz="UTC"))
        .dictionary_encode(),
        pa.array(["2021-01-01 00:00:00", "2021-01-01 01:00:00", "2021-01-01 02:00:00"]).dictionary_encode(),
    ],
    ids=["epoch", "timestamp", "iso-text"],
)
def test_dictionary_encoded_open_times_read_like_their_plain_column(
    tmp_path: Path, suffix: str, column: pa.Array
) -> None:
    series = _load(_write(tmp_path / f"x{suffix}", {"date": column, **_prices(3)}))
    plain = _load(_write(tmp_path / f"plain{suffix}", {"date": column.dictionary_decode(), **_prices(3)}))
    assert series.times.tolist() == plain.times.tolist() == [START + i * HOUR for i in range(3)]
    assert series.report.time_format == plain.report.time_format


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_dictionary_encoded_values_read_exactly(tmp_path: Path, suffix: str) -> None:
    times = [START + i * HOUR for i in range(3)]
    closes = pa.array([105.1, 105.2, 105.1], pa.float32()).dictionary_encode()
    prices = _prices(3) | {"close": closes, "volume": pa.array([1.1, 1.1, 1.1]).dictionary_encode()}
    series = _load(_write(tmp_path / f"x{suffix}", {"timestamp": times, **prices}))
    assert [series.close_decimal(i) for i in range(3)] == [Decimal("105.1"), Decimal("105.2"), Decimal("105.1")]
    assert series.candle(0).volume == Decimal("1.1")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_dictionary_encoded_text_values_are_refused_naming_the_column(tmp_path: Path, suffix: str) -> None:
    times = [START + i * HOUR for i in range(3)]
    prices = _prices(3) | {"high": pa.array(["110", "110", "110"]).dictionary_encode()}
    path = _write(tmp_path / f"x{suffix}", {"timestamp": times, **prices})
    with pytest.raises(DataFileError, match="not numbers") as info:
        _load(path)
    assert (info.value.path, info.value.column) == (str(path), "high")


# --- time_unit= with dates ----------------------------------------------------------------------


def test_time_unit_with_iso_dates_in_a_csv_is_refused_naming_the_argument_and_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "date,open,high,low,close,volume\n2021-01-01 00:00:00,1,2,0.5,1,1\n2021-01-01 01:00:00,1,2,0.5,1,1\n"
    )
    with pytest.raises(DataFileError, match=r"time_unit='s'.*epoch") as info:
        _load(path, time_unit="s")
    assert (info.value.path, info.value.row, info.value.column) == (str(path), 0, "date")
    headerless = tmp_path / "y.csv"
    headerless.write_text("2021-01-01T00:00:00Z,1,2,0.5,1,1\n")
    with pytest.raises(DataFileError, match="time_unit='ms'") as info:
        _load(headerless, time_unit="ms")
    assert (info.value.path, info.value.row, info.value.column) == (str(headerless), 0, "timestamp")


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(
    "column",
    [
        pa.array(["2021-01-01 00:00:00"]),
        pa.array([START], pa.int64()).cast(pa.timestamp("ms")),
        pa.array([START // DAY], pa.int32()).cast(pa.date32()),
    ],
    ids=["iso-text", "timestamp", "date"],
)
def test_time_unit_with_a_table_date_column_is_refused(tmp_path: Path, suffix: str, column: pa.Array) -> None:
    path = _write(tmp_path / f"x{suffix}", {"date": column, **_prices(1)})
    with pytest.raises(DataFileError, match="time_unit='s'") as info:
        _load(path, time_frame="1d", time_unit="s")
    assert (info.value.path, info.value.column) == (str(path), "date")


# --- separators ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("separator", "shown"), [(";", "';'"), ("\t", "tab"), ("|", "'|'")])
@pytest.mark.parametrize("header", [True, False])
def test_a_csv_separated_by_another_character_is_refused_with_a_hint(
    tmp_path: Path, separator: str, shown: str, header: bool
) -> None:
    rows = [[str(START + i * HOUR), "100", "110", "90", "105", "1"] for i in range(2)]
    if header:
        rows.insert(0, ["timestamp", "open", "high", "low", "close", "volume"])
    path = tmp_path / "x.csv"
    path.write_text("".join(separator.join(r) + "\n" for r in rows))
    with pytest.raises(DataFileError, match=f"separated by {re.escape(shown)}.*only commas") as info:
        _load(path)
    assert (info.value.path, info.value.row) == (str(path), 0 if not header else None)


# --- decimal value columns ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(
    ("kind", "texts"),
    [
        (pa.decimal128(20, 8), ["519501.60329669", "29724.52319252", "0.1"]),
        (pa.decimal128(38, 18), ["0.000012345678", "0.30000000000000004", "100.1"]),
    ],
    ids=["20-8", "38-18"],
)
def test_decimal_value_columns_load_as_the_decimals_written(
    tmp_path: Path, suffix: str, kind: pa.DataType, texts: list[str]
) -> None:
    times = [START + i * HOUR for i in range(3)]
    values = pa.array([Decimal(t) for t in texts], kind)
    prices = {name: values for name in ("open", "high", "low", "close", "volume")}
    series = _load(_write(tmp_path / f"x{suffix}", {"timestamp": times, **prices}))
    assert [series.close_decimal(i) for i in range(3)] == [Decimal(t) for t in texts]
    assert series.candle(0).open == Decimal(texts[0])


@pytest.mark.parametrize("value", [10**16, -(10**16)])
def test_second_timestamps_too_large_for_epoch_ms_are_refused_naming_the_first_bad_row(
    tmp_path: Path, value: int
) -> None:
    # 10**16 s is 10**19 ms, past int64: it must not wrap around into another time (parquet
    # stores seconds as ms, so it cannot hold such a file)
    raw = pa.array([START // 1000, value, value], pa.int64()).cast(pa.timestamp("s"))
    path = _write(tmp_path / "x.feather", {"date": raw, **_prices(3)})
    with pytest.raises(DataFileError, match="too large for an epoch time") as info:
        _load(path)
    assert (info.value.path, info.value.row, info.value.column) == (str(path), 1, "date")


def test_funding_times_too_large_for_epoch_ms_are_refused(tmp_path: Path) -> None:
    raw = pa.array([10**16, 10**16 + 8 * 3600], pa.int64()).cast(pa.timestamp("s", tz="UTC"))
    prices = {"open": [0.0001, 0.0001], "high": [0.0, 0.0], "low": [0.0, 0.0], "close": [0.0, 0.0]}
    path = _write(tmp_path / "BTC_USDT_USDT-8h-funding_rate.feather", {"date": raw, **prices, "volume": [0.0, 0.0]})
    with pytest.raises(DataFileError, match="too large for an epoch time") as info:
        FundingData.from_file(path)
    assert (info.value.path, info.value.row, info.value.column) == (str(path), 0, "date")


@pytest.mark.parametrize(("separator", "shown"), [(";", "';'"), ("\t", "tab"), ("|", "'|'")])
@pytest.mark.parametrize("header", [True, False])
def test_a_price_only_csv_separated_by_another_character_is_refused_with_a_hint(
    tmp_path: Path, separator: str, shown: str, header: bool
) -> None:
    rows = [[str(START + i * HOUR), "100", "110", "90", "105"] for i in range(2)]
    if header:
        rows.insert(0, ["timestamp", "open", "high", "low", "close"])
    path = tmp_path / "x.csv"
    path.write_text("".join(separator.join(r) + "\n" for r in rows))
    with pytest.raises(DataFileError, match=f"separated by {re.escape(shown)}.*only commas") as info:
        _load(path, kind="mark")
    assert (info.value.path, info.value.row) == (str(path), 0 if not header else None)


def test_a_null_among_a_dictionary_columns_values_is_a_missing_value(tmp_path: Path) -> None:
    # the index is valid, the dictionary value it points at is null (parquet cannot write this)
    dictionary = pa.array(["2021-01-01 00:00:00", None, "2021-01-01 02:00:00"])
    column = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2], pa.int32()), dictionary)
    path = _write(tmp_path / "x.feather", {"date": column, **_prices(3)})
    with pytest.raises(DataFileError, match="missing value") as info:
        _load(path)
    assert (info.value.path, info.value.row, info.value.column) == (str(path), 1, "date")
