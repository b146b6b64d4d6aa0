"""The fake USDⓈ-M venue's public data, read through the real ccxt ``binanceusdm`` client."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from octobot_trading.testing import FakeFuturesServer

XRP = "XRP/USDT:USDT"
DATA = Path(__file__).resolve().parents[2] / "octobot_trading" / "testing" / "data"
FUNDING_0 = 1637193600000  # 2021-11-18 00:00 UTC
FUNDING_1 = 1637222400000  # 2021-11-18 08:00 UTC


def _rows(name: str) -> list[list[Any]]:
    return list(json.loads((DATA / name).read_text(encoding="utf-8")))


async def test_markets_are_linear_perpetuals_with_the_venue_filters(usdm: Any) -> None:
    xrp = usdm.markets["XRP/USDT:USDT"]
    assert (xrp["id"], xrp["type"], xrp["linear"], xrp["settle"], xrp["contractSize"]) == (
        "XRPUSDT",
        "swap",
        True,
        "USDT",
        1.0,
    )
    assert xrp["precision"]["amount"] == 0.1 and xrp["precision"]["price"] == 0.0001
    assert xrp["limits"]["cost"]["min"] == 5.0 and xrp["limits"]["market"]["max"] == 2_000_000.0
    btc = usdm.markets["BTC/USDT:USDT"]
    assert btc["precision"]["amount"] == 0.001 and btc["limits"]["cost"]["min"] == 100.0


async def test_ohlcv_replays_the_real_futures_candles_up_to_now(usdm: Any, futures_venue: FakeFuturesServer) -> None:
    raw = _rows("XRP_USDT_USDT-5m-futures.json")
    candles = await usdm.fetch_ohlcv("XRP/USDT:USDT", "5m", limit=3)
    cursor = futures_venue.market("XRPUSDT").cursor
    assert [c[0] for c in candles] == [raw[i][0] for i in (cursor - 2, cursor - 1, cursor)]
    assert candles[-1][1:5] == [round(v, 4) for v in raw[cursor][1:5]]
    futures_venue.advance()
    later = await usdm.fetch_ohlcv("XRP/USDT:USDT", "5m", limit=1)
    assert later[0][0] == raw[cursor + 1][0]
    hourly = await usdm.fetch_ohlcv("XRP/USDT:USDT", "1h", limit=2)
    assert hourly[0][0] % 3_600_000 == 0 and hourly[1][0] - hourly[0][0] == 3_600_000


async def test_mark_price_klines_come_from_the_mark_price_data(usdm: Any, futures_venue: FakeFuturesServer) -> None:
    marks = _rows("XRP_USDT_USDT-1h-mark.json")
    now = futures_venue.market("XRPUSDT").now_ms
    closed = [row for row in marks if row[0] + 3_600_000 <= now]
    candles = await usdm.fetch_ohlcv("XRP/USDT:USDT", "1h", limit=2, params={"price": "mark"})
    assert [c[:5] for c in candles] == [[r[0], *(round(v, 8) for v in r[1:5])] for r in closed[-2:]]
    trades = await usdm.fetch_ohlcv("XRP/USDT:USDT", "1h", limit=2)
    assert candles[-1][4] != trades[-1][4]  # mark and last prices differ, as on the venue


async def test_funding_rate_quotes_mark_price_next_funding_time_and_rate(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    marks = _rows("XRP_USDT_USDT-1h-mark.json")
    now = futures_venue.market("XRPUSDT").now_ms
    last_closed_mark = [row for row in marks if row[0] + 3_600_000 <= now][-1][4]
    rate = await usdm.fetch_funding_rate("XRP/USDT:USDT")
    assert rate["markPrice"] == round(last_closed_mark, 8)
    assert rate["fundingTimestamp"] == FUNDING_1 and rate["fundingRate"] == 0.0001
    futures_venue.set_mark_price("XRPUSDT", "1.2345")
    assert (await usdm.fetch_funding_rate("XRP/USDT:USDT"))["markPrice"] == 1.2345


async def test_funding_rate_history_grows_as_the_replay_passes_funding_times(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    history = await usdm.fetch_funding_rate_history("XRP/USDT:USDT")
    assert [(h["timestamp"] // 1000 * 1000, h["fundingRate"]) for h in history] == [(FUNDING_0, 0.0001)]
    market = futures_venue.market("XRPUSDT")
    futures_venue.advance((FUNDING_1 - market.now_ms) // market.interval_ms)
    history = await usdm.fetch_funding_rate_history("XRP/USDT:USDT")
    assert [h["timestamp"] // 1000 * 1000 for h in history] == [FUNDING_0, FUNDING_1]
    since = await usdm.fetch_funding_rate_history("XRP/USDT:USDT", since=FUNDING_0 + 1000)
    assert [h["timestamp"] // 1000 * 1000 for h in since] == [FUNDING_1]


async def test_a_market_without_mark_data_marks_at_its_last_price(usdm: Any, futures_venue: FakeFuturesServer) -> None:
    rate = await usdm.fetch_funding_rate("BTC/USDT:USDT")
    assert Decimal(str(rate["markPrice"])) == futures_venue.market("BTCUSDT").last_price
    ticker = await usdm.fetch_ticker("BTC/USDT:USDT")
    assert Decimal(str(ticker["last"])) == futures_venue.market("BTCUSDT").last_price


async def test_book_ticker_trades_and_funding_interval_are_served(usdm: Any, futures_venue: FakeFuturesServer) -> None:
    market = futures_venue.market("XRPUSDT")
    quotes = await usdm.fetch_bids_asks([XRP])
    assert (Decimal(str(quotes[XRP]["bid"])), Decimal(str(quotes[XRP]["ask"]))) == (
        market.last_price - market.tick_size,
        market.last_price + market.tick_size,
    )
    assert (await usdm.fetch_funding_interval(XRP))["interval"] == "8h"
    await usdm.create_order(XRP, "market", "buy", 100)
    (trade,) = await usdm.fetch_trades(XRP)
    assert (trade["amount"], Decimal(str(trade["price"]))) == (100.0, market.last_price)
    mark = await usdm.fetch_mark_price(XRP)
    assert Decimal(str(mark["markPrice"])) == market.mark_price and mark["timestamp"] == market.now_ms


async def test_the_income_ledger_lists_commissions_and_realized_pnl(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    futures_venue.set_last_price("XRPUSDT", "1.2000")
    await usdm.create_order(XRP, "market", "buy", 100)
    futures_venue.set_last_price("XRPUSDT", "1.3000")
    await usdm.create_order(XRP, "market", "sell", 100)
    ledger = await usdm.fetch_ledger("USDT")
    rows = [(entry["info"]["incomeType"], Decimal(entry["info"]["income"])) for entry in ledger]
    assert rows == [
        ("COMMISSION", Decimal("-0.048")),
        ("REALIZED_PNL", Decimal("10")),
        ("COMMISSION", Decimal("-0.052")),
    ]
