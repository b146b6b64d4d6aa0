"""Parse a futures account's settings and balances from ccxt replies.

* :func:`settings_leverage` / :func:`settings_margin_mode`: one symbol's entry of ccxt's
  ``fetch_leverages`` / ``fetch_leverage`` / ``fetch_margin_modes`` replies (``longLeverage`` /
  ``shortLeverage``, ``marginMode``; ccxt's ``"crossed"`` is ``"cross"``); anything else is None
  (the venue did not say).
* :func:`wallet_balances`: the settle currencies' balances of a contract account, by one rule for
  every connector (the simulated venue's too): ``total`` is the **wallet balance** (deposits,
  realized PnL, fees and funding; no unrealized PnL), ``free`` the available margin capped to
  ``[0, total]``, ``used`` = ``total - free``. ccxt's Binance USDⓈ-M / COIN-M ``fetch_balance``
  reports the margin balance (wallet + unrealized PnL) as ``total``; the raw reply's per-asset
  ``walletBalance`` / ``availableBalance`` give the wallet figures instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from octobot_trading.enums import MarginMode
from octobot_trading.exchanges.connectors.ccxt.adapter import to_dec
from octobot_trading.exchanges.types import Balance
from octobot_trading.util.decimals import ZERO

__all__ = ["settings_leverage", "settings_margin_mode", "wallet_balances"]

_MARGIN_MODES = {"cross": MarginMode.CROSS, "crossed": MarginMode.CROSS, "isolated": MarginMode.ISOLATED}


def settings_leverage(entry: Any, symbol: str) -> Decimal | None:
    """The leverage of a ccxt leverage structure (None when absent or not positive)."""
    if not isinstance(entry, Mapping):
        return None
    raw = entry.get("longLeverage") or entry.get("shortLeverage") or entry.get("leverage")
    value = to_dec(raw, f"{symbol} leverage", required=False)
    return value if value is not None and value > 0 else None


def settings_margin_mode(entry: Any) -> MarginMode | None:
    """The margin mode of a ccxt leverage or margin-mode structure (None when absent or unknown)."""
    if not isinstance(entry, Mapping):
        return None
    value = entry.get("marginMode")
    return _MARGIN_MODES.get(str(value).lower()) if value is not None else None


def _asset_rows(info: Any) -> list[Mapping[str, Any]]:
    rows = info.get("assets") if isinstance(info, Mapping) else info
    return [row for row in rows if isinstance(row, Mapping)] if isinstance(rows, list) else []


def wallet_balances(raw: Any, parsed: dict[str, Balance], settle: set[str]) -> dict[str, Balance]:
    """``parsed`` with the ``settle`` currencies' balances on the wallet rule (module docstring).

    A currency whose raw entry carries no ``walletBalance`` keeps its parsed balance.
    """
    info = raw.get("info") if isinstance(raw, Mapping) else None
    result = dict(parsed)
    for row in _asset_rows(info):
        currency = str(row.get("asset") or "")
        if currency not in settle or currency not in parsed:
            continue
        wallet = to_dec(row.get("walletBalance"), f"{currency}.walletBalance", required=False)
        if wallet is None:
            continue
        available = to_dec(row.get("availableBalance"), f"{currency}.availableBalance", required=False)
        free = parsed[currency].free if available is None else available
        free = min(max(free, ZERO), max(wallet, ZERO))
        result[currency] = Balance(free=free, used=wallet - free, total=wallet)
    return result
