"""The data collector against the project's fake Binance server, through the real ccxt client."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, data_file
from octobot_trading.backtesting.collector import download_data
from octobot_trading.config import ExchangeConfig
from octobot_trading.errors import DataFileError
from octobot_trading.exchanges.connectors.ccxt.connector import CCXTConnector
from octobot_trading.testing.fake_exchange import FakeExchangeServer, FakeMarket, load_candles

FIXTURES = Path(__file__).parent / "fixtures"


def _connector(server: FakeExchangeServer) -> CCXTConnector:
    config = ExchangeConfig(exchange="binance", ccxt_options=server.ccxt_config())
    return CCXTConnector(config, ot.LiveClock(), client_hook=server.client_hook)


async def test_download_pages_resumes_and_matches_the_source(tmp_path: Path) -> None:
    out = tmp_path / "data.sqlite"
    async with FakeExchangeServer(start_index=99) as server:
        connector = _connector(server)
        try:
            first = await download_data(
                connector, symbols=["BTC/USDT", "ETH/USDT"], time_frames=["1h"], since_ms=0, out=out, page_limit=30
            )
            assert [s.downloaded for s in first.series] == [100, 100]
            assert first.series[0].requests >= 4  # paged 30 at a time
            assert first.series[0].resumed_from is None
            server.advance(40)
            second = await download_data(
                connector, symbols=["BTC/USDT"], time_frames=["1h"], since_ms=0, out=out, page_limit=30
            )
        finally:
            await connector.close()
    report = second.series[0]
    assert report.resumed_from == first.series[0].last_ms
    assert report.downloaded == 40 and report.gaps == []
    data = CandleData.from_file(out)
    assert data.exchange == "binance"
    btc = data.get("BTC/USDT", "1h")
    source = load_candles(ot.testing.fake_exchange.DEFAULT_DATA_DIR / "BTC_USDT-1h.json")[:140]
    assert btc.times.tolist() == [row[0] for row in source]
    assert [btc.close_decimal(i) for i in range(len(btc))] == [row[4] for row in source]
    assert data.markets["BTC/USDT"].amount_step == ot.to_decimal("0.00001")


async def test_download_reports_exchange_gaps_without_inventing_candles(tmp_path: Path) -> None:
    rows = load_candles(FIXTURES / "BTC_USDT-5m-gap.json")
    market = FakeMarket("BTC", "USDT", rows, 300_000)
    out = tmp_path / "gap.sqlite"
    async with FakeExchangeServer([market], start_index=len(rows) - 1) as server:
        connector = _connector(server)
        try:
            result = await download_data(
                connector, symbols=["BTC/USDT"], time_frames=["5m"], since_ms=rows[0][0], out=out, page_limit=25
            )
        finally:
            await connector.close()
    series_report = result.series[0]
    assert series_report.downloaded == 40
    assert [(g.after_ms, g.missing) for g in series_report.gaps] == [(1608559500000, 46)]
    stored = CandleData.from_file(out).get("BTC/USDT", "5m")
    assert len(stored) == 40 and stored.gaps == [ot.backtesting.Gap(1608559500000, 1608573600000, 46)]
    assert np.array_equal(stored.times, np.array([r[0] for r in rows]))


async def test_download_refuses_a_file_of_another_exchange(tmp_path: Path) -> None:
    out = tmp_path / "other.sqlite"
    data_file.write(out, CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json", exchange="kraken"))
    async with FakeExchangeServer() as server:
        connector = _connector(server)
        try:
            with pytest.raises(DataFileError, match="kraken"):
                await download_data(connector, symbols=["BTC/USDT"], time_frames=["1h"], since_ms=0, out=out)
        finally:
            await connector.close()


def _data_file_of_version_99(path: Path) -> None:
    data_file.write(path, CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json", exchange="binance"))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    conn.close()


def _older_data_file_of_another_exchange(path: Path) -> None:
    data_file.write(path, CandleData.from_file(FIXTURES / "BTC_USDT-1h-head50.json", exchange="kraken"))
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE mark_candles")  # written before mark candles were stored
    conn.close()


def _not_sqlite(path: Path) -> None:
    path.write_bytes(b"not sqlite" * 100)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_data_file_of_version_99, "'99'"),
        (_not_sqlite, "not a database"),
        (_older_data_file_of_another_exchange, "kraken"),
    ],
    ids=["other_version", "not_sqlite", "other_exchange_without_mark_candles"],
)
async def test_download_into_a_file_it_cannot_add_to_is_refused_and_leaves_it_unchanged(
    tmp_path: Path, make, message: str
) -> None:
    out = tmp_path / "data.sqlite"
    make(out)
    before = out.read_bytes()
    async with FakeExchangeServer() as server:
        connector = _connector(server)
        try:
            with pytest.raises(DataFileError, match=message) as info:
                await download_data(connector, symbols=["BTC/USDT"], time_frames=["1h"], since_ms=0, out=out)
        finally:
            await connector.close()
    assert info.value.path == str(out)
    assert out.read_bytes() == before
