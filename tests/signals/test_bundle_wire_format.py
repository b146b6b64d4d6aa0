"""The signal bundle wire format: versioned, strict, money as strings."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from octobot_trading.errors import InvalidSignal
from octobot_trading.signals import SignalBundle

CREATE: dict[str, Any] = {
    "version": 1,
    "id": "leader-1",
    "source": "leader",
    "sequence": 1,
    "timestamp": 1700000000000,
    "operation": "create",
    "orders": [
        {
            "ref": "a",
            "role": "entry",
            "type": "limit",
            "side": "buy",
            "symbol": "BTC/USDT",
            "amount": "0.05",
            "fraction": "0.1",
            "price": "20000.5",
            "group": {"name": "g1", "kind": "oco"},
            "price_trigger": {"threshold": "19000", "above": False},
        },
        {
            "ref": "b",
            "role": "stop_loss",
            "type": "stop_loss",
            "side": "sell",
            "symbol": "BTC/USDT",
            "amount": "0.05",
            "fraction": "1",
            "trigger_price": "18000",
            "parent": "a",
        },
    ],
}


def _text(**changes) -> str:
    return json.dumps({**CREATE, **changes})


def test_round_trip_keeps_every_value_and_writes_money_as_strings():
    bundle = SignalBundle.from_json(_text())
    assert SignalBundle.from_json(bundle.to_json()) == bundle
    wire = json.loads(bundle.to_json())
    assert wire["orders"][0]["price"] == "20000.5" and wire["orders"][1]["trigger_price"] == "18000"
    assert bundle.entry.decimal("price") == Decimal("20000.5") and bundle.entry.decimal("trigger_price") is None


@pytest.mark.parametrize(
    "text, named",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (_text(version=2), "version 2"),
        (_text(version="1"), "version '1'"),
        (json.dumps({k: v for k, v in CREATE.items() if k != "version"}), "version None"),
        (_text(sequence=0), "sequence"),
        (_text(surprise=True), "surprise"),
        (_text(orders=[{**CREATE["orders"][0], "amount": 0.05}]), "amount"),  # a JSON number for money
        (_text(orders=[{**CREATE["orders"][0], "price": "1e5"}]), "price"),
        (_text(orders=[{**CREATE["orders"][0], "side": "hold"}]), "side"),
        (_text(orders=[CREATE["orders"][1]]), "exactly one entry"),
        (_text(orders=[CREATE["orders"][0], {**CREATE["orders"][1], "parent": "zzz"}]), "not chained"),
        (_text(operation="cancel"), "ref"),
    ],
)
def test_malformed_or_unknown_version_bundles_are_refused_naming_the_problem(text, named):
    with pytest.raises(InvalidSignal, match=named):
        SignalBundle.from_json(text)


ENTRY, EXIT = CREATE["orders"]
EDIT: dict[str, Any] = {
    "version": 1,
    "id": "leader-2",
    "source": "leader",
    "sequence": 2,
    "timestamp": 1,
    "operation": "edit",
    "ref": "a",
}


@pytest.mark.parametrize(
    "text, named",
    [
        (_text(orders=[{**ENTRY, "amount": "0"}, EXIT]), "orders.0.amount"),
        (_text(orders=[ENTRY, {**EXIT, "amount": "0.000"}]), "orders.1.amount"),
        (_text(orders=[ENTRY, {**EXIT, "fraction": "0"}]), "fraction 0 of its parent"),
        (_text(orders=[ENTRY, {**EXIT, "fraction": "50"}]), "fraction 50 of its parent"),
        (_text(orders=[ENTRY, {**EXIT, "fraction": "1.0001"}]), "fraction 1.0001 of its parent"),
        (json.dumps({**EDIT, "amount_ratio": "0"}), "amount_ratio"),
        (json.dumps({**EDIT, "price": "0"}), "price"),
    ],
)
def test_zero_amounts_ratios_prices_and_exit_fractions_outside_zero_to_one_are_refused(text, named):
    with pytest.raises(InvalidSignal, match=named):
        SignalBundle.from_json(text)


@pytest.mark.parametrize(
    "orders, named",
    [
        ([ENTRY, {**EXIT, "ref": "b", "parent": "c"}, {**EXIT, "ref": "c", "parent": "b"}], "cycle"),
        ([ENTRY, {**EXIT, "parent": "b"}], "cycle"),  # its own parent
        ([{**ENTRY, "parent": "a"}, EXIT], "chained to itself"),
        ([ENTRY, {**EXIT, "symbol": "ETH/USDT"}], "ETH/USDT, not on the entry's symbol BTC/USDT"),
        ([ENTRY, {**EXIT, "parent": None}], "not chained"),
    ],
)
def test_an_inconsistent_order_graph_is_refused(orders, named):
    with pytest.raises(InvalidSignal, match=named):
        SignalBundle.from_json(_text(orders=orders))


def test_a_chain_of_exits_reaching_the_entry_is_accepted():
    orders = [
        ENTRY,
        EXIT,
        {
            **EXIT,
            "ref": "c",
            "type": "limit",
            "role": "chained",
            "parent": "b",
            "trigger_price": None,
            "price": "21000",
        },
    ]
    assert [o.parent for o in SignalBundle.from_json(_text(orders=orders)).orders] == [None, "a", "b"]


@pytest.mark.parametrize(
    "text, named",
    [
        ('{"version": 1, "version": 1' + _text()[len('{"version": 1') :], "duplicate key 'version'"),
        (_text().replace('"side": "buy"', '"side": "buy", "side": "sell"', 1), "duplicate key 'side'"),
    ],
)
def test_duplicate_json_keys_are_refused(text, named):
    with pytest.raises(InvalidSignal, match=named):
        SignalBundle.from_json(text)


@pytest.mark.parametrize(
    "field, value",
    [
        ("amount", "\u0660.\u0660\u0661"),  # Arabic-Indic digits
        ("amount", "\uff11"),  # a full-width 1
        ("price", "\u0662\u0665\u0660\u0660\u0660"),
    ],
)
def test_money_strings_accept_ascii_digits_only(field, value):
    text = _text(orders=[{**ENTRY, field: value}, EXIT])
    with pytest.raises(InvalidSignal, match=f"orders.0.{field}"):
        SignalBundle.from_json(text)


def test_edit_and_cancel_bundles_name_their_target():
    edit = SignalBundle.from_json(
        json.dumps(
            {
                "version": 1,
                "id": "leader-2",
                "source": "leader",
                "sequence": 2,
                "timestamp": 1,
                "operation": "edit",
                "ref": "a",
                "amount_ratio": "2",
                "price": "19000",
            }
        )
    )
    assert (edit.ref, edit.amount_ratio, edit.price) == ("a", "2", "19000")
    with pytest.raises(InvalidSignal, match="carries no values"):
        SignalBundle.from_json(
            json.dumps(
                {
                    "version": 1,
                    "id": "leader-3",
                    "source": "leader",
                    "sequence": 3,
                    "timestamp": 1,
                    "operation": "cancel",
                    "ref": "a",
                    "price": "1",
                }
            )
        )
    with pytest.raises(InvalidSignal, match="no entry"):
        _ = edit.entry
