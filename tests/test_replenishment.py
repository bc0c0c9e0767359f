"""Pick-face replenishment: a pick below the min creates a refill from reserve (FEFO, then
nearest), confirmed by scanning the pick face."""

import pytest
from putaway_support import add_item, build_site, receive, stock

from edge_server.wms import inventory
from edge_server.wms.ledger import Actor, check_ledger
from protocols.inventory import MoveIn, PickIn

from conftest import assert_response

API = "/api/v1"
FACE = "A01-01-1L"  # level 1: pick face
NEAR_RESERVE = "A01-02-2L"  # level 2: reserve, next bay
FAR_RESERVE = "A04-05-2R"


def move(db, src, dst, sku, qty, lot=""):
    with db.write() as w:
        inventory.move(
            w,
            "CHI",
            MoveIn(from_location=src, to_location=dst, sku=sku, qty=qty, lot=lot),
            Actor(),
        )


def pick(db, sku, qty, lot=""):
    with db.write() as w:
        inventory.pick(
            w,
            "CHI",
            PickIn(from_location=FACE, to_location="PACK-01", sku=sku, qty=qty, lot=lot),
            Actor(),
        )


@pytest.fixture
def site(services):
    db = services.db
    build_site(db)
    add_item(db, "SKU-1", velocity="A", lot_tracked=True, length_cm=1, width_cm=1, height_cm=1)
    # Lot L-LATE sits in the near reserve bin, lot L-SOON (earlier expiry) in the far one.
    receive(db, "SKU-1", 30, lot="L-LATE", expiry="2031-01-01")
    receive(db, "SKU-1", 30, lot="L-SOON", expiry="2030-01-01")
    receive(db, "SKU-1", 10, lot="L-LATE")
    move(db, "DOCK-01", NEAR_RESERVE, "SKU-1", 30, lot="L-LATE")
    move(db, "DOCK-01", FAR_RESERVE, "SKU-1", 30, lot="L-SOON")
    move(db, "DOCK-01", FACE, "SKU-1", 10, lot="L-LATE")
    return db


@pytest.fixture
def supervisor(as_role):
    return as_role("supervisor")


def set_rule(edge, caller, min_qty=5, max_qty=20, location=FACE):
    body = {"location": location, "sku": "SKU-1", "min_qty": min_qty, "max_qty": max_qty}
    return edge.put(f"{API}/replenishment/rules", json=body, headers=caller.with_key())


def open_refills(db):
    return db.query(
        "SELECT t.qty, t.lot, lf.code AS src, lt.code AS dst FROM stock_tasks t "
        "JOIN locations lf ON lf.id = t.from_location_id "
        "JOIN locations lt ON lt.id = t.to_location_id "
        "WHERE t.kind = 'replenish' AND t.status = 'open' ORDER BY t.id"
    )


def test_a_pick_below_min_creates_a_fefo_refill_up_to_max_then_confirmed(
    edge, site, supervisor, as_role
):
    rule = assert_response(set_rule(edge, supervisor), 200)
    assert rule["tasks"] == []  # 10 on hand, min 5: nothing to do yet
    pick(site, "SKU-1", 4, lot="L-LATE")
    assert open_refills(site) == []  # 6 left: still at or above min
    pick(site, "SKU-1", 2, lot="L-LATE")  # 4 left: below min 5
    # Up to max 20: 16, from the lot expiring first even though it is farther away.
    assert open_refills(site) == [{"qty": 16, "lot": "L-SOON", "src": FAR_RESERVE, "dst": FACE}]
    pick(site, "SKU-1", 1, lot="L-LATE")  # 3 + 16 coming: no second refill
    assert len(open_refills(site)) == 1

    picker = as_role("picker")
    resp = edge.get(f"{API}/replenishment/tasks/next?position={FACE}", headers=picker.headers)
    task = assert_response(resp, 200)["task"]
    assert task["from_location"] == FAR_RESERVE and task["to_location"] == FACE
    assert "expires 2030-01-01" in task["reason"]

    url = f"{API}/replenishment/tasks/{task['id']}/confirm"
    before = stock(site, FACE, "SKU-1")
    resp = edge.post(
        url, json={"scan": NEAR_RESERVE, "reason_code": "other"}, headers=picker.with_key()
    )
    assert_response(resp, 422, code="REPLENISHMENT_WRONG_BIN")
    assert stock(site, FACE, "SKU-1") == before

    resp = edge.post(url, json={"scan": FACE}, headers=picker.with_key())
    done = assert_response(resp, 200)
    assert done["movement"]["type"] == "replenish"
    assert done["movement"]["to"]["lpn"] == ""
    assert stock(site, FACE, "SKU-1") == 3 + 16
    assert stock(site, FAR_RESERVE, "SKU-1") == 30 - 16
    assert open_refills(site) == []
    assert check_ledger(site).ok


