"""Billing data per client and period (docs/billing.md): storage replayed from the ledger at
each site day's end, handling counts, amounts at the client's rates, the CSV, the client's own
route, the CLI and the periods refused.

The history is made with the real ledger functions at controlled times: the clock
(`edge_server.timeutil.utcnow`, which stamps movements) is set to each moment in turn. The
site is in Chicago (UTC-6 in January), so a movement at 03:00 UTC falls on the previous site
day. Handling rows (receiving sessions, pick lines, pack sessions, shipments) are written
straight to their tables with known times, the way the workflows leave them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from edge_server.cli import main as cli_main
from edge_server.services import Services
from edge_server.settings import Settings
from edge_server.timeutil import iso
from edge_server.wms import ledger
from edge_server.wms.ledger import StockKey

from conftest import Caller, assert_response, login_as, make_settings
from factories import make_client, make_item, make_site

API = "/api/v1"
PERIOD = {"from": "2025-01-05", "to": "2025-01-08"}
DAYS = ["2025-01-05", "2025-01-06", "2025-01-07", "2025-01-08"]
BINS = {
    "DOCK-01": "receiving_dock",
    "A01-01-1L": "pick_face",
    "A01-02-1L": "pick_face",
    "R-01": "reserve",
    "R-02": "reserve",
    "PACK-01": "packing",
    "QUAR-01": "quarantine",
}
ACME_RATES = {
    "currency": "EUR",
    "storage_basis": "pallet_days",
    "storage": "1.25",
    "receipt": "10",
    "line_picked": "0.3125",
    "order_packed": "2.5",
}


class Clock:
    """The time `edge_server.timeutil.utcnow` answers: `at` while set, else the real time."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, site_timezone="America/Chicago")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    c = Clock()
    monkeypatch.setattr("edge_server.timeutil.utcnow", c)
    yield c


def _fo(w: Any, sid: int, number: str, owner: str) -> int:
    return int(
        w.execute(
            "INSERT INTO fulfillment_orders (site_id, number, ship_to_json, carrier_service, "
            "owner, created_at, updated_at) VALUES (?, ?, '{}', 'UPS-GROUND', ?, ?, ?)",
            [sid, number, owner, iso(), iso()],
        ).lastrowid
        or 0
    )


def _fo_line(w: Any, order: int, line_no: int, item: int, qty: int) -> int:
    return int(
        w.execute(
            "INSERT INTO fo_lines (order_id, line_no, item_id, qty_ordered) VALUES (?,?,?,?)",
            [order, line_no, item, qty],
        ).lastrowid
        or 0
    )


