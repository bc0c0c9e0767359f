"""Importing purchase orders from CSV: the messy sample gives exactly the expected report, a
PO with a bad row is refused whole, dry runs write nothing, re-imports change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_inbound_api import load_site, set_received, snapshot

from edge_server import cli
from edge_server.errors import AislewayError
from edge_server.services import Services
from edge_server.wms.po_import import import_pos, read_pos_csv

from conftest import assert_response

SAMPLE = Path(__file__).parent / "data" / "pos-sample.csv"

# line: {(field, code)}; worked out by reading the sample (header = line 1, line 17 blank).
EXPECTED: dict[int, set[tuple[str, str]]] = {
    5: {("", "PO_REFUSED")},  # PO-2002's good line
    6: {("sku", "UNKNOWN_SKU")},
    7: {("qty", "QTY_INVALID")},
    8: {("uom", "UOM_INVALID")},
    9: {("due_date", "DATE_INVALID")},  # 31/04/2025
    10: {("line_no", "LINE_NO_DUPLICATE")},
    11: {("line_no", "LINE_NO_DUPLICATE")},
    12: {("supplier", "SUPPLIER_MIXED")},
    13: {("supplier", "SUPPLIER_MIXED")},
    14: {("uom", "NO_CASE_QTY")},  # MUG-01 has no cases
    15: {("", "PO_REFUSED")},  # PO-2008's good line
    16: {("qty", "QTY_INVALID")},  # 1.5
}


def problems(report: Any) -> dict[int, set[tuple[str, str]]]:
    found: dict[int, set[tuple[str, str]]] = {}
    for p in report.problems:
        assert p.severity == "refused"
        found.setdefault(p.line, set()).add((p.field, p.code))
    return found


def test_messy_sample_report_and_what_lands(services: Services):
    load_site(services)
    report = import_pos(services.db, SAMPLE.read_bytes(), "CHI", source="pos-sample.csv")
    assert problems(report) == EXPECTED
    c = report.counts
    assert (c.rows, c.pos, c.created, c.updated, c.unchanged, c.refused, c.refused_rows) == (
        16,
        9,
        2,
        0,
        0,
        7,
        12,
    )
    assert not report.ok
    stored = services.db.query("SELECT number, supplier, due_date FROM purchase_orders ORDER BY 1")
    assert stored == [
        {"number": "PO-2001", "supplier": "Acme Textiles", "due_date": "2025-04-01"},
        {"number": "PO-2009", "supplier": "Bolt Supplies", "due_date": None},
    ]
    lines = services.db.query(
        "SELECT line_no, uom, qty_ordered, qty_expected, expected_lots_json FROM po_lines "
        "ORDER BY po_id, line_no"
    )
    assert [tuple(r.values()) for r in lines] == [
        (1, "CS", 5, 60, '["L1","L2"]'),
        (2, "EA", 40, 40, "[]"),
        (3, "CS", 2, 12, "[]"),
        (1, "CS", 4, 24, "[]"),
    ]
    assert "PO-2002" in report.table() and "UNKNOWN_SKU" in report.table()
    events = services.db.query("SELECT type FROM outbox WHERE type = 'purchase_order.changed'")
    assert len(events) == 2

    # Again: the same report, nothing written.
    before = snapshot(services)
    again = import_pos(services.db, SAMPLE.read_bytes(), "CHI")
    assert (again.counts.unchanged, again.counts.created) == (2, 0)
    assert problems(again) == EXPECTED
    assert snapshot(services) == before


def test_dry_run_writes_nothing_and_says_the_same(services: Services):
    load_site(services)
    before = snapshot(services)
    dry = import_pos(services.db, SAMPLE.read_bytes(), "CHI", dry_run=True)
    assert snapshot(services) == before
    assert dry.counts.created == 2 and problems(dry) == EXPECTED


def test_a_received_po_in_the_file_is_refused_whole(services: Services):
    load_site(services)
    import_pos(services.db, SAMPLE.read_bytes(), "CHI")
    set_received(services, "PO-2001", 2, 30)
    lowered = SAMPLE.read_text().replace(
        "PO-2001,Acme Textiles,2025-04-01,2,MUG-01,40",
        "PO-2001,Acme Textiles,2025-04-01,2,MUG-01,20",
    )
    before = snapshot(services)
    report = import_pos(services.db, lowered.encode(), "CHI")
    assert {code for _, code in problems(report)[2]} == {"PO_LINE_RECEIVED"}
    assert set(problems(report)) == set(EXPECTED) | {2, 3, 4}
    assert report.counts.unchanged == 1  # PO-2009
    assert snapshot(services) == before


def test_unreadable_files_and_missing_site(services: Services):
    with pytest.raises(AislewayError) as exc:
        read_pos_csv(b"po_number,sku,qty\nPO-1,TEE-M,1\n")
    assert exc.value.details["missing_columns"] == ["supplier", "line_no"]
    with pytest.raises(AislewayError) as exc:
        import_pos(services.db, SAMPLE.read_bytes(), "CHI")
    assert exc.value.code == "LAYOUT_NOT_LOADED"
    assert services.db.query("SELECT * FROM purchase_orders") == []


def test_cli_import_pos(services: Services, tmp_path: Path, capsys: Any):
    load_site(services)
    db = str(services.settings.db_path)
    assert cli.main(["edge", "import-pos", str(SAMPLE), "--db", db, "--dry-run"]) == 1
    assert "dry run" in capsys.readouterr().out
    assert services.db.query("SELECT * FROM purchase_orders") == []
    good = tmp_path / "good.csv"
    good.write_text("\n".join(SAMPLE.read_text().splitlines()[:4]) + "\n")
    assert cli.main(["edge", "import-pos", str(good), "--db", db]) == 0
    assert "created 1" in capsys.readouterr().out
    assert cli.main(["edge", "import-pos", str(tmp_path / "missing.csv"), "--db", db]) == 2


def test_http_import(edge, services: Services, as_role: Any):
    load_site(services)
    oms = as_role("integration")
    headers = {**oms.with_key(), "Content-Type": "text/csv"}
    resp = edge.post("/api/v1/purchase-orders/import", content=SAMPLE.read_bytes(), headers=headers)
    data = assert_response(resp, 200)
    assert data["counts"]["created"] == 2 and data["counts"]["refused"] == 7
    again = edge.post(
        "/api/v1/purchase-orders/import", content=SAMPLE.read_bytes(), headers=headers
    )
    assert again.json() == resp.json()
    resp = edge.post("/api/v1/purchase-orders/import", json={"x": 1}, headers=oms.with_key())
    assert_response(resp, 415, code="IMPORT_INVALID")
    picker = as_role("picker")
    resp = edge.post(
        "/api/v1/purchase-orders/import",
        content=SAMPLE.read_bytes(),
        headers={**picker.with_key(), "Content-Type": "text/csv"},
    )
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
