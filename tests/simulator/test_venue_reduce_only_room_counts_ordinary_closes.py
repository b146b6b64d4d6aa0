"""The simulated venue judges a reduce-only order's room as the trader does: the position less
what earlier resting ordinary orders count on closing (each contract counted by at most one,
the earlier) less the other resting reduce-only orders. Linear XRP/USDT:USDT, a long of 100."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from octobot_trading.enums import OrderSide, PositionMode, PositionSide
from octobot_trading.errors import InvalidOrder
from octobot_trading.exchanges.connectors.simulator.futures_venue import FuturesVenue
from tests.simulator.test_futures_orders_positions_and_margin import XRP, xrp_spec

BUY, SELL = OrderSide.BUY, OrderSide.SELL
PRICE, FEE = D("1.2"), D("0.0004")


def _long_of_100(hedge: bool = False) -> FuturesVenue:
    venue = FuturesVenue({XRP: xrp_spec()}, {"USDT": D(10**6)})
    side = PositionSide.LONG if hedge else None
    if hedge:
        venue.set_position_mode(XRP, PositionMode.HEDGE)
    venue.reserve("entry", XRP, BUY, D(100), PRICE, FEE, False, side)
    venue.fill("t-entry", "entry", XRP, BUY, D(100), PRICE, FEE, 0)
    venue.release("entry")
    return venue


def test_a_resting_ordinary_close_leaves_the_reduce_only_order_only_the_rest() -> None:
    venue = _long_of_100()
    venue.reserve("ordinary", XRP, SELL, D(60), D("1.5"), FEE, False, None)
    wallet_before, available_before = venue.margin_before_orders()["USDT"]
    with pytest.raises(InvalidOrder) as refused:
        venue.reserve("ro-41", XRP, SELL, D(41), D("1.6"), FEE, True, None)
    assert refused.value.limit == "reduce_only" and refused.value.symbol == XRP
    assert "ro-41" not in venue.order_terms
    assert venue.margin_before_orders()["USDT"] == (wallet_before, available_before)
    venue.reserve("ro-40", XRP, SELL, D(40), D("1.6"), FEE, True, None)


def test_an_ordinary_close_partly_filled_counts_only_what_it_has_left() -> None:
    venue = _long_of_100()
    venue.reserve("ordinary", XRP, SELL, D(60), D("1.5"), FEE, False, None)
    venue.fill("t1", "ordinary", XRP, SELL, D(30), D("1.5"), FEE, 1)  # long 70, ordinary 30 left
    with pytest.raises(InvalidOrder):
        venue.reserve("ro-41", XRP, SELL, D(41), D("1.6"), FEE, True, None)
    venue.reserve("ro-40", XRP, SELL, D(40), D("1.6"), FEE, True, None)


def test_a_canceled_ordinary_close_no_longer_counts() -> None:
    venue = _long_of_100()
    venue.reserve("ordinary", XRP, SELL, D(60), D("1.5"), FEE, False, None)
    venue.release("ordinary")
    venue.reserve("ro-100", XRP, SELL, D(100), D("1.6"), FEE, True, None)


def test_an_ordinary_order_placed_later_or_opening_the_position_does_not_count() -> None:
    venue = _long_of_100()
    venue.reserve("ro-40", XRP, SELL, D(40), D("1.6"), FEE, True, None)
    venue.reserve("grow", XRP, BUY, D(50), D("1.0"), FEE, False, None)  # adds to the long: closes nothing
    venue.reserve("ordinary", XRP, SELL, D(60), D("1.5"), FEE, False, None)
    venue.reserve("ro-40", XRP, SELL, D(100), D("1.6"), FEE, True, None)  # an edit: only earlier orders count


def test_in_hedge_mode_an_ordinary_close_of_the_long_counts_on_its_side_only() -> None:
    venue = _long_of_100(hedge=True)
    venue.reserve("short", XRP, SELL, D(100), PRICE, FEE, False, PositionSide.SHORT)  # opens a short
    venue.reserve("ordinary", XRP, SELL, D(60), D("1.5"), FEE, False, PositionSide.LONG)
    with pytest.raises(InvalidOrder):
        venue.reserve("ro-41", XRP, SELL, D(41), D("1.6"), FEE, True, PositionSide.LONG)
    venue.reserve("ro-40", XRP, SELL, D(40), D("1.6"), FEE, True, PositionSide.LONG)
