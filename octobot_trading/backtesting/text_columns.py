"""Numbers and times in text (CSV rows, freqtrade JSON arrays) parsed column-wise with numpy.

The readers never build a Python object per row: the file's bytes are viewed as a ``uint8``
array, field boundaries come from vectorised searches for separators, and each field is
parsed in place:

* a decimal number of at most 16 characters (digits and one dot) is read eight ASCII digits at
  a time inside ``uint64`` words (SWAR), giving an exact integer mantissa ``m`` and its count
  ``f`` of decimals; the float is then ``m / 10**f``. With ``m < 2**53`` and ``f <= 22`` both
  operands are exact doubles and IEEE division rounds once, so the result is the correctly
  rounded value of the text, bit for bit what ``float(text)`` gives (Clinger's fast path);
* any other field (exponents, signs, long mantissas, spaces, quotes...) goes through a strict
  regular expression and ``float()`` one by one: rare, and still exact.

Bad fields are reported by position; the callers turn positions into file, row and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "EPOCH_UNITS",
    "BadField",
    "Block",
    "csv_blocks",
    "epoch_to_ms",
    "iso_to_ms",
    "json_blocks",
    "line_chunks",
    "magnitude_classes",
    "parse_floats",
    "parse_numbers",
]

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

WIDTH = 16  # longest field read by the fast path (the window of two uint64 words)
PAD = b"0" * WIDTH
BLOCK_BYTES = 1 << 21  # parse ~2 MB at a time: bounded temporaries, cache friendly

_ONES = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_ZEROS = np.uint64(0x3030303030303030)
_DOTS = np.uint64(0x2E2E2E2E2E2E2E2E)
_HI_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_LO_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_SIXES = np.uint64(0x0606060606060606)
_ALL = (1 << 64) - 1
# word with its k lowest bytes (the k first characters) cleared / set to "0"
_KEEP = np.array([_ALL ^ ((1 << (8 * k)) - 1) for k in range(9)], dtype=np.uint64)
_FILL = np.array([0x3030303030303030 & ((1 << (8 * k)) - 1) for k in range(9)], dtype=np.uint64)
_P10 = np.array([10**k for k in range(19)], dtype=np.uint64)
_P10F = np.array([float(10**k) for k in range(23)], dtype=np.float64)
_EXACT = np.uint64(1 << 53)
_SEVEN = np.uint64(7)
_TOP = np.uint64(56)
# (0x01 in byte j) * these puts in the top byte: 16 - j (first word) or 8 - j (last word), i.e.
# 1 + the count of characters after byte j in the 16-character window
_AFTER_HI = np.uint64(0x100F0E0D0C0B0A09)
_AFTER_LO = np.uint64(0x0807060504030201)

# ASCII digits only: ``\d`` of a ``str`` pattern (and ``float()``) also take other scripts' digits
_CSV_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")

# unit -> (lowest value of its range, ms per unit as a fraction num/den)
EPOCH_UNITS: dict[str, tuple[int, int, int]] = {
    "s": (10**8, 1000, 1),
    "ms": (10**11, 1, 1),
    "us": (10**14, 1, 1000),
    "ns": (10**17, 1, 1_000_000),
}


@dataclass(slots=True)
class BadField(Exception):
    """A field that is not what its column needs: ``index`` into the fields given, and why."""

    index: int
    message: str


@dataclass(slots=True)
class Block:
    """Rows ``first_row .. first_row + rows`` of a file: field bounds into ``buffer``."""

    buffer: U8  # the block's bytes after WIDTH leading b"0" (field positions exclude that pad)
    starts: I64  # (columns, rows): each column contiguous
    ends: I64
    first_row: int

    @property
    def rows(self) -> int:
        return int(self.starts.shape[1])

    def text(self, row: int, column: int) -> str:
        """The raw text of one field (for error messages and the slow path)."""
        s, e = int(self.starts[column, row]), int(self.ends[column, row])
        return bytes(self.buffer[WIDTH + s : WIDTH + e]).decode("utf-8", "replace")


class StructureError(Exception):
    """The text does not have the expected shape at ``row`` (0-based data row), with ``found``."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def _words_ok(word: U64) -> Bools:
    nibble_ok: Bools = ((word & _LO_NIBBLES) + _SIXES) & _HI_NIBBLES == 0
    return ((word & _HI_NIBBLES) == _ZEROS) & nibble_ok


