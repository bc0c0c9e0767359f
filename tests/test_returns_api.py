"""Expected returns (RMAs) over the integration API and the disposition rules: idempotent PUT,
reads with progress, cancel, and every bad input refused with nothing changed."""

import pytest
from returns_support import (
    Receiver,
    events,
    gtin13,
    put_rma,
    rma_body,
    setup_site,
    shipped_order,
    snapshot,
)

from conftest import assert_response, login_as


@pytest.fixture
def site(services):
    setup_site(services)
    return services


@pytest.fixture
def oms(site):
    return login_as(site, "integration")


def test_an_rma_is_expected_read_back_and_put_again_idempotently(site, edge, oms):
    body = rma_body([("MUG-1", 2, "not_wanted"), ("CUP-1", 1, "damaged")], tracking="1Z999AA1")
    headers = oms.with_key("rma-1")
    first = edge.put("/api/v1/returns/R-100", json=body, headers=headers)
    data = assert_response(first, 201)
    assert data["outcome"] == "created"
    ret = data["return"]
    assert ret["status"] == "expected" and ret["tracking"] == "1Z999AA1"
    assert [(ln["sku"], ln["qty_expected"], ln["qty_received"]) for ln in ret["lines"]] == [
        ("MUG-1", 2, 0),
        ("CUP-1", 1, 0),
    ]
    assert ret["progress"] == {"units_expected": 3, "units_received": 0}
    replay = edge.put("/api/v1/returns/R-100", json=body, headers=headers)
    assert replay.status_code == 201 and replay.json() == first.json()
    again = assert_response(put_rma(edge, oms, "R-100", body), 200)
    assert again["outcome"] == "unchanged"
    body["lines"][0]["qty"] = 3
    assert assert_response(put_rma(edge, oms, "R-100", body), 200)["outcome"] == "updated"
    receiver = login_as(site, "receiver")
    one = assert_response(edge.get("/api/v1/returns/R-100", headers=receiver.headers), 200)
    assert one["lines"][0]["qty_expected"] == 3 and one["receipts"] == []
    page = assert_response(edge.get("/api/v1/returns", headers=oms.headers), 200)
    assert [r["rma"] for r in page["items"]] == ["R-100"] and page["total"] == 1
    found = assert_response(
        edge.get("/api/v1/returns", params={"tracking": "1z999aa1"}, headers=oms.headers), 200
    )
    assert [r["rma"] for r in found["items"]] == ["R-100"]
    expected = assert_response(
        edge.get("/api/v1/returns", params={"status": "closed"}, headers=oms.headers), 200
    )
    assert expected["items"] == []


def test_bad_rmas_are_refused_and_change_nothing(site, edge, oms):
    assert_response(
        put_rma(edge, oms, "R-1", rma_body([("MUG-1", 1, "damaged")], tracking="TRK-1")), 201
    )
    before = snapshot(site.db)
    good = rma_body([("MUG-1", 1, "damaged")])
    cases = [
        ("R-2", rma_body([("NOPE-1", 1, "damaged")]), 404, "UNKNOWN_ITEM"),
        ("R-2", good | {"order": "SO-NOPE"}, 404, "FO_NOT_FOUND"),
        ("R-2", rma_body([("MUG-1", 0, "damaged")]), 422, "VALIDATION_FAILED"),
        ("R-2", rma_body([("MUG-1", 1, "broken")]), 422, "VALIDATION_FAILED"),
        ("R-2", good | {"lines": []}, 422, "VALIDATION_FAILED"),
        ("R-2", good | {"customer": ""}, 422, "VALIDATION_FAILED"),
        ("R-2", good | {"surprise": 1}, 422, "VALIDATION_FAILED"),
        ("R-2", good | {"tracking": "no spaces allowed"}, 422, "VALIDATION_FAILED"),
        ("r-lower", good, 422, "VALIDATION_FAILED"),
        ("R-2", good | {"tracking": "trk-1"}, 409, "RETURNS_TRACKING_IN_USE"),
    ]
    twice = rma_body([("MUG-1", 1, "damaged"), ("CUP-1", 1, "damaged")])
    twice["lines"][1]["line_no"] = 1
    cases.append(("R-2", twice, 422, "VALIDATION_FAILED"))
    for rma, body, status, code in cases:
        assert_response(put_rma(edge, oms, rma, body), status, code=code)
    receiver = login_as(site, "receiver")
    assert_response(
        edge.put("/api/v1/returns/R-2", json=good, headers=receiver.with_key()),
        403,
        code="FORBIDDEN_ROLE",
    )
    assert_response(
        edge.get("/api/v1/returns/R-404", headers=oms.headers), 404, code="RETURNS_RMA_UNKNOWN"
    )
    assert snapshot(site.db) == before


