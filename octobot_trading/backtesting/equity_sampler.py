"""The equity sampler of ``run_backtest``: the portfolio value at a fixed sampling interval.

:class:`EquitySampler` values the portfolio (balances, plus the open futures positions' unrealized
PnL) when a sample is due. With one candle stream it is an OHLCV consumer (lowest priority): per
candle it only compares the candle's close time with the next sampling time. With several
streams a close holds several candles (one per symbol and time frame) and its futures cross check
may wait for the last of them, or for the close to end: the backtest driver then calls
:meth:`EquitySampler.on_close` once every candle of a close was replayed and the close's waiting
checks ran, so a sample shows every symbol at that close and the liquidations made then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from octobot_trading.backtesting.metrics import EquityCurve
from octobot_trading.enums import TimeFrame
from octobot_trading.util.decimals import ZERO, decimal_from_data_float
from octobot_trading.util.symbols import parse_symbol

__all__ = ["EquitySampler", "with_unrealized"]


class EquitySampler:
    """OHLCV consumer (lowest priority) recording the portfolio value every ``interval_ms``.

    Per candle it only compares the candle's close time with the next sampling time; prices are
    read from the candle buffers when a sample is taken.
    """

    def __init__(
        self,
        portfolio: Any,
        reference: str,
        symbols: list[str],
        symbols_data: Any,
        time_frame: TimeFrame,
        interval_ms: int,
        capacity: int,
        futures_state: Callable[[], tuple[Mapping[str, Decimal], bool]] | None = None,
    ) -> None:
        self.portfolio = portfolio
        self.futures_state = futures_state
        self.reference = reference
        self.first_symbol = symbols[0]
        self.symbols_data = symbols_data
        self.time_frame = time_frame
        self.tf_ms = time_frame.ms
        self.pairs = {parse_symbol(s).base: s for s in reversed(symbols) if parse_symbol(s).quote == reference}
        self.interval_ms = interval_ms
        self.next_ms = -1
        size = capacity + 2
        self.times = np.zeros(size, dtype=np.int64)
        self.values = np.zeros(size, dtype=np.float64)
        self.exposure = np.zeros(size, dtype=np.float64)
        self.prices = np.zeros(size, dtype=np.float64)
        self.count = 0
        self._buffers: dict[str, Any] = {}

    def on_candle(self, candle: Any) -> None:
        """OHLCV consumer (a plain function: channels call it without a coroutine)."""
        close_ms = candle.timestamp + self.tf_ms
        if close_ms >= self.next_ms:
            self.sample(close_ms)

    def on_close(self, close_ms: int) -> None:
        """The end of a close of a replay of several streams (the driver's ``close_done``)."""
        if close_ms >= self.next_ms:
            self.sample(close_ms)

    def _last_close(self, symbol: str) -> float | None:
        buffer = self._buffers.get(symbol)
        if buffer is None:  # a candle buffer lives as long as its symbol data: looked up once
            buffer = self._buffers[symbol] = self.symbols_data.get(symbol).candles(self.time_frame)
        price: float | None = buffer.last_close
        return price

    def sample(self, time_ms: int) -> None:
        if self.count >= len(self.times):
            grow = len(self.times)
            for name in ("times", "values", "exposure", "prices"):
                array = getattr(self, name)
                setattr(self, name, np.concatenate([array, np.zeros(grow, dtype=array.dtype)]))
        self.next_ms = time_ms + self.interval_ms
        totals = self.portfolio.totals()
        open_position = False
        if self.futures_state is not None:
            unrealized, open_position = self.futures_state()
            totals = with_unrealized(totals, unrealized)
        value = totals.get(self.reference, ZERO)
        exposed = ZERO
        for currency, amount in totals.items():
            if currency == self.reference or not amount:
                continue
            price = self._price(currency)
            if price is not None:
                # valued exactly (candle prices become Decimal through their shortest text), stored as float
                exposed += amount * decimal_from_data_float(price)
        index = self.count
        equity = float(value + exposed)
        self.times[index] = time_ms
        self.values[index] = equity
        # a futures position exposes the whole equity (its notional is leveraged margin)
        self.exposure[index] = equity if open_position else float(exposed)
        self.prices[index] = self._last_close(self.first_symbol) or 0.0
        self.count += 1

    def _price(self, currency: str) -> float | None:
        symbol = self.pairs.get(currency)
        return None if symbol is None else self._last_close(symbol)

    def curve(self) -> EquityCurve:
        n = self.count
        return EquityCurve(
            self.times[:n].copy(),
            self.values[:n].copy(),
            self.exposure[:n].copy(),
            self.prices[:n].copy(),
            self.reference,
        )


def with_unrealized(totals: Mapping[str, Decimal], unrealized: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Balances plus the open positions' unrealized PnL in their settle currencies."""
    merged = dict(totals)
    for currency, pnl in unrealized.items():
        merged[currency] = merged.get(currency, ZERO) + pnl
    return merged
