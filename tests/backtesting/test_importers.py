"""The columnar candle readers: layouts, time detection, errors, exactness and memory."""

from __future__ import annotations

import gzip
import json
import random
import tracemalloc
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather
import pyarrow.parquet
import pytest

from octobot_trading.backtesting import CandleData, CandleSeries
from octobot_trading.backtesting.text_columns import WIDTH, Block, parse_floats
from octobot_trading.errors import ConfigurationError, DataFileError
from octobot_trading.testing.shared_data import require_shared_data_file

FIXTURES = Path(__file__).parent / "fixtures"
HEAD = FIXTURES / "BTC_USDT-5m-head600.json"
KLINES = FIXTURES / "ADABTC-1m-2021-11-27.csv"


def _rows(count: int = 600) -> list[list[float]]:
    return json.loads(HEAD.read_text())[:count]


def _csv(
    rows: list[list[float]], header: str | None = "timestamp,open,high,low,close,volume", time=lambda t: str(int(t))
) -> str:
    lines = [header] if header is not None else []
    lines += [",".join([time(r[0]), *map(repr, r[1:])]) for r in rows]
    return "\n".join(lines) + "\n"


def _load(path: Path, **kwargs) -> CandleSeries:
    kwargs.setdefault("symbol", "BTC/USDT")
    kwargs.setdefault("time_frame", "5m")
    return CandleData.from_file(path, **kwargs).get(kwargs["symbol"], kwargs["time_frame"])


def _same(a, b) -> bool:
    return all(
        np.array_equal(getattr(a, k), getattr(b, k)) for k in ("times", "opens", "highs", "lows", "closes", "volumes")
    )


def _field_values(texts: list[str], *, strict: bool) -> np.ndarray:
    data = ",".join(texts).encode()
    buffer = np.frombuffer(b"0" * WIDTH + data + b"\n", dtype=np.uint8)
    starts, ends, pos = [], [], 0
    for text in texts:
        starts.append(pos)
        ends.append(pos + len(text.encode()))
        pos += len(text.encode()) + 1
    block = Block(buffer, np.array([starts], dtype=np.int64), np.array([ends], dtype=np.int64), 0)
    return parse_floats(block, 0, strict=strict)


def test_columnar_number_parsing_equals_float_of_the_text_bit_for_bit() -> None:
    rng = random.Random(7)
    texts = [
        "0",
        "0.0",
        "1",
        "9",
        "10.5",
        "0.1",
        "0.30000000000000004",
        "123456789012345",
        "1234567890123456",
        "9007199254740993",
        "0.00002853",
        "36304.20000000",
        "46377.0",
        "2300413.7295",
        "1e5",
        "1.5E-3",
        "12345678.12345678",
        "99999999.99999999",
        "0.000000000000001",
        "4.35",
        "1637971259999",
    ]
    for _ in range(20_000):
        digits = rng.randint(1, 19)
        mantissa = "".join(rng.choice("0123456789") for _ in range(digits)).lstrip("0") or "0"
        dot = rng.randint(0, len(mantissa))
        text = mantissa if dot == len(mantissa) or dot == 0 else mantissa[:dot] + "." + mantissa[dot:]
        texts.append(text)
    short = [t for t in texts if len(t) <= 8]  # a block of short fields takes the one-word path
    for sample in (texts, short):
        values = _field_values(sample, strict=False)
        expected = np.array([float(t) for t in sample])
        assert values.view(np.uint64).tolist() == expected.view(np.uint64).tolist()


@pytest.mark.parametrize("text", ["007", "1.", ".5", "+1", "1_000", "nan", "inf", "0x10", "1 2", '"1.5"'])
def test_json_refuses_what_json_does_not_allow(text: str) -> None:
    with pytest.raises(Exception, match="not a number"):
        _field_values([text], strict=True)


@pytest.mark.parametrize("name", ["timestamp", "timestamp_ms", "time", "date", "datetime", "open_time", " Open_Time "])
def test_csv_time_column_aliases_give_the_same_candles(tmp_path: Path, name: str) -> None:
    rows = _rows(50)
    path = tmp_path / "a.csv"
    path.write_text(_csv(rows, f"{name},open,high,low,close,volume"))
    series = _load(path)
    reference = _load(HEAD)
    assert _same(series, reference.slice(end_ms=int(reference.times[50])))
    assert series.report.columns[0] == name.strip() and series.report.time_format == "epoch-ms"


