"""Contracts listed by the fake USDⓈ-M futures venue and the real data they replay.

A :class:`FuturesMarket` is one linear perpetual (``XRPUSDT`` = ``XRP/USDT:USDT``): its filters,
its leverage brackets (maintenance-margin tiers), the trade candles it replays, optional
mark-price candles and funding rates. ``cursor`` is the index of the last closed trade candle,
the market's "now" (:attr:`FuturesMarket.now_ms` is that candle's close time).

Prices read from data files are rounded once when loaded: trade candles to the contract's tick
(data files store floats such as ``1.0937000000000001``), mark prices to 8 decimals as the venue
prints them. The current mark price is, in order: a value set by the test
(:meth:`FuturesMarket.set_mark_price`, until the next candle), the close of the last closed
mark-price candle, the last price.

:func:`default_futures_markets` lists ``XRPUSDT`` (real Binance USDⓈ-M data: 5m trade candles,
1h mark-price candles and 8h funding rates of November 2021) and ``BTCUSDT`` (Binance spot 1h
candles of December 2020 standing in for the perpetual's, no mark candles, no funding data).
:func:`dated_future` makes a dated (quarterly) future of a market: id ``BTCUSDT_201225``, unified
symbol ``BTC/USDT:USDT-201225``, listed with ``contractType`` ``CURRENT_QUARTER`` and its
``deliveryDate``; it has no funding (none settled, none quoted), as on Binance.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from octobot_trading.enums import MarginMode, PositionMode, TimeFrame
from octobot_trading.testing.fake_exchange.state import CandleRow, load_candles
from octobot_trading.util.contract_spec import ContractSpec, MarginTier
from octobot_trading.util.decimals import decimal_from_data_float, nearest_to_step

__all__ = [
    "FUNDING_INTERVAL_MS",
    "Bracket",
    "FuturesMarket",
    "brackets_of",
    "dated_future",
    "default_futures_markets",
    "load_funding_rates",
]

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"
#: Binance USDⓈ-M perpetuals settle funding every 8 hours (00:00, 08:00, 16:00 UTC).
FUNDING_INTERVAL_MS = 8 * 3_600_000
_MARK_STEP = Decimal("0.00000001")


@dataclass(frozen=True)
class Bracket:
    """One leverage bracket: notional in ``[floor, cap)``, maintenance rate, ``cum`` amount, max leverage."""

    floor: Decimal
    cap: Decimal | None
    maint_margin_ratio: Decimal
    cum: Decimal
    initial_leverage: int


def load_funding_rates(path: str | Path) -> list[tuple[int, Decimal]]:
    """Read funding rates stored as candles (rate in the ``open`` column): ``[(funding time ms, rate)]``."""
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    return [(int(row[0]), decimal_from_data_float(row[1])) for row in raw]


def _rounded(rows: list[CandleRow], step: Decimal) -> list[CandleRow]:
    return [
        (ts, nearest_to_step(o, step), nearest_to_step(h, step), nearest_to_step(lo, step), nearest_to_step(c, step), v)
        for ts, o, h, lo, c, v in rows
    ]


def _load_marks(path: Path, step: Decimal) -> list[CandleRow]:
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    rows: list[CandleRow] = []
    for row in raw:
        o, h, lo, c = (nearest_to_step(decimal_from_data_float(v), step) for v in row[1:5])
        rows.append((int(row[0]), o, h, lo, c, Decimal(0)))
    return rows


@dataclass
class FuturesMarket:
    """One linear perpetual contract of the fake venue (see the module docstring)."""

    base: str
    quote: str
    candles: list[CandleRow]
    interval_ms: int
    brackets: tuple[Bracket, ...]
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.001")
    min_qty: Decimal = Decimal("0.001")
    max_qty: Decimal = Decimal("1000")
    market_max_qty: Decimal = Decimal("120")
    min_notional: Decimal = Decimal("5")
    price_precision: int = 2
    quantity_precision: int = 3
    mark_candles: list[CandleRow] = field(default_factory=list)
    mark_interval_ms: int = 0
    funding_rates: list[tuple[int, Decimal]] = field(default_factory=list)
    #: Rate quoted (``lastFundingRate``) and applied when no funding data covers a funding time.
    default_funding_rate: Decimal = Decimal("0.0001")
    #: Funding settled by the venue (replayed or applied by a test): ``(funding time, rate, mark price)``.
    settled_funding: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    #: Candle the replay starts on when the server is given no ``start_index``.
    start_index: int = 100
    cursor: int = 0
    mark_override: Decimal | None = None
    last_override: Decimal | None = None
    #: Delivery time of a dated future (None: a perpetual, the only kind with funding).
    delivery_ms: int | None = None
    #: Quote value of one contract of an inverse (COIN-M) contract, e.g. 100 (USD); None: linear.
    contract_size: Decimal | None = None

    @property
    def is_inverse(self) -> bool:
        """True for an inverse (coin-margined) contract: quantities in contracts, margin in the base."""
        return self.contract_size is not None

    def notional(self, quantity: Decimal, price: Decimal) -> Decimal:
        """The value of ``quantity`` at ``price`` in the margin asset: ``qty x price`` (linear),
        ``qty x contract_size / price`` (inverse, in the base)."""
        if self.contract_size is None:
            return quantity * price
        return quantity * self.contract_size / price

    @property
    def is_dated(self) -> bool:
        """True for a dated future (no funding)."""
        return self.delivery_ms is not None

    @property
    def _expiry(self) -> str:
        if self.delivery_ms is None:
            return ""
        return datetime.fromtimestamp(self.delivery_ms / 1000, tz=UTC).strftime("%y%m%d")

    @property
    def pair(self) -> str:
        """The underlying pair's id, e.g. ``BTCUSDT`` (also of its dated futures)."""
        return f"{self.base}{self.quote}"

    @property
    def symbol_id(self) -> str:
        """The venue id, e.g. ``XRPUSDT``, ``BTCUSDT_201225`` for a dated future, ``BTCUSD_PERP`` inverse."""
        if self.is_dated:
            return f"{self.pair}_{self._expiry}"
        return f"{self.pair}_PERP" if self.is_inverse else self.pair

    @property
    def symbol(self) -> str:
        """The unified symbol, e.g. ``XRP/USDT:USDT``, ``BTC/USDT:USDT-201225`` for a dated future,
        ``BTC/USD:BTC`` for an inverse perpetual."""
        base = f"{self.base}/{self.quote}:{self.settle}"
        return f"{base}-{self._expiry}" if self.is_dated else base

    @property
    def settle(self) -> str:
        """The margin (settle) asset: the quote of a linear contract, the base of an inverse one."""
        return self.base if self.is_inverse else self.quote

    @property
    def current(self) -> CandleRow:
        """The last closed trade candle."""
        return self.candles[self.cursor]

    @property
    def now_ms(self) -> int:
        """The market's replay time: the close time of its last closed candle."""
        return self.current[0] + self.interval_ms

    @property
    def last_price(self) -> Decimal:
        """The last trade price: a test override, else the last closed candle's close."""
        return self.last_override if self.last_override is not None else self.current[4]

    @property
    def mark_price(self) -> Decimal:
        """The mark price (see the module docstring for where it comes from)."""
        if self.mark_override is not None:
            return self.mark_override
        closed = self.visible_marks()
        return closed[-1][4] if closed else self.last_price

    def visible_candles(self) -> list[CandleRow]:
        """Trade candles up to and including the cursor (the future is not visible)."""
        return self.candles[: self.cursor + 1]

    def visible_marks(self) -> list[CandleRow]:
        """Mark-price candles closed by now; the trade candles when the market has none."""
        if not self.mark_candles:
            return self.visible_candles()
        now = self.now_ms
        return [row for row in self.mark_candles if row[0] + self.mark_interval_ms <= now]

    @property
    def marks_interval_ms(self) -> int:
        """Interval of :meth:`visible_marks` rows."""
        return self.mark_interval_ms if self.mark_candles else self.interval_ms

    def next_funding_time(self) -> int:
        """The first funding time strictly after :attr:`now_ms`."""
        return (self.now_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS

    def funding_rate_at(self, funding_time: int) -> Decimal:
        """The data's rate for the funding time ``funding_time`` (floored to 8h), else the default rate."""
        for time_ms, rate in self.funding_rates:
            if time_ms - time_ms % FUNDING_INTERVAL_MS == funding_time:
                return rate
        return self.default_funding_rate

    def max_leverage(self) -> int:
        """The highest leverage the first bracket allows."""
        return self.brackets[0].initial_leverage

    def contract_spec(self) -> ContractSpec:
        """The :class:`ContractSpec` the venue's accounting uses (cross, one-way, leverage 20 as Binance's defaults)."""
        return ContractSpec(
            price_tick=self.tick_size,
            amount_step=self.step_size,
            min_amount=self.min_qty,
            max_amount=self.max_qty,
            min_cost=self.min_notional,
            contract_size=self.contract_size if self.contract_size is not None else Decimal(1),
            leverage=min(20, self.max_leverage()),
            max_leverage=self.max_leverage(),
            margin_mode=MarginMode.CROSS,
            position_mode=PositionMode.ONE_WAY,
            margin_tiers=tuple(
                MarginTier(b.cap, b.maint_margin_ratio, b.cum, max_leverage=b.initial_leverage) for b in self.brackets
            ),
        )


def brackets_of(rows: list[tuple[str | None, str, str, int]]) -> tuple[Bracket, ...]:
    """Brackets from ``(cap, maintenance rate, cum, max leverage)`` rows, each floor the previous cap."""
    out: list[Bracket] = []
    floor = Decimal(0)
    for cap, rate, cum, leverage in rows:
        cap_value = Decimal(cap) if cap is not None else None
        out.append(Bracket(floor, cap_value, Decimal(rate), Decimal(cum), leverage))
        floor = cap_value if cap_value is not None else floor
    return tuple(out)


#: Leverage brackets in the venue's shape (cap, maintenance rate, cum, max leverage); continuous
#: maintenance margin at each cap.
XRP_BRACKETS = brackets_of(
    [
        ("10000", "0.005", "0", 75),
        ("50000", "0.0065", "15", 50),
        ("250000", "0.01", "190", 25),
        (None, "0.02", "2690", 10),
    ]
)
BTC_BRACKETS = brackets_of(
    [
        ("50000", "0.004", "0", 125),
        ("250000", "0.005", "50", 100),
        ("3000000", "0.01", "1300", 50),
        (None, "0.025", "46300", 20),
    ]
)


def default_futures_markets(data_dir: str | Path = DATA_DIR) -> list[FuturesMarket]:
    """``XRPUSDT`` and ``BTCUSDT`` replaying the package's data (see the module docstring)."""
    data = Path(data_dir)
    xrp_tick = Decimal("0.0001")
    xrp = FuturesMarket(
        "XRP",
        "USDT",
        _rounded(load_candles(data / "XRP_USDT_USDT-5m-futures.json"), xrp_tick),
        TimeFrame.parse("5m").ms,
        XRP_BRACKETS,
        tick_size=xrp_tick,
        step_size=Decimal("0.1"),
        min_qty=Decimal("0.1"),
        max_qty=Decimal("10000000"),
        market_max_qty=Decimal("2000000"),
        min_notional=Decimal("5"),
        price_precision=4,
        quantity_precision=1,
        mark_candles=_load_marks(data / "XRP_USDT_USDT-1h-mark.json", _MARK_STEP),
        mark_interval_ms=TimeFrame.parse("1h").ms,
        funding_rates=load_funding_rates(data / "XRP_USDT_USDT-8h-funding_rate.json"),
        start_index=300,
    )
    btc_tick = Decimal("0.1")
    btc = FuturesMarket(
        "BTC",
        "USDT",
        _rounded(load_candles(data / "BTC_USDT-1h.json"), btc_tick),
        TimeFrame.parse("1h").ms,
        BTC_BRACKETS,
        tick_size=btc_tick,
        step_size=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        max_qty=Decimal("1000"),
        market_max_qty=Decimal("120"),
        min_notional=Decimal("100"),
        price_precision=2,
        quantity_precision=3,
    )
    return [xrp, btc]


def dated_future(market: FuturesMarket, delivery_ms: int) -> FuturesMarket:
    """A dated future of ``market``'s pair delivered at ``delivery_ms``: the same data, filters and
    brackets, its own replay cursor, no funding."""
    return dataclasses.replace(
        market, delivery_ms=delivery_ms, funding_rates=[], settled_funding=[], mark_override=None, last_override=None
    )
