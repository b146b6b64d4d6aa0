"""Live futures with storage: a liquidation the venue made while the engine was down is recorded at
the restart with what the venue reports it cost: the size and price of its forced-liquidation
order and the margin lost from that order's fills (their realized PnL and fees), not 0 (the
restarted engine never saw the position). Real trader, real ccxt ``binanceusdm`` client, the fake
USDⓈ-M venue on loopback and the same SQLite file across stop / restart."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from octobot_trading.enums import PositionSide, TransactionType
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing import FakeFuturesServer
from tests.storage.test_futures_history_while_down import XRP, _live, _open_isolated_long, _recorded
from tests.testing.conftest import futures_venue

__all__ = ["futures_venue"]


async def test_a_liquidation_while_down_is_recorded_with_the_margin_the_venue_reports_lost(
    futures_venue: FakeFuturesServer, tmp_path: Path
) -> None:
    venue, path = futures_venue, tmp_path / "futures.sqlite"
    await _open_isolated_long(venue)
    async with _live(venue, path) as built:
        assert built.exchange_personal_data.positions_manager.get(XRP) is not None

    position = venue.futures_account().futures.get(XRP)  # while the engine is down: liquidated
    assert position is not None and position.liquidation_price is not None and position.initial_margin
    (forced,) = venue.set_mark_price("XRPUSDT", position.liquidation_price * Decimal("0.95"))
    venue.set_mark_price("XRPUSDT", venue.market("XRPUSDT").last_price)
    (fill,) = forced.order.fills
    lost = -fill.realized_pnl + fill.commission
    assert lost == position.initial_margin  # isolated: the whole initial margin

    async with _live(venue, path) as built:
        (liquidation,) = _recorded(built, TransactionType.LIQUIDATION)
        assert (liquidation.currency, liquidation.amount) == ("USDT", -lost)
        sync: Any = built.get_component("trader", TraderComponent).futures_sync
        (seen,) = sync.liquidations
        assert (seen.side, seen.contracts, seen.price) == (PositionSide.LONG.value, fill.qty, fill.price)
        balance = await built.exchange.fetch_balance()
        assert balance["USDT"].total == venue.futures_account().futures.wallet("USDT")
