"""The positions manager follows the venue: a REST snapshot replaces every position, a pushed
stream update changes only the positions it names (hedge sides apart, a one-way flip replacing
the old side), 0 contracts closes, and a bad update changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from octobot_trading.enums import MarginMode, PositionSide
from octobot_trading.errors import BadExchangeResponse
from octobot_trading.exchanges.types import ExchangePosition
from octobot_trading.personal_data.positions.position import PositionsManager

D = Decimal
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def _pos(
    symbol: str,
    side: str,
    contracts: str,
    *,
    hedged: bool | None = False,
    leverage: str | None = None,
    margin_mode: str | None = None,
) -> ExchangePosition:
    return ExchangePosition(
        symbol=symbol,
        side=side,
        contracts=D(contracts),
        entry_price=D("100") if D(contracts) else None,
        mark_price=None,
        unrealized_pnl=None,
        leverage=D(leverage) if leverage else None,
        margin_mode=margin_mode,
        liquidation_price=None,
        timestamp=1,
        hedged=hedged,
        initial_margin=D("5"),
        maintenance_margin=D("0.4"),
        realized_pnl=D("1.5"),
    )


def test_snapshot_replaces_every_position_and_keeps_the_venue_margins() -> None:
    manager = PositionsManager()
    manager.update_from_exchange([_pos(BTC, "long", "2"), _pos(ETH, "short", "1")])
    manager.update_from_exchange([_pos(ETH, "short", "3")])
    assert manager.get(BTC) is None  # closed on the venue: gone locally
    eth = manager.get(ETH)
    assert eth is not None and eth.size == D(3)
    assert (eth.initial_margin, eth.maintenance_margin, eth.realized_pnl) == (D(5), D("0.4"), D("1.5"))


def test_stream_update_changes_only_the_named_hedge_side() -> None:
    manager = PositionsManager()
    manager.update_from_exchange([_pos(BTC, "long", "2", hedged=True), _pos(BTC, "short", "1", hedged=True)])
    manager.apply_updates([_pos(BTC, "long", "3", hedged=True)])
    long, short = manager.get(BTC, PositionSide.LONG), manager.get(BTC, PositionSide.SHORT)
    assert long is not None and short is not None and (long.size, short.size) == (D(3), D(1))
    manager.apply_updates([_pos(BTC, "short", "0", hedged=True)])
    assert manager.get(BTC, PositionSide.SHORT) is None and manager.get(BTC, PositionSide.LONG) is not None


def test_one_way_flip_and_close_replace_every_side_of_the_symbol() -> None:
    manager = PositionsManager()
    manager.update_from_exchange(
        [_pos(BTC, "long", "2", leverage="10", margin_mode="isolated"), _pos(ETH, "long", "1")]
    )
    manager.apply_updates([_pos(BTC, "short", "1")])
    short = manager.get(BTC)
    assert short is not None and short.side is PositionSide.SHORT and manager.get(BTC, PositionSide.LONG) is None
    # a stream update without leverage / margin mode keeps those of the position it replaces
    assert (short.leverage, short.margin_mode) == (D(10), MarginMode.ISOLATED)
    manager.apply_updates([_pos(BTC, "both", "0")])
    assert manager.get(BTC) is None and manager.get(ETH) is not None


def test_bad_stream_update_changes_nothing() -> None:
    manager = PositionsManager()
    manager.update_from_exchange([_pos(BTC, "long", "2")])
    with pytest.raises(BadExchangeResponse):
        manager.apply_updates([_pos(ETH, "long", "1"), _pos(BTC, "sideways", "1")])
    btc = manager.get(BTC)
    assert btc is not None and btc.size == D(2) and manager.get(ETH) is None
