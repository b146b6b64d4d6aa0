"""Account, balance and position replies of the fake USDⓈ-M venue, computed from the accounting.

Every number comes from the account's :class:`FuturesAccount` valued at the current mark prices:
wallet balance (start + realized PnL - fees + funding), unrealized PnL, initial margin (at the
entry price, as the accounting keeps it), maintenance margin (the bracket's), liquidation price
(isolated positions; ``"0"`` for cross ones, which the accounting liquidates on the margin balance
instead) and available balance (wallet - initial margins - margin reserved by open orders +
unrealized PnL of cross positions).

Shapes: ``/fapi/v3/positionRisk`` lists open positions only and carries no ``leverage`` nor
``marginType`` (ccxt derives the margin mode from ``isolatedMargin``; leverage is read from
``/fapi/v1/symbolConfig`` or ``/fapi/v2/positionRisk``); ``/fapi/v2/positionRisk`` lists every
symbol (and side in hedge mode), open or not, with ``leverage`` and ``marginType``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from octobot_trading.enums import MarginMode, PositionSide
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.testing.fake_exchange.futures.markets import FuturesMarket
from octobot_trading.testing.fake_exchange.futures.state import FuturesVenueAccount, FuturesVenueState
from octobot_trading.util.decimals import ZERO, decimal_to_str

__all__ = [
    "account_json",
    "asset_numbers",
    "asset_row",
    "balance_json",
    "bracket_json",
    "margin_assets",
    "max_notional",
    "open_positions",
    "position_at",
    "position_numbers",
    "position_risk",
    "position_side_of",
    "risk_fields",
    "rows_per_symbol_and_side",
    "symbol_config",
]

_S = decimal_to_str


def open_positions(state: FuturesVenueState, account: FuturesVenueAccount) -> list[tuple[FuturesMarket, Position]]:
    state.sync_marks(account)
    by_symbol = {m.symbol: m for m in state.markets.values()}
    return [(by_symbol[p.symbol], p) for p in account.futures.positions()]


def position_side_of(account: FuturesVenueAccount, position: Position) -> str:
    return position.side.value.upper() if account.dual_side else "BOTH"


def position_at(
    positions: list[tuple[FuturesMarket, Position]], account: FuturesVenueAccount, market: FuturesMarket, side: str
) -> Position | None:
    """The position of ``market`` on ``side`` among ``positions`` (in one-way mode the ``BOTH`` one), else None."""
    return next((p for m, p in positions if m is market and position_side_of(account, p) in (side, "BOTH")), None)


def rows_per_symbol_and_side(
    state: FuturesVenueState,
    account: FuturesVenueAccount,
    markets: list[FuturesMarket],
    row: Callable[[FuturesMarket, Position | None, str], dict[str, Any]],
) -> list[dict[str, Any]]:
    """``row`` of each market in ``markets`` and side (``LONG``/``SHORT`` in hedge mode, else ``BOTH``), open or not."""
    positions = open_positions(state, account)
    sides = ("LONG", "SHORT") if account.dual_side else ("BOTH",)
    return [row(market, position_at(positions, account, market, side), side) for market in markets for side in sides]


def position_numbers(position: Position, market: FuturesMarket) -> dict[str, Decimal]:
    """Signed amount and notional (in the margin asset), unrealized PnL and margins of ``position``."""
    sign = Decimal(-1) if position.side is PositionSide.SHORT else Decimal(1)
    mark = position.mark_price or ZERO
    initial = position.initial_margin or ZERO
    upnl = position.unrealized_pnl or ZERO
    isolated = position.margin_mode is MarginMode.ISOLATED
    return {
        "amount": sign * position.contracts,
        "notional": sign * market.notional(position.contracts, mark) if mark else ZERO,
        "upnl": upnl,
        "initial": initial,
        "maint": position.maintenance_margin or ZERO,
        "isolated_wallet": initial if isolated else ZERO,
        "isolated_margin": initial + upnl if isolated else ZERO,
    }


def risk_fields(
    market: FuturesMarket,
    account: FuturesVenueAccount,
    position: Position | None,
    side: str,
    notional_key: str = "notional",
) -> dict[str, Any]:
    """The position-risk fields both venues send for ``position`` (None: flat) on ``side``; the signed
    notional under ``notional_key`` (``notionalValue`` on COIN-M)."""
    n = position_numbers(position, market) if position is not None else None
    zero = "0"
    return {
        "symbol": market.symbol_id,
        "positionSide": side,
        "positionAmt": _S(n["amount"]) if n else zero,
        "entryPrice": _S(position.entry_price or ZERO) if position else "0.0",
        "markPrice": _S(market.mark_price),
        "unRealizedProfit": _S(n["upnl"]) if n else zero,
        "liquidationPrice": _S(position.liquidation_price or ZERO) if position else zero,
        "isolatedMargin": _S(n["isolated_margin"]) if n else zero,
        notional_key: _S(n["notional"]) if n else zero,
        "isolatedWallet": _S(n["isolated_wallet"]) if n else zero,
        "updateTime": account.update_time if position else 0,
    }


def _risk_row(
    market: FuturesMarket, account: FuturesVenueAccount, position: Position | None, side: str, version: int
) -> dict[str, Any]:
    leverage, margin_mode, _ = account.settings(market)
    n = position_numbers(position, market) if position is not None else None
    zero = "0"
    row = risk_fields(market, account, position, side)
    if version == 3:
        row.update(
            {
                "marginAsset": market.settle,
                "initialMargin": _S(n["initial"]) if n else zero,
                "maintMargin": _S(n["maint"]) if n else zero,
                "positionInitialMargin": _S(n["initial"]) if n else zero,
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
            }
        )
    else:
        row.update(
            {
                "marginType": "isolated" if margin_mode is MarginMode.ISOLATED else "cross",
                "isAutoAddMargin": "false",
                "leverage": _S(leverage),
                "maxNotionalValue": _S(max_notional(market, int(leverage))),
            }
        )
    return row


def max_notional(market: FuturesMarket, leverage: int) -> Decimal:
    allowed = [b for b in market.brackets if b.initial_leverage >= leverage and b.cap is not None]
    return allowed[-1].cap if allowed and allowed[-1].cap is not None else Decimal("9223372036854775807")


def position_risk(
    state: FuturesVenueState, account: FuturesVenueAccount, symbol_id: str | None, version: int
) -> list[dict[str, Any]]:
    """``/fapi/v3/positionRisk`` (open positions) or ``/fapi/v2/positionRisk`` (every symbol and side)."""
    if version == 3:
        rows = [
            _risk_row(market, account, position, position_side_of(account, position), 3)
            for market, position in open_positions(state, account)
        ]
    else:
        rows = rows_per_symbol_and_side(
            state,
            account,
            list(state.markets.values()),
            lambda market, position, side: _risk_row(market, account, position, side, 2),
        )
    return [r for r in rows if symbol_id in (None, r["symbol"])]


def asset_numbers(state: FuturesVenueState, account: FuturesVenueAccount, asset: str) -> dict[str, Decimal]:
    positions = [(m, p) for m, p in open_positions(state, account) if m.settle == asset]
    wallet = account.futures.wallet(asset)
    upnl = sum((p.unrealized_pnl or ZERO for _, p in positions), ZERO)
    cross_upnl = sum((p.unrealized_pnl or ZERO for _, p in positions if p.margin_mode is MarginMode.CROSS), ZERO)
    initial = sum((p.initial_margin or ZERO for _, p in positions), ZERO)
    isolated = sum((p.initial_margin or ZERO for _, p in positions if p.margin_mode is MarginMode.ISOLATED), ZERO)
    maint = sum((p.maintenance_margin or ZERO for _, p in positions), ZERO)
    available = account.futures.available(asset)
    reserved = wallet - initial + cross_upnl - available
    return {
        "wallet": wallet,
        "upnl": upnl,
        "margin_balance": wallet + upnl,
        "maint": maint,
        "initial": initial + reserved,
        "position_initial": initial,
        "open_order_initial": reserved,
        "cross_wallet": wallet - isolated,
        "cross_upnl": cross_upnl,
        "available": available,
        "max_withdraw": max(available, ZERO),
    }


def margin_assets(account: FuturesVenueAccount) -> list[str]:
    return sorted(account.futures.wallets)


def balance_json(
    state: FuturesVenueState, account: FuturesVenueAccount, *, coinm: bool = False
) -> list[dict[str, Any]]:
    """``/fapi/v2|v3/balance`` (``/dapi/v1/balance`` when ``coinm``): one row per margin asset."""
    rows = []
    for asset in margin_assets(account):
        n = asset_numbers(state, account, asset)
        row: dict[str, Any] = {"accountAlias": "fake", "asset": asset, "balance": _S(n["wallet"])}
        if coinm:
            row["withdrawAvailable"] = _S(n["max_withdraw"])
        row.update(
            {
                "crossWalletBalance": _S(n["cross_wallet"]),
                "crossUnPnl": _S(n["cross_upnl"]),
                "availableBalance": _S(n["available"]),
            }
        )
        if not coinm:
            row.update({"maxWithdrawAmount": _S(n["max_withdraw"]), "marginAvailable": True})
        row["updateTime"] = account.update_time
        rows.append(row)
    return rows


def asset_row(asset: str, n: dict[str, Decimal], update_time: int, **extra: Any) -> dict[str, Any]:
    """One margin asset's entry of the account reply (both venues), ``extra`` fields before ``updateTime``."""
    return {
        "asset": asset,
        "walletBalance": _S(n["wallet"]),
        "unrealizedProfit": _S(n["upnl"]),
        "marginBalance": _S(n["margin_balance"]),
        "maintMargin": _S(n["maint"]),
        "initialMargin": _S(n["initial"]),
        "positionInitialMargin": _S(n["position_initial"]),
        "openOrderInitialMargin": _S(n["open_order_initial"]),
        "crossWalletBalance": _S(n["cross_wallet"]),
        "crossUnPnl": _S(n["cross_upnl"]),
        "availableBalance": _S(n["available"]),
        "maxWithdrawAmount": _S(n["max_withdraw"]),
        **extra,
        "updateTime": update_time,
    }


