"""Tests and benchmarks find the large real-data files next to the checkout or through an env var."""

from __future__ import annotations

from pathlib import Path

import pytest

from octobot_trading.testing import shared_data
from octobot_trading.testing.shared_data import (
    SHARED_DATA_ENV_VAR,
    missing_shared_data_reason,
    require_shared_data_file,
    shared_data_dir,
    shared_data_file,
)

CHECKOUT = Path(__file__).resolve().parents[2]


def test_default_folder_is_shared_data_next_to_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SHARED_DATA_ENV_VAR, raising=False)
    assert shared_data_dir() == (CHECKOUT.parent / "shared" / "data").resolve()
    assert shared_data_file("binance_spot_nfi", "BTC_USDT-5m.json") == shared_data_dir() / "binance_spot_nfi" / (
        "BTC_USDT-5m.json"
    )


def test_the_environment_variable_points_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "venue").mkdir()
    (tmp_path / "venue" / "X_Y-1h.json").write_text("[]", encoding="utf-8")
    monkeypatch.setenv(SHARED_DATA_ENV_VAR, str(tmp_path))
    assert shared_data_dir() == tmp_path
    assert missing_shared_data_reason("venue", "X_Y-1h.json") is None
    assert require_shared_data_file("venue", "X_Y-1h.json") == tmp_path / "venue" / "X_Y-1h.json"


def test_a_missing_file_skips_naming_the_file_and_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV_VAR, str(tmp_path))
    reason = missing_shared_data_reason("venue", "absent.json")
    assert reason is not None
    assert str(tmp_path / "venue" / "absent.json") in reason and SHARED_DATA_ENV_VAR in reason
    with pytest.raises(pytest.skip.Exception, match=r"absent\.json"):
        require_shared_data_file("venue", "absent.json")


def test_the_helper_names_no_absolute_location() -> None:
    source = Path(shared_data.__file__).read_text(encoding="utf-8")
    assert "/work" not in source and "C:\\" not in source
