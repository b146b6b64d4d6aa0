"""The futures conformance suite on inverse contracts: against the ccxt connector on the fake COIN-M
venue (real ccxt ``binancecoinm`` client, loopback, ``BTC/USD:BTC`` margined in BTC) and against
paper trading's simulated futures venue fed by it."""

from __future__ import annotations

from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.testing import FakeCoinMServer
from tests.exchanges.futures_venues import COINM, CCXTVenueConformance, PaperVenueConformance, venue_connector

BTC = COINM.symbol
VENUE_ID = COINM.venue_id


def coinm_connector(server: FakeCoinMServer) -> CCXTConnector:
    """The ccxt connector (``binancecoinm``) trading ``BTC/USD:BTC`` on ``server``."""
    return venue_connector(COINM, server)


class TestCCXTCoinMConformance(CCXTVenueConformance):
    kind = COINM
    symbol = BTC
    unlisted_symbol = "NOTLISTED/USD:NOTLISTED"


class TestPaperCoinMConformance(PaperVenueConformance):
    kind = COINM
    symbol = BTC
    unlisted_symbol = "NOTLISTED/USD:NOTLISTED"
