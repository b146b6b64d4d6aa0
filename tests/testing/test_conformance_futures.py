"""The futures conformance suite against the ccxt connector on the fake USDⓈ-M venue (real ccxt
``binanceusdm`` client, loopback) and against paper trading's simulated futures venue fed by it."""

from __future__ import annotations

from octobot_trading.exchanges.connector import ExchangeConnector
from tests.exchanges.futures_venues import USDM, CCXTVenueConformance, PaperVenueConformance

XRP = USDM.symbol


class TestCCXTFuturesConformance(CCXTVenueConformance):
    kind = USDM
    symbol = XRP


class TestPaperFuturesConformance(PaperVenueConformance):
    kind = USDM
    symbol = XRP

    async def test_bad_leverage_and_unknown_symbols_raise_typed_errors(self, connector: ExchangeConnector) -> None:
        await super().test_bad_leverage_and_unknown_symbols_raise_typed_errors(connector)