def account_json(state: FuturesVenueState, account: FuturesVenueAccount, version: int) -> dict[str, Any]:
    """``/fapi/v2|v3/account``: totals, one entry per margin asset and the positions."""
    assets, totals = (
        [],
        dict.fromkeys(
            ("initial", "maint", "wallet", "upnl", "margin_balance", "position_initial", "open_order_initial"), ZERO
        ),
    )
    totals.update(dict.fromkeys(("cross_wallet", "cross_upnl", "available", "max_withdraw"), ZERO))
    for asset in margin_assets(account):
        n = asset_numbers(state, account, asset)
        for key in totals:
            totals[key] += n[key]
        assets.append(asset_row(asset, n, account.update_time, marginAvailable=True))
    positions = []
    for market, position in open_positions(state, account):
        n = position_numbers(position, market)
        leverage, margin_mode, _ = account.settings(market)
        row: dict[str, Any] = {
            "symbol": market.symbol_id,
            "positionSide": position_side_of(account, position),
            "positionAmt": _S(n["amount"]),
            "unrealizedProfit": _S(n["upnl"]),
            "isolatedMargin": _S(n["isolated_margin"]),
            "notional": _S(n["notional"]),
            "isolatedWallet": _S(n["isolated_wallet"]),
            "initialMargin": _S(n["initial"]),
            "maintMargin": _S(n["maint"]),
            "updateTime": account.update_time,
        }
        if version == 2:
            row.update(
                {
                    "leverage": _S(leverage),
                    "entryPrice": _S(position.entry_price or ZERO),
                    "positionInitialMargin": _S(n["initial"]),
                    "openOrderInitialMargin": "0",
                    "isolated": margin_mode is MarginMode.ISOLATED,
                    "maxNotional": _S(max_notional(market, int(leverage))),
                    "bidNotional": "0",
                    "askNotional": "0",
                }
            )
        positions.append(row)
    body: dict[str, Any] = {
        "totalInitialMargin": _S(totals["initial"]),
        "totalMaintMargin": _S(totals["maint"]),
        "totalWalletBalance": _S(totals["wallet"]),
        "totalUnrealizedProfit": _S(totals["upnl"]),
        "totalMarginBalance": _S(totals["margin_balance"]),
        "totalPositionInitialMargin": _S(totals["position_initial"]),
        "totalOpenOrderInitialMargin": _S(totals["open_order_initial"]),
        "totalCrossWalletBalance": _S(totals["cross_wallet"]),
        "totalCrossUnPnl": _S(totals["cross_upnl"]),
        "availableBalance": _S(totals["available"]),
        "maxWithdrawAmount": _S(totals["max_withdraw"]),
        "assets": assets,
        "positions": positions,
    }
    if version == 2:
        body.update(
            {
                "feeTier": 0,
                "canTrade": True,
                "canDeposit": True,
                "canWithdraw": True,
                "feeBurn": False,
                "tradeGroupId": -1,
                "updateTime": 0,
                "multiAssetsMargin": False,
            }
        )
    return body


