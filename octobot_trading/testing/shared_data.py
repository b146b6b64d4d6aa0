"""Where tests and benchmarks find the full real market-data files that are too large to bundle.

The folder is, in this order:

1. the environment variable ``OCTOBOT_TRADING_SHARED_DATA``, when set;
2. ``shared/data`` next to the repository checkout (``<checkout>/../shared/data``).

It holds sub-folders such as ``binance_spot_nfi/`` with files like ``BTC_USDT-5m.json``. Small
slices of the same data are bundled with the tests and the package (see their PROVENANCE.md),
so only the tests and benchmarks that need whole files depend on it; they skip, saying which
file is missing and how to point at it, when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "SHARED_DATA_ENV_VAR",
    "missing_shared_data_reason",
    "require_shared_data_file",
    "shared_data_dir",
    "shared_data_file",
]

SHARED_DATA_ENV_VAR = "OCTOBOT_TRADING_SHARED_DATA"

# octobot_trading/testing/shared_data.py -> the checkout's root is two levels above the package
_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """The shared data folder: ``$OCTOBOT_TRADING_SHARED_DATA``, else ``<checkout>/../shared/data``."""
    configured = os.environ.get(SHARED_DATA_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return (_CHECKOUT_ROOT / ".." / "shared" / "data").resolve()


def shared_data_file(*parts: str) -> Path:
    """The path of ``parts`` inside the shared data folder (it may not exist)."""
    return shared_data_dir().joinpath(*parts)


def missing_shared_data_reason(*parts: str) -> str | None:
    """``None`` when the file exists, else a message naming it and how to point at the folder."""
    path = shared_data_file(*parts)
    if path.exists():
        return None
    return (
        f"real market data file not found: {path} "
        f"(set {SHARED_DATA_ENV_VAR} to the folder holding {'/'.join(parts[:-1]) or '.'}/)"
    )


def require_shared_data_file(*parts: str) -> Path:
    """The path of ``parts`` inside the shared data folder; skips the calling test when it is absent."""
    reason = missing_shared_data_reason(*parts)
    if reason is not None:
        import pytest  # only tests call this; pytest is not a run-time dependency

        pytest.skip(reason)
    return shared_data_file(*parts)
