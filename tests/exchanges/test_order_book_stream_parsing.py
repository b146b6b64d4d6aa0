"""The order book of a depth stream is parsed again on every update; only the levels that changed
since the previous book are converted again, and the result is the same book as a full parse."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from octobot_trading.errors import BadExchangeResponse
from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter

SYMBOL = "BTC/USDT"


def _raw(bids: list[list[Any]], asks: list[list[Any]]) -> dict[str, Any]:
    return {"bids": bids, "asks": asks, "timestamp": 1_700_000_000_000, "nonce": 7, "symbol": SYMBOL}


def _moved(rows: list[list[Any]], rng: random.Random, step: float) -> list[list[Any]]:
    """A few levels' amounts changed, one removed, one added beyond the last (a diff's effect)."""
    rows = [list(row) for row in rows]
    for index in rng.sample(range(len(rows)), 5):
        rows[index][1] = round(rng.uniform(0.001, 3.0), 3)
    del rows[rng.randrange(len(rows))]
    rows.append([round(rows[-1][0] + step, 2), 0.5])
    return rows


def test_a_streamed_book_parsed_from_the_previous_books_levels_equals_a_full_parse() -> None:
    adapter = CCXTAdapter("binance")
    rng = random.Random(5)
    bids = [[round(30000 - 0.01 * i, 2), round(0.001 * i + 0.001, 3)] for i in range(1000)]
    asks = [[round(30000.01 + 0.01 * i, 2), round(0.002 * i + 0.001, 3)] for i in range(1000)]
    previous: dict[Any, tuple[Decimal, Decimal]] | None = None
    for _update in range(20):
        seen: dict[Any, tuple[Decimal, Decimal]] = {}
        cached = adapter.parse_order_book(_raw(bids, asks), SYMBOL, previous=previous, seen=seen)
        full = adapter.parse_order_book(_raw(bids, asks), SYMBOL)
        assert cached == full
        assert [tuple(map(str, level)) for level in cached.bids] == [tuple(map(str, level)) for level in full.bids]
        assert len(seen) == len(bids) + len(asks)  # this book's levels only: the cache never grows
        previous = seen
        bids, asks = _moved(bids, rng, -0.01), _moved(asks, rng, 0.01)


def test_a_level_equal_on_the_other_side_is_not_taken_from_it() -> None:
    adapter = CCXTAdapter("binance")
    seen: dict[Any, tuple[Decimal, Decimal]] = {}
    adapter.parse_order_book(_raw([[100.0, 1.0]], [[101.0, 2.0]]), SYMBOL, seen=seen)
    book = adapter.parse_order_book(_raw([[101.0, 2.0]], [[100.0, 1.0]]), SYMBOL, previous=seen, seen={})
    assert book.bids == [(Decimal("101.0"), Decimal("2.0"))] and book.asks == [(Decimal("100.0"), Decimal("1.0"))]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "1e999999999", None, [1]])
def test_a_changed_level_with_a_bad_number_is_refused_with_a_warm_cache(bad: Any) -> None:
    adapter = CCXTAdapter("binance")
    seen: dict[Any, tuple[Decimal, Decimal]] = {}
    adapter.parse_order_book(_raw([[100.0, 1.0], [99.0, 1.0]], [[101.0, 2.0]]), SYMBOL, seen=seen)
    with pytest.raises(BadExchangeResponse):
        adapter.parse_order_book(_raw([[100.0, 1.0], [99.0, bad]], [[101.0, 2.0]]), SYMBOL, previous=seen, seen={})
