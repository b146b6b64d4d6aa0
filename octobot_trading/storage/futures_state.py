"""The futures part of the state file.

* Live futures: where the venue's funding and liquidation histories were read up to (a
  :class:`~octobot_trading.personal_data.futures_sync.HistoryCursor`, kept in the ``meta`` table
  under :data:`META_FUTURES_HISTORY`), so that a restart records what the venue applied while
  the engine was down, once.
* Paper futures: the simulated venue's futures account (positions with every field, the
  leverage / margin mode / position mode of each contract symbol, the wallet of each settle
  currency and the account's transactions: realized PnL, fees, funding), written with the rest of
  a batch when it changed (:class:`PaperFuturesState`) and put back at restart before the open
  orders are placed again, so a restarted paper engine has exactly the same positions, wallet and
  realized PnL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from octobot_trading.enums import MarginMode, PositionMode, PositionSide
from octobot_trading.errors import OctoBotTradingError, StorageError
from octobot_trading.personal_data.futures_sync import HistoryCursor
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.storage import codec
from octobot_trading.storage.models import ContractSettingRow, PositionRow, WalletRow
from octobot_trading.storage.store import FuturesRows
from octobot_trading.util.decimals import decimal_to_str

__all__ = ["META_FUTURES_HISTORY", "PaperFuturesState", "cursor_from_meta", "cursor_to_meta"]

#: ``meta`` key of the live futures history cursor (absent: the account was never followed with storage).
META_FUTURES_HISTORY = "futures_history"


def cursor_to_meta(cursor: HistoryCursor) -> str:
    """Describe ``cursor`` (sorted ids: the same cursor always gives the same text)."""
    return json.dumps(
        {
            "funding_since": cursor.funding_since,
            "funding_before": sorted(cursor.funding_before),
            "liquidations_since": cursor.liquidations_since,
            "liquidations_before": sorted(cursor.liquidations_before),
        },
        separators=(",", ":"),
    )


def _since(raw: dict[str, object], key: str) -> int | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise TypeError(f"{key} is not a time in milliseconds")
    return value


def _ids(raw: dict[str, object], key: str) -> frozenset[str]:
    value = raw.get(key)
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise TypeError(f"{key} is not a list of ids")
    return frozenset(value)


def cursor_from_meta(text: str | None) -> HistoryCursor | None:
    """Rebuild what :func:`cursor_to_meta` wrote (None when absent); ``StorageError`` when invalid."""
    if not text:
        return None
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        return HistoryCursor(
            _since(raw, "funding_since"),
            _ids(raw, "funding_before"),
            _since(raw, "liquidations_since"),
            _ids(raw, "liquidations_before"),
        )
    except (ValueError, TypeError) as exc:
        raise StorageError(f"invalid {META_FUTURES_HISTORY} ({exc})") from exc


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_to_str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def position_row(position: Position) -> PositionRow:
    """Describe one accounted position."""
    p = position
    return PositionRow(
        symbol=p.symbol,
        side=p.side.value,
        contracts=decimal_to_str(p.contracts),
        entry_price=_text(p.entry_price),
        mark_price=_text(p.mark_price),
        unrealized_pnl=_text(p.unrealized_pnl),
        leverage=_text(p.leverage),
        liquidation_price=_text(p.liquidation_price),
        timestamp=p.timestamp,
        margin_mode=None if p.margin_mode is None else p.margin_mode.value,
        initial_margin=_text(p.initial_margin),
        maintenance_margin=_text(p.maintenance_margin),
        realized_pnl=_text(p.realized_pnl),
    )


def position_from_row(row: PositionRow) -> Position:
    """Rebuild one accounted position."""
    return Position(
        row.symbol,
        PositionSide(row.side),
        Decimal(row.contracts),
        _dec(row.entry_price),
        _dec(row.mark_price),
        _dec(row.unrealized_pnl),
        _dec(row.leverage),
        _dec(row.liquidation_price),
        row.timestamp,
        None if row.margin_mode is None else MarginMode(row.margin_mode),
        _dec(row.initial_margin),
        _dec(row.maintenance_margin),
        _dec(row.realized_pnl),
    )


class PaperFuturesState:
    """The futures account of a paper trader's simulated venue in the state file.

    Parameters
    ----------
    connector:
        The simulated connector (its ``futures`` venue is None until a contract symbol is traded).
    path:
        The state file (named in the errors of :meth:`restore`).
    """

    def __init__(self, connector: Any, path: Any = None) -> None:
        self.connector = connector
        self.path = path
        self._saved: tuple[Any, ...] | None = None
        self._saved_transactions = 0

    def pending(self) -> FuturesRows | None:
        """What changed since the last write (None: nothing, or no futures on the venue)."""
        venue = getattr(self.connector, "futures", None)
        if venue is None:
            return None
        account = venue.account
        positions = [position_row(p) for p in venue.positions_snapshot()]
        settings = []
        for symbol in sorted(venue.specs):
            leverage, margin_mode, position_mode = account.settings(symbol)
            settings.append(
                ContractSettingRow(
                    symbol=symbol,
                    leverage=decimal_to_str(leverage),
                    margin_mode=margin_mode.value,
                    position_mode=position_mode.value,
                )
            )
        wallets = [WalletRow(currency=c, wallet=decimal_to_str(w)) for c, w in sorted(account.wallets.items())]
        recorded = account.transactions.recorded()
        new = [codec.transaction_row(t) for t in recorded[self._saved_transactions :]]
        if (positions, settings, wallets) == self._saved and not new:
            return None
        return FuturesRows(positions, settings, wallets, new)

    def written(self, rows: FuturesRows) -> None:
        """``rows`` (from :meth:`pending`) are in the file."""
        self._saved = (rows.positions, rows.settings, rows.wallets)
        self._saved_transactions += len(rows.transactions)

    def restore(self, rows: FuturesRows, fill_ids: Iterable[str], trading: Any) -> set[str]:
        """Give the venue its stored futures account back (before the open orders are placed
        again) and the trader's ``trading`` (``trader.futures``) its contract settings; return the
        settle currencies the account holds (not the spot account's). ``fill_ids``: the stored
        trades' ids (fills already applied). ``StorageError`` naming what is wrong."""
        if rows.is_empty:
            return set()
        connector = self.connector
        try:
            positions = [position_from_row(row) for row in rows.positions]
            settings = {
                row.symbol: (Decimal(row.leverage), MarginMode(row.margin_mode), PositionMode(row.position_mode))
                for row in rows.settings
            }
            wallets = {row.currency: Decimal(row.wallet) for row in rows.wallets}
            transactions = [codec.transaction_from_row(row) for row in rows.transactions]
            for symbol in sorted({*settings, *(p.symbol for p in positions)}):
                venue = connector.contract_venue(symbol)  # added when not traded yet; UnknownSymbol
            for symbol, (leverage, _, _) in settings.items():  # within the contract's range, as set_leverage
                venue.specs[symbol].check_leverage(leverage)
            for position in positions:  # a position's own leverage too (its margin was computed with it)
                if position.leverage is not None:
                    venue.specs[position.symbol].check_leverage(position.leverage)
            for currency, wallet in wallets.items():
                if wallet < 0:
                    raise ValueError(f"the {currency} wallet {decimal_to_str(wallet)} is negative")
        except (ValueError, ArithmeticError, OctoBotTradingError) as exc:
            raise StorageError(f"storage file {self.path}: stored futures account cannot be restored: {exc}") from exc
        venue = connector.futures
        if venue is None:
            raise StorageError(
                f"storage file {self.path}: stored futures account without a contract symbol on the simulated venue"
            )
        venue.restore(wallets, settings, positions, transactions, fill_ids)
        for symbol, (leverage, margin_mode, position_mode) in settings.items():
            trading.remember_settings(symbol, leverage, margin_mode, position_mode)
        self._saved_transactions = len(venue.account.transactions.recorded())
        return set(wallets)

    async def push(self) -> None:
        """Tell the trader the venue's positions and margin (once the restored orders are back in
        the orders manager: the available margin is the venue's less their reservations)."""
        if getattr(self.connector, "futures", None) is not None:
            await self.connector.push_positions([])
