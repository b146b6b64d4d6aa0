"""Account, position and bracket replies of the fake COIN-M venue (``/dapi``), computed from the accounting.

The numbers are those of :mod:`.views` (the account's :class:`FuturesAccount` valued at the mark
prices), in the shapes Binance's COIN-M endpoints use: amounts in contracts, values (notional,
margins, PnL, balances) in the margin asset, the base coin.

* ``/dapi/v1/positionRisk``: one row per symbol (per side in hedge mode), open or not, with
  ``notionalValue`` (signed like ``positionAmt``: ``contracts x contract size / mark``),
  ``leverage``, ``marginType`` and ``maxQty`` (the largest position, in the base, the bracket of
  the current leverage allows).
* ``/dapi/v1/account``: the margin assets and every symbol's ``positions`` row (``leverage``,
  ``isolated``, ``entryPrice``, ``notionalValue``).
* ``/dapi/v1/balance``: one row per margin asset (``balance`` = wallet balance): :func:`.views.balance_json`
  with ``coinm=True``.
* ``/dapi/v2/leverageBracket``: brackets per symbol, bounded in the base (``qtyFloor`` / ``qtyCap``):
  :func:`.views.bracket_json` with the ``qty`` bound.
"""

from __future__ import annotations

from typing import Any

from octobot_trading.enums import MarginMode
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.testing.fake_exchange.futures.markets import FuturesMarket
from octobot_trading.testing.fake_exchange.futures.state import FuturesVenueAccount, FuturesVenueState
from octobot_trading.testing.fake_exchange.futures.views import (
    asset_numbers,
    asset_row,
    margin_assets,
    max_notional,
    open_positions,
    position_at,
    position_numbers,
    risk_fields,
    rows_per_symbol_and_side,
)
from octobot_trading.util.decimals import ZERO, decimal_to_str

__all__ = ["account_json", "leverage_reply", "position_risk"]

_S = decimal_to_str


def _position_row(
    market: FuturesMarket, account: FuturesVenueAccount, position: Position | None, side: str
) -> dict[str, Any]:
    leverage, margin_mode, _ = account.settings(market)
    row = risk_fields(market, account, position, side, "notionalValue")
    row.update(
        {
            "breakEvenPrice": _S(position.entry_price or ZERO) if position else "0.0",
            "leverage": _S(leverage),
            "maxQty": _S(max_notional(market, int(leverage))),
            "marginType": "isolated" if margin_mode is MarginMode.ISOLATED else "cross",
            "isAutoAddMargin": "false",
        }
    )
    return row


def position_risk(
    state: FuturesVenueState, account: FuturesVenueAccount, params: dict[str, str]
) -> list[dict[str, Any]]:
    """``/dapi/v1/positionRisk``: every symbol (of ``pair`` / ``marginAsset`` when given) and side."""
    markets = [
        market
        for market in state.markets.values()
        if params.get("pair") in (None, market.pair) and params.get("marginAsset") in (None, market.settle)
    ]
    return rows_per_symbol_and_side(
        state, account, markets, lambda market, position, side: _position_row(market, account, position, side)
    )


def account_json(state: FuturesVenueState, account: FuturesVenueAccount) -> dict[str, Any]:
    """``/dapi/v1/account``: the margin assets and one row per symbol (and side in hedge mode)."""
    assets = [asset_row(a, asset_numbers(state, account, a), account.update_time) for a in margin_assets(account)]
    positions = []
    held = open_positions(state, account)
    for row in position_risk(state, account, {}):
        market = state.market(row["symbol"])
        position = position_at(held, account, market, row["positionSide"])
        sizes = position_numbers(position, market) if position is not None else None
        positions.append(
            {
                "symbol": row["symbol"],
                "initialMargin": _S(sizes["initial"]) if sizes else "0",
                "maintMargin": _S(sizes["maint"]) if sizes else "0",
                "unrealizedProfit": row["unRealizedProfit"],
                "positionInitialMargin": _S(sizes["initial"]) if sizes else "0",
                "openOrderInitialMargin": "0",
                "leverage": row["leverage"],
                "isolated": row["marginType"] == "isolated",
                "positionSide": row["positionSide"],
                "entryPrice": row["entryPrice"],
                "maxQty": row["maxQty"],
                "notionalValue": row["notionalValue"],
                "isolatedWallet": row["isolatedWallet"],
                "updateTime": row["updateTime"],
                "positionAmt": row["positionAmt"],
            }
        )
    return {
        "assets": assets,
        "positions": positions,
        "canDeposit": True,
        "canTrade": True,
        "canWithdraw": True,
        "feeTier": 0,
        "updateTime": 0,
    }


def leverage_reply(market: FuturesMarket, leverage: int) -> dict[str, Any]:
    """The ``POST /dapi/v1/leverage`` reply."""
    return {"leverage": leverage, "maxQty": _S(max_notional(market, leverage)), "symbol": market.symbol_id}
