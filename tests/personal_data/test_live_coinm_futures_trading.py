"""Live inverse futures end to end: ``ExchangeBuilder("binancecoinm")`` on ``BTC/USD:BTC`` (100 USD
contracts margined in BTC) with the real trader, the real ccxt ``binancecoinm`` client and the fake
COIN-M venue (loopback, REST only). Local positions and the BTC balance equal the venue's after
every step of open, grow, reduce, flip and close; hedge mode holds both sides; funding received
shows in the balance and the transactions; a position liquidated on the venue disappears locally
with the liquidation reported; a reduce-only order the venue refuses is a typed error that
changes nothing locally."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import PositionSide, TransactionType
from octobot_trading.testing import FakeCoinMServer
from tests.exchange_data.helpers import until
from tests.personal_data.live_futures import collect_liquidations, polled, running

D = Decimal
BTC = "BTC/USD:BTC"
VENUE_ID = "BTCUSD_PERP"
POLL_SECONDS = 600.0


@pytest.fixture
async def venue() -> AsyncIterator[FakeCoinMServer]:
    async with FakeCoinMServer() as server:
        yield server


def _builder(venue: FakeCoinMServer, clock: SimulatedClock) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binancecoinm")
        .with_credentials(api_key=venue.api_key, api_secret=venue.api_secret)
        .with_market_type("inverse")
        .with_symbols([BTC])
        .with_time_frames(["1h"])
        .with_ccxt_options({**venue.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(venue.client_hook)
        .with_clock(clock)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, account_poll_seconds=POLL_SECONDS)
        .use_real_trader()
        .rest_only(True)
    )


@pytest.fixture
async def manager(venue: FakeCoinMServer) -> AsyncIterator[tuple[Any, SimulatedClock]]:
    clock = SimulatedClock(venue.market(VENUE_ID).now_ms)
    async with running(_builder(venue, clock)) as built:
        yield built, clock


def _local(manager: Any, side: PositionSide | None = None) -> Any:
    return manager.exchange_personal_data.positions_manager.get(BTC, side)


async def _assert_follows_venue(manager: Any, venue: FakeCoinMServer) -> None:
    """Every local position and the BTC balance equal the venue's exactly."""
    futures = venue.futures_account().futures
    for side in (PositionSide.LONG, PositionSide.SHORT):
        local, theirs = _local(manager, side), futures.get(BTC, side)
        assert (local is None) == (theirs is None), side
        if local is not None:
            assert (local.size, local.entry_price, local.leverage) == (theirs.size, theirs.entry_price, theirs.leverage)
            assert (local.margin_mode, local.initial_margin) == (theirs.margin_mode, theirs.initial_margin)
            assert local.liquidation_price == theirs.liquidation_price
    balance = (await manager.exchange.fetch_balance())["BTC"]
    assert balance.total == futures.wallet("BTC")
    asset = manager.exchange_personal_data.portfolio_manager.portfolio.get_currency_portfolio("BTC")
    assert (asset.total, asset.available) == (balance.total, balance.free)


async def _trade(manager: Any, side: ot.OrderSide, amount: str, expected: Any, **kwargs: Any) -> None:
    """A market order through the trader; wait for the account poll it brings forward."""
    await manager.trader.create_order(ot.OrderType.MARKET, side, BTC, amount=amount, **kwargs)
    await until(lambda: expected(_local(manager, kwargs.get("position_side"))))


async def test_inverse_positions_follow_the_venue_through_open_grow_reduce_flip_and_close(
    manager: tuple[Any, Any], venue: FakeCoinMServer
) -> None:
    built, _ = manager
    trader = built.trader
    assert await trader.set_leverage(BTC, "5") == D(5)
    await trader.set_margin_mode(BTC, ot.MarginMode.ISOLATED)

    await _trade(built, ot.OrderSide.BUY, "10", lambda p: p is not None and p.size == D(10))
    opened = _local(built)
    assert (opened.side, opened.leverage, opened.margin_mode) == (PositionSide.LONG, D(5), ot.MarginMode.ISOLATED)
    await _assert_follows_venue(built, venue)

    venue.set_last_price(VENUE_ID, venue.market(VENUE_ID).last_price + D(500))
    await _trade(built, ot.OrderSide.BUY, "20", lambda p: p.size == D(30))
    await _assert_follows_venue(built, venue)
    await _trade(built, ot.OrderSide.SELL, "12", lambda p: p.size == D(18), reduce_only=True)
    await _assert_follows_venue(built, venue)
    await _trade(built, ot.OrderSide.SELL, "25", lambda p: p.side is PositionSide.SHORT)
    assert _local(built).size == D(7)
    await _assert_follows_venue(built, venue)
    await _trade(built, ot.OrderSide.BUY, "7", lambda p: p is None, reduce_only=True)
    await _assert_follows_venue(built, venue)
