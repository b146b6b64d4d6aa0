"""A resting contract order filled on the venue after a balance refresh: the refreshed available
(the venue's free amount) already excludes the order's margin, so applying the fill must not
release that margin into available again. It used to fail at the sync (available above total),
leaving the order open locally while the venue held the position.

The real trader against the fake USDⓈ-M venue (real ccxt binanceusdm client, REST only).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing import FakeFuturesServer
from tests.exchange_data.helpers import until
from tests.personal_data.live_futures import XRP, live_futures_builder, running, venue_clock

POLL_MS = 600_000


@pytest.fixture
async def venue() -> AsyncIterator[FakeFuturesServer]:
    async with FakeFuturesServer() as server:
        yield server


@contextlib.asynccontextmanager
async def _resting_order_after_a_refresh(venue: FakeFuturesServer) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The engine (REST only) with a resting isolated x10 buy of 1000 XRP contracts under the
    market, once a balance refresh made the local available the venue's free amount (which
    already excludes the order's margin): ``(manager, order, portfolio)``."""
    builder = live_futures_builder(venue, venue_clock(venue), account_poll_seconds=POLL_MS / 1000).rest_only(True)
    async with running(builder) as built:
        trader = built.trader
        await trader.set_margin_mode(XRP, ot.MarginMode.ISOLATED)
        await trader.set_leverage(XRP, "10")
        price = (venue.market("XRPUSDT").last_price * Decimal("0.99")).quantize(Decimal("0.0001"))
        order = await trader.create_order(ot.OrderType.LIMIT, ot.OrderSide.BUY, XRP, amount="1000", price=str(price))
        portfolio = built.exchange_personal_data.portfolio_manager.portfolio
        free = (await built.exchange.fetch_balance())["USDT"].free
        # the poll an order on a contract brings forward: available becomes the venue's free amount
        await until(lambda: portfolio.available("USDT") == free)
        yield built, order, portfolio


async def test_a_resting_isolated_contract_order_filled_after_a_balance_refresh_is_applied_once(
    venue: FakeFuturesServer, caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    async with _resting_order_after_a_refresh(venue) as (built, order, portfolio):
        assert order.exchange_order_id is not None
        venue.fill_order(int(order.exchange_order_id))
        component = built.get_component("trader", TraderComponent)
        await component._poll_once()  # the next account poll (sync, balances, positions) applies the fill
        assert order.is_done
        assert order.filled == Decimal("1000")
        assert len(built.exchange_personal_data.trades_manager.for_order(order.id)) == 1
        await until(
            lambda: (
                (position := built.exchange_personal_data.positions_manager.get(XRP, None)) is not None
                and position.size == Decimal("1000")
            )
        )
        balance = (await built.exchange.fetch_balance())["USDT"]
        await until(lambda: (portfolio.total("USDT"), portfolio.available("USDT")) == (balance.total, balance.free))
    assert not [r for r in caplog.records if "failed" in r.getMessage()]


async def test_a_resting_contract_order_canceled_after_a_balance_refresh_releases_its_margin_once(
    venue: FakeFuturesServer, caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    async with _resting_order_after_a_refresh(venue) as (built, order, portfolio):
        await built.trader.cancel_order(order)
        assert order.is_done
        balance = (await built.exchange.fetch_balance())["USDT"]
        assert balance.free == balance.total  # the venue released the margin once
        assert (portfolio.total("USDT"), portfolio.available("USDT")) == (balance.total, balance.free)
        component = built.get_component("trader", TraderComponent)
        await component._poll_once()
        assert (portfolio.total("USDT"), portfolio.available("USDT")) == (balance.total, balance.free)
    assert not [r for r in caplog.records if "failed" in r.getMessage()]
