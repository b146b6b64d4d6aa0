"""A venue's position, leverage or funding reply holding NaN, an infinity or an absurd exponent
becomes ``BadExchangeResponse`` naming the field, through the real ccxt ``binanceusdm`` client
against the fake USDⓈ-M venue (the reply's text is rewritten on the wire); nothing the connector
holds changes and the next sane reply is read as before."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from octobot_trading import errors
from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.testing import FakeFuturesServer
from tests.exchanges.usdm_connector import usdm_connector

D = Decimal
XRP = "XRP/USDT:USDT"

#: What replaces a number on the wire: quoted texts ccxt keeps as text, bare JSON tokens it decodes.
BAD_NUMBERS = ['"NaN"', '"Infinity"', '"-Infinity"', '"1e999999999"', "NaN", "Infinity", "1e999999999"]


@pytest.fixture
async def usdm() -> AsyncIterator[tuple[FakeFuturesServer, CCXTConnector]]:
    async with usdm_connector((XRP,), attempts=1) as venue:
        yield venue


def _replacing(field: str, bad: str) -> Callable[[str], str]:
    pattern = re.compile(rf'"{field}":\s*("[^"]*"|[-0-9.eE+]+)')

    def rewrite(text: str) -> str:
        new, count = pattern.subn(f'"{field}": {bad}', text)
        assert count, f"{field} not in the reply {text[:200]}"
        return new

    return rewrite


async def _open_long(connector: CCXTConnector) -> None:
    order = await connector.create_order(OrderType.MARKET, OrderSide.BUY, XRP, D("100"), client_order_id="open1")
    assert order.filled == D("100")


CASES: list[tuple[str, str, str, Callable[[CCXTConnector], Awaitable[Any]]]] = [
    ("position entry price", "/fapi/v3/positionRisk", "entryPrice", lambda c: c.fetch_positions([XRP])),
    ("position contracts", "/fapi/v3/positionRisk", "positionAmt", lambda c: c.fetch_positions([XRP])),
    ("position mark price", "/fapi/v3/positionRisk", "markPrice", lambda c: c.fetch_positions([XRP])),
    ("position unrealized PnL", "/fapi/v3/positionRisk", "unRealizedProfit", lambda c: c.fetch_positions([XRP])),
    ("leverage setting", "/fapi/v1/symbolConfig", "leverage", lambda c: c.fetch_contract_settings([XRP])),
    ("funding rate", "/fapi/v1/premiumIndex", "lastFundingRate", lambda c: c.fetch_funding_rate(XRP)),
    ("funding mark price", "/fapi/v1/premiumIndex", "markPrice", lambda c: c.fetch_funding_rate(XRP)),
    ("funding payment", "/fapi/v1/income", "income", lambda c: c.fetch_funding_history(XRP)),
]


@pytest.mark.parametrize("bad", BAD_NUMBERS)
@pytest.mark.parametrize(("what", "path", "field", "call"), CASES, ids=[c[0] for c in CASES])
async def test_a_malformed_number_in_a_futures_reply_is_a_bad_response_naming_the_field(
    usdm: tuple[FakeFuturesServer, CCXTConnector],
    what: str,
    path: str,
    field: str,
    call: Callable[[CCXTConnector], Awaitable[Any]],
    bad: str,
) -> None:
    server, connector = usdm
    await _open_long(connector)
    if path == "/fapi/v1/income":
        server.settle_funding("XRPUSDT", "0.001")
    sane = await call(connector)
    leverages = dict(connector._leverages)
    server.faults.rewrite(_replacing(field, bad), method="GET", path=path)
    with pytest.raises(errors.BadExchangeResponse) as refused:
        await call(connector)
    assert field in str(refused.value), str(refused.value)
    assert connector._leverages == leverages
    assert await call(connector) == sane  # the next sane reply reads as before