def _dots(word: U64) -> U64:
    x = word ^ _DOTS
    return (x - _ONES) & ~x & _HIGH


def _eight_digits(word: U64) -> U64:
    v = word - _ZEROS
    v = (v * np.uint64(10) + (v >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v * np.uint64(100) + (v >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    return (v * np.uint64(10000) + (v >> np.uint64(32))) & np.uint64(0xFFFFFFFF)


def parse_numbers(buffer: U8, starts: I64, ends: I64, *, strict: bool) -> tuple[U64, I64, Bools]:
    """Fast path: ``(mantissa, decimals, ok)`` of each field ``buffer[WIDTH + s : WIDTH + e]``.

    ``ok`` is False where the field needs the slow path (it may still be a valid number).
    ``strict`` (JSON) also sends numbers with leading zeros there, to be refused.
    """
    length = ends - starts
    # every byte offset of the buffer seen as the start of a (possibly unaligned) little-endian uint64
    words = np.ndarray((buffer.size - 7,), dtype=np.dtype("<u8"), buffer=buffer, strides=(1,))
    pad = np.clip(WIDTH - length, 0, WIDTH)
    pad_lo = np.clip(pad - 8, 0, 8)
    lo = (words[ends + 8] & _KEEP[pad_lo]) | _FILL[pad_lo]  # the last 8 characters
    if len(length) and int(length.max()) <= 8:  # common for prices: the first word is all "0"
        hi = np.full(len(length), _ZEROS, dtype=np.uint64)
    else:
        pad_hi = np.minimum(pad, 8)
        hi = (words[ends] & _KEEP[pad_hi]) | _FILL[pad_hi]  # the 8 characters before those
    flag_hi, flag_lo = _dots(hi) >> _SEVEN, _dots(lo) >> _SEVEN  # 0x01 in the bytes holding a "."
    # 1 + the number of characters after the dot, or 0 without dot (one dot at most: checked below)
    code = ((flag_hi * _AFTER_HI) >> _TOP) + ((flag_lo * _AFTER_LO) >> _TOP)
    dots = ((flag_hi * _ONES) >> _TOP) + ((flag_lo * _ONES) >> _TOP)
    # (with several dots the code is meaningless: clamped, and the field is refused by ``dots`` below)
    decimals = np.minimum(np.maximum(code, np.uint64(1)) - np.uint64(1), np.uint64(WIDTH - 1)).astype(np.int64)
    hi = hi + (flag_hi << np.uint64(1))  # "." -> "0"
    lo = lo + (flag_lo << np.uint64(1))
    ok = _words_ok(hi) & _words_ok(lo) & (dots <= 1) & (length >= 1) & (length <= WIDTH)
    ok &= (code == 0) | ((code >= 2) & (code < length.astype(np.uint64)))  # a digit on both sides of the dot
    has_dot = code != 0
    if strict:
        first = buffer[starts + WIDTH]
        second = buffer[np.minimum(starts + WIDTH + 1, buffer.size - 1)]
        ok &= ~((first == 0x30) & (length > 1) & (second != 0x2E))
    value = _eight_digits(hi) * np.uint64(100_000_000) + _eight_digits(lo)
    scale = _P10[decimals]
    whole, part = np.divmod(value, scale)
    mantissa = np.where(has_dot, (whole // np.uint64(10)) * scale + part, value)
    ok &= mantissa < _EXACT
    return mantissa, decimals, ok


_MISSING_VALUES = frozenset({"nan", "null", "none", ""})


def _slow_number(text: str, strict: bool) -> str | None:
    """The field's number text if it is a valid number (JSON grammar when ``strict``), else None."""
    text = text.strip(" \t\r\n")
    if strict:
        return text if _JSON_NUMBER.fullmatch(text) else None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip(" \t")
    return text if _CSV_NUMBER.fullmatch(text) else None


def parse_floats(block: Block, column: int, *, strict: bool, missing_as_nan: bool = False) -> F64:
    """The float64 values of one column of ``block``; :class:`BadField` (row index) if one is not a number.

    With ``missing_as_nan``, a field saying no value (``NaN``, ``null``, ``None`` or empty, any
    case, quoted or not) becomes NaN instead of an error.
    """
    starts, ends = block.starts[column], block.ends[column]
    mantissa, decimals, ok = parse_numbers(block.buffer, starts, ends, strict=strict)
    values = mantissa.astype(np.float64) / _P10F[decimals]
    for index in np.flatnonzero(~ok).tolist():
        text = block.text(index, column)
        if missing_as_nan and text.strip(' \t\r\n"').lower() in _MISSING_VALUES:
            values[index] = np.nan
            continue
        number = _slow_number(text, strict)
        if number is None:
            raise BadField(index, f"not a number: {text!r}")
        # JSON integers are ints in Python's json module ("-0" is 0, not -0.0)
        try:
            values[index] = float(int(number)) if strict and number.lstrip("-").isdigit() else float(number)
        except OverflowError:
            raise BadField(index, f"number out of range: {text[:40]!r}") from None
    return values


def epoch_to_ms(block: Block, column: int, *, strict: bool) -> tuple[list[Decimal] | None, U64, I64, Bools]:
    """Parse a numeric time column: exact ``(slow values, mantissa, decimals, ok)`` for :func:`epoch_ms`."""
    starts, ends = block.starts[column], block.ends[column]
    mantissa, decimals, ok = parse_numbers(block.buffer, starts, ends, strict=strict)
    slow: list[Decimal] | None = None
    bad = np.flatnonzero(~ok).tolist()
    if bad:
        slow = []
        for index in bad:
            text = block.text(index, column)
            number = _slow_number(text, strict)
            if number is None:
                raise BadField(index, f"not a time: {text!r}")
            try:
                slow.append(Decimal(number))
            except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
                raise BadField(index, f"not a time: {text!r}") from None
    return slow, mantissa, decimals, ok


_EDGES = np.array([float(EPOCH_UNITS[u][0]) for u in ("s", "ms", "us", "ns")] + [1e20])


def magnitude_classes(whole: F64) -> npt.NDArray[np.int8]:
    """Magnitude class of each epoch number: 0 s, 1 ms, 2 µs, 3 ns, -1 too small, 4 too large."""
    return (np.searchsorted(_EDGES, whole, side="right") - 1).astype(np.int8)


def unit_of(mantissa: U64, decimals: I64, ok: Bools, slow: list[Decimal] | None) -> npt.NDArray[np.int8]:
    """Magnitude class of each epoch number (see :func:`magnitude_classes`)."""
    plain = not decimals.any()
    whole = (mantissa if plain else mantissa // _P10[np.minimum(decimals, 18)]).astype(np.float64)
    if slow is not None:
        whole[~ok] = [float(d) for d in slow]  # inf for absurd magnitudes: refused as too large
    return magnitude_classes(whole)


def epoch_ms(mantissa: U64, decimals: I64, ok: Bools, slow: list[Decimal] | None, unit: str) -> I64:
    """Exact open times in ms; :class:`BadField` when a value is not a whole number of ms."""
    _, num, den = EPOCH_UNITS[unit]
    decimals = np.where(ok, decimals, 0)
    if (decimals > 9).any():
        raise BadField(int(np.flatnonzero(decimals > 9)[0]), "too many decimals in a timestamp")
    scaled = mantissa.astype(np.int64) * num
    if not decimals.any() and den == 1:
        result, inexact = scaled, np.zeros(0, dtype=np.bool_)
    else:
        divisor = _P10[decimals].astype(np.int64) * den
        result = scaled // divisor
        inexact = (scaled % divisor != 0) & ok
    if slow is not None:
        for index, value in zip(np.flatnonzero(~ok).tolist(), slow, strict=True):
            ms = value * num / den
            if ms != ms.to_integral_value() or abs(ms) >= 2**62:
                raise BadField(index, f"timestamp {value} is not a whole number of ms")
            result[index] = int(ms)
    if inexact.any():
        raise BadField(int(np.flatnonzero(inexact)[0]), "timestamp is not a whole number of ms")
    return result


_ISO_DAY = 86_400_000


def _unquoted(buffer: U8, starts: I64, ends: I64) -> tuple[I64, I64]:
    """Field bounds without surrounding spaces / tabs and one pair of double quotes (new arrays)."""
    starts, ends = starts.copy(), ends.copy()

    def strip() -> None:
        for _ in range(64):
            lead = (ends > starts) & ((buffer[starts + WIDTH] == 32) | (buffer[starts + WIDTH] == 9))
            last = buffer[np.maximum(ends - 1, starts) + WIDTH]
            trail = (ends > starts) & ((last == 32) | (last == 9))
            if not (lead.any() or trail.any()):
                return
            starts[:] += lead
            ends[:] -= trail

    strip()
    quoted = (ends - starts >= 2) & (buffer[starts + WIDTH] == 34) & (buffer[np.maximum(ends - 1, 0) + WIDTH] == 34)
    if quoted.any():
        starts[:] += quoted
        ends[:] -= quoted
        strip()
    return starts, ends


def _utc_offsets(chars: U8, length: I64) -> tuple[I64, I64]:
    """Read and blank (in place) each date's UTC offset: ``(offset in minutes, characters it took)``.

    An offset is the text from a ``+`` / ``-`` after the date part to the end: ``+hh:mm``,
    ``+hhmm`` or ``+hh`` with hours up to 23 and minutes up to 59; any other text after a sign
    is refused (:class:`BadField`). Dates without offset get ``(0, 0)``.
    """
    count, width = chars.shape
    columns = np.arange(width)[None, :]
    signs = ((chars == ord("+")) | (chars == ord("-"))) & (columns > 10)
    has_offset = signs.any(axis=1)
    if not has_offset.any():
        return np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64)
    rows = np.arange(count)
    sign_at = width - 1 - np.argmax(signs[:, ::-1], axis=1)  # the last sign of each date
    size = length - sign_at - 1  # characters after the sign

    def digit(k: int | I64) -> I64:
        return chars[rows, np.minimum(sign_at + k, width - 1)].astype(np.int64) - 48

    colon = (size == 5) & (chars[rows, np.minimum(sign_at + 3, width - 1)] == ord(":"))
    with_minutes = (size == 4) | colon
    h1, h2 = digit(1), digit(2)
    m1 = np.where(with_minutes, digit(np.where(colon, 4, 3)), 0)
    m2 = np.where(with_minutes, digit(np.where(colon, 5, 4)), 0)
    ok = (size == 2) | with_minutes
    for value in (h1, h2, m1, m2):
        ok &= (value >= 0) & (value <= 9)
    hours, minutes = h1 * 10 + h2, m1 * 10 + m2
    ok &= (hours <= 23) & (minutes <= 59)
    bad = has_offset & ~ok
    if bad.any():
        raise BadField(
            int(np.flatnonzero(bad)[0]), "bad UTC offset in date (+hh:mm, +hhmm or +hh; hours 00-23, minutes 00-59)"
        )
    sign = np.where(chars[rows, sign_at] == ord("-"), -1, 1)
    offset_min = np.where(has_offset, sign * (hours * 60 + minutes), 0)
    chars[(columns >= sign_at[:, None]) & has_offset[:, None]] = 0
    return offset_min.astype(np.int64), np.where(has_offset, size + 1, 0).astype(np.int64)


def iso_to_ms(block: Block, column: int) -> tuple[I64, bool]:
    """Parse ISO-8601 dates (``2021-12-31``, ``2021-12-31 23:01:00.000000``, ``...T...Z``, ``...+02:00``, ``...+0200``).

    Returns the open times in ms and whether every date carried an explicit UTC offset. A date
    without offset is read as UTC. :class:`BadField` names the first field that is not a date.
    """
    buffer = block.buffer
    starts, ends = _unquoted(buffer, block.starts[column], block.ends[column])
    length = ends - starts
    width = int(length.max()) if len(length) else 0
    if width < 10 or width > 40:
        bad = np.flatnonzero((length < 10) | (length > 40))
        raise BadField(int(bad[0]) if len(bad) else 0, "not an ISO-8601 date")
    padded = np.concatenate([buffer, np.zeros(width, dtype=np.uint8)])
    chars = sliding_window_view(padded, width)[starts + WIDTH].copy()
    rows = np.arange(len(length))
    chars[np.arange(width)[None, :] >= length[:, None]] = 0
    last = chars[rows, length - 1]
    zulu = last == ord("Z")
    offset_min, offset_len = _utc_offsets(chars, length)
    has_offset = offset_len > 0
    chars[rows[zulu], (length - 1)[zulu]] = 0
    stray = (chars == ord("Z")).any(axis=1)
    if stray.any():
        raise BadField(int(np.flatnonzero(stray)[0]), "bad UTC offset in date")
    shaped = (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-"))
    if not shaped.all():
        raise BadField(int(np.flatnonzero(~shaped)[0]), "not an ISO-8601 date (YYYY-MM-DD...)")
    text = chars.view(f"S{width}").reshape(-1)
    try:
        moments = text.astype("datetime64[us]")
    except ValueError:
        for index in range(len(text)):
            try:
                np.datetime64(text[index].decode("ascii", "replace"), "us")
            except ValueError:
                raise BadField(index, "not an ISO-8601 date") from None
        raise  # pragma: no cover - the loop finds the row
    micros = moments.astype(np.int64)
    content = length - offset_len - zulu
    if (content > 26).any():  # more than microseconds: numpy would truncate, so read nanoseconds too
        nanos = text.astype("datetime64[ns]").astype(np.int64)
        cut = nanos % 1_000_000 != 0
        if cut.any():
            raise BadField(int(np.flatnonzero(cut)[0]), "date is not a whole number of ms")
    if np.isnat(moments).any():
        raise BadField(int(np.flatnonzero(np.isnat(moments))[0]), "not an ISO-8601 date")
    if (micros % 1000 != 0).any():
        raise BadField(int(np.flatnonzero(micros % 1000 != 0)[0]), "date is not a whole number of ms")
    ms = micros // 1000 - offset_min * 60_000
    return ms, bool((has_offset | zulu).all())


def _line_bounds(buf: U8) -> tuple[I64, I64]:
    ends = np.flatnonzero(buf == 10)
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    return starts, ends


def line_chunks(handle: BinaryIO, size: int | None = None) -> Iterator[bytes]:
    """Read ``handle`` in pieces of about ``size`` bytes cut after a newline (the last one may not end with one)."""
    size = size or BLOCK_BYTES
    rest = b""
    while True:
        piece = handle.read(size)
        if not piece:
            if rest:
                yield rest
            return
        if rest:
            piece = rest + piece
        cut = piece.rfind(b"\n")
        if cut < 0:
            rest = piece
            continue
        rest = piece[cut + 1 :]
        yield piece[: cut + 1] if rest else piece


def _fits(commas: I64, line_starts: I64, line_ends: I64, per_row: int) -> bool:
    """Whether every line holds exactly ``per_row`` of the ``commas`` (sorted positions)."""
    rows = len(line_ends)
    if len(commas) != rows * per_row:
        return False
    if not per_row or not rows:
        return True
    grid = commas.reshape(rows, per_row)
    return bool((grid[:, 0] > line_starts).all() & (grid[:, -1] < line_ends).all())


def csv_blocks(chunks: Iterable[bytes], columns: int) -> Iterator[Block]:
    """Parse CSV data lines (``\\n`` endings, whole lines per chunk) into blocks of rows of ``columns`` fields.

    Blank lines (empty, or only spaces and tabs) are skipped (not counted as rows).
    :class:`StructureError` names the first row with another number of fields.
    """
    row = 0
    for chunk in chunks:
        if not chunk.endswith(b"\n"):
            chunk += b"\n"
        buf = np.frombuffer(PAD + chunk, dtype=np.uint8)
        data = buf[WIDTH:]
        line_starts, line_ends = _line_bounds(data)
        keep = line_ends > line_starts
        if not keep.all():
            line_starts, line_ends = line_starts[keep], line_ends[keep]
        rows = len(line_ends)
        if rows == 0:
            continue
        commas = np.flatnonzero(data == 44)
        per_row = columns - 1
        fits = _fits(commas, line_starts, line_ends, per_row)
        if not fits:  # (rare) lines of spaces or tabs are blank lines too: drop them and look again
            visible = np.flatnonzero(data > 32)
            blank = np.searchsorted(visible, line_ends) == np.searchsorted(visible, line_starts)
            if blank.any():
                line_starts, line_ends = line_starts[~blank], line_ends[~blank]
                rows = len(line_ends)
                if rows == 0:
                    continue
                fits = _fits(commas, line_starts, line_ends, per_row)
        if not fits:
            counts = np.diff(np.searchsorted(commas, np.concatenate([[-1], line_ends]))) + 1
            wrong = np.flatnonzero(counts != columns)
            index = int(wrong[0]) if len(wrong) else 0
            found = int(counts[index]) if len(wrong) else columns
            raise StructureError(row + index, f"expected {columns} columns, got {found}")
        starts = np.empty((columns, rows), dtype=np.int64)
        ends = np.empty((columns, rows), dtype=np.int64)
        starts[0] = line_starts
        ends[-1] = line_ends
        if per_row:
            ends[:-1] = commas.reshape(rows, per_row).T
            starts[1:] = ends[:-1] + 1
        yield Block(buf, starts, ends, row)
        row += rows


def _trim(buf: U8, starts: I64, ends: I64) -> None:
    """Move field bounds past JSON whitespace (space, tab, CR, LF) in place."""
    for _ in range(4096):
        lead = (ends > starts) & (buf[starts + WIDTH] <= 32)
        if not lead.any():
            break
        starts += lead
    for _ in range(4096):
        trail = (ends > starts) & (buf[np.maximum(ends - 1, starts) + WIDTH] <= 32)
        if not trail.any():
            break
        ends -= trail


def json_blocks(text: bytes, start: int, stop: int, columns: int) -> Iterator[Block]:
    """Split ``text[start:stop]``, the inside of a JSON array of ``columns``-number arrays, into blocks of rows.

    :class:`StructureError` when the text is not such a list of rows (the caller then asks the
    ``json`` module for the exact place).
    """
    pos, size, row = start, stop, 0
    while pos < size:
        cut = text.find(b"]", min(pos + BLOCK_BYTES, size - 1), size)
        cut = size if cut < 0 else cut + 1
        chunk = text[pos:cut]
        if pos > start:
            stripped = chunk.lstrip()
            if not stripped.startswith(b","):
                raise StructureError(row, "expected ',' between rows")
            chunk = b" " * (len(chunk) - len(stripped) + 1) + stripped[1:]
        pos = cut
        buf = np.frombuffer(PAD + chunk, dtype=np.uint8)
        data = buf[WIDTH:]
        opens = np.flatnonzero(data == 91)
        closes = np.flatnonzero(data == 93)
        rows = len(opens)
        if rows == 0 and not chunk.strip():
            continue
        if rows == 0 or len(closes) != rows or not (opens < closes).all() or not (closes[:-1] < opens[1:]).all():
            raise StructureError(row, f"expected rows of {columns} numbers in brackets")
        commas = np.flatnonzero(data == 44)
        per_row = columns - 1
        if len(commas) != rows * columns - 1:
            raise StructureError(row, f"expected rows of {columns} numbers")
        grid = np.append(commas, data.size).reshape(rows, columns)
        inside = grid[:, :per_row]
        between = grid[:-1, per_row]
        if not (
            (inside[:, 0] > opens).all()
            and (inside[:, -1] < closes).all()
            and (between > closes[:-1]).all()
            and (between < opens[1:]).all()
        ):
            raise StructureError(row, f"expected rows of {columns} numbers")
        starts = np.empty((columns, rows), dtype=np.int64)
        ends = np.empty((columns, rows), dtype=np.int64)
        starts[0] = opens + 1
        ends[-1] = closes
        ends[:-1] = inside.T
        starts[1:] = ends[:-1] + 1
        flat_s, flat_e = starts.reshape(-1), ends.reshape(-1)
        _trim(buf, flat_s, flat_e)
        # every non-blank byte must be a bracket, a separator or inside a field: nothing else outside
        visible = int(np.count_nonzero(data > 32))
        expected = int((flat_e - flat_s).sum()) + 2 * rows + per_row * rows + (rows - 1)
        if visible != expected:
            raise StructureError(row, "unexpected text between rows")
        yield Block(buf, starts, ends, row)
        row += rows
