"""Live futures trading end to end: ``ExchangeBuilder("binanceusdm")`` on a linear market with the
real trader, the real ccxt client and the fake USDⓈ-M venue (loopback, REST only). The manager
is ready only with positions, contracts and funding; local positions follow the venue through
open, grow, reduce, flip and close, hedge mode holds both sides, funding shows in the balance
and the transactions, and a position liquidated on the venue disappears locally with the
liquidation reported to the positions manager's listeners."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading import errors
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import PositionSide, TransactionType
from octobot_trading.personal_data.positions.accounting import Liquidation
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing import FakeFuturesServer
from tests.exchanges.futures_venues import USDM, venue_client
from tests.personal_data.live_futures import (
    XRP,
    assert_follows_venue,
    collect_liquidations,
    live_futures_builder,
    local_position,
    polled,
    running,
    trade,
    venue_clock,
)

D = Decimal
POLL_SECONDS = 600.0


@pytest.fixture
async def venue() -> AsyncIterator[FakeFuturesServer]:
    async with FakeFuturesServer() as server:
        yield server


@pytest.fixture
async def manager(venue: FakeFuturesServer) -> AsyncIterator[tuple[Any, SimulatedClock]]:
    async with _live_manager(venue) as built:
        yield built


@contextlib.asynccontextmanager
async def _live_manager(venue: FakeFuturesServer) -> AsyncIterator[tuple[Any, SimulatedClock]]:
    clock = venue_clock(venue)
    async with running(live_futures_builder(venue, clock, account_poll_seconds=POLL_SECONDS).rest_only(True)) as built:
        yield built, clock


async def test_live_futures_manager_waits_for_positions_contracts_and_funding(manager: tuple[Any, Any]) -> None:
    built, _ = manager
    assert {"positions", "contracts", f"funding:{XRP}"} <= set(built.readiness.required)
    assert built.readiness.is_ready and built.is_future
    assert local_position(built) is None


async def test_positions_follow_the_venue_through_open_grow_reduce_flip_and_close(
    manager: tuple[Any, Any], venue: FakeFuturesServer
) -> None:
    built, _ = manager
    trader = built.trader
    assert await trader.set_leverage(XRP, "5") == D(5)
    await trader.set_margin_mode(XRP, ot.MarginMode.ISOLATED)

    await trade(built, ot.OrderSide.BUY, "100", lambda p: p is not None and p.size == D(100))
    opened = local_position(built)
    assert (opened.side, opened.leverage, opened.margin_mode) == (PositionSide.LONG, D(5), ot.MarginMode.ISOLATED)
    await assert_follows_venue(built, venue)

    await trade(built, ot.OrderSide.BUY, "50", lambda p: p.size == D(150))
    await assert_follows_venue(built, venue)
    await trade(built, ot.OrderSide.SELL, "30", lambda p: p.size == D(120), reduce_only=True)
    await assert_follows_venue(built, venue)
    await trade(built, ot.OrderSide.SELL, "200", lambda p: p.side is PositionSide.SHORT)
    assert local_position(built).size == D(80)
    await assert_follows_venue(built, venue)
    await trade(built, ot.OrderSide.BUY, "80", lambda p: p is None, reduce_only=True)
    await assert_follows_venue(built, venue)


async def test_hedge_mode_holds_both_sides_through_the_trader(
    manager: tuple[Any, Any], venue: FakeFuturesServer
) -> None:
    built, _ = manager
    await built.trader.set_position_mode(XRP, ot.PositionMode.HEDGE)
    await trade(built, ot.OrderSide.BUY, "100", lambda p: p is not None, position_side=PositionSide.LONG)
    await trade(built, ot.OrderSide.SELL, "40", lambda p: p is not None, position_side=PositionSide.SHORT)
    long, short = local_position(built, PositionSide.LONG), local_position(built, PositionSide.SHORT)
    assert (long.size, short.size) == (D(100), D(40))
    await assert_follows_venue(built, venue)
    with pytest.raises(errors.InvalidOrder) as caught:  # hedge mode needs the side: refused before sending
        await built.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, XRP, amount="1")
    assert caught.value.limit == "position_side"
    await trade(built, ot.OrderSide.SELL, "100", lambda p: p is None, position_side=PositionSide.LONG)
    assert local_position(built, PositionSide.SHORT).size == D(40)
    await assert_follows_venue(built, venue)


async def test_funding_received_shows_in_the_balance_and_the_transactions(
    manager: tuple[Any, SimulatedClock], venue: FakeFuturesServer
) -> None:
    built, clock = manager
    await trade(built, ot.OrderSide.SELL, "100", lambda p: p is not None)  # a short receives a positive rate
    (received,) = venue.settle_funding("XRPUSDT", "0.001")
    assert received > 0
    transactions = built.exchange_personal_data.transactions_manager
    await polled(clock, POLL_SECONDS, lambda: transactions.total(TransactionType.FUNDING_FEE, "USDT") == received)
    (funding,) = transactions.transactions(TransactionType.FUNDING_FEE)
    assert (funding.symbol, funding.currency, funding.amount) == (XRP, "USDT", received)
    await assert_follows_venue(built, venue)


async def test_position_liquidated_on_the_venue_disappears_and_is_recorded(
    manager: tuple[Any, SimulatedClock], venue: FakeFuturesServer
) -> None:
    built, clock = manager
    liquidations = collect_liquidations(built)
    await built.trader.set_leverage(XRP, "10")
    await built.trader.set_margin_mode(XRP, ot.MarginMode.ISOLATED)
    await trade(built, ot.OrderSide.BUY, "100", lambda p: p is not None)
    position = local_position(built)
    assert position.liquidation_price is not None
    venue.set_mark_price("XRPUSDT", position.liquidation_price * D("0.95"))
    await polled(clock, POLL_SECONDS, lambda: local_position(built) is None and liquidations)  # the next poll
    (liquidation,) = liquidations
    assert (liquidation.symbol, liquidation.side, liquidation.size) == (XRP, PositionSide.LONG, D(100))
    assert liquidation.margin_lost == position.initial_margin
    component = built.get_component("trader", TraderComponent)
    assert component.futures_sync is not None and [x.contracts for x in component.futures_sync.liquidations] == [D(100)]
    await assert_follows_venue(built, venue)


async def test_bad_futures_input_is_refused_before_anything_is_sent(
    manager: tuple[Any, Any], venue: FakeFuturesServer
) -> None:
    built, _ = manager
    trader = built.trader
    await trade(built, ot.OrderSide.BUY, "100", lambda p: p is not None)
    orders_sent = venue.faults.count("POST", "/fapi/v1/order")
    with pytest.raises(TypeError):
        await trader.set_leverage(XRP, 5.0)
    with pytest.raises(errors.InvalidOrder) as grows:
        await trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, XRP, amount="10", reduce_only=True)
    assert grows.value.limit == "reduce_only"
    with pytest.raises(errors.OpenPositionsError):
        await trader.set_margin_mode(XRP, ot.MarginMode.ISOLATED)
    assert venue.faults.count("POST", "/fapi/v1/order") == orders_sent
    assert local_position(built).size == D(100)
    await assert_follows_venue(built, venue)


async def test_funding_and_liquidations_from_before_the_session_are_not_recorded(venue: FakeFuturesServer) -> None:
    async with venue_client(USDM, venue) as client:  # before the engine runs: a position pays funding and is liquidated
        await client.set_margin_mode("isolated", XRP)
        await client.set_leverage(10, XRP)
        await client.create_order(XRP, "market", "buy", "100")
        venue.settle_funding("XRPUSDT", "0.001")
        venue_position = venue.futures_account().futures.get(XRP)
        assert venue_position is not None and venue_position.liquidation_price is not None
        assert venue.set_mark_price("XRPUSDT", venue_position.liquidation_price * D("0.95"))
    liquidations: list[Liquidation] = []

    async def on_liquidation(liquidation: Liquidation) -> None:
        liquidations.append(liquidation)

    venue.set_mark_price("XRPUSDT", venue.market("XRPUSDT").last_price)
    async with _live_manager(venue) as (built, clock):
        built.exchange_personal_data.positions_manager.add_liquidation_listener(on_liquidation)
        await trade(built, ot.OrderSide.BUY, "100", lambda p: p is not None)
        await trade(built, ot.OrderSide.SELL, "100", lambda p: p is None, reduce_only=True)  # reads liquidations
        clock.advance(round(POLL_SECONDS * 1000))  # and a poll reading funding
        component = built.get_component("trader", TraderComponent)
        assert component.futures_sync is not None
        await component.futures_sync.read_funding(force=True)
        assert liquidations == [] and component.futures_sync.liquidations == []
        assert built.exchange_personal_data.transactions_manager.transactions(TransactionType.FUNDING_FEE) == []
