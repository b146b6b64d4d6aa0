"""The layout of a CSV candle file read from its first line: header, headerless or Binance dump.

A first field that is a number or a date means no header (6 columns, or Binance's 12-column
klines); otherwise the first line is a header whose columns are found by name. Only commas
separate fields: a first line that is one field holding semicolons, tabs or bars is refused
with a hint.
"""

from __future__ import annotations

import re

from octobot_trading.errors import DataFileError

__all__ = [
    "BINANCE_KLINE_COLUMNS",
    "CSV_HEADER",
    "DATA_LIKE",
    "TIME_COLUMN_NAMES",
    "header_columns",
    "headerless_layout",
    "refuse_other_separator",
]

CSV_HEADER = ("timestamp", "open", "high", "low", "close", "volume")
TIME_COLUMN_NAMES = ("timestamp", "timestamp_ms", "time", "date", "datetime", "open_time")
BINANCE_KLINE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
#: A field that is a number or a date: a first line starting with one is data, not a header.
DATA_LIKE = re.compile(r'^\s*"?\s*(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|\d{4}-\d{2}-\d{2}.*)\s*"?\s*$', re.ASCII)


_OTHER_SEPARATORS = {";": "';'", "\t": "tab", "|": "'|'"}
_FEWEST_COLUMNS = 5  # open time, open, high, low, close (a price-only file)


def refuse_other_separator(first: list[str], source: str) -> None:
    """A first line that is one field which semicolons, tabs or bars split into at least the 5
    columns of the smallest layout (a price-only file): not a comma-separated file."""
    if len(first) != 1:
        return
    counts = {sep: first[0].count(sep) for sep in _OTHER_SEPARATORS}
    sep = max(counts, key=lambda k: counts[k])
    if counts[sep] + 1 < _FEWEST_COLUMNS:
        return
    headerless = DATA_LIKE.match(first[0].split(sep, 1)[0]) is not None
    raise DataFileError(
        f"{'the first row' if headerless else 'the header'}'s fields seem separated by {_OTHER_SEPARATORS[sep]}: "
        "only commas separate CSV fields (replace the separator by commas)",
        path=source,
        row=0 if headerless else None,
    )


def headerless_layout(first: list[str], source: str) -> str:
    if len(first) == 6:
        return "headerless"
    if len(first) == len(BINANCE_KLINE_COLUMNS):
        return "binance-klines"
    raise DataFileError(
        f"a file without header needs 6 columns ({','.join(CSV_HEADER)}) or Binance's 12-column klines, "
        f"found {len(first)}",
        path=source,
        row=0,
    )


def header_columns(header: list[str], source: str, price_only: bool = False) -> list[int]:
    """Indices of the time, open, high, low, close and volume columns named in ``header``.

    ``price_only``: the volume column may be absent (index -1).
    """
    names = [h.strip().strip('"').strip().lower() for h in header]
    found: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        role = "time" if name in TIME_COLUMN_NAMES else name if name in CSV_HEADER[1:] else None
        if role:
            found.setdefault(role, []).append(index)
    picks = []
    for role in ("time", *CSV_HEADER[1:]):
        where = found.get(role, [])
        if not where and role == "volume" and price_only:
            picks.append(-1)
            continue
        if not where:
            wanted = "open-time (" + ", ".join(TIME_COLUMN_NAMES) + ")" if role == "time" else role
            raise DataFileError(f"header {','.join(header)!r} has no {wanted} column", path=source)
        if len(where) > 1:
            both = ", ".join(header[i] for i in where)
            raise DataFileError(f"ambiguous header: {both} could all be the {role} column", path=source)
        picks.append(where[0])
    return picks