def test_csv_header_in_another_order_with_extra_columns(tmp_path: Path) -> None:
    rows = _rows(30)
    lines = ["Volume,Close,trades,Low,High,Open,Date"]
    lines += [f"{r[5]!r},{r[4]!r},7,{r[3]!r},{r[2]!r},{r[1]!r},{int(r[0])}" for r in rows]
    path = tmp_path / "x.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    series = _load(path)
    assert series.candle(3).close == Decimal(repr(rows[3][4]))
    assert series.report.columns == ("Date", "Open", "High", "Low", "Close", "Volume")


@pytest.mark.parametrize(("unit", "scale"), [("s", Decimal("0.001")), ("ms", 1), ("us", 1000), ("ns", 1_000_000)])
def test_csv_epoch_unit_is_detected_and_stated(tmp_path: Path, unit: str, scale) -> None:
    rows = _rows(40)
    path = tmp_path / "x.csv"
    path.write_text(_csv(rows, time=lambda t: str(int(Decimal(int(t)) * scale))))
    series = _load(path)
    assert series.times.tolist() == [int(r[0]) for r in rows]
    assert series.report.time_format == f"epoch-{unit}"


def test_small_timestamps_are_ambiguous_unless_the_unit_is_given(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("timestamp,open,high,low,close,volume\n60000,2,3,1,2,3\n120000,2,3,1,2,3\n")
    with pytest.raises(DataFileError, match="unit") as info:
        _load(path, time_frame="1m")
    assert info.value.row == 0 and info.value.column == "timestamp"
    series = _load(path, time_frame="1m", time_unit="ms")
    assert series.times.tolist() == [60000, 120000]
    assert series.report.notes == ("time unit ms given by the caller",)
    with pytest.raises(ConfigurationError, match="time_unit"):
        _load(path, time_frame="1m", time_unit="minutes")


def test_mixed_time_units_are_refused_naming_the_row(tmp_path: Path) -> None:
    rows = _rows(10)
    text = _csv(rows).splitlines()
    text[6] = text[6].replace(str(int(rows[5][0])), str(int(rows[5][0]) // 1000), 1)
    path = tmp_path / "x.csv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(DataFileError, match="time units") as info:
        _load(path)
    assert info.value.row == 5


def test_timestamp_ms_header_holding_seconds_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(_csv(_rows(5), "timestamp_ms,open,high,low,close,volume", time=lambda t: str(int(t) // 1000)))
    with pytest.raises(DataFileError, match="holds times in s, not ms"):
        _load(path)


@pytest.mark.parametrize(
    ("fmt", "offset_note"),
    [("%Y-%m-%d %H:%M:%S", True), ("%Y-%m-%dT%H:%M:%SZ", False), ("%Y-%m-%dT%H:%M:%S.000+00:00", False)],
)
def test_csv_iso_dates_with_and_without_offset(tmp_path: Path, fmt: str, offset_note: bool) -> None:
    from datetime import UTC, datetime

    rows = _rows(20)
    path = tmp_path / "x.csv"
    path.write_text(_csv(rows, time=lambda t: datetime.fromtimestamp(t / 1000, UTC).strftime(fmt)))
    series = _load(path)
    assert series.times.tolist() == [int(r[0]) for r in rows]
    assert series.report.time_format == "iso-8601"
    assert bool(series.report.notes) is offset_note


def test_iso_dates_with_a_non_utc_offset_are_converted(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "date,open,high,low,close,volume\n2021-01-01T02:00:00+02:00,2,3,1,2,3\n"
        "2021-01-01T00:05:00-00:00,2,3,1,2,3\n2020-12-31T19:10:00-05:00,2,3,1,2,3\n"
    )
    series = _load(path)
    assert series.times.tolist() == [1609459200000, 1609459500000, 1609459800000]
    path.write_text(
        "date,open,high,low,close,volume\n2021-01-01 00:00:00.000000000,2,3,1,2,3\n"
        "2021-01-01 00:05:00.000000789,2,3,1,2,3\n"
    )
    with pytest.raises(DataFileError, match="not a whole number of ms") as info:
        _load(path)
    assert info.value.row == 1 and info.value.column == "date"


def test_headerless_csv_in_canonical_order(tmp_path: Path) -> None:
    rows = _rows(25)
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(_csv(rows, header=None).encode()))
    series = _load(path)
    assert series.candle(24).volume == Decimal(repr(rows[24][5]))
    assert series.report.layout == "headerless" and series.report.format == "csv.gz"


def test_binance_twelve_column_kline_dump() -> None:
    data = CandleData.from_file(KLINES, symbol="ADA/BTC")  # time frame from the dump's name
    series = data.get("ADA/BTC", "1m")
    assert len(series) == 10
    assert series.times[0] == 1637971200000
    assert series.candle(0).open == Decimal("0.00002853")
    assert series.candle(0).volume == Decimal("36304.2")
    assert series.report.layout == "binance-klines" and series.report.columns[-1] == "volume"
    assert data.load_reports == [series.report]


def test_binance_dump_in_microseconds(tmp_path: Path) -> None:
    lines = KLINES.read_text().splitlines()
    moved = []
    for line in lines:
        fields = line.split(",")
        fields[0], fields[6] = fields[0] + "000", fields[6] + "999"
        moved.append(",".join(fields))
    path = tmp_path / "ADABTC-1m-2025-01-01.csv"
    path.write_text("\n".join(moved) + "\n")
    series = CandleData.from_file(path, symbol="ADA/BTC").get("ADA/BTC", "1m")
    assert series.times[0] == 1637971200000 and series.report.time_format == "epoch-us"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("timestamp,date,open,high,low,close,volume", "ambiguous header"),
        ("timestamp,open,high,low,close", "no volume column"),
        ("when,open,high,low,close,volume", "no open-time"),
    ],
)
def test_ambiguous_or_incomplete_headers_are_refused(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(header + "\n")
    with pytest.raises(DataFileError, match=message):
        _load(path)


def test_headerless_file_with_an_unknown_number_of_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("1606780800000,1,2,0.5,1,3,4\n")
    with pytest.raises(DataFileError, match="found 7"):
        _load(path)


@pytest.mark.parametrize(
    ("row", "column", "bad", "message"),
    [
        (3, "high", "x", "not a number"),
        (7, "volume", "", "not a number"),
        (11, "timestamp", "soon", "not a time"),
        (4, "close", "nan", "not a number"),
        (9, "open", "1,5", "expected 6 columns, got 7"),
    ],
)
def test_bad_csv_value_names_file_row_and_column(tmp_path: Path, row: int, column: str, bad: str, message: str) -> None:
    rows = _rows(20)
    lines = _csv(rows).splitlines()
    fields = lines[row + 1].split(",")
    fields[["timestamp", "open", "high", "low", "close", "volume"].index(column)] = bad
    lines[row + 1] = ",".join(fields)
    path = tmp_path / "x.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=message) as info:
        _load(path)
    assert info.value.row == row and str(path) in str(info.value)
    if "columns" not in message:
        assert info.value.column == column and f"column {column}" in str(info.value)


def test_blank_lines_are_skipped_and_not_counted(tmp_path: Path) -> None:
    rows = _rows(10)
    lines = _csv(rows).splitlines()
    lines.insert(4, "")
    lines.insert(8, "")
    path = tmp_path / "x.csv"
    path.write_text("\n".join(lines) + "\n\n")
    assert len(_load(path)) == 10
    lines[10] = lines[10].replace(",", ",y", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError) as info:
        _load(path)
    assert info.value.row == 7  # header, r0, r1, r2, blank, r3..r5, blank, r6, r7


def test_json_pretty_printed_and_compact_give_the_same_candles(tmp_path: Path) -> None:
    rows = _rows(300)
    compact, pretty = tmp_path / "a.json", tmp_path / "b.json"
    compact.write_text(json.dumps(rows, separators=(",", ":")))
    pretty.write_text(json.dumps(rows, indent=4))
    reference = _load(HEAD).slice(end_ms=int(rows[-1][0]) + 1)
    assert _same(_load(compact), reference) and _same(_load(pretty), reference)
    assert _load(pretty).report.layout == "freqtrade"


def test_json_numbers_with_exponents_and_integers(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("[[1.6067808E12, 19695.87, 2e4, 19.6e3, 19695, 7.945e-1]]")
    series = _load(path)
    assert series.times.tolist() == [1606780800000]
    assert series.candle(0).high == Decimal("20000.0") and series.candle(0).volume == Decimal("0.7945")


@pytest.mark.parametrize(
    ("text", "message", "row"),
    [
        ("[[1606780800000, 1, 2, 0.5, 1, 3], [1606781100000, 1, 2, 0.5, 1]]", "6 columns", 1),
        ("[[1606780800000, 1, 2, 0.5, 1, 3], [1606781100000, 1, 2, null, 1, 3]]", "column low: not a number", 1),
        ("[[1606780800000, 1, 2, 0.5, 1, 3] [1606781100000, 1, 2, 0.5, 1, 3]]", "cannot read JSON", None),
        ('{"candles": []}', "expected a JSON list", None),
        ("[[1606780800000, 1, 2, 0.5, 1, 3], [[1606781100000, 1, 2, 0.5, 1, 3]]]", "6 columns", 1),
        ("[]", "no candles", None),
    ],
)
def test_bad_json_structure_names_the_row(tmp_path: Path, text: str, message: str, row: int | None) -> None:
    path = tmp_path / "a.json"
    path.write_text(text)
    with pytest.raises(DataFileError, match=message) as info:
        _load(path)
    assert info.value.row == row


def test_feather_and_parquet_equal_the_json_twin(tmp_path: Path) -> None:
    reference = _load(HEAD)
    table = pa.table(
        {
            "date": pa.array(reference.times, type=pa.timestamp("ms", tz="UTC")),
            "open": reference.opens,
            "high": reference.highs,
            "low": reference.lows,
            "close": reference.closes,
            "volume": reference.volumes,
        }
    )
    pyarrow.feather.write_feather(table, tmp_path / "BTC_USDT-5m.feather")
    pyarrow.parquet.write_table(table, tmp_path / "BTC_USDT-5m.parquet")
    for name, fmt in (("BTC_USDT-5m.feather", "feather"), ("BTC_USDT-5m.parquet", "parquet")):
        series = CandleData.from_file(tmp_path / name).get("BTC/USDT", "5m")
        assert _same(series, reference)
        assert series.candle(0) == reference.candle(0)
        assert (series.report.format, series.report.engine, series.report.time_format) == (
            fmt,
            "pyarrow",
            "arrow-timestamp",
        )


def test_parquet_with_epoch_seconds_and_a_missing_value(tmp_path: Path) -> None:
    reference = _load(HEAD)
    closes = pa.array([*reference.closes[:5].tolist(), None, *reference.closes[6:].tolist()])
    table = pa.table(
        {
            "time": reference.times // 1000,
            "open": reference.opens,
            "high": reference.highs,
            "low": reference.lows,
            "close": reference.closes,
            "volume": reference.volumes,
        }
    )
    pyarrow.parquet.write_table(table, tmp_path / "ok.parquet")
    series = _load(tmp_path / "ok.parquet")
    assert _same(series, reference) and series.report.time_format == "epoch-s"
    pyarrow.parquet.write_table(table.set_column(4, "close", closes), tmp_path / "bad.parquet")
    with pytest.raises(DataFileError, match="column close: missing value") as info:
        _load(tmp_path / "bad.parquet")
    assert info.value.row == 5 and info.value.column == "close"


def test_real_files_read_exactly_like_the_json_module() -> None:
    for path in (HEAD, require_shared_data_file("binance_spot_nfi", "XRP_USDT-5m.json")):
        rows = np.array(json.loads(path.read_text()), dtype=np.float64)
        series = CandleData.from_file(path).get(*_name(path))
        assert series.times.tolist() == rows[:, 0].astype(np.int64).tolist()
        for k, column in enumerate(("opens", "highs", "lows", "closes", "volumes"), start=1):
            assert getattr(series, column).view(np.uint64).tolist() == rows[:, k].view(np.uint64).tolist()


def _name(path: Path) -> tuple[str, str]:
    base, rest = path.name.split("_", 1)
    quote, tf = rest.split("-")[:2]
    return f"{base}/{quote}", tf.split(".")[0]


def test_real_csv_with_iso_dates_matches_python_parsing() -> None:
    import csv
    from datetime import UTC, datetime

    path = require_shared_data_file("nautilus", "btc-perp-20211231-20220201_1m.csv")
    series = _load(path, symbol="BTC/USD:USD", time_frame="1m")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert len(series) == len(rows) == 45031
    stamps = [int(datetime.fromisoformat(r[0]).replace(tzinfo=UTC).timestamp() * 1000) for r in rows[::997]]
    assert series.times[::997].tolist() == stamps
    assert series.volumes.view(np.uint64).tolist() == np.array([float(r[5]) for r in rows]).view(np.uint64).tolist()


def test_loaded_candles_take_at_most_1_2_times_their_raw_array_size(tmp_path: Path) -> None:
    rows = _rows(600)
    count = 40 * len(rows)
    step = 5 * 60_000
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(count):
        r = rows[i % len(rows)]
        lines.append(",".join([str(int(rows[0][0]) + i * step), *map(repr, r[1:])]))
    path = tmp_path / "BTC_USDT-5m.csv"
    path.write_text("\n".join(lines) + "\n")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        data = CandleData.from_file(path)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    series = data.get("BTC/USDT", "5m")
    raw = count * 6 * 8
    arrays = sum(getattr(series, k).nbytes for k in ("times", "opens", "highs", "lows", "closes", "volumes"))
    assert arrays == raw
    assert all(getattr(series, k).base is None for k in ("times", "opens", "highs", "lows", "closes", "volumes"))
    assert held <= 1.2 * raw, (held, raw)


def test_feather_without_pyarrow_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "BTC_USDT-5m.feather"
    path.write_bytes(b"ARROW1")
    monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)
    with pytest.raises(DataFileError, match=r"needs pyarrow: pip install 'octobot_trading\[arrow\]'"):
        CandleData.from_file(path)


def test_header_only_csv_has_no_candles(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("timestamp,open,high,low,close,volume\n")
    with pytest.raises(DataFileError, match="no candles"):
        _load(path)


def test_sqlite_data_file_series_carry_a_load_report(tmp_path: Path) -> None:
    from octobot_trading.backtesting import data_file

    path = tmp_path / "data.sqlite"
    data_file.write(path, CandleData.from_file(HEAD, exchange="binance"))
    loaded = CandleData.from_file(path)
    series = loaded.get("BTC/USDT", "5m")
    assert _same(series, _load(HEAD))
    assert (series.report.format, series.report.layout, series.report.rows) == ("sqlite", "data-file", 600)


def test_csv_with_a_byte_order_mark_and_quoted_fields(tmp_path: Path) -> None:
    rows = _rows(12)
    lines = ['"timestamp","open","high","low","close","volume"']
    lines += [",".join(f'"{v}"' for v in [str(int(r[0])), *map(repr, r[1:])]) for r in rows]
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode())
    series = _load(path)
    assert series.times.tolist() == [int(r[0]) for r in rows]
    assert series.candle(11).low == Decimal(repr(rows[11][3]))


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_csv_read_in_small_pieces_equals_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    from octobot_trading.backtesting import text_columns

    rows = _rows(600)
    path = tmp_path / "x.csv"
    path.write_bytes((ending * 3 + ending.join(_csv(rows).splitlines())).encode())  # no final line break
    whole = _load(path)
    monkeypatch.setattr(text_columns, "BLOCK_BYTES", 300)
    pieces = _load(path)
    assert _same(whole, pieces) and _same(whole, _load(HEAD))
    assert all(getattr(pieces, k).base is None for k in ("times", "opens", "volumes"))


def test_freqtrade_json_with_small_timestamps_reads_them_as_ms_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("[[60000, 2, 3, 1, 2, 3], [120000, 2, 3, 1, 2, 3]]")
    series = _load(path, time_frame="1m")
    assert series.times.tolist() == [60000, 120000]
    assert series.report.notes == ("timestamps too small to tell their unit were read as ms",)


@pytest.mark.parametrize("strict", [False, True])
def test_random_field_texts_are_read_exactly_or_refused_like_python(strict: bool) -> None:
    from octobot_trading.backtesting.text_columns import BadField

    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice("0123456789..-+eE ") for _ in range(rng.randint(1, 20)))
        if "," in text or "\n" in text:
            continue
        try:
            expected = json.loads(text) if strict else float(text)
            if strict and not isinstance(expected, int | float):
                expected = None
        except ValueError:
            expected = None
        try:
            value = float(_field_values([text], strict=strict)[0])
        except BadField:
            value = None
        if expected is None or (not strict and "_" in text):
            assert value is None, text
        else:
            assert value is not None and np.float64(value).view(np.uint64) == np.float64(expected).view(np.uint64), text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[1606780800000, 1, 2, 0.5, 1, 1" + "0" * 400 + "]]", "number out of range"),
        ("[[1e400, 1, 2, 0.5, 1, 3]]", "too large"),
        ("[[1606780800000, 1e400, 2, 0.5, 1, 3]]", "not a finite number"),
    ],
)
def test_absurd_magnitudes_are_refused_with_a_data_file_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "a.json"
    path.write_text(text)
    with pytest.raises(DataFileError, match=message):
        _load(path)