def test_equal_expiry_takes_the_nearest_reserve_and_splits_over_sources(services, as_role):
    db = services.db
    build_site(db)
    add_item(db, "NUT", velocity="A", length_cm=1, width_cm=1, height_cm=1)
    receive(db, "NUT", 60)
    move(db, "DOCK-01", FAR_RESERVE, "NUT", 30)
    move(db, "DOCK-01", NEAR_RESERVE, "NUT", 6)
    with db.write() as w:
        from edge_server.wms.putaway import replenishment

        out = replenishment.set_rule(w, "CHI", location=FACE, sku="NUT", min_qty=2, max_qty=10)
    rows = open_refills(db)
    assert [(r["src"], r["qty"]) for r in rows] == [(NEAR_RESERVE, 6), (FAR_RESERVE, 4)]
    assert len(out["tasks"]) == 2


def test_no_reserve_stock_means_no_task(services):
    db = services.db
    build_site(db)
    add_item(db, "RARE")
    receive(db, "RARE", 3)
    move(db, "DOCK-01", FACE, "RARE", 3)
    with db.write() as w:
        from edge_server.wms.putaway import replenishment

        assert (
            replenishment.set_rule(w, "CHI", location=FACE, sku="RARE", min_qty=5, max_qty=9)[
                "tasks"
            ]
            == []
        )


def test_rules_are_for_pick_faces_and_sane_numbers(edge, site, supervisor):
    assert_response(
        set_rule(edge, supervisor, location=NEAR_RESERVE), 422, code="REPLENISHMENT_NOT_PICK_FACE"
    )
    assert_response(set_rule(edge, supervisor, min_qty=9, max_qty=9), 422, code="VALIDATION_FAILED")
    assert_response(set_rule(edge, supervisor, location="A09-09-9L"), 404, code="UNKNOWN_LOCATION")
    assert site.query_one("SELECT COUNT(*) AS n FROM replenishment_rules")["n"] == 0
    assert_response(set_rule(edge, supervisor, min_qty=1, max_qty=30), 200)
    assert_response(set_rule(edge, supervisor, min_qty=2, max_qty=40), 200)
    rules = assert_response(edge.get(f"{API}/replenishment/rules", headers=supervisor.headers), 200)
    assert rules["items"] == [
        {
            "location": FACE,
            "sku": "SKU-1",
            "min_qty": 2,
            "max_qty": 40,
            "updated_at": rules["items"][0]["updated_at"],
            "on_hand": 10,
        }
    ]


def test_pickers_replenish_but_do_not_set_rules(edge, site, as_role):
    picker = as_role("picker")
    assert_response(set_rule(edge, picker), 403, code="FORBIDDEN_ROLE")
    resp = edge.get(f"{API}/replenishment/tasks", headers=picker.headers)
    assert assert_response(resp, 200)["items"] == []
    packer = as_role("packer")
    resp = edge.get(f"{API}/replenishment/tasks/next", headers=packer.headers)
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