@pytest.fixture
def site(services: Services, clock: Clock) -> dict[str, Any]:
    """ACME (pallet-days, priced) and BETA (bin-days, all rates 0) over 2025-01-05..08."""
    db = services.db
    loc = make_site(db, "CHI", BINS)
    soap, mug, jam = make_item(db, "A-SOAP"), make_item(db, "A-MUG"), make_item(db, "B-JAM")
    make_client(db, "ACME", billing=ACME_RATES)
    make_client(db, "BETA")
    with db.write() as w:
        w.execute("UPDATE items SET owner = 'ACME' WHERE id IN (?, ?)", [soap, mug])
        w.execute("UPDATE items SET owner = 'BETA' WHERE id = ?", [jam])
    moves: dict[str, int] = {}

    def at(stamp: str, name: str, fn: Any, *args: Any, **kw: Any) -> None:
        clock.at = t(stamp)
        with db.write() as w:
            moves[name] = fn(w, *args, **kw).id

    key = StockKey
    # -- day 1, 2025-01-06 (site days start at 06:00 UTC) --------------------------------------
    at("2025-01-06T15:00", "soap", ledger.receive, key(loc["DOCK-01"], soap, lpn="LPN-1"), 100)
    at(
        "2025-01-06T16:00",
        "p1",
        ledger.move,
        key(loc["DOCK-01"], soap, lpn="LPN-1"),
        loc["R-01"],
        100,
    )
    at("2025-01-06T17:00", "mug", ledger.receive, key(loc["DOCK-01"], mug, lpn="LPN-2"), 20)
    at(
        "2025-01-06T17:30",
        "p2",
        ledger.move,
        key(loc["DOCK-01"], mug, lpn="LPN-2"),
        loc["A01-01-1L"],
        20,
        to_lpn="",
    )
    at("2025-01-06T18:00", "jam", ledger.receive, key(loc["DOCK-01"], jam, lpn="LPN-3"), 50)
    # ACME end of day 1: R-01 (LPN-1), A01-01-1L (loose, pick face) -> 2 bins, 1 pallet
    # BETA: DOCK-01 (LPN-3) -> 1 bin, 1 pallet
    # -- day 2, 2025-01-07 ---------------------------------------------------------------------
    at(
        "2025-01-07T10:00",
        "p3",
        ledger.move,
        key(loc["DOCK-01"], jam, lpn="LPN-3"),
        loc["A01-02-1L"],
        50,
    )
    at(
        "2025-01-07T12:00",
        "pick",
        ledger.move,
        key(loc["A01-01-1L"], mug),
        loc["PACK-01"],
        5,
        to_lpn="TOTE-1",
        movement_type="pick",
    )
    # stock in and out the same day leaves nothing at the day's end
    at("2025-01-07T13:00", "found", ledger.receive, key(loc["QUAR-01"], mug, lpn="LPN-9"), 10)
    at(
        "2025-01-07T14:00",
        "lost",
        ledger.remove,
        key(loc["QUAR-01"], mug, lpn="LPN-9"),
        10,
        movement_type="adjustment",
        reason="count",
    )
    # 03:00 UTC on the 8th is 21:00 on the 7th in Chicago: a day-2 move, loose into reserve
    at(
        "2025-01-08T03:00",
        "split",
        ledger.move,
        key(loc["R-01"], soap, lpn="LPN-1"),
        loc["R-02"],
        30,
        to_lpn="",
    )
    # ACME end of day 2: R-01 (LPN-1), R-02 (loose), A01-01-1L -> 3 bins, 2 pallets;
    # TOTE-1 in PACK-01 is on its way out, not stored.
    # BETA: A01-02-1L (LPN-3) -> 1 bin, 1 pallet
    # -- day 3, 2025-01-08 ---------------------------------------------------------------------
    at(
        "2025-01-08T07:00",
        "ship1",
        ledger.remove,
        key(loc["PACK-01"], mug, lpn="TOTE-1"),
        5,
        movement_type="ship",
    )
    at(
        "2025-01-08T08:00",
        "ship2",
        ledger.remove,
        key(loc["R-01"], soap, lpn="LPN-1"),
        70,
        movement_type="ship",
    )
    # ACME end of day 3: R-02 (loose), A01-01-1L -> 2 bins, 1 pallet
    # -- after the period: the replay must undo these to see the period's stock ---------------
    at("2025-01-09T12:00", "late1", ledger.move, key(loc["A01-01-1L"], mug), loc["A01-02-1L"], 15)
    at(
        "2025-01-10T12:00",
        "late2",
        ledger.remove,
        key(loc["A01-02-1L"], jam, lpn="LPN-3"),
        50,
        movement_type="ship",
    )
    clock.at = t("2025-01-10T13:00")
    with db.write() as w:
        sid = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]

        def po(number: str, owner: str) -> int:
            return int(
                w.execute(
                    "INSERT INTO purchase_orders (site_id, number, owner, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?)",
                    [sid, number, owner, iso(), iso()],
                ).lastrowid
                or 0
            )

        def session(po_id: int, closed_at: str | None) -> int:
            return int(
                w.execute(
                    "INSERT INTO receiving_sessions (site_id, po_id, dock_location_id, status, "
                    "started_at, closed_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        sid,
                        po_id,
                        loc["DOCK-01"],
                        "closed" if closed_at else "open",
                        "2025-01-06T14:00:00+00:00",
                        closed_at,
                    ],
                ).lastrowid
                or 0
            )

        def receipt(sess: int, item: int, qty: int, lpn: str, movement: int, at: str) -> None:
            w.execute(
                "INSERT INTO receipt_lines (session_id, item_id, qty, lpn, stock_status, "
                "movement_id, received_at) VALUES (?, ?, ?, ?, 'available', ?, ?)",
                [sess, item, qty, lpn, movement, at],
            )

        po1, po2, po3, po4 = (
            po("PO-1", "ACME"),
            po("PO-2", "ACME"),
            po("PO-3", "BETA"),
            po("PO-4", "ACME"),
        )
        # PO-1 received at two doors, both closed on day 1: one receipt
        s1, s2 = (
            session(po1, "2025-01-06T19:00:00+00:00"),
            session(po1, "2025-01-06T20:00:00+00:00"),
        )
        receipt(s1, soap, 100, "LPN-1", moves["soap"], "2025-01-06T15:00:00+00:00")
        receipt(s2, mug, 20, "LPN-2", moves["mug"], "2025-01-06T17:00:00+00:00")
        # PO-2: closed on day 3 (02:00 on the 9th UTC = 20:00 on the 8th in Chicago)
        s3 = session(po2, "2025-01-09T02:00:00+00:00")
        receipt(s3, mug, 10, "LPN-9", moves["found"], "2025-01-07T13:00:00+00:00")
        # PO-4: still open, so not a receipt yet (its units are received though)
        s4 = session(po4, None)
        receipt(s4, mug, 1, "LPN-8", moves["found"], "2025-01-08T09:00:00+00:00")
        # BETA's PO-3, closed on day 1
        s5 = session(po3, "2025-01-06T21:00:00+00:00")
        receipt(s5, jam, 50, "LPN-3", moves["jam"], "2025-01-06T18:00:00+00:00")

        so1, sob = _fo(w, sid, "SO-1", "ACME"), _fo(w, sid, "SO-B1", "BETA")
        l1, l2, l3 = (
            _fo_line(w, so1, 1, mug, 5),
            _fo_line(w, so1, 2, soap, 3),
            _fo_line(w, so1, 3, soap, 4),
        )
        lb = _fo_line(w, sob, 1, jam, 2)
        task = w.execute(
            "INSERT INTO pick_tasks (site_id, strategy, status, created_at) "
            "VALUES (?, 'discrete', 'done', ?)",
            [sid, iso()],
        ).lastrowid

        def pick_line(
            line: int, item: int, qty: int, picked: int, short: int, at: str | None
        ) -> None:
            w.execute(
                "INSERT INTO pick_lines (task_id, seq, order_line_id, location_id, item_id, qty, "
                "qty_picked, qty_short, status, picked_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    task,
                    line,
                    loc["A01-01-1L"],
                    item,
                    qty,
                    picked,
                    short,
                    "picked" if picked == qty else "short",
                    at,
                ],
            )

        pick_line(l1, mug, 5, 5, 0, "2025-01-07T12:00:00+00:00")  # day 2
        pick_line(l2, soap, 3, 0, 3, "2025-01-07T12:05:00+00:00")  # nothing picked: no line
        pick_line(l3, soap, 4, 2, 2, "2025-01-07T12:10:00+00:00")  # day 2, 2 units
        pick_line(lb, jam, 2, 2, 0, "2025-01-08T10:00:00+00:00")  # BETA, day 3
        # SO-1 packed at 05:00 UTC on the 8th = 23:00 on the 7th: day 2; shipped on day 3
        w.execute(
            "INSERT INTO pack_sessions (site_id, order_id, station_location_id, status, "
            "started_at, finished_at) VALUES (?, ?, ?, 'done', ?, ?)",
            [sid, so1, loc["PACK-01"], "2025-01-08T04:00:00+00:00", "2025-01-08T05:00:00+00:00"],
        )
        w.execute(
            "INSERT INTO shipments (site_id, order_id, carrier_service, cartons, units, "
            "payload_json, shipped_at) VALUES (?, ?, 'UPS-GROUND', 1, 7, '{}', ?)",
            [sid, so1, "2025-01-08T07:00:00+00:00"],
        )
    clock.at = None
    return {"loc": loc, "manager": login_as(services, "integration")}


