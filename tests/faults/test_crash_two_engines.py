"""Two engines on one storage file: the second one, in another process, gets a typed ``StorageError``
naming the file and changes nothing (no order sent or canceled, the first engine's state intact)."""

from __future__ import annotations

import logging

import pytest

from tests.faults.conftest import venue_orders
from tests.faults.crash_harness import (
    EngineStartError,
    check_secrets,
    place,
    price_below,
    restart_and_check,
    stored_statuses,
    wait_for,
)

pytest_plugins = ["tests.faults.crash_fixtures"]


async def test_a_second_engine_on_the_same_file_gets_a_storage_error_and_changes_nothing(
    server, engines, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "state.sqlite"
    first = await engines.start(path)
    placed = await place(first, type="limit", side="buy", amount="0.001", price=str(price_below(server, "0.05")))
    await wait_for(lambda: stored_statuses(path) == ["open"])
    requests_before = len(server.faults.requests)

    with pytest.raises(EngineStartError) as refused:  # not started on a file another engine uses
        await engines.start(path)
    assert refused.value.error == "StorageError" and str(path) in (refused.value.message or "")
    assert refused.value.returncode != 0
    changes = [r for r in server.faults.requests[requests_before:] if r[0] in ("POST", "DELETE", "PUT")]
    assert changes == []  # nothing sent or canceled by the refused engine

    snapshot = await first.snapshot()  # the first engine still runs, its order untouched
    assert [(o["client_order_id"], o["status"]) for o in snapshot["orders"]] == [(placed["client_order_id"], "open")]
    assert await first.stop() == 0
    orders = await restart_and_check(server, path)  # the file holds the first engine's state only
    assert [o.client_order_id for o in orders] == [placed["client_order_id"]]
    assert [o.client_order_id for o in venue_orders(server)] == [placed["client_order_id"]]
    check_secrets(caplog, server, engines)
