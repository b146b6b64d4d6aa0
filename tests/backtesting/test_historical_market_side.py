"""The backtest's market-data side answers the markets of its data through public methods."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from octobot_trading.backtesting.candle_data import CandleData
from octobot_trading.backtesting.market_side import HistoricalMarketSide
from octobot_trading.clock import SimulatedClock
from octobot_trading.errors import UnknownSymbol
from octobot_trading.util.market_spec import MarketSpec

FIXTURES = Path(__file__).parent / "fixtures"


def test_market_info_gives_the_market_of_a_replayed_symbol_and_refuses_others() -> None:
    data = CandleData.from_file(
        FIXTURES / "BTC_USDT-5m-head600.json", exchange="binance", symbol="BTC/USDT", time_frame="5m"
    )
    spec = MarketSpec(price_tick="0.01", amount_step="0.00001", min_cost="5")
    side = HistoricalMarketSide(
        data, SimulatedClock(), markets={"BTC/USDT": spec}, fees=(Decimal("0.001"), Decimal("0.002"))
    )
    info = side.market_info("BTC/USDT")
    assert (info.symbol, info.base, info.quote) == ("BTC/USDT", "BTC", "USDT")
    assert info.spec == spec == side.market_spec("BTC/USDT")
    assert (info.maker_fee, info.taker_fee) == (Decimal("0.001"), Decimal("0.002"))
    with pytest.raises(UnknownSymbol) as refused:
        side.market_info("ETH/USDT")
    assert refused.value.symbol == "ETH/USDT"