def _get(edge: TestClient, who: Caller, path: str, **params: Any) -> dict[str, Any]:
    return assert_response(edge.get(path, params=params, headers=who.headers), 200)


def _column(report: dict[str, Any], name: str) -> list[Any]:
    return [d[name] for d in report["by_day"]]


def test_acme_storage_handling_and_amounts(site: dict[str, Any], edge: TestClient) -> None:
    report = _get(edge, site["manager"], f"{API}/clients/ACME/billing", **PERIOD)
    assert (report["client"], report["from"], report["to"], report["days"]) == (
        "ACME",
        "2025-01-05",
        "2025-01-08",
        4,
    )
    assert report["timezone"] == "America/Chicago"
    assert _column(report, "day") == DAYS
    assert _column(report, "final") == [True] * 4
    assert _column(report, "bin_days") == [0, 2, 3, 2]
    assert _column(report, "pallet_days") == [0, 1, 2, 1]
    assert _column(report, "receipts") == [0, 1, 0, 1]
    assert _column(report, "units_received") == [0, 120, 10, 1]
    assert _column(report, "lines_picked") == [0, 0, 2, 0]
    assert _column(report, "units_picked") == [0, 0, 7, 0]
    assert _column(report, "orders_packed") == [0, 0, 1, 0]
    assert _column(report, "orders_shipped") == [0, 0, 0, 1]
    assert _column(report, "units_shipped") == [0, 0, 0, 7]
    total = report["total"]
    assert {k: total[k] for k in ("bin_days", "pallet_days", "receipts", "lines_picked")} == {
        "bin_days": 7,
        "pallet_days": 4,
        "receipts": 2,
        "lines_picked": 2,
    }
    # storage on pallet-days: 4 x 1.25; 2 receipts x 10; 2 lines x 0.3125 = 0.625 -> 0.63
    # (half up); 1 order packed x 2.5
    assert {k: total[k] for k in ("storage_amount", "receipt_amount", "line_picked_amount")} == {
        "storage_amount": "5.00",
        "receipt_amount": "20.00",
        "line_picked_amount": "0.63",
    }
    assert (total["order_packed_amount"], total["total_amount"], total["currency"]) == (
        "2.50",
        "28.13",
        "EUR",
    )
    assert _column(report, "storage_amount") == ["0.00", "1.25", "2.50", "1.25"]
    assert _column(report, "total_amount") == ["0.00", "11.25", "5.63", "11.25"]
    assert report["rates"]["storage_basis"] == "pallet_days"
    assert set(report["explain"]) >= {"bin_days", "pallet_days", "receipts", "total_amount"}


