"""Contract leverage has a range: a spec given no maximum allows at most
``DEFAULT_MAX_LEVERAGE`` (125); paper trading refuses a leverage above it with
``ConfigurationError(field="leverage")`` and changes nothing; a venue market that states its
leverage range (ccxt ``limits.leverage``) bounds the live trader's ``set_leverage``. The paper
engine reads its prices from the fake USDⓈ-M venue through the real ccxt ``binanceusdm`` client."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter
from octobot_trading.personal_data.futures_trading import FuturesTrading
from octobot_trading.testing import FakeFuturesServer
from octobot_trading.util.contract_spec import DEFAULT_MAX_LEVERAGE
from octobot_trading.util.decimals import ZERO
from octobot_trading.util.fees import Fees
from tests.storage.test_paper_futures_restart import XRP, _paper
from tests.testing.conftest import futures_venue

__all__ = ["futures_venue"]


def test_a_contract_spec_without_a_maximum_allows_at_most_the_default_leverage() -> None:
    spec = ot.ContractSpec(leverage="10", maintenance_margin_rate="0.004")
    assert spec.max_leverage == DEFAULT_MAX_LEVERAGE == Decimal(125)
    assert ot.ContractSpec(maintenance_margin_rate="0.004", max_leverage=None).max_leverage == Decimal(125)
    assert spec.check_leverage("125") == Decimal(125)
    with pytest.raises(ConfigurationError) as refused:
        spec.check_leverage("100000")
    assert refused.value.field == "leverage" and "[1, 125]" in str(refused.value)
    with pytest.raises(ConfigurationError) as refused:
        ot.ContractSpec(leverage="200", maintenance_margin_rate="0.004")
    assert refused.value.field == "leverage"
    assert ot.ContractSpec(leverage="200", max_leverage="500", maintenance_margin_rate="0").leverage == 200


async def test_paper_set_leverage_above_the_range_is_refused_and_changes_nothing(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    manager: Any = await _paper(futures_venue, tmp_path / "p.sqlite").build()
    async with manager:
        await manager.trader.set_leverage(XRP, "20")
        with pytest.raises(ConfigurationError) as refused:
            await manager.trader.set_leverage(XRP, "100000")
        assert refused.value.field == "leverage" and refused.value.symbol == XRP
        assert manager.trader.futures.leverage(XRP) == Decimal(20)
        assert manager.connector.futures_account.settings(XRP)[0] == Decimal(20)


def _market(leverage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "XRPUSDT",
        "symbol": XRP,
        "base": "XRP",
        "quote": "USDT",
        "settle": "USDT",
        "type": "swap",
        "linear": True,
        "inverse": False,
        "contractSize": 1,
        "precision": {"price": 0.0001, "amount": 0.1},
        "limits": {"leverage": leverage, "amount": {}, "cost": {}, "price": {}},
    }


def test_a_venue_market_stating_its_leverage_range_carries_it() -> None:
    adapter = CCXTAdapter("bybit", precision_mode=4)
    market = adapter.parse_market(_market({"min": 1, "max": 50}))
    assert (market.extra["min_leverage"], market.extra["max_leverage"]) == ("1", "50")
    assert "max_leverage" not in adapter.parse_market(_market({"min": None, "max": None})).extra


async def test_the_live_trader_refuses_a_leverage_outside_the_venue_market_range() -> None:
    market = CCXTAdapter("bybit", precision_mode=4).parse_market(_market({"min": 1, "max": 50}))
    sent: list[Decimal] = []

    class Venue:
        async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
            sent.append(leverage)

    book: Any = _NoBook()
    trading = FuturesTrading(book, market=lambda symbol: market, venue=Venue, fees=Fees(ZERO, ZERO))
    for refused_leverage in ("51", "100000", "0.5"):
        with pytest.raises(ConfigurationError) as refused:
            await trading.set_leverage(XRP, refused_leverage)
        assert refused.value.field == "leverage" and refused.value.symbol == XRP
    assert sent == [] and trading.leverage(XRP) == 1
    assert await trading.set_leverage(XRP, "50") == 50 and sent == [Decimal(50)]


class _NoBook:
    """The trader's books of an account with no position and no open order."""

    class positions_manager:
        @staticmethod
        def get(symbol: str, side: Any = None) -> None:
            return None

    class orders_manager:
        @staticmethod
        def count_open(symbol: str) -> int:
            return 0
