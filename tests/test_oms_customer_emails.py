"""The customer e-mails of the order journey (oms/customer_emails.py): the order
confirmation at intake, one shipment e-mail per tracked carton of a signed `shipment.created`,
the return and refund e-mails (tests/test_oms_returns.py follows those through an RMA). The
`emails` rows are checked: kind, recipient, dedupe key, context."""

from __future__ import annotations

import json

from oms_site_support import idem, order_body
from test_oms_returns import World, world

from conftest import assert_response

__all__ = ["world"]  # the fixture, shared with the returns tests


def test_an_order_with_an_address_is_confirmed_once(world: World) -> None:
    number = world.order("1001", [("SOAP-1", 2)])
    (mail,) = world.emails()
    assert (mail["kind"], mail["to_addr"], mail["dedupe_key"]) == (
        "order_confirmation",
        "ada@example.com",
        f"order:{number}:confirmed",
    )
    context = json.loads(mail["context_json"])
    assert context["order_number"] == number and context["customer_name"] == "Grace Hopper"
    assert context["lines"] == [
        {"sku": "SOAP-1", "description": "", "quantity": 2, "unit_price": "4.50"}
    ]
    assert (context["currency"], context["total"]) == ("USD", "9.00")
    # the order replaced before release: no second confirmation
    body = order_body([("SOAP-1", 1)])
    body["customer_email"] = "ada@example.com"
    put = world.http.put("/api/v1/orders/1001", json=body, headers=idem(world.channel))
    assert assert_response(put, 200)["outcome"] == "updated"
    assert len(world.emails("order_confirmation")) == 1


def test_an_order_without_an_address_gets_no_email(world: World) -> None:
    world.order("1002", [("SOAP-1", 1)], customer_email=None)
    assert world.emails() == []


def test_each_tracked_carton_gets_one_shipment_email(world: World) -> None:
    number = world.order("1003", [("SOAP-1", 3)])
    fo = world.ship(number, [("1Z0000000011", 2), ("1Z0000000012", 1)])
    mails = world.emails("shipment")
    assert [m["dedupe_key"] for m in mails] == [
        f"order:{number}:shipped:1Z0000000011",
        f"order:{number}:shipped:1Z0000000012",
    ]
    first = json.loads(mails[0]["context_json"])
    assert (first["carrier"], first["service"], first["tracking_number"]) == (
        "UPS",
        "UPS-GROUND",
        "1Z0000000011",
    )
    assert first["lines"] == [
        {"sku": "SOAP-1", "description": "", "quantity": 2, "unit_price": None}
    ]
    # the same shipment told again under another webhook id, with a carton that has no
    # tracking number: no new e-mail
    world.event(
        "shipment.created",
        {
            "number": fo,
            "carrier_service": "UPS-GROUND",
            "cartons": [
                {"tracking": "1Z0000000011", "contents": [{"sku": "SOAP-1", "qty": 2}]},
                {"sscc": "001", "contents": [{"sku": "SOAP-1", "qty": 1}]},
            ],
        },
    )
    assert len(world.emails("shipment")) == 2