def test_zero_rates_still_show_quantities(site: dict[str, Any], edge: TestClient) -> None:
    report = _get(edge, site["manager"], f"{API}/clients/BETA/billing", **PERIOD)
    assert _column(report, "bin_days") == [0, 1, 1, 1]
    assert _column(report, "pallet_days") == [0, 1, 1, 1]
    assert _column(report, "receipts") == [0, 1, 0, 0]
    assert _column(report, "lines_picked") == [0, 0, 0, 1]
    assert report["total"]["bin_days"] == 3
    assert all(
        report["total"][k] == "0.00"
        for k in ("storage_amount", "receipt_amount", "line_picked_amount", "total_amount")
    )
    assert report["total"]["currency"] == "USD"


def test_csv_round_trip(site: dict[str, Any], edge: TestClient, services: Services) -> None:
    who = site["manager"]
    report = _get(edge, who, f"{API}/clients/ACME/billing", **PERIOD)
    resp = edge.get(f"{API}/clients/ACME/billing.csv", params=PERIOD, headers=who.headers)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert (
        'filename="billing-ACME-2025-01-05-2025-01-08.csv"' in resp.headers["content-disposition"]
    )
    reader = csv.DictReader(io.StringIO(resp.text))
    assert reader.fieldnames == [
        "day",
        "bin_days",
        "pallet_days",
        "receipts",
        "units_received",
        "lines_picked",
        "units_picked",
        "orders_packed",
        "orders_shipped",
        "units_shipped",
        "storage_amount",
        "receipt_amount",
        "line_picked_amount",
        "order_packed_amount",
        "total_amount",
        "currency",
    ]
    rows = list(reader)
    expected = [*report["by_day"], {"day": "total", **report["total"]}]
    assert [r["day"] for r in rows] == [*DAYS, "total"]
    for row, figures in zip(rows, expected, strict=True):
        assert row == {k: str(figures[k]) for k in row}
    # the client's own CSV is the same file
    acme = login_as(services, "client", client="ACME")
    own = edge.get(f"{API}/client/billing.csv", params=PERIOD, headers=acme.headers)
    assert own.status_code == 200 and own.text == resp.text


