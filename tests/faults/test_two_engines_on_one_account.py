"""Two engines trading one account with different storage (one with its storage file and one
without, or each with its own file): each keeps to its own orders (told apart by their client
order id prefix). Neither adopts, records the fills of, nor cancels the other's, also after a
restart."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from octobot_trading.enums import OrderStatus
from octobot_trading.exchanges.manager import ExchangeManager
from tests.faults.conftest import (
    assert_engine_matches_venue,
    assert_no_secret,
    build_live,
    far_buy_price,
    live_builder,
    live_engine,
    reconcile,
    resting_buy,
    settle,
    sim_clock,
    started,
    until,
    venue_orders,
)


def _mine(prefix: str):  # type: ignore[no-untyped-def]
    return lambda client_order_id: client_order_id.startswith(f"{prefix}-")


def _client_ids(manager: ExchangeManager) -> set[str]:
    return {o.client_order_id for o in manager.exchange_personal_data.orders_manager.all_orders()}


@pytest.mark.parametrize("beta_storage", [None, "beta.sqlite"], ids=["beta_without_a_file", "beta_with_its_own_file"])
async def test_two_engines_on_one_account_keep_to_their_own_orders(
    venue, caplog, tmp_path: Path, beta_storage: str | None
):
    caplog.set_level(logging.INFO)
    server = venue.server
    clock = sim_clock(server)
    storage = tmp_path / "alpha.sqlite"

    def alpha_builder():  # type: ignore[no-untyped-def]
        return live_builder(venue, clock, client_order_id_prefix="alpha").with_storage(storage)

    def beta_builder():  # type: ignore[no-untyped-def]
        builder = live_builder(venue, clock, client_order_id_prefix="beta")
        return builder if beta_storage is None else builder.with_storage(tmp_path / beta_storage)

    alpha = await build_live(clock, alpha_builder())
    beta = await build_live(clock, beta_builder())
    try:
        await started(alpha)
        await started(beta)
        price, steps = resting_buy(server)
        far = far_buy_price(server)
        a_far = await alpha.trader.create_order("limit", "buy", "BTC/USDT", "0.001", far)
        a_fill = await alpha.trader.create_order("limit", "buy", "BTC/USDT", "0.001", price)
        b_far = await beta.trader.create_order("limit", "buy", "BTC/USDT", "0.002", far)
        b_fill = await beta.trader.create_order("limit", "buy", "BTC/USDT", "0.002", price)
        assert a_far.client_order_id.startswith("alpha-") and b_far.client_order_id.startswith("beta-")
        await settle()
        await reconcile(alpha)
        await reconcile(beta)
        assert _client_ids(alpha) == {a_far.client_order_id, a_fill.client_order_id}  # nothing adopted
        assert _client_ids(beta) == {b_far.client_order_id, b_fill.client_order_id}

        server.advance(steps)  # both engines' resting orders fill
        await until(lambda: a_fill.status is OrderStatus.CLOSED and b_fill.status is OrderStatus.CLOSED)
        await alpha.trader.cancel_all_orders()  # alpha's own only
        assert a_far.status is OrderStatus.CANCELED
        (still_open,) = [o for o in venue_orders(server) if o.is_open]
        assert still_open.client_order_id == b_far.client_order_id
        await settle()
        await assert_engine_matches_venue(alpha, server, owns=_mine("alpha"))
        await assert_engine_matches_venue(beta, server, owns=_mine("beta"))

        # restarts: alpha from its file, beta from its own file or without one (it then finds its
        # open order by its prefix)
        await alpha.stop()
        await beta.stop()
        beta = await build_live(clock, beta_builder())
        alpha = await build_live(clock, alpha_builder())
        await started(alpha)
        await started(beta)
        await reconcile(alpha)
        await reconcile(beta)
        assert b_far.client_order_id not in _client_ids(alpha)
        assert a_far.client_order_id not in _client_ids(beta) and a_fill.client_order_id not in _client_ids(beta)
        await assert_engine_matches_venue(alpha, server, owns=_mine("alpha"))
        if beta_storage is None:
            assert _client_ids(beta) == {b_far.client_order_id}  # adopted: its own, still open
            # (without a file, beta's orders finished before its restart are history it does not have)
            finished = b_fill.client_order_id
            await assert_engine_matches_venue(beta, server, owns=lambda cid: _mine("beta")(cid) and cid != finished)
        else:  # restored from its own file, finished order and fill included
            assert _client_ids(beta) == {b_far.client_order_id, b_fill.client_order_id}
            await assert_engine_matches_venue(beta, server, owns=_mine("beta"))
        await alpha.trader.cancel_all_orders()
        assert [o.client_order_id for o in venue_orders(server) if o.is_open] == [b_far.client_order_id]
        assert_no_secret(server, caplog)
    finally:
        await alpha.stop()
        await beta.stop()


async def test_orders_of_execute_trade_carry_the_engine_prefix_and_are_found_after_a_restart(venue, caplog):
    caplog.set_level(logging.INFO)
    server = venue.server
    async with live_engine(venue, client_order_id_prefix="gamma") as (manager, clock):
        await started(manager)
        placed = await manager.exchange.execute_trade("BTC/USDT", "buy", "0.001", far_buy_price(server))
        assert placed.client_order_id is not None and placed.client_order_id.startswith("gamma-")
    restarted = await build_live(clock, live_builder(venue, clock, client_order_id_prefix="gamma"))
    try:
        await started(restarted)
        await reconcile(restarted)
        assert _client_ids(restarted) == {placed.client_order_id}  # its own: adopted
        await assert_engine_matches_venue(restarted, server, owns=_mine("gamma"))
        assert_no_secret(server, caplog)
    finally:
        await restarted.stop()
