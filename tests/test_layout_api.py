"""The layout and locations over HTTP: who may read and load, idempotent loads, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge_server.timeutil import iso

from conftest import assert_response

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def example(name: str = "layout-three-blocks.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def details(resp: Any) -> dict[str, Any]:
    d: dict[str, Any] = resp.json()["message"]["details"]
    return d


@pytest.fixture
def supervisor(as_role):
    return as_role("supervisor")


@pytest.fixture
def loaded(edge, supervisor):
    data = example()
    assert_response(edge.put("/api/v1/layout", json=data, headers=supervisor.with_key()), 200)
    return data


def test_supervisor_loads_a_layout_and_reads_it_back(edge, supervisor):
    summary = assert_response(
        edge.put("/api/v1/layout", json=example(), headers=supervisor.with_key()), 200
    )
    assert summary["changed"] and summary["added"] == summary["bins"] == 2637
    assert summary["by_zone"]["COLD"] == 324
    info = assert_response(edge.get("/api/v1/layout", headers=supervisor.headers), 200)
    assert info["site"] == "CHI"
    assert info["file"] == example()
    assert info["locations"] == {"active": 2637, "inactive": 0}
    assert [c["y"] for c in info["summary"]["cross_aisles"]] == [0.0, 24.0, 48.0, 66.0]
    assert info["summary"]["depot"] == {"x": 0.0, "y": 0.0}


def test_loading_the_same_file_again_with_a_new_key_changes_nothing(edge, supervisor, loaded):
    again = assert_response(
        edge.put("/api/v1/layout", json=loaded, headers=supervisor.with_key()), 200
    )
    assert not again["changed"] and again["unchanged"] == 2637


def test_a_retried_put_returns_the_first_answer(edge, supervisor):
    headers = supervisor.with_key("layout-1")
    first = edge.put("/api/v1/layout", json=example(), headers=headers)
    second = edge.put("/api/v1/layout", json=example(), headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and second.json()["data"]["changed"]
    other = example("layout-minimal.json")
    assert_response(
        edge.put("/api/v1/layout", json=other, headers=headers), 422, code="IDEMPOTENCY_KEY_REUSED"
    )
    assert_response(
        edge.put("/api/v1/layout", json=other, headers=supervisor.headers),
        400,
        code="IDEMPOTENCY_KEY_REQUIRED",
    )


def test_picker_reads_but_cannot_load(edge, as_role, loaded):
    picker = as_role("picker")
    assert_response(edge.get("/api/v1/layout", headers=picker.headers), 200)
    page = assert_response(edge.get("/api/v1/locations", headers=picker.headers), 200)
    assert page["total"] == 2637
    assert_response(edge.get("/api/v1/locations/A01-01-1L", headers=picker.headers), 200)
    assert_response(
        edge.put("/api/v1/layout", json=example(), headers=picker.with_key()),
        403,
        code="FORBIDDEN_ROLE",
    )


@pytest.mark.parametrize("role", ["receiver", "counter", "packer", "integration"])
def test_other_non_managers_cannot_load(edge, as_role, role):
    caller = as_role(role)
    assert_response(
        edge.put("/api/v1/layout", json=example(), headers=caller.with_key()),
        403,
        code="FORBIDDEN_ROLE",
    )


def test_admin_can_load_and_integration_can_read(edge, as_role, loaded):
    assert_response(
        edge.put("/api/v1/layout", json=loaded, headers=as_role("admin").with_key()), 200
    )
    key = as_role("integration")
    assert_response(edge.get("/api/v1/locations/DOCK-01", headers=key.headers), 200)


def test_reading_needs_a_login(edge, loaded):
    assert_response(edge.get("/api/v1/layout"), 401, code="AUTH_REQUIRED")
    assert_response(edge.get("/api/v1/locations"), 401, code="AUTH_REQUIRED")
    assert_response(edge.get("/api/v1/locations/A01-01-1L"), 401, code="AUTH_REQUIRED")
    assert_response(edge.put("/api/v1/layout", json=loaded), 401, code="AUTH_REQUIRED")


def test_no_layout_yet(edge, supervisor):
    assert_response(
        edge.get("/api/v1/layout", headers=supervisor.headers), 404, code="LAYOUT_NOT_LOADED"
    )
    page = assert_response(edge.get("/api/v1/locations", headers=supervisor.headers), 200)
    assert page == {"items": [], "total": 0, "limit": 100, "offset": 0}


def test_location_by_code(edge, supervisor, loaded):
    loc = assert_response(edge.get("/api/v1/locations/C06-09-3R", headers=supervisor.headers), 200)
    assert loc == {
        "code": "C06-09-3R",
        "type": "pick_face",
        "zone": "COLD",
        "block": "C",
        "aisle": 6,
        "bay": 9,
        "level": 3,
        "side": "R",
        "x": 16.5,
        "y": 65.0,
        "max_volume_cm3": None,
        "max_weight_kg": None,
        "max_skus": None,
        "temperature_class": "chilled",
        "hazmat_allowed": False,
        "active": True,
    }
    resp = edge.get("/api/v1/locations/Z99-01-1L", headers=supervisor.headers)
    assert_response(resp, 404, code="UNKNOWN_LOCATION")
    assert details(resp) == {"code": "Z99-01-1L"}


def test_locations_filter_and_page(edge, supervisor, loaded):
    def get(**params: Any) -> dict[str, Any]:
        return assert_response(
            edge.get("/api/v1/locations", params=params, headers=supervisor.headers), 200
        )

    page = get(block="A", aisle=2, limit=3, offset=1)
    assert [r["code"] for r in page["items"]] == ["A02-01-1R", "A02-01-2L", "A02-01-2R"]
    assert (page["total"], page["limit"], page["offset"]) == (96, 3, 1)
    assert get(zone="COLD")["total"] == 324
    assert get(type="reserve", block="B")["total"] == 12 * 12 * 2
    assert [r["code"] for r in get(type="staging")["items"]] == ["STAGE-01", "STAGE-02"]
    last = get(limit=1000, offset=2600)
    assert len(last["items"]) == 37 and last["items"][-1]["code"] == "STAGE-02"
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"aisle": 0}, {"type": "shelf"}):
        assert_response(
            edge.get("/api/v1/locations", params=bad, headers=supervisor.headers),
            422,
            code="VALIDATION_FAILED",
        )


BAD_BODIES = [
    ("negative aisles", lambda d: d["blocks"][0].update(aisles=-1), "blocks[0].aisles"),
    ("duplicate block", lambda d: d["blocks"][1].update(id="A"), "blocks[1].id"),
    ("missing depot", lambda d: d.pop("depot"), "depot"),
    ("depot outside", lambda d: d["depot"].update(x=500.0), "depot.x"),
    (
        "explicit code twice",
        lambda d: d["areas"][0]["bins"][1].update(code="DOCK-01"),
        "areas[0].bins[1].code",
    ),
    ("other site", lambda d: d.update(site="DAL"), "site"),
]


@pytest.mark.parametrize(
    ("change", "field"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_a_bad_file_is_refused_with_its_field(edge, supervisor, change, field):
    data = example()
    change(data)
    resp = edge.put("/api/v1/layout", json=data, headers=supervisor.with_key())
    assert_response(resp, 422, code="LAYOUT_INVALID")
    assert field in [e["field"] for e in details(resp)["errors"]]
    assert_response(edge.get("/api/v1/layout", headers=supervisor.headers), 404)


def test_bad_json_is_refused_with_line_and_column(edge, supervisor):
    body = b'{"site": "CHI",\n  "depot": {"x": 0.0},\n  "blocks": [}'
    resp = edge.put(
        "/api/v1/layout",
        content=body,
        headers={**supervisor.with_key(), "Content-Type": "application/json"},
    )
    assert_response(resp, 422, code="LAYOUT_INVALID")
    (error,) = details(resp)["errors"]
    assert (error["field"], error["line"], error["column"]) == ("$", 3, 14)


def test_dropping_a_bin_with_stock_is_refused(edge, services, supervisor, loaded):
    with services.db.write() as w:
        item = w.execute(
            "INSERT INTO items (sku, created_at, updated_at) VALUES ('SKU-1', ?, ?)", [iso(), iso()]
        ).lastrowid
        loc = w.execute("SELECT id FROM locations WHERE code = 'LONG-03'").fetchone()[0]
        w.execute(
            "INSERT INTO stock (location_id, item_id, status, qty, updated_at) "
            "VALUES (?, ?, 'available', 7, ?)",
            [loc, item, iso()],
        )
    smaller = json.loads(json.dumps(loaded))
    smaller["areas"][-1]["bins"].pop()  # LONG-03
    resp = edge.put("/api/v1/layout", json=smaller, headers=supervisor.with_key())
    assert_response(resp, 409, code="LOCATION_HAS_STOCK")
    assert details(resp)["locations"] == [{"code": "LONG-03", "qty": 7}]
    info = assert_response(edge.get("/api/v1/layout", headers=supervisor.headers), 200)
    assert info["file"] == loaded
    assert assert_response(edge.get("/api/v1/locations/LONG-03", headers=supervisor.headers), 200)[
        "active"
    ]


def test_the_openapi_document_describes_the_layout_file(edge):
    spec = edge.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/layout"]["put"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"site", "depot", "blocks"}
