import json

import pytest

from conftest import assert_response
from factories import make_item, make_site


@pytest.fixture
def stocked(services):
    bins = make_site(services.db)
    make_item(services.db, "SKU-1")
    make_item(services.db, "SKU-LOT", lot_tracked=True)
    return bins


def counts(db):
    return tuple(
        db.query_one(f"SELECT COUNT(*) AS n FROM {t}")["n"]
        for t in ("stock", "movements", "outbox", "idempotency")
    )


def test_receive_then_putaway_then_pick_over_http(edge, services, stocked, as_role):
    receiver, picker = as_role("receiver"), as_role("picker")
    data = assert_response(
        edge.post(
            "/api/v1/inventory/receipts",
            json={"location": "DOCK-01", "sku": "SKU-1", "qty": 12, "ref": "PO-7"},
            headers=receiver.with_key(),
        ),
        201,
    )
    assert data["to"] == {"location": "DOCK-01", "lpn": "", "status": "available"}
    assert data["available"] == 12
    assert_response(
        edge.post(
            "/api/v1/inventory/moves",
            json={
                "from_location": "DOCK-01",
                "to_location": "A01-01-1L",
                "sku": "SKU-1",
                "qty": 12,
            },
            headers=receiver.with_key(),
        ),
        201,
    )
    pick = assert_response(
        edge.post(
            "/api/v1/inventory/picks",
            json={
                "from_location": "A01-01-1L",
                "to_location": "PACK-01",
                "sku": "SKU-1",
                "qty": 5,
                "to_lpn": "TOTE-0001",
                "ref": "SO-1",
            },
            headers=picker.with_key(),
        ),
        201,
    )
    assert pick["type"] == "pick" and pick["to"]["lpn"] == "TOTE-0001"
    stock = assert_response(
        edge.get("/api/v1/inventory/stock?sku=SKU-1", headers=picker.headers), 200
    )
    assert {(r["location"], r["lpn"], r["qty"]) for r in stock["items"]} == {
        ("A01-01-1L", "", 7),
        ("PACK-01", "TOTE-0001", 5),
    }
    assert stock["total"] == 2
    moves = assert_response(
        edge.get("/api/v1/inventory/movements?sku=SKU-1", headers=picker.headers), 200
    )
    assert [m["type"] for m in moves["items"]] == ["receipt", "move", "pick"]
    assert moves["next_after"] is None
    # pages follow on with after_id
    first = assert_response(
        edge.get("/api/v1/inventory/movements?limit=2", headers=picker.headers), 200
    )
    rest = assert_response(
        edge.get(
            f"/api/v1/inventory/movements?limit=2&after_id={first['next_after']}",
            headers=picker.headers,
        ),
        200,
    )
    assert [m["type"] for m in first["items"] + rest["items"]] == ["receipt", "move", "pick"]
    # each change emitted one inventory.changed event in the same transaction
    events = services.db.query("SELECT type, payload_json FROM outbox ORDER BY id")
    assert [e["type"] for e in events] == ["inventory.changed"] * 3
    assert json.loads(events[-1]["payload_json"])["available"] == 12  # picked stock stays on hand


def test_replay_returns_the_first_response_and_changes_nothing(edge, services, stocked, as_role):
    receiver = as_role("receiver")
    headers = receiver.with_key("scan-42")
    body = {"location": "DOCK-01", "sku": "SKU-1", "qty": 3}
    first = edge.post("/api/v1/inventory/receipts", json=body, headers=headers)
    after_first = counts(services.db)
    again = edge.post("/api/v1/inventory/receipts", json=body, headers=headers)
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert counts(services.db) == after_first


def test_same_key_with_another_payload_is_refused(edge, services, stocked, as_role):
    receiver = as_role("receiver")
    headers = receiver.with_key("scan-43")
    edge.post(
        "/api/v1/inventory/receipts",
        json={"location": "DOCK-01", "sku": "SKU-1", "qty": 3},
        headers=headers,
    )
    before = counts(services.db)
    resp = edge.post(
        "/api/v1/inventory/receipts",
        json={"location": "DOCK-01", "sku": "SKU-1", "qty": 4},
        headers=headers,
    )
    assert_response(resp, 422, code="IDEMPOTENCY_KEY_REUSED")
    assert counts(services.db) == before


def test_keys_are_per_caller(edge, services, stocked, as_role):
    """Two handhelds that happen to make the same key do not see each other's responses."""
    a, b = as_role("receiver"), as_role("receiver")
    body = {"location": "DOCK-01", "sku": "SKU-1", "qty": 1}
    assert_response(
        edge.post("/api/v1/inventory/receipts", json=body, headers=a.with_key("k1")), 201
    )
    assert_response(
        edge.post("/api/v1/inventory/receipts", json=body, headers=b.with_key("k1")), 201
    )
    assert services.db.query_one("SELECT SUM(qty) AS q FROM stock")["q"] == 2


