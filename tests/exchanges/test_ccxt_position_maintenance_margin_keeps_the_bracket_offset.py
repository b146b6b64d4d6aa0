"""A live position's maintenance margin is the venue's own (notional x rate - the bracket's ``cum``
offset), not ccxt's recomputation from the bracket rate alone, which leaves the offset out: checked
through the real ccxt ``binanceusdm`` client against the fake USDⓈ-M venue (loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from octobot_trading.enums import MarginMode, OrderSide, OrderType, PositionSide
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.testing import FakeFuturesServer
from tests.exchanges.usdm_connector import usdm_connector

D = Decimal
XRP = "XRP/USDT:USDT"


@pytest.fixture
async def usdm() -> AsyncIterator[tuple[FakeFuturesServer, CCXTConnector]]:
    async with usdm_connector((XRP,), attempts=2) as venue:
        yield venue


async def test_position_in_a_bracket_with_an_offset_reports_the_venue_maintenance_margin(
    usdm: tuple[FakeFuturesServer, CCXTConnector],
) -> None:
    server, connector = usdm
    await connector.set_leverage(XRP, D("5"))
    await connector.set_margin_mode(XRP, MarginMode.ISOLATED)
    order = await connector.create_order(OrderType.MARKET, OrderSide.BUY, XRP, D("15000"), client_order_id="mm1")
    assert order.filled == D("15000")
    venue = server.futures_account().futures.get(XRP, PositionSide.LONG)
    assert venue is not None

    (position,) = await connector.fetch_positions([XRP])

    assert position.mark_price is not None
    notional = venue.size * position.mark_price
    # the position sits in the second bracket (10,000 < notional <= 50,000: rate 0.0065, cum 15)
    assert D("10000") < notional <= D("50000")
    expected = notional * D("0.0065") - D("15")
    assert position.maintenance_margin == expected
    assert position.maintenance_margin != notional * D("0.0065")
