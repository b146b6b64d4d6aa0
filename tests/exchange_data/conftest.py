"""Shared fixtures of the market-data tests: real candles and book data (see fixtures/PROVENANCE.md)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from octobot_trading.exchanges.types import Candle
from octobot_trading.util.decimals import decimal_from_data_float

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def btc_1h_rows() -> list[list[float]]:
    """600 real Binance BTC/USDT 1h candles as ``[ms, o, h, l, c, v]`` rows."""
    return json.loads((FIXTURES / "BTC_USDT-1h-first600.json").read_text())


@pytest.fixture(scope="session")
def btc_1h_candles(btc_1h_rows: list[list[float]]) -> list[Candle]:
    """The same candles as typed :class:`Candle` objects."""
    return [Candle(int(r[0]), *(decimal_from_data_float(x) for x in r[1:])) for r in btc_1h_rows]


def read_depth(name: str) -> list[dict[str, str]]:
    """Rows of a Binance depth CSV fixture."""
    with open(FIXTURES / name, newline="") as handle:
        return list(csv.DictReader(handle))


def levels(rows: list[dict[str, str]], side: str) -> list[tuple[Decimal, Decimal]]:
    """``(price, qty)`` pairs of one side of depth rows."""
    return [(Decimal(r["price"]), Decimal(r["qty"])) for r in rows if r["side"] == side]