def test_an_rma_names_a_known_order_and_can_be_cancelled_before_receipt(site, edge, oms):
    shipped_order(edge, site, "SO-1")
    body = rma_body([("MUG-1", 1, "wrong_item")], order="SO-1")
    assert assert_response(put_rma(edge, oms, "R-3", body), 201)["return"]["order"] == "SO-1"
    cancelled = assert_response(
        edge.post("/api/v1/returns/R-3/cancel", json={}, headers=oms.with_key()), 200
    )
    assert cancelled["return"]["status"] == "cancelled" and cancelled["outcome"] == "cancelled"
    assert events(site.db, "return.cancelled") == [{"site": "CHI", "rma": "R-3", "order": "SO-1"}]
    before = snapshot(site.db)
    assert_response(put_rma(edge, oms, "R-3", body), 409, code="RETURNS_RMA_CLOSED")
    assert_response(
        edge.post("/api/v1/returns/R-9/cancel", json={}, headers=oms.with_key()),
        404,
        code="RETURNS_RMA_UNKNOWN",
    )
    assert snapshot(site.db) == before


def test_once_goods_are_received_the_rma_cannot_be_cancelled_or_cut_below_them(site, edge, oms):
    body = rma_body([("MUG-1", 2, "not_wanted"), ("CUP-1", 1, "not_wanted")])
    assert_response(put_rma(edge, oms, "R-4", body), 201)
    hh = Receiver(edge, login_as(site, "receiver"))
    hh.step("start", {"barcode": "RMA-R-4"})
    hh.receive(gtin13("MUG-1"), 2, "new")
    before = snapshot(site.db)
    assert_response(
        edge.post("/api/v1/returns/R-4/cancel", json={}, headers=oms.with_key()),
        409,
        code="RETURNS_RMA_RECEIVED",
    )
    cut = rma_body([("MUG-1", 1, "not_wanted"), ("CUP-1", 1, "not_wanted")])
    assert_response(put_rma(edge, oms, "R-4", cut), 409, code="RETURNS_LINE_BELOW_RECEIVED")
    dropped = rma_body([("CUP-1", 1, "not_wanted")])
    assert_response(put_rma(edge, oms, "R-4", dropped), 409, code="RETURNS_LINE_BELOW_RECEIVED")
    assert snapshot(site.db) == before
    # Adding a line (the customer sent a spoon too) is fine while the RMA is open.
    more = rma_body(
        [("MUG-1", 2, "not_wanted"), ("CUP-1", 1, "not_wanted"), ("SPOON-1", 1, "not_wanted")]
    )
    ret = assert_response(put_rma(edge, oms, "R-4", more), 200)["return"]
    assert ret["status"] == "receiving" and ret["progress"]["units_received"] == 2
    assert [r["sku"] for r in ret["receipts"]] == ["MUG-1"]


def test_disposition_rules_have_defaults_and_can_be_changed_by_the_oms(site, edge, oms):
    table = assert_response(edge.get("/api/v1/returns/disposition-rules", headers=oms.headers), 200)
    cells = {(r["reason"], r["condition"]): r["disposition"] for r in table["rules"]}
    assert len(cells) == 12
    assert cells[("not_wanted", "new")] == "restock"
    assert cells[("damaged", "damaged")] == "scrap"
    change = {"rules": [{"reason": "not_wanted", "condition": "opened", "disposition": "restock"}]}
    changed = assert_response(
        edge.put("/api/v1/returns/disposition-rules", json=change, headers=oms.with_key()), 200
    )
    row = next(
        r for r in changed["rules"] if (r["reason"], r["condition"]) == ("not_wanted", "opened")
    )
    assert row == {
        "reason": "not_wanted",
        "condition": "opened",
        "disposition": "restock",
        "default": "refurbish",
    }
    before = snapshot(site.db)
    for bad in (
        {"rules": [{"reason": "not_wanted", "condition": "opened", "disposition": "sell"}]},
        {"rules": [{"reason": "lost", "condition": "opened", "disposition": "scrap"}]},
        {"rules": [{"reason": "not_wanted", "condition": "mint", "disposition": "scrap"}]},
        {"rules": "all"},
    ):
        resp = edge.put("/api/v1/returns/disposition-rules", json=bad, headers=oms.with_key())
        assert_response(resp, 422, code="VALIDATION_FAILED")
    receiver = login_as(site, "receiver")
    assert_response(
        edge.put("/api/v1/returns/disposition-rules", json=change, headers=receiver.with_key()),
        403,
        code="FORBIDDEN_ROLE",
    )
    assert snapshot(site.db) == before
    reset = assert_response(
        edge.put("/api/v1/returns/disposition-rules", json={"reset": True}, headers=oms.with_key()),
        200,
    )
    assert all(r["disposition"] == r["default"] for r in reset["rules"])