def bracket_json(market: FuturesMarket, bound: str = "notional") -> dict[str, Any]:
    """One ``/fapi/v1/leverageBracket`` entry (numbers, as the venue sends them); each bracket bounded by
    ``<bound>Cap`` / ``<bound>Floor`` (``notional`` in the quote; ``qty``, in the base, on ``/dapi/v2``)."""
    return {
        "symbol": market.symbol_id,
        "notionalCoef": 1.0,
        "brackets": [
            {
                "bracket": i + 1,
                "initialLeverage": b.initial_leverage,
                f"{bound}Cap": int(b.cap) if b.cap is not None else 9223372036854775807,
                f"{bound}Floor": int(b.floor),
                "maintMarginRatio": float(b.maint_margin_ratio),
                "cum": float(b.cum),
            }
            for i, b in enumerate(market.brackets)
        ],
    }


def symbol_config(market: FuturesMarket, account: FuturesVenueAccount) -> dict[str, Any]:
    """One ``/fapi/v1/symbolConfig`` entry: the symbol's margin type and leverage."""
    leverage, margin_mode, _ = account.settings(market)
    return {
        "symbol": market.symbol_id,
        "marginType": "ISOLATED" if margin_mode is MarginMode.ISOLATED else "CROSSED",
        "isAutoAddMargin": False,
        "leverage": int(leverage),
        "maxNotionalValue": _S(max_notional(market, int(leverage))),
    }
