"""OrderBookManager: snapshots, sequenced deltas, gaps, never crossed, real Binance depth data."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octobot_trading.errors import BadExchangeResponse
from octobot_trading.exchange_data.order_book import OrderBookManager

from .conftest import levels, read_depth


def _book() -> OrderBookManager:
    book = OrderBookManager("BTC/USDT")
    book.apply_snapshot([(D("100"), D("1")), (D("99"), D("2"))], [(D("101"), D("1")), (D("102"), D("3"))], seq=10)
    return book


def test_snapshot_and_best_prices():
    book = OrderBookManager("BTC/USDT")
    assert book.best_bid() is None and book.best_ask() is None and book.needs_snapshot
    book = _book()
    assert book.best_bid() == (D("100"), D("1"))
    assert book.best_ask() == (D("101"), D("1"))
    assert book.spread() == D("1") and book.mid_price() == D("100.5")
    snap = book.snapshot(limit=1)
    assert snap.bids == [(D("100"), D("1"))] and snap.asks == [(D("101"), D("1"))] and snap.nonce == 10


def test_sequenced_deltas_stale_and_gap():
    book = _book()
    needed: list[str] = []
    book.on_snapshot_needed = needed.append
    assert book.apply_deltas([(D("100"), D("0")), (D("100.5"), D("4"))], [], first_seq=11, last_seq=12)
    assert book.best_bid() == (D("100.5"), D("4")) and book.seq == 12
    assert not book.apply_deltas([(D("98"), D("1"))], [], first_seq=11, last_seq=12)  # re-delivered
    assert book.bids() == [(D("100.5"), D("4")), (D("99"), D("2"))]
    assert not book.apply_deltas([], [(D("101"), D("0"))], first_seq=14, last_seq=15)  # 13 missing
    assert not book.valid and book.needs_snapshot and book.gaps == 1 and needed == ["BTC/USDT"]
    assert book.best_bid() is None and book.bids() == []
    assert not book.apply_deltas([], [(D("101"), D("0"))], first_seq=16, last_seq=16)
    book.apply_snapshot([(D("100"), D("1"))], [(D("101"), D("1"))], seq=20)
    assert book.valid and book.best_ask() == (D("101"), D("1"))
    # Binance rule: the first update after a snapshot may start before it (U <= seq+1 <= u)
    assert book.apply_deltas([(D("100"), D("5"))], [], first_seq=18, last_seq=22)
    assert book.best_bid() == (D("100"), D("5"))


def test_crossing_levels_remove_opposite_side():
    book = _book()
    book.apply_deltas([(D("101.5"), D("1"))], [])  # a bid above the best ask consumes it
    assert book.best_bid() == (D("101.5"), D("1")) and book.best_ask() == (D("102"), D("3"))
    book.apply_deltas([], [(D("99"), D("1"))])  # an ask below bids consumes them
    assert book.best_ask() == (D("99"), D("1")) and book.best_bid() is None


def test_malformed_input_changes_nothing():
    book = _book()
    with pytest.raises(BadExchangeResponse):
        book.apply_deltas([(D("100"), D("-1"))], [], first_seq=11, last_seq=11)
    with pytest.raises(BadExchangeResponse):
        book.apply_deltas([(D("100"), 1.0)], [])  # type: ignore[list-item]
    with pytest.raises(BadExchangeResponse):
        book.apply_snapshot([(D("102"), D("1"))], [(D("101"), D("1"))])  # crossed
    with pytest.raises(BadExchangeResponse):
        book.apply_snapshot([(D("0"), D("1"))], [])
    assert book.seq == 10 and book.best_bid() == (D("100"), D("1")) and book.best_ask() == (D("101"), D("1"))


def test_real_binance_depth_snapshot_then_non_contiguous_update_is_a_gap():
    snap_rows = read_depth("btcusdt-depth-snap.csv")
    update_rows = read_depth("btcusdt-depth-update.csv")
    book = OrderBookManager("BTC/USDT:USDT")
    seq = int(snap_rows[0]["last_update_id"])
    book.apply_snapshot(
        levels(snap_rows, "b"), levels(snap_rows, "a"), seq=seq, timestamp=int(snap_rows[0]["timestamp"])
    )
    assert book.best_bid() == (D("20377.00"), D("1.770"))
    assert len(book.bids()) == 100
    first, last = int(update_rows[0]["first_update_id"]), int(update_rows[0]["last_update_id"])
    assert not book.apply_deltas(levels(update_rows, "b"), levels(update_rows, "a"), first_seq=first, last_seq=last)
    assert book.needs_snapshot
    # with a snapshot just before it, the same update applies
    book.apply_snapshot(levels(snap_rows, "b"), [], seq=first - 1)
    assert book.apply_deltas(levels(update_rows, "b"), levels(update_rows, "a"), first_seq=first, last_seq=last)
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is not None and (ask is None or bid[0] < ask[0])
    assert all(amount > 0 for _, amount in book.bids() + book.asks())


_price = st.integers(min_value=1, max_value=60).map(lambda i: D(i))
_amount = st.integers(min_value=0, max_value=3).map(lambda i: D(i))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), _price, _amount), max_size=60))
def test_book_is_never_crossed_property(updates):
    book = OrderBookManager("X/Y")
    book.apply_snapshot([(D(29), D(1))], [(D(31), D(1))], seq=0)
    for seq, (is_bid, price, amount) in enumerate(updates, 1):
        side = [(price, amount)]
        book.apply_deltas(side if is_bid else [], [] if is_bid else side, first_seq=seq, last_seq=seq)
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None:
            assert bid[0] < ask[0]
        assert all(a > 0 for _, a in book.bids() + book.asks())
