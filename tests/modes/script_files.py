"""Trading-script files for the scripted-mode tests, and a bare mode context to load them in."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import octobot_trading as ot
from octobot_trading.clock import SimulatedClock
from octobot_trading.modes.context import ModeContext


def write_script(path: Path, body: str, stamp_ns: int | None = None) -> Path:
    """Write ``body`` (dedented) to ``path``; with ``stamp_ns``, give the file that modification time
    (a distinct one for each edit, as the hot reload compares them)."""
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    if stamp_ns is not None:
        os.utime(path, ns=(stamp_ns, stamp_ns))
    return path


def script_in(folder: Path, body: str, name: str = "script.py") -> Path:
    """The script ``name`` written in ``folder`` with ``body`` (dedented)."""
    return write_script(folder / name, body)


def bare_context(clock: SimulatedClock | None = None) -> ModeContext:
    """A context on ``BTC/USDT`` 1h with no channels, trader nor portfolio: a mode built on it loads
    (and reloads) its script but never runs (default clock: simulated, at 0)."""
    return ModeContext(
        channels=None,
        trader=None,
        portfolio=None,
        clock=clock if clock is not None else SimulatedClock(0),
        symbols=["BTC/USDT"],
        time_frames=[ot.TimeFrame.H1],
        market_spec=lambda s: ot.MarketSpec(),
    )
