"""``LiveFuturesSync``: a live futures account's positions, funding and liquidations from the venue.

Live, the venue is the source of truth for positions (paper trading and backtests account them
locally). The trader component's poll and the account's private streams hand everything they
learn here, under the component's sync lock:

* :meth:`LiveFuturesSync.refresh` — a REST snapshot (``fetch_positions`` of the traded symbols)
  replaces every local position, so a position closed on the venue (by a fill, a liquidation or
  an auto-deleverage) disappears locally; :meth:`LiveFuturesSync.apply_updates` — a stream update
  changes only the positions it names (``PositionsManager.apply_updates``);
* a position that disappears or shrinks without the trader asking is looked up in the venue's
  liquidation history (``fetch_my_liquidations`` since the last one seen): each new liquidation is
  kept in :attr:`LiveFuturesSync.liquidations` and passed to the positions manager's liquidation
  listeners as an ``accounting.Liquidation`` (its ``margin_lost``: what the venue's fills of the
  forced-liquidation order report lost — minus their realized PnL, plus their fees in the settle
  currency — else the initial margin the venue last reported for the position, else the loss from
  its entry price, linear contracts);
* funding payments (``fetch_funding_history`` since the last one seen, at most every
  ``funding_poll_seconds``, and whenever asked with ``force``) are recorded in
  the transactions manager as ``FUNDING_FEE`` transactions (id ``funding:<venue id>``, recorded
  once); the balance itself comes from the venue's balances.

Each new liquidation is also recorded as a ``LIQUIDATION`` transaction (id ``liquidation:<venue
id>``, in the settle currency, amount: minus the margin lost, 0 only when neither the venue's
fills nor the position tell it), so like funding it is recorded once. A liquidation made while the
engine was down (read at a restart, the position never seen) thus gets its real cost too.

Liquidations and funding payments the venue's histories hold at the first read belong to before
this session: they are remembered, never recorded or announced. With storage, the account's file
keeps where those histories were read up to (:meth:`LiveFuturesSync.history_cursor`); a restart
given it back (:meth:`LiveFuturesSync.resume`) instead reads both histories from there at its
first sync (before the trading modes start) and records what the venue applied while the engine
was down, each once (by venue id). A venue lacking funding or liquidation history
(``NotSupported``) leaves those parts out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.enums import MarginMode, PositionSide, TransactionType
from octobot_trading.errors import NotSupported
from octobot_trading.exchanges.types import ExchangeLiquidation, ExchangePosition
from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
from octobot_trading.personal_data.positions.accounting import Liquidation
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.personal_data.transactions.transaction import Transaction
from octobot_trading.util.contract_spec import contract_kind, settle_currency
from octobot_trading.util.decimals import ZERO
from octobot_trading.util.logging import get_logger

__all__ = ["DEFAULT_FUNDING_POLL_SECONDS", "HistoryCursor", "LiveFuturesSync"]

#: Seconds between two reads of the account's funding payments.
DEFAULT_FUNDING_POLL_SECONDS = 60.0
#: Most history reads a restart makes to catch up with what was missed while down.
_CATCH_UP_PAGES = 100
#: How long before the first read of an empty history later reads start from (clock skew margin).
_EMPTY_HISTORY_MARGIN_MS = 3_600_000
#: Transaction id prefixes of recorded funding payments and liquidations (then the venue's id).
FUNDING_PREFIX, LIQUIDATION_PREFIX = "funding:", "liquidation:"


@dataclass(frozen=True, slots=True)
class HistoryCursor:
    """Where the venue's funding and liquidation histories were read up to.

    ``*_since``: the time the next read starts at: the newest time seen, or shortly before the
    first read when the history was empty then (None: unknown, the venue's default window);
    ``*_before``: the venue ids seen at the first read, which belong to before the first session
    and are never recorded.
    """

    funding_since: int | None
    funding_before: frozenset[str]
    liquidations_since: int | None
    liquidations_before: frozenset[str]


class LiveFuturesSync:
    """See the module docstring.

    Parameters
    ----------
    exchange:
        ``manager.exchange`` (its results pass the venue's ``fix_*`` hooks).
    personal_data:
        The account's positions and transactions.
    clock:
        Time source (funding poll pace).
    symbols:
        Traded symbols (empty: every symbol the venue reports).
    funding_poll_seconds:
        Least seconds between two funding-history reads.
    """

    def __init__(
        self,
        exchange: Any,
        personal_data: ExchangePersonalData,
        *,
        clock: Clock,
        symbols: Iterable[str] = (),
        funding_poll_seconds: float = DEFAULT_FUNDING_POLL_SECONDS,
    ) -> None:
        self.exchange = exchange
        self.personal_data = personal_data
        self.clock = clock
        self.symbols = sorted(set(symbols))
        self.funding_poll_seconds = funding_poll_seconds
        #: Liquidations seen on the venue, oldest first.
        self.liquidations: list[ExchangeLiquidation] = []
        self._liquidation_ids: set[str] = set()
        self._liquidations_since: int | None = None
        self._funding_since: int | None = None
        self._funding_read_ms: int | None = None
        self._funding_supported = True
        self._liquidations_supported = True
        self._funding_before: set[str] = set()
        self._liquidations_before: set[str] = set()
        self._baseline_read = False
        self._resumed = False
        self._log = get_logger("personal_data.futures_sync")

    @property
    def _positions(self) -> Any:
        return self.personal_data.positions_manager

    def _wanted(self, symbol: str) -> bool:
        return not self.symbols or symbol in self.symbols

    def history_cursor(self) -> HistoryCursor | None:
        """Where the histories were read up to (None before the first read): what storage keeps."""
        if not self._baseline_read:
            return None
        return HistoryCursor(
            self._funding_since,
            frozenset(self._funding_before),
            self._liquidations_since,
            frozenset(self._liquidations_before),
        )

    def resume(self, cursor: HistoryCursor) -> None:
        """Continue from a stored ``cursor`` (before the first sync): the first read then records
        the funding payments and liquidations made since, instead of taking the histories as a
        baseline. Ids already recorded as transactions (restored from the file) are not again."""
        self._funding_since = cursor.funding_since
        self._funding_before = set(cursor.funding_before)
        self._liquidations_since = cursor.liquidations_since
        self._liquidations_before = set(cursor.liquidations_before)
        recorded = self.personal_data.transactions_manager.transactions(TransactionType.LIQUIDATION)
        known = {t.id[len(LIQUIDATION_PREFIX) :] for t in recorded if t.id.startswith(LIQUIDATION_PREFIX)}
        self._liquidation_ids = self._liquidations_before | known
        self._resumed = True
        self._baseline_read = False

    async def _baseline(self) -> None:
        """Once, first: remember the liquidations and funding payments the venue's histories hold
        before this session, so that only later ones are recorded and announced; after
        :meth:`resume`, read both histories from the stored cursor instead (retried at the next
        read when a read fails)."""
        if self._baseline_read:
            return
        self._baseline_read = True
        if self._resumed:
            try:  # page by page (a venue answers a bounded number of rows from a time on)
                for _ in range(_CATCH_UP_PAGES):
                    since = self._liquidations_since
                    await self.read_liquidations()
                    if self._liquidations_since == since:
                        break
                for _ in range(_CATCH_UP_PAGES):
                    since = self._funding_since
                    await self.read_funding(force=True)
                    if self._funding_since == since:
                        break
            except BaseException:
                self._baseline_read = False
                raise
            return
        try:
            for liquidation in await self.exchange.fetch_my_liquidations():
                self._liquidation_ids.add(liquidation.id)
                self._liquidations_before.add(liquidation.id)
                self._liquidations_since = max(self._liquidations_since or 0, liquidation.timestamp)
        except NotSupported as exc:
            self._liquidations_supported = False
            self._log.info("no liquidation history on this venue: %s", exc)
        try:
            for payment in await self.exchange.fetch_funding_history():
                self._funding_before.add(payment.id)
                self._funding_since = max(self._funding_since or 0, payment.timestamp)
            self._funding_read_ms = self.clock.now_ms()
        except NotSupported as exc:
            self._funding_supported = False
            self._log.info("no funding history on this venue: %s", exc)
        # an empty history: later reads (and a restart's) start shortly before this first read
        # (not at the venue's default window, which holds only its newest rows)
        start = self.clock.now_ms() - _EMPTY_HISTORY_MARGIN_MS
        if self._funding_since is None:
            self._funding_since = start
        if self._liquidations_since is None:
            self._liquidations_since = start

    async def refresh(self) -> None:
        """Read the venue's positions (replacing the local ones), then new liquidations and funding."""
        await self._baseline()
        before = self._positions.positions()
        positions = await self.exchange.fetch_positions(self.symbols or None)
        self._positions.update_from_exchange([p for p in positions if self._wanted(p.symbol)])
        await self._after_change(before)
        await self.read_funding()

    async def apply_updates(self, positions: Iterable[ExchangePosition]) -> None:
        """Apply a stream's position update(s) (only the positions they name change)."""
        before = self._positions.positions()
        self._positions.apply_updates([p for p in positions if self._wanted(p.symbol)])
        await self._after_change(before)

    async def _after_change(self, before: list[Position]) -> None:
        now = {(p.symbol, p.side): p.size for p in self._positions.positions()}
        shrunk = [p for p in before if now.get((p.symbol, p.side), ZERO) < p.size]
        if shrunk:
            await self.read_liquidations(shrunk)

    async def read_liquidations(self, shrunk: list[Position] | None = None) -> list[ExchangeLiquidation]:
        """Read liquidations since the last one seen; record and announce the new ones."""
        await self._baseline()
        if not self._liquidations_supported:
            return []
        try:
            rows = await self.exchange.fetch_my_liquidations(None, self._liquidations_since)
        except NotSupported as exc:
            self._liquidations_supported = False
            self._log.info("no liquidation history on this venue: %s", exc)
            return []
        new = [x for x in rows if x.id not in self._liquidation_ids and self._wanted(x.symbol)]
        known = {(p.symbol, p.side.value): p for p in shrunk or []}
        # (read before anything changes: a failed read leaves the cursor where it was, to retry)
        local = [self._as_local(x, known.get((x.symbol, x.side)), await self._reported_loss(x)) for x in new]
        for row in rows:  # the next read starts at the newest seen (other symbols' too: paging)
            self._liquidations_since = max(self._liquidations_since or 0, row.timestamp)
        transactions = self.personal_data.transactions_manager
        for liquidation, as_local in zip(new, local, strict=True):
            self._liquidation_ids.add(liquidation.id)
            self.liquidations.append(liquidation)
            transactions.record(
                Transaction(
                    id=f"{LIQUIDATION_PREFIX}{liquidation.id}",
                    type=TransactionType.LIQUIDATION,
                    currency=settle_currency(liquidation.symbol),
                    amount=ZERO - as_local.margin_lost,
                    timestamp=liquidation.timestamp,
                    symbol=liquidation.symbol,
                )
            )
            self._log.warning(
                "%s %s position of %s contracts liquidated at %s",
                liquidation.symbol,
                liquidation.side,
                liquidation.contracts,
                liquidation.price,
            )
        await self._positions.notify_liquidations(local)
        return new

    async def _reported_loss(self, liquidation: ExchangeLiquidation) -> Decimal | None:
        """The margin ``liquidation`` cost as the venue reports it: minus the realized PnL of its
        forced order's fills, plus their fees in the settle currency (None when the venue's fills
        of that order, or their realized PnL, cannot be read)."""
        try:
            trades = await self.exchange.fetch_my_trades(liquidation.symbol, liquidation.timestamp)
        except NotSupported:
            return None
        fills = [t for t in trades if t.order_id == liquidation.id]
        if not fills or any(t.realized_pnl is None for t in fills):
            return None
        settle = settle_currency(liquidation.symbol)
        realized = sum((t.realized_pnl or ZERO for t in fills), ZERO)
        fees = sum((t.fee for t in fills if t.fee is not None and t.fee_currency == settle), ZERO)
        return max(ZERO, fees - realized)

    @staticmethod
    def _as_local(
        liquidation: ExchangeLiquidation, position: Position | None, reported: Decimal | None = None
    ) -> Liquidation:
        side = PositionSide(liquidation.side) if liquidation.side in ("long", "short") else PositionSide.BOTH
        lost = ZERO
        if reported is not None:  # what the venue's fills of the forced order realized
            lost = reported
        elif position is not None and position.initial_margin is not None:
            lost = position.initial_margin
        elif (
            position is not None and position.entry_price is not None and contract_kind(liquidation.symbol) == "linear"
        ):
            move = liquidation.price - position.entry_price
            lost = max(ZERO, -move if side is PositionSide.LONG else move) * liquidation.contracts
        mode = position.margin_mode if position is not None and position.margin_mode else MarginMode.ISOLATED
        return Liquidation(
            timestamp=liquidation.timestamp,
            symbol=liquidation.symbol,
            side=side,
            size=liquidation.contracts,
            price=liquidation.price,
            margin_lost=lost,
            margin_mode=mode,
        )

    async def read_funding(self, *, force: bool = False) -> int:
        """Record the funding payments made since the last read; return how many were new."""
        await self._baseline()
        now = self.clock.now_ms()
        due = force or self._funding_read_ms is None or now - self._funding_read_ms >= self.funding_poll_seconds * 1000
        if not self._funding_supported or not due:
            return 0
        try:
            payments = await self.exchange.fetch_funding_history(None, self._funding_since)
        except NotSupported as exc:
            self._funding_supported = False
            self._log.info("no funding history on this venue: %s", exc)
            return 0
        self._funding_read_ms = now
        transactions = self.personal_data.transactions_manager
        added = 0
        for payment in payments:
            self._funding_since = max(self._funding_since or 0, payment.timestamp)
            if not self._wanted(payment.symbol) or payment.id in self._funding_before:
                continue
            added += transactions.record(
                Transaction(
                    id=f"{FUNDING_PREFIX}{payment.id}",
                    type=TransactionType.FUNDING_FEE,
                    currency=payment.currency,
                    amount=payment.amount,
                    timestamp=payment.timestamp,
                    symbol=payment.symbol,
                )
            )
        return added

    def total_funding(self, currency: str) -> Decimal:
        """The sum of the recorded funding payments in ``currency`` (positive: received)."""
        return self.personal_data.transactions_manager.total(TransactionType.FUNDING_FEE, currency)
