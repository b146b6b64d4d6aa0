"""CandlesManager: numpy buffer, views oldest first, wrap-around, bulk loads."""

from __future__ import annotations

import numpy as np
import pytest

from octobot_trading.errors import ConfigurationError, DataError
from octobot_trading.exchange_data.candles import CandlesManager


def test_add_candles_and_read_views(btc_1h_rows):
    buf = CandlesManager("BTC/USDT", "1h", capacity=1000)
    for row in btc_1h_rows[:50]:
        assert buf.add_candle(*row)
    assert len(buf) == 50
    expected = np.array(btc_1h_rows[:50])
    np.testing.assert_array_equal(buf.times(), expected[:, 0].astype(np.int64))
    np.testing.assert_array_equal(buf.opens(), expected[:, 1])
    np.testing.assert_array_equal(buf.highs(), expected[:, 2])
    np.testing.assert_array_equal(buf.lows(), expected[:, 3])
    np.testing.assert_array_equal(buf.closes(), expected[:, 4])
    np.testing.assert_array_equal(buf.volumes(), expected[:, 5])
    np.testing.assert_array_equal(buf.closes(limit=3), expected[-3:, 4])
    assert buf.closes(limit=0).size == 0
    assert buf.closes(limit=10_000).size == 50
    assert buf.closes().base is not None  # a view, not a copy
    assert buf.times().dtype == np.int64 and buf.closes().dtype == np.float64
    assert buf.ohlcv(limit=2).shape == (5, 2)
    assert buf.last_timestamp == btc_1h_rows[49][0]
    assert buf.last_close == btc_1h_rows[49][4]
    last = buf.last_candle()
    assert last is not None and str(last.close) == repr(btc_1h_rows[49][4])
    with pytest.raises(ValueError):
        buf.closes(limit=-1)


def test_ring_keeps_last_capacity_candles_through_many_wraps(btc_1h_rows):
    buf = CandlesManager("BTC/USDT", "1h", capacity=64, slack=5)
    for i, row in enumerate(btc_1h_rows):
        buf.add_candle(*row)
        n = min(i + 1, 64)
        window = np.array(btc_1h_rows[i + 1 - n : i + 1])
        if i % 7 == 0 or i == len(btc_1h_rows) - 1:
            np.testing.assert_array_equal(buf.closes(), window[:, 4])
            np.testing.assert_array_equal(buf.times(), window[:, 0].astype(np.int64))
    assert len(buf) == 64
    assert buf.nbytes == (64 + 5) * 6 * 8


def test_same_open_time_replaces_older_is_ignored(btc_1h_rows):
    buf = CandlesManager("BTC/USDT", "1h", capacity=10)
    t0, t1 = btc_1h_rows[0][0], btc_1h_rows[1][0]
    buf.add_candle(t0, 1.0, 2.0, 0.5, 1.5, 1.0)
    buf.add_candle(t1, 1.0, 2.0, 0.5, 1.5, 1.0)
    assert not buf.add_candle(t1, 1.0, 3.0, 0.5, 2.5, 2.0)  # corrected last candle: overwritten, not new
    assert not buf.add_candle(t0, 9.0, 9.0, 9.0, 9.0, 9.0)  # late, older: ignored
    assert buf.closes().tolist() == [1.5, 2.5]
    assert buf.highs().tolist() == [2.0, 3.0]


def test_extend_and_replace_all(btc_1h_rows, btc_1h_candles):
    buf = CandlesManager("BTC/USDT", "1h", capacity=100)
    assert buf.replace_all(btc_1h_candles[:30]) == 30
    arr = np.array(btc_1h_rows)
    # overlapping extend: only newer candles are appended
    added = buf.extend(arr[20:250, 0], arr[20:250, 1], arr[20:250, 2], arr[20:250, 3], arr[20:250, 4], arr[20:250, 5])
    assert added == 220
    np.testing.assert_array_equal(buf.closes(), arr[150:250, 4])
    for row in btc_1h_rows[250:260]:
        buf.add_candle(*row)
    np.testing.assert_array_equal(buf.closes(), arr[160:260, 4])
    assert buf.extend_candles(btc_1h_candles[:10]) == 0
    assert buf.replace_all(btc_1h_candles[:5]) == 5
    np.testing.assert_array_equal(buf.times(), arr[:5, 0].astype(np.int64))


def test_bad_input_is_refused_without_state_change(btc_1h_rows):
    with pytest.raises(ConfigurationError):
        CandlesManager("BTC/USDT", "1h", capacity=0)
    with pytest.raises(ConfigurationError):
        CandlesManager("BTC/USDT", "2m")
    buf = CandlesManager("BTC/USDT", "1h", capacity=10)
    buf.add_candle(*btc_1h_rows[0])
    with pytest.raises(DataError):
        buf.extend([3, 2], [1, 1], [1, 1], [1, 1], [1, 1], [1, 1])
    with pytest.raises(DataError):
        buf.extend([3, 4], [1, 1], [1, 1], [1], [1, 1], [1, 1])
    assert len(buf) == 1 and buf.closes().tolist() == [btc_1h_rows[0][4]]


def test_int_float_and_numpy_timestamps_are_stored_alike() -> None:
    buf = CandlesManager("BTC/USDT", "1m", capacity=10)
    assert buf.add_candle(60_000, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert buf.add_candle(120_000.0, 1.5, 2.5, 1.0, 2.0, 4.0)  # type: ignore[arg-type]
    assert buf.add_candle(np.int64(180_000), 2.0, 3.0, 1.5, 2.5, 5.0)  # type: ignore[arg-type]
    assert not buf.add_candle(180_000.0, 2.0, 3.5, 1.5, 3.0, 6.0)  # type: ignore[arg-type]  # same open time: replaced
    np.testing.assert_array_equal(buf.times(), np.array([60_000, 120_000, 180_000], dtype=np.int64))
    np.testing.assert_array_equal(buf.closes(), np.array([1.5, 2.0, 3.0]))
    assert buf.last_close == 3.0
