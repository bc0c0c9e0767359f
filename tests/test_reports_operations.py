"""The operations report through the API, the CSV and the CLI, from activity seeded through the
real handheld endpoints (pick, pack, ship), a wrong-item report and labor scans with known
times (docs/reports.md)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from picking_support import Picker, gtin13, make_order, make_task, picking_site, put_stock

from edge_server.cli import main as cli_main
from edge_server.services import Services
from edge_server.settings import Settings
from edge_server.timeutil import iso
from edge_server.wms import labor
from edge_server.wms.ledger import Actor

from conftest import Caller, assert_response, login_as

API = "/api/v1"
REPORT = f"{API}/reports/operations"
RATE_CARD = {
    "currency": "USD",
    "weight_breaks_kg": ["1", "5", "30"],
    "zones": [{"name": "UK", "country": "GB", "prices": ["9.00", "14.00", "30.00"]}],
}
STOCK = [("A01-01-1L", "SOAP-1", 50), ("A03-05-1R", "MUG-1", 50), ("A02-04-1L", "JAM-1", 50)]
# Shipped: SO-1 and SO-2 by the packer who packed them, SO-3 by a supervisor at the dock.
# SO-4 is received and never shipped.
SHIPPED: dict[str, list[tuple[str, int]]] = {
    "SO-1": [("SOAP-1", 2), ("MUG-1", 1)],
    "SO-2": [("JAM-1", 3)],
    "SO-3": [("SOAP-1", 1), ("JAM-1", 1)],
}
WAITING: dict[str, list[tuple[str, int]]] = {"SO-4": [("MUG-1", 4), ("JAM-1", 1)]}


def _site(services: Services) -> None:
    picking_site(services)
    for location, sku, qty in STOCK:
        put_stock(services, location, sku, qty)
    with services.db.write() as w:
        sid = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]
        w.execute(
            "INSERT INTO carrier_services (site_id, code, carrier, name, cutoff_local, "
            "ship_days, rate_card_json, updated_at) VALUES (?, 'UPS-GROUND', 'UPS', 'UPS Ground', "
            "'23:59', '1234567', ?, ?)",
            [sid, json.dumps(RATE_CARD), iso()],
        )
        w.execute(
            "INSERT INTO carton_types (site_id, code, description, tare_kg, max_weight_kg, "
            "updated_at) VALUES (?, 'BOX-S', 'Small box', 0.2, 20, ?)",
            [sid, iso()],
        )


def _step(edge: Any, who: Caller, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = edge.post(path, json=body, headers=who.with_key())
    assert resp.status_code == 200, resp.text
    envelope: dict[str, Any] = resp.json()
    return envelope


def pick_pack(
    services: Services,
    edge: Any,
    number: str,
    lines: list[tuple[str, int]],
    tote: str,
    *,
    picker: Caller,
    packer: Caller,
) -> None:
    """The order through the handheld endpoints: picked into `tote`, packed into one carton."""
    task_id = make_task(services, [make_order(services, number, lines)])
    hand = Picker(edge, picker)
    hand.claim(task_id)
    hand.bind(tote)
    hand.pick_all()
    assert hand.state == "done"
    pack = f"{API}/scenarios/packing"
    start = _step(edge, packer, f"{pack}/start", {"barcode": tote})
    session = start["data"][start["next_state"]]["session_id"]
    for sku, qty in lines:
        for _ in range(qty):
            _step(edge, packer, f"{pack}/scan", {"session_id": session, "barcode": gtin13(sku)})
    done = _step(
        edge,
        packer,
        f"{pack}/close-carton",
        {"session_id": session, "carton_type": "BOX-S", "weight_kg": 1.5},
    )
    assert done["next_state"] == "done"


def ship(edge: Any, who: Caller, number: str) -> None:
    resp = edge.post(f"{API}/shipments/{number}/confirm", json={}, headers=who.with_key())
    assert_response(resp, 200)


@pytest.fixture
def seeded(services: Services, edge: Any) -> dict[str, Any]:
    _site(services)
    picker = login_as(services, "picker", badge="PK-ANN")
    packer = login_as(services, "packer", badge="PA-BOB")
    supervisor = login_as(services, "supervisor", badge="SV-CY")
    for n, (number, lines) in enumerate(SHIPPED.items(), 1):
        pick_pack(services, edge, number, lines, f"TOTE-{n:04d}", picker=picker, packer=packer)
        ship(edge, supervisor if number == "SO-3" else packer, number)
    for number, lines in WAITING.items():
        make_order(services, number, lines)
    # A customer of SO-2 found a mug in the parcel: a wrong item shipped.
    resp = edge.post(
        f"{API}/shipments/SO-2/wrong-items",
        json={"sku": "MUG-1", "qty": 1, "note": "RMA-9 wrong item"},
        headers=supervisor.with_key(),
    )
    assert_response(resp, 201)
    # Labor yesterday with known times: 60 s travel + 120 s handling, then an idle gap.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    # (a worker of their own: labor times a scan from the worker's previous scan on any task)
    picker_id = services.users.create(badge="PK-DAN", pin="1234", role="picker").id
    noon = datetime(yesterday.year, yesterday.month, yesterday.day, 12, tzinfo=UTC)
    with services.db.write() as w:
        for seconds, step in ((0, "arrive"), (60, "arrive"), (180, "handle"), (1200, "handle")):
            labor.record(
                w,
                services.settings,
                task_type="pick",
                task_ref="pick-seeded",
                actor=Actor(user_id=picker_id, scanned_at=iso(noon + timedelta(seconds=seconds))),
                step=step,  # type: ignore[arg-type]
                units=1 if step == "handle" else 0,
            )
    return {"supervisor": supervisor, "picker": picker, "yesterday": yesterday}


def _report(edge: Any, who: Caller, **params: Any) -> dict[str, Any]:
    return assert_response(edge.get(REPORT, params=params, headers=who.headers), 200)


def test_report_figures_match_the_seeded_activity(seeded: dict[str, Any], edge: Any) -> None:
    yesterday: date = seeded["yesterday"]
    today = yesterday + timedelta(days=1)
    report = _report(
        edge, seeded["supervisor"], since=yesterday.isoformat(), until=today.isoformat()
    )
    assert (report["since"], report["until"], report["days"]) == (
        yesterday.isoformat(),
        today.isoformat(),
        2,
    )
    all_orders = SHIPPED | WAITING
    expected = {
        "orders_received": len(all_orders),
        "orders_shipped": len(SHIPPED),
        "skus_ordered": len({sku for lines in all_orders.values() for sku, _ in lines}),
        "skus_shipped": len({sku for lines in SHIPPED.values() for sku, _ in lines}),
        "units_shipped": sum(q for lines in SHIPPED.values() for _, q in lines),
        "shipments": len(SHIPPED),
        "wrong_items_shipped": 1,
        "error_rate_pct": round(100 * 1 / len(SHIPPED), 3),
    }
    first, second = report["by_day"]
    assert first["day"] == yesterday.isoformat() and second["day"] == today.isoformat()
    assert {k: report["total"][k] for k in expected} == expected
    assert {k: second[k] for k in expected} == expected
    # nothing but the seeded labor happened yesterday: exactly 180 s of work
    assert first["labor_hours"] == pytest.approx(180 / 3600)
    assert {k: first[k] for k in expected} == {
        **dict.fromkeys(expected, 0),
        "error_rate_pct": None,
    }
    assert report["total"]["labor_hours"] == pytest.approx(
        first["labor_hours"] + second["labor_hours"], abs=1e-3
    )
    assert set(report["explain"]) >= set(expected) | {"labor_hours", "handoffs_avg"}
    pay = report["payback"]
    assert pay["inputs"]["days"] == 2
    assert pay["inputs"]["shipments"] == 3 and pay["inputs"]["wrong_items_shipped"] == 1
    assert pay["inputs"]["labor_hours"] == report["total"]["labor_hours"]
    assert pay["explain"] and all(isinstance(s, str) and s for s in pay["explain"].values())


def test_handoffs_follow_each_order_through_its_hands(seeded: dict[str, Any], edge: Any) -> None:
    report = _report(edge, seeded["supervisor"], flows="true")
    flows = {f["number"]: f for f in report["flows"]}
    assert set(flows) == set(SHIPPED)
    # intake (OMS) -> release (system, no wave) -> picker -> packer, who also ships -> carrier
    assert [(p["steps"], p["party"], p["who"]) for p in flows["SO-1"]["parties"]] == [
        (["intake"], "integration", None),
        (["release"], "system", None),
        (["pick"], "user", "PK-ANN"),
        (["pack", "ship"], "user", "PA-BOB"),
        (["carrier"], "carrier", "UPS"),
    ]
    assert flows["SO-1"]["handoffs"] == flows["SO-2"]["handoffs"] == 4
    # SO-3: a supervisor confirmed the shipment, one hand more
    assert [p["who"] for p in flows["SO-3"]["parties"]][3:] == ["PA-BOB", "SV-CY", "UPS"]
    assert flows["SO-3"]["handoffs"] == 5
    hand = report["handoffs"]
    assert hand["orders"] == 3 and hand["max"] == 5 and hand["max_order"] == "SO-3"
    assert hand["average"] == round((4 + 4 + 5) / 3, 2)
    typical = hand["typical_flow"]
    assert typical["orders"] == 2 and typical["handoffs"] == 4
    assert [(p["steps"], p["party"]) for p in typical["parties"]] == [
        (["intake"], "integration"),
        (["release"], "system"),
        (["pick"], "picker"),
        (["pack", "ship"], "packer"),
        (["carrier"], "carrier"),
    ]
    assert report["total"]["handoffs_avg"] == hand["average"]
    assert report["total"]["handoffs_max"] == 5


def test_csv_holds_the_same_figures_as_json(seeded: dict[str, Any], edge: Any) -> None:
    who = seeded["supervisor"]
    params = {"since": seeded["yesterday"].isoformat()}
    report = _report(edge, who, **params)
    resp = edge.get(f"{REPORT}.csv", params=params, headers=who.headers)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    expected = [*report["by_day"], {"day": "total", **report["total"]}]
    assert len(rows) == len(expected)
    for row, figures in zip(rows, expected, strict=True):
        assert row == {k: "" if figures[k] is None else str(figures[k]) for k in row}


def test_cli_prints_the_report(
    seeded: dict[str, Any], edge: Any, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    since = seeded["yesterday"].isoformat()
    base = ["edge", "report", "operations", "--db", str(settings.db_path), "--site", "CHI"]
    assert cli_main([*base, "--since", since, "--csv"]) == 0
    printed = capsys.readouterr().out
    over_http = edge.get(
        f"{REPORT}.csv", params={"since": since}, headers=seeded["supervisor"].headers
    )
    assert printed == over_http.text
    assert cli_main([*base, "--since", since]) == 0
    text = capsys.readouterr().out
    assert "operations report, site CHI" in text
    assert "typical flow (2 orders)" in text and "payback" in text
    assert cli_main([*base, "--since", since, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["shipments"] == 3
    # until before since: refused, exit 2, said on stderr
    assert cli_main([*base, "--since", since, "--until", "2000-01-01"]) == 2
    assert "until must not be before since" in capsys.readouterr().err


def test_default_period_is_the_last_seven_site_days(
    services: Services, edge: Any, settings: Settings
) -> None:
    _site(services)
    report = _report(edge, login_as(services, "integration"))
    today = datetime.now(UTC).date()  # tests run the site in UTC
    assert report["until"] == today.isoformat()
    assert report["since"] == (today - timedelta(days=6)).isoformat()
    assert [d["day"] for d in report["by_day"]] == [
        (today - timedelta(days=n)).isoformat() for n in range(6, -1, -1)
    ]
    assert report["total"]["shipments"] == 0 and report["total"]["error_rate_pct"] is None
    assert report["handoffs"]["typical_flow"] is None
    assert report["payback"]["months_to_payback"] is None
    assert "Nothing was shipped" in report["payback"]["why_no_payback"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"since": "2024-03-10", "until": "2024-03-09"}, 422, "REPORT_PERIOD_INVALID"),
        ({"since": "2023-01-01", "until": "2024-03-09"}, 422, "REPORT_PERIOD_INVALID"),
        ({"since": "2024-02-30"}, 422, "VALIDATION_FAILED"),
        ({"until": "yesterday"}, 422, "VALIDATION_FAILED"),
    ],
)
def test_bad_periods_are_refused(
    services: Services, edge: Any, params: dict[str, str], status: int, code: str
) -> None:
    _site(services)
    who = login_as(services, "supervisor")
    for path in (REPORT, f"{REPORT}.csv"):
        assert_response(edge.get(path, params=params, headers=who.headers), status, code=code)


def test_floor_roles_cannot_read_the_report(services: Services, edge: Any) -> None:
    _site(services)
    for role in ("picker", "packer", "receiver", "counter"):
        who = login_as(services, role)
        for path in (REPORT, f"{REPORT}.csv"):
            assert_response(edge.get(path, headers=who.headers), 403, code="FORBIDDEN_ROLE")
