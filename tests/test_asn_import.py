"""Importing ASNs from CSV: the messy sample gives exactly the expected report, an ASN with a
bad row is refused whole, dry runs write nothing, re-imports change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_inbound_api import load_site, snapshot, sscc

from edge_server import cli
from edge_server.errors import AislewayError
from edge_server.services import Services
from edge_server.wms import asns, purchase_orders
from edge_server.wms.asn_import import import_asns, read_asns_csv
from protocols.inbound import AsnIn, PoLineIn

from conftest import assert_response

SAMPLE = Path(__file__).parent / "data" / "asns-sample.csv"
IMPORT = "/api/v1/asns/import"

# line: {(field, code)}; worked out by reading the sample (header = line 1, line 16 blank).
EXPECTED: dict[int, set[tuple[str, str]]] = {
    7: {("", "ASN_REFUSED")},  # ASN-5003's good line
    8: {("sku", "UNKNOWN_SKU")},  # NOPE-99
    9: {("qty", "QTY_INVALID")},  # 0
    10: {("expiry", "DATE_INVALID")},  # 31/04/2027
    11: {("sscc", "SSCC_CHECK_DIGIT")},
    12: {("line_no", "LINE_NO_DUPLICATE")},
    13: {("line_no", "LINE_NO_DUPLICATE")},
    14: {("supplier", "SUPPLIER_MIXED")},
    15: {("supplier", "SUPPLIER_MIXED")},
    17: {("po_number", "PO_NUMBER_MIXED")},
    18: {("po_number", "PO_NUMBER_MIXED")},
    19: {("sscc", "SSCC_ON_OTHER_ASN")},  # on the stored ASN-OLD
    20: {("", "ASN_REFUSED")},  # ASN-5010's good line
    21: {("po_line_no", "PO_LINE_ITEM_MISMATCH")},  # PO-3001 line 2 is MUG-01
    22: {("sscc", "SSCC_ON_OTHER_ASN")},  # ASN-5012 and ASN-5013 share a pallet
    23: {("sscc", "SSCC_ON_OTHER_ASN")},
}


def load_inbound(services: Services) -> None:
    """The site, PO-3001 (TEE-M in cases, MUG-01), PO-3002 and ASN-OLD holding SSCC 900."""
    load_site(services)
    header = purchase_orders.PoHeader(supplier="Acme Textiles")
    with services.db.write() as w:
        purchase_orders.put_po(
            w,
            "CHI",
            "PO-3001",
            header,
            [
                PoLineIn(line_no=1, sku="TEE-M", qty=5, uom="CS"),
                PoLineIn(line_no=2, sku="MUG-01", qty=60),
            ],
        )
        purchase_orders.put_po(
            w, "CHI", "PO-3002", header, [PoLineIn(line_no=1, sku="MUG-01", qty=4)]
        )
        old = {"supplier": "Bolt Supplies", "lines": [{"line_no": 1, "sku": "MUG-01", "qty": 8}]}
        old["lines"][0]["sscc"] = sscc(900)  # type: ignore[index]
        asns.put_asn(w, "CHI", "ASN-OLD", AsnIn.model_validate(old))


def problems(report: Any) -> dict[int, set[tuple[str, str]]]:
    found: dict[int, set[tuple[str, str]]] = {}
    for p in report.problems:
        assert p.severity == "refused"
        found.setdefault(p.line, set()).add((p.field, p.code))
    return found


def stored_asns(services: Services) -> list[dict[str, Any]]:
    return services.db.query(
        "SELECT a.number, p.number AS po, a.supplier, a.expected_at FROM asns a "
        "LEFT JOIN purchase_orders p ON p.id = a.po_id ORDER BY a.number"
    )


def test_messy_sample_report_and_what_lands(services: Services):
    load_inbound(services)
    report = import_asns(services.db, SAMPLE.read_bytes(), "CHI", source="asns-sample.csv")
    assert problems(report) == EXPECTED
    c = report.counts
    assert (c.rows, c.asns, c.created, c.updated, c.unchanged, c.refused, c.refused_rows) == (
        21,
        13,
        2,
        0,
        0,
        11,
        16,
    )
    assert not report.ok
    assert stored_asns(services) == [
        {"number": "ASN-5001", "po": "PO-3001", "supplier": "Acme Textiles",
         "expected_at": "2025-04-02T00:00:00"},
        {"number": "ASN-5002", "po": None, "supplier": "Cotton & Co, Ltd",
         "expected_at": "2025-04-03T07:30:00+00:00"},
        {"number": "ASN-OLD", "po": None, "supplier": "Bolt Supplies", "expected_at": None},
    ]  # fmt: skip
    lines = services.db.query(
        "SELECT a.number, al.line_no, i.sku, al.qty, al.lot, al.expiry, al.sscc, "
        "pl.line_no AS po_line_no FROM asn_lines al JOIN asns a ON a.id = al.asn_id "
        "JOIN items i ON i.id = al.item_id LEFT JOIN po_lines pl ON pl.id = al.po_line_id "
        "WHERE a.number != 'ASN-OLD' ORDER BY a.number, al.line_no"
    )
    assert [tuple(r.values()) for r in lines] == [
        ("ASN-5001", 1, "TEE-M", 36, "L1", "2027-01-31", sscc(1), 1),
        ("ASN-5001", 2, "TEE-M", 24, "L2", "2027-02-28", sscc(1), 1),
        ("ASN-5001", 3, "MUG-01", 40, "", None, sscc(2), 2),
        ("ASN-5002", 1, "CAP-01", 12, "", None, sscc(3), None),
        ("ASN-5002", 2, "CAP-01", 6, "", None, None, None),
    ]
    table = report.table()
    assert "ASN-5003" in table and "UNKNOWN_SKU" in table and "applied" in table
    changed = services.db.query(
        "SELECT json_extract(payload_json, '$.number') AS number, "
        "json_extract(payload_json, '$.outcome') AS outcome FROM outbox "
        "WHERE type = 'asn.changed' ORDER BY id"
    )
    assert [tuple(e.values()) for e in changed] == [
        ("ASN-OLD", "created"),
        ("ASN-5001", "created"),
        ("ASN-5002", "created"),
    ]

    # Again: the same report, nothing written.
    before = snapshot(services)
    again = import_asns(services.db, SAMPLE.read_bytes(), "CHI")
    assert (again.counts.unchanged, again.counts.created, again.counts.updated) == (2, 0, 0)
    assert problems(again) == EXPECTED
    assert snapshot(services) == before


def test_dry_run_writes_nothing_and_says_the_same(services: Services):
    load_inbound(services)
    before = snapshot(services)
    dry = import_asns(services.db, SAMPLE.read_bytes(), "CHI", dry_run=True)
    assert snapshot(services) == before
    assert dry.dry_run and dry.counts.created == 2 and problems(dry) == EXPECTED
    assert "dry run" in dry.table()


def test_a_received_line_in_the_file_refuses_its_asn(services: Services):
    load_inbound(services)
    import_asns(services.db, SAMPLE.read_bytes(), "CHI")
    with services.db.write() as w:
        w.execute(
            "UPDATE asn_lines SET received_at = '2025-04-02T09:00:00+00:00' WHERE line_no = 3 "
            "AND asn_id = (SELECT id FROM asns WHERE number = 'ASN-5001')"
        )
    lowered = SAMPLE.read_text().replace(",3,MUG-01,40,", ",3,MUG-01,30,")
    before = snapshot(services)
    report = import_asns(services.db, lowered.encode(), "CHI")
    found = problems(report)
    assert found[4] == {("line_no", "ASN_LINE_RECEIVED")}
    assert found[2] == found[3] == {("", "ASN_REFUSED")}
    assert set(found) == set(EXPECTED) | {2, 3, 4}
    assert report.counts.unchanged == 1  # ASN-5002
    assert snapshot(services) == before


def test_po_line_without_po_and_missing_supplier(services: Services):
    load_inbound(services)
    text = (
        "ASN Number;Supplier;Line No;SKU;Qty;PO Line No;Colour\n"
        "ASN-6001;;1;MUG-01;5;;red\n"
        "ASN-6002;Bolt Supplies;1;MUG-01;5;2;blue\n"
    )
    report = import_asns(services.db, text.encode(), "CHI")
    assert report.delimiter == ";"
    assert [(p.line, p.code) for p in report.problems if p.severity == "warning"] == [
        (1, "COLUMN_IGNORED")
    ]
    assert report.refused_lines() == {2: ["SUPPLIER_MISSING"], 3: ["PO_NUMBER_MISSING"]}


def test_unreadable_files_change_nothing(services: Services):
    load_inbound(services)
    before = snapshot(services)
    with pytest.raises(AislewayError) as exc:
        read_asns_csv(b"asn_number,sku,qty\nASN-1,TEE-M,1\n")
    assert exc.value.code == "IMPORT_INVALID"
    assert exc.value.details["missing_columns"] == ["supplier", "line_no"]
    for data in (b"", b"\x00\x01\x02\xff" * 50, b"sku,qty\nTEE-M,1\n"):
        with pytest.raises(AislewayError) as exc:
            import_asns(services.db, data, "CHI")
        assert exc.value.code == "IMPORT_INVALID"
    assert snapshot(services) == before


def test_missing_site_refuses_the_file(services: Services):
    with pytest.raises(AislewayError) as exc:
        import_asns(services.db, SAMPLE.read_bytes(), "CHI")
    assert exc.value.code == "LAYOUT_NOT_LOADED"
    assert services.db.query("SELECT * FROM asns") == []


def test_cli_import_asns(services: Services, tmp_path: Path, capsys: Any):
    load_inbound(services)
    db = str(services.settings.db_path)
    before = snapshot(services)
    report_json = tmp_path / "report.json"
    args = ["edge", "import-asns", str(SAMPLE), "--db", db, "--dry-run"]
    assert cli.main([*args, "--report-json", str(report_json)]) == 1
    assert "dry run" in capsys.readouterr().out
    assert '"ASN_REFUSED"' in report_json.read_text()
    assert snapshot(services) == before
    good = tmp_path / "good.csv"
    good.write_text("\n".join(SAMPLE.read_text().splitlines()[:6]) + "\n")
    assert cli.main(["edge", "import-asns", str(good), "--db", db]) == 0
    assert "created 2" in capsys.readouterr().out
    assert cli.main(["edge", "import-asns", str(good), "--db", db]) == 0
    assert "unchanged 2" in capsys.readouterr().out
    after_good = snapshot(services)
    assert cli.main(["edge", "import-asns", str(tmp_path / "missing.csv"), "--db", db]) == 2
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    assert cli.main(["edge", "import-asns", str(binary), "--db", db]) == 2
    assert snapshot(services) == after_good


def test_http_import(edge, services: Services, as_role: Any):
    load_inbound(services)
    oms = as_role("integration")
    headers = {**oms.with_key(), "Content-Type": "text/csv"}
    before = snapshot(services)
    resp = edge.post(f"{IMPORT}?dry_run=true", content=SAMPLE.read_bytes(), headers=headers)
    data = assert_response(resp, 200)
    assert data["dry_run"] and data["counts"]["created"] == 2
    assert snapshot(services) == before
    headers = {**oms.with_key(), "Content-Type": "text/csv"}
    resp = edge.post(IMPORT, content=SAMPLE.read_bytes(), headers=headers)
    data = assert_response(resp, 200)
    assert data["counts"]["created"] == 2 and data["counts"]["refused"] == 11
    assert {p["line"] for p in data["problems"]} == set(EXPECTED)
    again = edge.post(IMPORT, content=SAMPLE.read_bytes(), headers=headers)
    assert again.json() == resp.json()
    resp = edge.post(IMPORT, json={"x": 1}, headers=oms.with_key())
    assert_response(resp, 415, code="IMPORT_INVALID")
    picker = as_role("picker")
    resp = edge.post(
        IMPORT,
        content=SAMPLE.read_bytes(),
        headers={**picker.with_key(), "Content-Type": "text/csv"},
    )
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