def test_a_refused_command_is_not_stored_so_a_retry_is_judged_again(
    edge, services, stocked, as_role
):
    picker, receiver = as_role("picker"), as_role("receiver")
    body = {"from_location": "A01-01-1L", "to_location": "PACK-01", "sku": "SKU-1", "qty": 2}
    headers = picker.with_key("pick-1")
    assert_response(
        edge.post("/api/v1/inventory/picks", json=body, headers=headers),
        409,
        code="INSUFFICIENT_STOCK",
    )
    edge.post(
        "/api/v1/inventory/receipts",
        json={"location": "A01-01-1L", "sku": "SKU-1", "qty": 2},
        headers=receiver.with_key(),
    )
    assert_response(edge.post("/api/v1/inventory/picks", json=body, headers=headers), 201)


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("receipts", {"location": "NOPE", "sku": "SKU-1", "qty": 1}, 404, "UNKNOWN_LOCATION"),
        ("receipts", {"location": "DOCK-01", "sku": "NOPE", "qty": 1}, 404, "UNKNOWN_ITEM"),
        ("receipts", {"location": "DOCK-01", "sku": "SKU-1", "qty": 0}, 422, "VALIDATION_FAILED"),
        ("receipts", {"location": "DOCK-01", "sku": "SKU-1", "qty": "x"}, 422, "VALIDATION_FAILED"),
        ("receipts", {"location": "DOCK-01", "sku": "SKU-1"}, 422, "VALIDATION_FAILED"),
        (
            "receipts",
            {"location": "DOCK-01", "sku": "SKU-1", "qty": 1, "bogus": 1},
            422,
            "VALIDATION_FAILED",
        ),
        ("receipts", {"location": "DOCK-01", "sku": "SKU-LOT", "qty": 1}, 422, "LOT_REQUIRED"),
        (
            "receipts",
            {"location": "DOCK-01", "sku": "SKU-1", "qty": 1, "status": "lost"},
            422,
            "VALIDATION_FAILED",
        ),
        (
            "moves",
            {"from_location": "DOCK-01", "to_location": "DOCK-01", "sku": "SKU-1", "qty": 1},
            422,
            "SAME_LOCATION",
        ),
        (
            "moves",
            {"from_location": "DOCK-01", "to_location": "A01-01-1L", "sku": "SKU-1", "qty": 99},
            409,
            "INSUFFICIENT_STOCK",
        ),
        (
            "adjustments",
            {"location": "DOCK-01", "sku": "SKU-1", "delta": 0, "reason": "x"},
            422,
            "QUANTITY_INVALID",
        ),
        (
            "adjustments",
            {"location": "DOCK-01", "sku": "SKU-1", "delta": 2},
            422,
            "VALIDATION_FAILED",
        ),
        (
            "status-changes",
            {
                "location": "DOCK-01",
                "sku": "SKU-1",
                "qty": 1,
                "from_status": "available",
                "to_status": "available",
                "reason": "x",
            },
            422,
            "VALIDATION_FAILED",
        ),
    ],
)
def test_bad_commands_are_refused_clearly_and_change_nothing(
    edge, services, stocked, as_role, path, body, status, code
):
    admin = as_role("admin")
    edge.post(
        "/api/v1/inventory/receipts",
        json={"location": "DOCK-01", "sku": "SKU-1", "qty": 5},
        headers=admin.with_key(),
    )
    before = counts(services.db)
    resp = edge.post(f"/api/v1/inventory/{path}", json=body, headers=admin.with_key())
    assert_response(resp, status, code=code)
    assert resp.json()["message"]["text"]  # a sentence, not just a code
    assert counts(services.db) == before


def test_mutations_need_an_idempotency_key(edge, services, stocked, as_role):
    admin = as_role("admin")
    resp = edge.post(
        "/api/v1/inventory/receipts",
        json={"location": "DOCK-01", "sku": "SKU-1", "qty": 5},
        headers=admin.headers,
    )
    assert_response(resp, 400, code="IDEMPOTENCY_KEY_REQUIRED")
    assert counts(services.db)[1] == 0


def test_movement_carries_user_and_device(edge, services, stocked, as_role):
    receiver = as_role("receiver")
    edge.post(
        "/api/v1/inventory/receipts",
        json={"location": "DOCK-01", "sku": "SKU-1", "qty": 5},
        headers=receiver.with_key(),
    )
    row = services.db.query_one("SELECT user_id, device_id FROM movements")
    assert row["user_id"] is not None and row["device_id"] is not None
