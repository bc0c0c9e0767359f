"""Carrier services over HTTP and from the CLI: create, replace, read, quote; every bad input
is refused with a clear code and changes nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from edge_server.cli import main as cli_main
from edge_server.services import open_services
from edge_server.shipping.carriers import adapter_for

from conftest import assert_response, make_settings
from factories import make_site

DEMO = Path(__file__).resolve().parent.parent / "edge_server" / "demo_data" / "carriers.json"
BASE = "/api/v1/carrier-services"

CARD: dict[str, Any] = {
    "currency": "USD",
    "weight_breaks_kg": ["1", "5", "30"],
    "fuel_surcharge_pct": "10",
    "zones": [
        {"name": "LOCAL", "country": "US", "postal_prefixes": ["606"], "transit_days": 1,
         "prices": ["5.00", "8.00", "15.00"]},
        {"name": "US", "country": "US", "transit_days": 3, "prices": ["7.00", "11.00", "21.00"]},
    ],
}  # fmt: skip
SERVICE: dict[str, Any] = {
    "carrier": "ACME",
    "name": "Acme Ground",
    "cutoff_local": "17:00",
    "ship_days": "12345",
    "rate_card": CARD,
    "active": True,
}


def details(resp: Any) -> dict[str, Any]:
    d: dict[str, Any] = resp.json()["message"]["details"]
    return d


def fields(resp: Any) -> list[str]:
    return [e["field"] for e in details(resp)["errors"]]


@pytest.fixture
def site(services):
    make_site(services.db)
    return services


@pytest.fixture
def supervisor(as_role, site):
    return as_role("supervisor")


@pytest.fixture
def created(edge, supervisor):
    resp = edge.put(f"{BASE}/ACME-GROUND", json=SERVICE, headers=supervisor.with_key())
    return assert_response(resp, 201)


def rows(services) -> list[dict[str, Any]]:
    return services.db.query("SELECT * FROM carrier_services ORDER BY code")


def events(services) -> list[dict[str, Any]]:
    return services.db.query(
        "SELECT type, payload_json FROM outbox WHERE type = 'carrier_service.changed' ORDER BY id"
    )


def test_supervisor_creates_reads_and_lists_a_service(edge, site, supervisor, created):
    assert created["outcome"] == "created"
    service = created["carrier_service"]
    assert service["code"] == "ACME-GROUND" and service["carrier"] == "ACME"
    assert service["cutoff_local"] == "17:00" and service["ship_days"] == "12345"
    assert service["active"] is True
    assert service["rate_card"]["weight_breaks_kg"] == ["1", "5", "30"]
    assert service["rate_card"]["zones"][0]["prices"] == ["5.00", "8.00", "15.00"]
    got = assert_response(edge.get(f"{BASE}/ACME-GROUND", headers=supervisor.headers), 200)
    assert got == service
    listed = assert_response(edge.get(BASE, headers=supervisor.headers), 200)
    assert [s["code"] for s in listed["services"]] == ["ACME-GROUND"]
    # The OMS hears of it (it prices sourcing with the same card).
    (event,) = events(site)
    payload = json.loads(event["payload_json"])
    assert payload["outcome"] == "created" and payload["service"] == service


def test_floor_roles_and_integrations_read_but_do_not_manage(edge, as_role, created):
    for role in ("packer", "integration"):
        caller = as_role(role)
        assert_response(edge.get(f"{BASE}/ACME-GROUND", headers=caller.headers), 200)
        resp = edge.put(f"{BASE}/ACME-GROUND", json=SERVICE, headers=caller.with_key())
        assert_response(resp, 403, code="FORBIDDEN_ROLE")


def test_put_replaces_and_a_repeat_changes_nothing(edge, site, supervisor, created):
    again = edge.put(f"{BASE}/ACME-GROUND", json=SERVICE, headers=supervisor.with_key())
    assert assert_response(again, 200)["outcome"] == "unchanged"
    assert len(events(site)) == 1
    later = {**SERVICE, "cutoff_local": "16:30", "ship_days": "123456", "active": False}
    resp = edge.put(f"{BASE}/ACME-GROUND", json=later, headers=supervisor.with_key())
    data = assert_response(resp, 200)
    assert data["outcome"] == "updated"
    assert data["carrier_service"]["cutoff_local"] == "16:30"
    assert data["carrier_service"]["active"] is False
    assert len(events(site)) == 2
    active = assert_response(edge.get(f"{BASE}?active=true", headers=supervisor.headers), 200)
    assert active["services"] == []
    (row,) = rows(site)
    assert (row["cutoff_local"], row["ship_days"], row["active"]) == ("16:30", "123456", 0)


def test_a_replayed_request_returns_the_first_answer(edge, site, supervisor):
    headers = supervisor.with_key("put-acme-1")
    first = edge.put(f"{BASE}/ACME-GROUND", json=SERVICE, headers=headers)
    second = edge.put(f"{BASE}/ACME-GROUND", json=SERVICE, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    other = edge.put(f"{BASE}/ACME-GROUND", json={**SERVICE, "name": "x"}, headers=headers)
    assert_response(other, 422, code="IDEMPOTENCY_KEY_REUSED")
    assert len(rows(site)) == 1 and len(events(site)) == 1


def _bad_card(**changes: Any) -> dict[str, Any]:
    card = copy.deepcopy(CARD)
    card.update(changes)
    return {**SERVICE, "rate_card": card}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({**SERVICE, "cutoff_local": "5pm"}, "cutoff_local", "HH:MM"),
        ({**SERVICE, "cutoff_local": "25:00"}, "cutoff_local", "HH:MM"),
        ({**SERVICE, "ship_days": "1238"}, "ship_days", "ISO weekday"),
        ({**SERVICE, "ship_days": "11"}, "ship_days", "at most once"),
        (_bad_card(weight_breaks_kg=["5", "1", "30"]), "rate_card.weight_breaks_kg", "rise"),
        (
            _bad_card(zones=[{**CARD["zones"][0], "prices": ["5.00", "8.00"]}]),
            "rate_card.zones",
            "2 prices for 3 weight breaks",
        ),
        (
            _bad_card(zones=[{**CARD["zones"][0], "prices": ["5.00", "-8.00", "9"]}]),
            "rate_card.zones.0.prices.1",
            "greater than or equal to 0",
        ),
        (
            _bad_card(zones=[CARD["zones"][1], {**CARD["zones"][1], "transit_days": 9}]),
            "rate_card.zones",
            "used twice",
        ),
        ({k: v for k, v in SERVICE.items() if k != "rate_card"}, "rate_card", "required"),
        ({**SERVICE, "carrier": ""}, "carrier", "at least 1"),
    ],
)
def test_bad_services_are_refused_and_change_nothing(
    edge, site, supervisor, created, body, field, reason
):
    before = rows(site)
    resp = edge.put(f"{BASE}/ACME-GROUND", json=body, headers=supervisor.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")
    problems = details(resp)["errors"]
    assert any(p["field"] == field and reason in p["reason"] for p in problems), problems
    resp = edge.put(f"{BASE}/NEW-ONE", json=body, headers=supervisor.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert rows(site) == before and len(events(site)) == 1


def test_a_bad_service_code_is_refused(edge, site, supervisor):
    resp = edge.put(f"{BASE}/bad%20code!", json=SERVICE, headers=supervisor.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert rows(site) == []


def test_unknown_services_are_not_found(edge, site, supervisor):
    resp = edge.get(f"{BASE}/NOPE", headers=supervisor.headers)
    assert_response(resp, 404, code="CARRIER_SERVICE_NOT_FOUND")
    resp = edge.get(f"{BASE}/NOPE/quote?country=US&weight_kg=1", headers=supervisor.headers)
    assert_response(resp, 404, code="CARRIER_SERVICE_NOT_FOUND")


# -- quotes ----------------------------------------------------------------------------------
def test_quote_prices_a_carton_with_the_rate_card(edge, supervisor, created):
    resp = edge.get(
        f"{BASE}/ACME-GROUND/quote",
        params={"country": "us", "postal_code": "60612", "weight_kg": 2.5},
        headers=supervisor.headers,
    )
    data = assert_response(resp, 200)
    assert data["service"] == "ACME-GROUND" and data["carrier"] == "ACME"
    assert data["quote"] == {
        "zone": "LOCAL",
        "transit_days": 1,
        "currency": "USD",
        "weight_kg": "2.500",
        "volumetric_weight_kg": None,
        "billable_weight_kg": "2.500",
        "weight_break_kg": "5",
        "base": "8.00",
        "fuel_surcharge": "0.80",
        "total": "8.80",
    }


def test_quote_with_dimensions_uses_the_volumetric_weight(edge, supervisor):
    card = {**CARD, "dim_divisor": 5000}
    resp = edge.put(
        f"{BASE}/BULKY", json={**SERVICE, "rate_card": card}, headers=supervisor.with_key()
    )
    assert_response(resp, 201)
    params = {"country": "US", "postal_code": "10001", "weight_kg": 0.5}
    dims = {"length_cm": 60, "width_cm": 40, "height_cm": 30}  # 72000 / 5000 = 14.4 kg
    resp = edge.get(f"{BASE}/BULKY/quote", params=params | dims, headers=supervisor.headers)
    quote = assert_response(resp, 200)["quote"]
    assert quote["billable_weight_kg"] == "14.400" and quote["total"] == "23.10"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"country": "CA", "postal_code": "M5V", "weight_kg": 1}, 422, "RATE_NO_ZONE"),
        ({"country": "US", "postal_code": "606", "weight_kg": 31}, 422, "RATE_WEIGHT_OUT_OF_RANGE"),
        ({"country": "US", "weight_kg": 0}, 422, "VALIDATION_FAILED"),
        ({"country": "USA", "weight_kg": 1}, 422, "VALIDATION_FAILED"),
        ({"country": "US"}, 422, "VALIDATION_FAILED"),
        ({"country": "US", "weight_kg": 1, "length_cm": 10}, 422, "VALIDATION_FAILED"),
    ],
)  # fmt: skip
def test_quote_refusals_are_clear(edge, supervisor, created, params, status, code):
    resp = edge.get(f"{BASE}/ACME-GROUND/quote", params=params, headers=supervisor.headers)
    assert_response(resp, status, code=code)
    if code == "RATE_WEIGHT_OUT_OF_RANGE":
        assert details(resp)["max_kg"] == "30" and details(resp)["service"] == "ACME-GROUND"
    if code == "RATE_NO_ZONE":
        assert details(resp)["country"] == "CA"


# -- the adapter choice ------------------------------------------------------------------------
def test_adapter_for_refuses_unknown_and_inactive_services(edge, site, supervisor, created):
    from edge_server.errors import AislewayError

    assert adapter_for(site.db, "CHI", "ACME-GROUND").quote(
        "ACME-GROUND", {"country": "US", "postal_code": "60612"}, 0.8
    ).price == pytest.approx(5.5)
    with pytest.raises(AislewayError) as exc:
        adapter_for(site.db, "CHI", "NOPE")
    assert exc.value.code == "CARRIER_SERVICE_UNKNOWN"
    off = {**SERVICE, "active": False}
    assert_response(edge.put(f"{BASE}/ACME-GROUND", json=off, headers=supervisor.with_key()), 200)
    with pytest.raises(AislewayError) as exc:
        adapter_for(site.db, "CHI", "ACME-GROUND")
    assert exc.value.details["reason"] == "inactive"


# -- the CLI ---------------------------------------------------------------------------------
def _cli(tmp_path: Path, *args: str) -> int:
    return cli_main(["edge", "load-carriers", *args, "--db", str(tmp_path / "site.db")])


def test_cli_loads_the_demo_services_and_reports_each(tmp_path, capsys):
    services = open_services(make_settings(tmp_path))
    make_site(services.db)
    services.db.close()
    assert _cli(tmp_path, str(DEMO)) == 0
    out = capsys.readouterr().out
    assert "site CHI: 3 carrier services" in out
    assert "UPS-GROUND: created" in out and "DHL-EXPRESS-WW: created" in out
    assert _cli(tmp_path, str(DEMO)) == 0
    assert "UPS-NDA: unchanged" in capsys.readouterr().out
    services = open_services(make_settings(tmp_path))
    try:
        codes = [r["code"] for r in rows(services)]
        assert codes == ["DHL-EXPRESS-WW", "UPS-GROUND", "UPS-NDA"]
        assert (
            adapter_for(services.db, "CHI", "DHL-EXPRESS-WW")
            .quote("DHL-EXPRESS-WW", {"country": "JP", "postal_code": "100-0001"}, 1.2)
            .zone
            == "ROW"
        )
    finally:
        services.db.close()


def test_cli_refuses_a_bad_file_and_changes_nothing(tmp_path, capsys):
    services = open_services(make_settings(tmp_path))
    make_site(services.db)
    services.db.close()
    good = json.loads(DEMO.read_text())
    bad = copy.deepcopy(good)
    bad["services"][1]["cutoff_local"] = "6 pm"
    bad["services"][2]["rate_card"]["weight_breaks_kg"] = ["2", "1"]
    path = tmp_path / "carriers.json"
    path.write_text(json.dumps(bad))
    assert _cli(tmp_path, str(path)) == 2
    err = capsys.readouterr().err
    assert "The carrier services file is not valid. Nothing was changed." in err
    assert "services[1].cutoff_local: cutoff '6 pm' is not a 24-hour time" in err
    assert "services[2].rate_card.weight_breaks_kg: weight breaks must rise strictly" in err
    path.write_text("{not json")
    assert _cli(tmp_path, str(path)) == 2
    assert "$: not valid JSON at line 1" in capsys.readouterr().err
    assert _cli(tmp_path, str(tmp_path / "missing.json")) == 2
    assert "cannot read" in capsys.readouterr().err
    duplicate = {"services": [good["services"][0], good["services"][0]]}
    path.write_text(json.dumps(duplicate))
    assert _cli(tmp_path, str(path)) == 2
    assert "'UPS-GROUND' appears twice" in capsys.readouterr().err
    services = open_services(make_settings(tmp_path))
    try:
        assert rows(services) == []
    finally:
        services.db.close()


def test_cli_dry_run_and_a_site_without_layout(tmp_path, capsys):
    assert _cli(tmp_path, str(DEMO), "--dry-run") == 0
    assert "3 carrier services, all valid" in capsys.readouterr().out
    assert not (tmp_path / "site.db").exists()
    assert _cli(tmp_path, str(DEMO)) == 2  # the site has no layout yet
    assert "No layout has been loaded" in capsys.readouterr().err
