"""A live futures trader takes the venue's contract settings at start: ``ExchangeBuilder("binanceusdm")``
with the real trader and the real ccxt client on the fake USDⓈ-M venue (loopback, REST only).

The venue keeps its leverage, margin mode and position mode across engine restarts; the trader
must not assume 1x / isolated / one-way. On Binance the position mode is one setting of the whole
account: the trader's model follows that."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

import octobot_trading as ot
from octobot_trading import errors
from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import PositionSide
from octobot_trading.testing import FakeFuturesServer
from tests.clock_driving import build_live, until_ready
from tests.exchange_data.helpers import until

D = Decimal
XRP, BTC = "XRP/USDT:USDT", "BTC/USDT:USDT"
SMALL_KEY, SMALL_SECRET = "small-account-key", "small-account-secret"


@pytest.fixture
async def venue() -> AsyncIterator[FakeFuturesServer]:
    async with FakeFuturesServer() as server:
        yield server


@contextlib.asynccontextmanager
async def _client(venue: FakeFuturesServer, key: str, secret: str) -> AsyncIterator[Any]:
    client = ccxt_async.binanceusdm({"apiKey": key, "secret": secret, "rateLimit": 1, **venue.ccxt_config()})
    venue.client_hook(client)
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def _live_manager(venue: FakeFuturesServer, key: str, secret: str) -> AsyncIterator[Any]:
    clock = SimulatedClock(venue.market("XRPUSDT").now_ms)
    built = await build_live(
        clock,
        ot.ExchangeBuilder("binanceusdm")
        .with_credentials(api_key=key, api_secret=secret)
        .with_market_type("linear")
        .with_symbols([XRP, BTC])
        .with_ccxt_options({**venue.ccxt_config(), "rateLimit": 1, "timeout": 3000})
        .with_client_hook(venue.client_hook)
        .with_clock(clock)
        .rest_only(True)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10}, account_poll_seconds=600.0)
        .use_real_trader(),
    )
    async with built:
        await until_ready(built)
        yield built


async def test_trader_takes_the_venues_leverage_margin_and_position_modes_at_start(venue: FakeFuturesServer) -> None:
    async with _client(venue, venue.api_key, venue.api_secret) as client:  # set before the engine runs
        await client.set_leverage(7, XRP)
        await client.set_margin_mode("isolated", XRP)
        await client.set_position_mode(True)
    async with _live_manager(venue, venue.api_key, venue.api_secret) as built:
        futures = built.trader.futures
        assert (futures.leverage(XRP), futures.margin_mode(XRP)) == (D(7), ot.MarginMode.ISOLATED)
        assert (futures.leverage(BTC), futures.margin_mode(BTC)) == (D(20), ot.MarginMode.CROSS)  # venue defaults
        assert futures.position_mode(XRP) is futures.position_mode(BTC) is ot.PositionMode.HEDGE
        # hedge mode is kept: an order without a side is refused before sending, one with a side trades
        with pytest.raises(errors.InvalidOrder) as caught:
            await built.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, XRP, amount="10")
        assert caught.value.limit == "position_side"
        await built.trader.create_order(
            ot.OrderType.MARKET, ot.OrderSide.BUY, XRP, amount="10", position_side=PositionSide.LONG
        )
        positions = built.exchange_personal_data.positions_manager
        await until(lambda: positions.get(XRP, PositionSide.LONG) is not None)
        position = positions.get(XRP, PositionSide.LONG)
        assert (position.leverage, position.margin_mode) == (D(7), ot.MarginMode.ISOLATED)


async def test_order_margin_is_judged_at_the_venues_leverage_not_one(venue: FakeFuturesServer) -> None:
    venue.add_account(SMALL_KEY, SMALL_SECRET, {"USDT": "50"})  # venue default: 20x cross
    price = venue.market("XRPUSDT").last_price
    amount = (D(200) / price).quantize(D("0.1"))  # about 200 USDT of notional: 10 USDT of margin at 20x
    async with _live_manager(venue, SMALL_KEY, SMALL_SECRET) as built:
        await built.trader.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, XRP, amount=str(amount))
        assert built.trader.futures.leverage(XRP) == D(20)
        positions = built.exchange_personal_data.positions_manager
        await until(lambda: positions.get(XRP) is not None)
        assert positions.get(XRP).size == amount
        assert venue.futures_account(SMALL_KEY).futures.get(XRP).size == amount


async def test_position_mode_set_for_one_contract_applies_to_every_contract_on_binance(
    venue: FakeFuturesServer,
) -> None:
    async with _live_manager(venue, venue.api_key, venue.api_secret) as built:
        futures = built.trader.futures
        assert futures.position_mode(XRP) is futures.position_mode(BTC) is ot.PositionMode.ONE_WAY
        await built.trader.set_position_mode(XRP, ot.PositionMode.HEDGE)
        assert venue.futures_account().dual_side is True
        assert futures.position_mode(BTC) is ot.PositionMode.HEDGE  # the account's setting, not XRP's only
        await built.trader.set_position_mode(BTC, ot.PositionMode.ONE_WAY)
        assert venue.futures_account().dual_side is False
        assert futures.position_mode(XRP) is ot.PositionMode.ONE_WAY


async def test_trader_settings_errors_name_the_symbol(venue: FakeFuturesServer) -> None:
    async with _live_manager(venue, venue.api_key, venue.api_secret) as built:
        trader = built.trader
        for call, field in (
            (trader.set_leverage(XRP, "0.5"), "leverage"),  # below 1
            (trader.set_leverage(XRP, "500"), "leverage"),  # above what the venue allows (75)
            (trader.set_margin_mode(XRP, "portfolio"), "margin_mode"),
            (trader.set_position_mode(XRP, "both"), "position_mode"),
        ):
            with pytest.raises(errors.ConfigurationError) as caught:
                await call
            assert (caught.value.field, caught.value.symbol) == (field, XRP)
        assert venue.futures_account().dual_side is False and trader.futures.leverage(XRP) == D(20)


async def test_hedge_mode_set_through_the_trader_is_kept_after_a_restart(venue: FakeFuturesServer) -> None:
    async with _live_manager(venue, venue.api_key, venue.api_secret) as first:
        await first.trader.set_position_mode(XRP, ot.PositionMode.HEDGE)
        await first.trader.set_leverage(XRP, "12")
    async with _live_manager(venue, venue.api_key, venue.api_secret) as restarted:
        futures = restarted.trader.futures
        assert (futures.position_mode(XRP), futures.leverage(XRP)) == (ot.PositionMode.HEDGE, D(12))
        await restarted.trader.create_order(
            ot.OrderType.MARKET, ot.OrderSide.SELL, XRP, amount="10", position_side=PositionSide.SHORT
        )
        positions = restarted.exchange_personal_data.positions_manager
        await until(lambda: positions.get(XRP, PositionSide.SHORT) is not None)
        assert venue.futures_account().futures.get(XRP, PositionSide.SHORT).size == D(10)