def test_a_client_reads_only_its_own_billing(
    site: dict[str, Any], edge: TestClient, services: Services
) -> None:
    acme = login_as(services, "client", client="ACME")
    beta = login_as(services, "client", client="BETA")
    mine = _get(edge, acme, f"{API}/client/billing", **PERIOD)
    assert mine["client"] == "ACME" and mine["total"]["pallet_days"] == 4
    theirs = _get(edge, beta, f"{API}/client/billing", **PERIOD)
    assert theirs["client"] == "BETA" and theirs["total"]["bin_days"] == 3
    assert "ACME" not in json.dumps(theirs)
    # the admin route is not the client's: refused whatever code is asked
    for code in ("BETA", "ACME"):
        resp = edge.get(f"{API}/clients/{code}/billing", params=PERIOD, headers=acme.headers)
        assert resp.status_code == 403, resp.text
    # a client cannot name another client on its own route
    sneaky = edge.get(
        f"{API}/client/billing", params={**PERIOD, "client": "BETA"}, headers=acme.headers
    )
    assert assert_response(sneaky, 200)["client"] == "ACME"


def test_unknown_client_is_404(site: dict[str, Any], edge: TestClient) -> None:
    who = site["manager"]
    for path in (f"{API}/clients/NOPE/billing", f"{API}/clients/NOPE/billing.csv"):
        resp = edge.get(path, params=PERIOD, headers=who.headers)
        assert_response(resp, 404, code="CLIENT_NOT_FOUND")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2025-01-08", "to": "2025-01-05"}, "REPORT_PERIOD_INVALID"),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "REPORT_PERIOD_INVALID"),  # 367 days
        ({"from": "2025-01-01", "to": "2999-01-01"}, "REPORT_PERIOD_INVALID"),  # the future
        ({"from": "2025-01-05", "to": "8 Jan"}, "VALIDATION_FAILED"),
        ({"from": "2025-01-05"}, "VALIDATION_FAILED"),
    ],
)
def test_bad_periods_are_refused(
    site: dict[str, Any], edge: TestClient, services: Services, params: dict[str, str], code: str
) -> None:
    acme = login_as(services, "client", client="ACME")
    for who, path in (
        (site["manager"], f"{API}/clients/ACME/billing"),
        (acme, f"{API}/client/billing"),
    ):
        for suffix in ("", ".csv"):
            resp = edge.get(path + suffix, params=params, headers=who.headers)
            assert_response(resp, 422, code=code)
    if code == "REPORT_PERIOD_INVALID":
        body = edge.get(
            f"{API}/clients/ACME/billing", params=params, headers=site["manager"].headers
        )
        message = body.json()["message"]
        assert "billing period" in message["text"]
        assert message["details"]["max_days"] == 366


def test_a_full_year_is_accepted(site: dict[str, Any], edge: TestClient) -> None:
    report = _get(
        edge,
        site["manager"],
        f"{API}/clients/ACME/billing",
        **{"from": "2024-01-09", "to": "2025-01-08"},
    )
    assert report["days"] == 366
    assert report["total"]["pallet_days"] == 4 and report["total"]["receipts"] == 2


