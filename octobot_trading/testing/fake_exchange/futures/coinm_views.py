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
* ``/dapi/v1/balance``: one row per margin asset (``balance`` = wallet balance).
* ``/dapi/v2/leverageBracket``: brackets per symbol, bounded in the base (``qtyFloor`` / ``qtyCap``).
"""

from __future__ import annotations

from typing import Any

from octobot_trading.enums import MarginMode
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.testing.fake_exchange.futures.markets import FuturesMarket
from octobot_trading.testing.fake_exchange.futures.state import FuturesVenueAccount, FuturesVenueState
from octobot_trading.testing.fake_exchange.futures.views import (
    asset_numbers,
    margin_assets,
    max_notional,
    open_positions,
    position_numbers,
    position_side_of,
)
from octobot_trading.util.decimals import ZERO, decimal_to_str

__all__ = ["account_json", "balance_json", "bracket_json", "leverage_reply", "position_risk"]

_S = decimal_to_str


def _position_row(
    market: FuturesMarket, account: FuturesVenueAccount, position: Position | None, side: str
) -> dict[str, Any]:
    leverage, margin_mode, _ = account.settings(market)
    n = position_numbers(position, market) if position is not None else None
    zero = "0"
    return {
        "symbol": market.symbol_id,
        "positionAmt": _S(n["amount"]) if n else zero,
        "entryPrice": _S(position.entry_price or ZERO) if position else "0.0",
        "breakEvenPrice": _S(position.entry_price or ZERO) if position else "0.0",
        "markPrice": _S(market.mark_price),
        "unRealizedProfit": _S(n["upnl"]) if n else zero,
        "liquidationPrice": _S(position.liquidation_price or ZERO) if position else zero,
        "leverage": _S(leverage),
        "maxQty": _S(max_notional(market, int(leverage))),
        "marginType": "isolated" if margin_mode is MarginMode.ISOLATED else "cross",
        "isolatedMargin": _S(n["isolated_margin"]) if n else zero,
        "isAutoAddMargin": "false",
        "positionSide": side,
        "notionalValue": _S(n["notional"]) if n else zero,
        "isolatedWallet": _S(n["isolated_wallet"]) if n else zero,
        "updateTime": account.update_time if position else 0,
    }


def position_risk(
    state: FuturesVenueState, account: FuturesVenueAccount, params: dict[str, str]
) -> list[dict[str, Any]]:
    """``/dapi/v1/positionRisk``: every symbol (of ``pair`` / ``marginAsset`` when given) and side."""
    positions = open_positions(state, account)
    sides = ("LONG", "SHORT") if account.dual_side else ("BOTH",)
    rows = []
    for market in state.markets.values():
        if params.get("pair") not in (None, market.pair) or params.get("marginAsset") not in (None, market.settle):
            continue
        for side in sides:
            found = next(
                (p for m, p in positions if m is market and position_side_of(account, p) in (side, "BOTH")), None
            )
            rows.append(_position_row(market, account, found, side))
    return rows


def balance_json(state: FuturesVenueState, account: FuturesVenueAccount) -> list[dict[str, Any]]:
    """``/dapi/v1/balance``: one row per margin asset."""
    rows = []
    for asset in margin_assets(account):
        n = asset_numbers(state, account, asset)
        rows.append(
            {
                "accountAlias": "fake",
                "asset": asset,
                "balance": _S(n["wallet"]),
                "withdrawAvailable": _S(n["max_withdraw"]),
                "crossWalletBalance": _S(n["cross_wallet"]),
                "crossUnPnl": _S(n["cross_upnl"]),
                "availableBalance": _S(n["available"]),
                "updateTime": account.update_time,
            }
        )
    return rows


def account_json(state: FuturesVenueState, account: FuturesVenueAccount) -> dict[str, Any]:
    """``/dapi/v1/account``: the margin assets and one row per symbol (and side in hedge mode)."""
    assets = []
    for asset in margin_assets(account):
        n = asset_numbers(state, account, asset)
        assets.append(
            {
                "asset": asset,
                "walletBalance": _S(n["wallet"]),
                "unrealizedProfit": _S(n["upnl"]),
                "marginBalance": _S(n["margin_balance"]),
                "maintMargin": _S(n["maint"]),
                "initialMargin": _S(n["initial"]),
                "positionInitialMargin": _S(n["position_initial"]),
                "openOrderInitialMargin": _S(n["open_order_initial"]),
                "maxWithdrawAmount": _S(n["max_withdraw"]),
                "crossWalletBalance": _S(n["cross_wallet"]),
                "crossUnPnl": _S(n["cross_upnl"]),
                "availableBalance": _S(n["available"]),
                "updateTime": account.update_time,
            }
        )
    positions = []
    held = open_positions(state, account)
    for row in position_risk(state, account, {}):
        market = state.market(row["symbol"])
        position = next(
            (p for m, p in held if m is market and position_side_of(account, p) in (row["positionSide"], "BOTH")),
            None,
        )
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


def bracket_json(market: FuturesMarket) -> dict[str, Any]:
    """One ``/dapi/v2/leverageBracket`` entry: brackets bounded in the base asset, numbers as the venue sends them."""
    return {
        "symbol": market.symbol_id,
        "notionalCoef": 1.0,
        "brackets": [
            {
                "bracket": i + 1,
                "initialLeverage": b.initial_leverage,
                "qtyCap": int(b.cap) if b.cap is not None else 9223372036854775807,
                "qtyFloor": int(b.floor),
                "maintMarginRatio": float(b.maint_margin_ratio),
                "cum": float(b.cum),
            }
            for i, b in enumerate(market.brackets)
        ],
    }


def leverage_reply(market: FuturesMarket, leverage: int) -> dict[str, Any]:
    """The ``POST /dapi/v1/leverage`` reply."""
    return {"leverage": leverage, "maxQty": _S(max_notional(market, leverage)), "symbol": market.symbol_id}
