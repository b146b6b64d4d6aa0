"""Live inverse futures end to end: ``ExchangeBuilder("binancecoinm")`` on ``BTC/USD:BTC`` (100 USD
contracts margined in BTC) with the real trader, the real ccxt ``binancecoinm`` client and the fake
COIN-M venue (loopback, REST only). Local positions and the BTC balance equal the venue's after
every step of open, grow, reduce, flip and close; hedge mode holds both sides; funding received
shows in the BTC balance and the transactions; a position liquidated on the venue disappears
locally with the liquidation (its margin in BTC) reported."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import PositionSide, TransactionType
from octobot_trading.testing import FakeCoinMServer
from octobot_trading.util.decimals import divide_to_step
from tests.exchanges.futures_venues import COINM
from tests.personal_data.live_futures import (
    assert_follows_venue,
    collect_liquidations,
    live_futures_builder,
    local_position,
    polled,
    running,
    trade,
    venue_clock,
)

BTC = COINM.symbol
VENUE_ID = COINM.venue_id
D = Decimal
STEP = D("1e-18")  # the accounting's rounding of every quotient
POLL_SECONDS = 600.0


@pytest.fixture
async def venue() -> AsyncIterator[FakeCoinMServer]:
    async with FakeCoinMServer() as server:
        yield server


@pytest.fixture
async def manager(venue: FakeCoinMServer) -> AsyncIterator[tuple[Any, SimulatedClock]]:
    clock = venue_clock(venue, COINM)
    builder = live_futures_builder(venue, clock, kind=COINM, account_poll_seconds=POLL_SECONDS).rest_only(True)
    async with running(builder) as built:
        yield built, clock


async def _trade(manager: Any, side: ot.OrderSide, amount: str, expected: Any, **kwargs: Any) -> None:
    """A market order through the trader; wait for the account poll it brings forward."""
    await trade(manager, side, amount, expected, COINM, **kwargs)


def _position(manager: Any, side: PositionSide | None = None) -> Any:
    return local_position(manager, side, COINM)


async def test_live_inverse_manager_is_ready_with_the_btc_margined_contract(manager: tuple[Any, Any]) -> None:
    built, _ = manager
    assert {"positions", "contracts", f"funding:{BTC}"} <= set(built.readiness.required)
    assert built.readiness.is_ready and built.is_future
    asset = built.exchange_personal_data.portfolio_manager.portfolio.get_currency_portfolio("BTC")
    assert (asset.total, asset.available) == (D(1), D(1))
    assert _position(built) is None


async def test_inverse_positions_follow_the_venue_through_open_grow_reduce_flip_and_close(
    manager: tuple[Any, Any], venue: FakeCoinMServer
) -> None:
    built, _ = manager
    trader = built.trader
    assert await trader.set_leverage(BTC, "5") == D(5)
    await trader.set_margin_mode(BTC, ot.MarginMode.ISOLATED)

    await _trade(built, ot.OrderSide.BUY, "10", lambda p: p is not None and p.size == D(10))
    opened = _position(built)
    assert (opened.side, opened.leverage, opened.margin_mode) == (PositionSide.LONG, D(5), ot.MarginMode.ISOLATED)
    first_price = opened.entry_price
    assert opened.initial_margin == divide_to_step(D(1000), first_price * 5, STEP)  # q / (entry x leverage), BTC
    await assert_follows_venue(built, venue, COINM)

    venue.set_last_price(VENUE_ID, first_price + D(500))
    await _trade(built, ot.OrderSide.BUY, "20", lambda p: p.size == D(30))
    grown = _position(built)
    harmonic = D(3000) / (D(1000) / first_price + D(2000) / (first_price + D(500)))
    assert abs(grown.entry_price - harmonic) < D("1e-12")  # the contract-weighted harmonic mean
    await assert_follows_venue(built, venue, COINM)
    await _trade(built, ot.OrderSide.SELL, "12", lambda p: p.size == D(18), reduce_only=True)
    await assert_follows_venue(built, venue, COINM)
    await _trade(built, ot.OrderSide.SELL, "25", lambda p: p.side is PositionSide.SHORT)
    assert _position(built).size == D(7)
    await assert_follows_venue(built, venue, COINM)
    await _trade(built, ot.OrderSide.BUY, "7", lambda p: p is None, reduce_only=True)
    await assert_follows_venue(built, venue, COINM)


async def test_inverse_hedge_mode_holds_both_sides(manager: tuple[Any, Any], venue: FakeCoinMServer) -> None:
    built, _ = manager
    await built.trader.set_position_mode(BTC, ot.PositionMode.HEDGE)
    await _trade(built, ot.OrderSide.BUY, "10", lambda p: p is not None, position_side=PositionSide.LONG)
    await _trade(built, ot.OrderSide.SELL, "4", lambda p: p is not None, position_side=PositionSide.SHORT)
    long, short = _position(built, PositionSide.LONG), _position(built, PositionSide.SHORT)
    assert (long.size, short.size) == (D(10), D(4))
    await assert_follows_venue(built, venue, COINM)
    await _trade(built, ot.OrderSide.SELL, "10", lambda p: p is None, position_side=PositionSide.LONG)
    assert _position(built, PositionSide.SHORT).size == D(4)
    await assert_follows_venue(built, venue, COINM)


async def test_inverse_funding_received_in_btc_shows_in_the_balance_and_the_transactions(
    manager: tuple[Any, SimulatedClock], venue: FakeCoinMServer
) -> None:
    built, clock = manager
    await _trade(built, ot.OrderSide.SELL, "10", lambda p: p is not None)  # a short receives a positive rate
    mark = venue.market(VENUE_ID).mark_price
    (received,) = venue.settle_funding(VENUE_ID, "0.001")
    assert received == divide_to_step(D(1000), mark, STEP) * D("0.001")  # notional in BTC at the mark x rate
    transactions = built.exchange_personal_data.transactions_manager
    await polled(clock, POLL_SECONDS, lambda: transactions.total(TransactionType.FUNDING_FEE, "BTC") == received)
    (funding,) = transactions.transactions(TransactionType.FUNDING_FEE)
    assert (funding.symbol, funding.currency, funding.amount) == (BTC, "BTC", received)
    await assert_follows_venue(built, venue, COINM)


async def test_inverse_position_liquidated_on_the_venue_disappears_and_is_recorded(
    manager: tuple[Any, SimulatedClock], venue: FakeCoinMServer
) -> None:
    built, clock = manager
    liquidations = collect_liquidations(built)
    await built.trader.set_leverage(BTC, "20")
    await built.trader.set_margin_mode(BTC, ot.MarginMode.ISOLATED)
    await _trade(built, ot.OrderSide.SELL, "30", lambda p: p is not None)
    position = _position(built)
    assert position.side is PositionSide.SHORT and position.liquidation_price > position.entry_price
    wallet_before = venue.futures_account().futures.wallet("BTC")
    venue.set_mark_price(VENUE_ID, position.liquidation_price * D("1.02"))
    assert venue.futures_account().futures.get(BTC) is None
    assert venue.futures_account().futures.wallet("BTC") == wallet_before - position.initial_margin
    await polled(clock, POLL_SECONDS, lambda: _position(built) is None and liquidations)
    (liquidation,) = liquidations
    assert (liquidation.symbol, liquidation.side, liquidation.size) == (BTC, PositionSide.SHORT, D(30))
    assert liquidation.margin_lost == position.initial_margin
    await assert_follows_venue(built, venue, COINM)