def test_today_is_measured_now_and_not_final(
    site: dict[str, Any], edge: TestClient, services: Services
) -> None:
    today = datetime.now(ZoneInfo("America/Chicago")).date()
    first = today - timedelta(days=1)
    report = _get(
        edge,
        site["manager"],
        f"{API}/clients/ACME/billing",
        **{"from": first.isoformat(), "to": today.isoformat()},
    )
    assert _column(report, "final") == [True, False]
    # today's stock: R-02 (30 soap, loose in reserve), A01-02-1L (15 mugs) -> 2 bins, 1 pallet
    assert _column(report, "bin_days") == [2, 2]
    assert _column(report, "pallet_days") == [1, 1]


def test_cli_writes_the_csv(
    site: dict[str, Any],
    edge: TestClient,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the command reads the site's settings from the environment, like the server
    monkeypatch.setenv("AISLEWAY_SITE_TIMEZONE", "America/Chicago")
    base = ["edge", "billing", "--db", str(settings.db_path), "--site", "CHI"]
    out = tmp_path / "acme.csv"
    assert (
        cli_main([*base, "ACME", "--from", PERIOD["from"], "--to", PERIOD["to"], "--csv", str(out)])
        == 0
    )
    assert "4 days and a total row" in capsys.readouterr().out
    over_http = edge.get(
        f"{API}/clients/ACME/billing.csv", params=PERIOD, headers=site["manager"].headers
    )
    assert out.read_text(encoding="utf-8") == over_http.text
    assert cli_main([*base, "ACME", "--from", PERIOD["from"], "--to", PERIOD["to"]]) == 0
    printed = capsys.readouterr().out
    assert "billing, client ACME" in printed and "pallet_days" in printed and "28.13" in printed
    assert cli_main([*base, "ACME", "--from", "2025-01-08", "--to", "2025-01-05"]) == 2
    assert "billing period" in capsys.readouterr().err
    assert cli_main([*base, "NOPE", "--from", PERIOD["from"], "--to", PERIOD["to"]]) == 2
    assert "no client with that code" in capsys.readouterr().err


def test_backward_replay_agrees_with_a_forward_sum(
    site: dict[str, Any], edge: TestClient, services: Services
) -> None:
    """A second way to the same storage figures: the positions at each day's end as the sum of
    every movement before it (the site started empty)."""
    tz = ZoneInfo("America/Chicago")
    report = _get(
        edge,
        site["manager"],
        f"{API}/clients/ACME/billing",
        **{"from": "2025-01-04", "to": "2025-01-12"},
    )
    kinds = {r["id"]: r["type"] for r in services.db.query("SELECT id, type FROM locations")}
    for day in report["by_day"]:
        end = datetime.fromisoformat(day["day"]).replace(tzinfo=tz) + timedelta(days=1)
        rows = services.db.query(
            "WITH flows AS (SELECT to_location_id AS loc, COALESCE(to_lpn, lpn) AS lpn, qty, "
            "item_id, ts FROM movements WHERE to_location_id IS NOT NULL UNION ALL "
            "SELECT from_location_id, lpn, -qty, item_id, ts FROM movements "
            "WHERE from_location_id IS NOT NULL) "
            "SELECT loc, lpn, SUM(qty) AS qty FROM flows JOIN items i ON i.id = flows.item_id "
            "WHERE i.owner = 'ACME' AND ts < ? GROUP BY loc, lpn HAVING SUM(qty) > 0",
            [iso(end.astimezone(UTC))],
        )
        held = [r for r in rows if kinds[r["loc"]] not in ("staging", "packing", "shipping_dock")]
        pallets = {r["lpn"] for r in held if r["lpn"]} | {
            f"loose@{r['loc']}" for r in held if not r["lpn"] and kinds[r["loc"]] == "reserve"
        }
        assert day["bin_days"] == len({r["loc"] for r in held}), day["day"]
        assert day["pallet_days"] == len(pallets), day["day"]
    assert _column(report, "bin_days") == [0, 0, 2, 3, 2, 2, 2, 2, 2]
