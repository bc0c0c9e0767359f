"""Importing the item master from CSV: the messy migration file gives exactly the expected
report, valid rows land normalised, nothing is half-written, re-imports change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from biip.checksums import gs1_standard_check_digit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_server import cli
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.wms import item_import, items
from edge_server.wms.item_import import import_items, read_items_csv

from conftest import assert_response
from factories import make_client

MESSY = Path(__file__).parent / "data" / "items-messy.csv"
HEADER = (
    "sku,description,gtin,uom,case_qty,weight_kg,length_cm,width_cm,height_cm,"
    "lot_tracked,expiry_tracked,velocity,size,colour"
)

# What the messy file must give, worked out by reading it line by line (header = line 1).
# line: (sku, severity, {(field, code), ...})
EXPECTED_PROBLEMS: dict[int, tuple[str, str, set[tuple[str, str]]]] = {
    15: ("APP-0014-L-WHI", "warning", {("weight_kg", "WEIGHT_MISSING")}),  # empty weight
    17: ("APP-0016-L-HEA", "warning", {("uom", "UOM_NORMALISED")}),  # "each"
    18: ("APP-0017-XL-BLA", "refused", {("velocity", "VELOCITY_UNKNOWN")}),  # "X"
    22: ("APP-0021-S-BLA", "refused", {("gtin", "GTIN_LENGTH")}),  # "12345"
    23: (  # "HOODIE ZIP, OLIVE, SIZE S  "
        "APP-0022-S-OLI",
        "warning",
        {("description", "WHITESPACE"), ("description", "DESCRIPTION_ALL_CAPS")},
    ),
    24: ("APP-0023-M-BLA", "refused", {("weight_kg", "VALUE_NOT_POSITIVE")}),  # -2
    27: ("APP-0026-L-OLI", "warning", {("weight_kg", "DECIMAL_COMMA")}),  # "1,25"
    31: ("APP-0030-28-BLA", "warning", {("length_cm", "DIMENSION_MISSING")}),  # empty length
    35: ("APP-0034-32-BLA", "refused", {("gtin", "GTIN_CHECK_DIGIT")}),  # ...341, should be 0
    38: ("APP-0037-36-IND", "warning", {("uom", "UOM_NORMALISED")}),  # "Ea."
    40: ("AUT-0039", "warning", {("weight_kg", "WEIGHT_MISSING")}),  # empty weight
    41: ("AUT-0040", "refused", {("gtin", "GTIN_DUPLICATE")}),  # same GTIN as line 50
    49: ("APP-0011-M-NAV", "warning", {("sku", "DUPLICATE_ROW")}),  # repeats line 12 exactly
    50: ("AUT-0040-B", "refused", {("gtin", "GTIN_DUPLICATE")}),  # same GTIN as line 41
}
REFUSED_SKUS = {sku for sku, severity, _ in EXPECTED_PROBLEMS.values() if severity == "refused"}


def messy_skus() -> list[str]:
    return [line.split(",")[0] for line in MESSY.read_text().splitlines()[1:]]


def snapshot(db: Database) -> tuple[Any, ...]:
    return (
        db.query("SELECT * FROM items ORDER BY id"),
        db.query("SELECT rowid, * FROM item_gtins ORDER BY rowid"),
        db.query("SELECT * FROM outbox ORDER BY id"),
    )


def gtin(n: int, indicator: str = "0") -> str:
    body = f"{indicator}0614{n:08d}"
    return body + str(gs1_standard_check_digit(body))


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def row(sku: str, n: int, **cells: str) -> str:
    values = {
        "sku": sku,
        "description": f"Item {sku}",
        "gtin": gtin(n),
        "uom": "EA",
        "case_qty": "1",
        "weight_kg": "0.5",
        "length_cm": "10",
        "width_cm": "10",
        "height_cm": "10",
        "lot_tracked": "N",
        "expiry_tracked": "N",
        "velocity": "C",
        "size": "",
        "colour": "",
    }
    values.update(cells)
    return ",".join(values[c] for c in HEADER.split(","))


def problems(report: item_import.ImportReport) -> dict[int, tuple[str, str, set[tuple[str, str]]]]:
    found: dict[int, tuple[str, str, set[tuple[str, str]]]] = {}
    for p in report.problems:
        sku, severity, codes = found.setdefault(p.line, (p.sku, p.severity, set()))
        assert (sku, severity) == (p.sku, p.severity), f"line {p.line} mixes rows or severities"
        codes.add((p.field, p.code))
    return found


# -- the messy migration file -----------------------------------------------------------------
def test_messy_file_gives_exactly_the_expected_report(fresh_db):
    report = import_items(fresh_db, MESSY.read_bytes(), source="items-messy.csv")
    assert problems(report) == EXPECTED_PROBLEMS
    assert report.refused_lines() == {
        18: ["VELOCITY_UNKNOWN"],
        22: ["GTIN_LENGTH"],
        24: ["VALUE_NOT_POSITIVE"],
        35: ["GTIN_CHECK_DIGIT"],
        41: ["GTIN_DUPLICATE"],
        50: ["GTIN_DUPLICATE"],
    }
    assert report.counts.model_dump() == {
        "rows": 49,
        "imported": 42,
        "created": 42,
        "updated": 0,
        "unchanged": 0,
        "refused": 6,
        "skipped": 1,
        "warnings": 9,
    }
    assert not report.ok
    assert (report.delimiter, report.encoding, report.dry_run) == (",", "utf-8", False)


def test_exactly_the_valid_rows_are_stored_with_normalised_values(fresh_db):
    import_items(fresh_db, MESSY.read_bytes())
    stored = {r["sku"] for r in fresh_db.query("SELECT sku FROM items")}
    assert stored == set(messy_skus()) - REFUSED_SKUS
    assert len(stored) == 42

    def item(sku: str) -> items.StoredItem:
        found = items.get_item(fresh_db, sku)
        assert found is not None, sku
        return found

    first = item("APP-0001-XS-BLA")
    assert (first.description, first.gtin, first.uom, first.case_qty) == (
        "T-Shirt Crew, Black, size XS",
        "00614141000012",
        "EA",
        12,
    )
    assert (first.weight_kg, first.length_cm, first.width_cm, first.height_cm) == (
        0.18,
        30,
        25,
        2,
    )
    assert (first.velocity, first.size, first.colour, first.lot_tracked) == (
        "A",
        "XS",
        "Black",
        False,
    )
    assert item("APP-0014-L-WHI").weight_kg is None
    assert item("APP-0016-L-HEA").uom == "EA"
    assert item("APP-0037-36-IND").uom == "EA"
    assert item("APP-0022-S-OLI").description == "HOODIE ZIP, OLIVE, SIZE S"
    assert item("APP-0026-L-OLI").weight_kg == 1.25
    assert item("APP-0030-28-BLA").length_cm is None
    assert item("APP-0035-34-IND").lot_tracked is True  # "yes"
    vitamins = item("HLT-0044")
    assert (vitamins.lot_tracked, vitamins.expiry_tracked) == (True, True)  # "Y", "Y"
    assert (item("AUT-0039").size, item("AUT-0039").colour) == ("", "")
    assert item("AUT-0042").weight_kg == 86.0
    # the repeated row is one item with one GTIN row
    navy = fresh_db.query(
        "SELECT g.gtin FROM item_gtins g JOIN items i ON i.id = g.item_id "
        "WHERE i.sku = 'APP-0011-M-NAV'"
    )
    assert navy == [{"gtin": "00614141000111"}]
    # neither claimant of the shared GTIN got it
    assert items.gtin_owners(fresh_db, ["00614141000401"]) == {}
    assert fresh_db.query_one("SELECT count(*) AS n FROM item_gtins")["n"] == 42


def test_reimporting_the_same_file_changes_nothing(fresh_db):
    first = import_items(fresh_db, MESSY.read_bytes())
    before = snapshot(fresh_db)
    again = import_items(fresh_db, MESSY.read_bytes())
    assert snapshot(fresh_db) == before  # no row, no timestamp, no event changed
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 42)
    assert again.problems == first.problems


def test_dry_run_reports_the_same_and_writes_nothing(fresh_db):
    before = snapshot(fresh_db)
    dry = import_items(fresh_db, MESSY.read_bytes(), dry_run=True)
    assert snapshot(fresh_db) == before
    assert dry.dry_run and dry.counts.created == 42
    real = import_items(fresh_db, MESSY.read_bytes())
    assert real.counts == dry.counts and real.problems == dry.problems


def test_an_import_emits_one_event_naming_the_changed_skus(fresh_db):
    import_items(fresh_db, MESSY.read_bytes())
    events = fresh_db.query("SELECT type, payload_json FROM outbox")
    assert [e["type"] for e in events] == ["item.imported"]
    payload = json.loads(events[0]["payload_json"])
    assert (payload["created"], payload["updated"], len(payload["skus"])) == (42, 0, 42)


def test_a_failure_while_writing_rolls_back_every_row(fresh_db, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    # emit runs after every item row is written, inside the same transaction
    monkeypatch.setattr(item_import, "emit", broken)
    before = snapshot(fresh_db)
    with pytest.raises(RuntimeError):
        import_items(fresh_db, MESSY.read_bytes())
    assert snapshot(fresh_db) == before


# -- files that cannot be read at all ---------------------------------------------------------
@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"PK\x03\x04\x14\x00\x00\x00binary xlsx", "binary"),
        (b"\xff\xfe" + "sku,description\n".encode("utf-16-le"), "lacks required columns"),
        (b"sku,description,gtin\nA,B,C\n", "lacks required columns"),
        (csv_bytes(header=HEADER + ",SKU"), "twice"),
        (b'{"items": []}', "lacks required columns"),
    ],
)
def test_an_unreadable_file_is_refused_and_changes_nothing(fresh_db, data, fragment):
    import_items(fresh_db, MESSY.read_bytes())
    before = snapshot(fresh_db)
    with pytest.raises(AislewayError) as caught:
        import_items(fresh_db, data)
    assert caught.value.code.value == "IMPORT_INVALID"
    assert fragment in caught.value.text
    assert snapshot(fresh_db) == before


def test_a_file_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(item_import, "MAX_IMPORT_BYTES", 1000)
    with pytest.raises(AislewayError) as caught:
        read_items_csv(MESSY.read_bytes())
    assert caught.value.code.value == "IMPORT_INVALID" and "split it" in caught.value.text


def test_missing_columns_are_named(fresh_db):
    header = HEADER.replace(",velocity", "").replace(",colour", "")
    with pytest.raises(AislewayError) as caught:
        read_items_csv(csv_bytes(header=header))
    assert caught.value.details["missing_columns"] == ["velocity", "colour"]


def test_a_missing_file_is_refused():
    with pytest.raises(AislewayError) as caught:
        item_import.read_items_csv_file("/no/such/items.csv")
    assert caught.value.code.value == "IMPORT_INVALID"


# -- formats and spellings --------------------------------------------------------------------
def test_semicolon_file_with_bom_odd_headers_and_decimal_commas(fresh_db):
    make_client(fresh_db, "ACME")
    header = (
        "\ufeff SKU ;Description;GTIN;UoM;Case Qty;Weight_KG;Length-cm;Width cm;Height_cm;"
        "Lot Tracked;Expiry Tracked;Velocity;Size;Color;Owner;Notes"
    )
    lines = [
        header,
        f"A-1;Widget;{gtin(1)};pcs;6;0,5;10,25;8;3;x;;a;;;ACME;whatever",
        f"A-2;Gadget;{gtin(2)};EA;1;1.250;1;1;1;N;N;B;;;ACME;",
        f"A-3;Gizmo;{gtin(3)};EA;1;0.75;1;1;1;N;N;B;;;;",
    ]
    report = import_items(fresh_db, ("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    assert report.delimiter == ";"
    assert problems(report) == {
        1: ("", "warning", {("Notes", "COLUMN_IGNORED")}),
        2: ("A-1", "warning", {("uom", "UOM_NORMALISED")}),  # "0,5" is this file's convention
        3: ("A-2", "refused", {("weight_kg", "NUMBER_AMBIGUOUS")}),  # 1.250: 1.25 or 1250?
    }
    widget = items.get_item(fresh_db, "A-1")
    assert widget is not None
    assert (widget.weight_kg, widget.length_cm, widget.lot_tracked, widget.velocity) == (
        0.5,
        10.25,
        True,
        "A",
    )
    assert widget.owner == "ACME"
    gizmo = items.get_item(fresh_db, "A-3")
    assert gizmo is not None and gizmo.weight_kg == 0.75 and gizmo.owner == ""


def test_windows_1252_file_is_read_with_a_warning(fresh_db):
    data = csv_bytes(row("C-1", 1, description="Crème brûlée torch")).decode().encode("cp1252")
    report = import_items(fresh_db, data)
    assert report.encoding == "cp1252"
    assert problems(report) == {0: ("", "warning", {("", "ENCODING_CP1252")})}
    stored = items.get_item(fresh_db, "C-1")
    assert stored is not None and stored.description == "Crème brûlée torch"


@pytest.mark.parametrize(
    "spelling, expected",
    [
        *[(s, True) for s in ("Y", "yes", "TRUE", "1", "x", "X")],
        *[(s, False) for s in ("N", "no", "false", "0", "")],
    ],
)
def test_boolean_spellings(fresh_db, spelling, expected):
    report = import_items(fresh_db, csv_bytes(row("B-1", 1, lot_tracked=spelling)))
    assert report.problems == []
    stored = items.get_item(fresh_db, "B-1")
    assert stored is not None and stored.lot_tracked is expected


@pytest.mark.parametrize(
    "spelling, code", [("each", "EA"), ("PCS", "EA"), ("Pair", "PR"), ("pk", "PK"), ("box", "BX")]
)
def test_unit_spellings_are_normalised_with_a_warning(fresh_db, spelling, code):
    report = import_items(fresh_db, csv_bytes(row("U-1", 1, uom=spelling)))
    assert problems(report) == {2: ("U-1", "warning", {("uom", "UOM_NORMALISED")})}
    stored = items.get_item(fresh_db, "U-1")
    assert stored is not None and stored.uom == code


def test_refusals_and_defaults_per_cell(fresh_db):
    report = import_items(
        fresh_db,
        csv_bytes(
            row("R-1", 1, uom="case"),
            row("R-2", 2, lot_tracked="maybe"),
            row("R-3", 3, case_qty="0"),
            row("R-4", 4, case_qty="", velocity="", uom="", gtin=""),
            row("R-5", 5, weight_kg="0.5kg"),
            row("R-6", 6, expiry_tracked="Y"),
            row("", 7),
            row("R-8", 8, description="   "),
        ),
    )
    assert problems(report) == {
        2: ("R-1", "refused", {("uom", "UOM_UNKNOWN")}),
        3: ("R-2", "refused", {("lot_tracked", "BOOLEAN_INVALID")}),
        4: ("R-3", "refused", {("case_qty", "VALUE_NOT_POSITIVE")}),
        5: (
            "R-4",
            "warning",
            {
                ("case_qty", "CASE_QTY_DEFAULTED"),
                ("velocity", "VELOCITY_DEFAULTED"),
                ("uom", "UOM_DEFAULTED"),
                ("gtin", "GTIN_MISSING"),
            },
        ),
        6: ("R-5", "refused", {("weight_kg", "NUMBER_INVALID")}),
        7: ("R-6", "warning", {("lot_tracked", "LOT_TRACKING_IMPLIED")}),
        8: ("", "refused", {("sku", "SKU_MISSING")}),
        9: ("R-8", "refused", {("description", "DESCRIPTION_MISSING")}),
    }
    defaulted = items.get_item(fresh_db, "R-4")
    assert defaulted is not None
    assert (defaulted.case_qty, defaulted.velocity, defaulted.uom, defaulted.gtin) == (
        1,
        "C",
        "EA",
        None,
    )


def test_rows_of_the_wrong_width_are_refused(fresh_db):
    shifted = row("W-3", 3, weight_kg="1,5")  # an unquoted decimal comma: one cell too many
    report = import_items(
        fresh_db,
        csv_bytes(
            row("W-1", 1) + ",extra",
            row("W-2", 2) + ",",
            ",".join(row("W-4", 4).split(",")[:-2]),
            shifted,
            row("W-5", 5),
        ),
    )
    assert problems(report) == {
        line: (sku, "refused", {("", "ROW_SHAPE")})
        for line, sku in ((2, "W-1"), (3, "W-2"), (4, "W-4"), (5, "W-3"))
    }
    assert [i.sku for i in items.list_items(fresh_db).items] == ["W-5"]


def test_line_numbers_are_physical_lines(fresh_db):
    data = csv_bytes(
        row("L-1", 1, description='"Two\nline description"'),
        "",
        row("L-2", 2, velocity="Q"),
    )
    report = import_items(fresh_db, data)
    # header 1, L-1 on lines 2-3, a blank line 4, L-2 on line 5
    assert report.refused_lines() == {5: ["VELOCITY_UNKNOWN"]}
    stored = items.get_item(fresh_db, "L-1")
    assert stored is not None and stored.description == "Two line description"


def test_a_sku_repeated_with_different_data_refuses_every_occurrence(fresh_db):
    report = import_items(
        fresh_db,
        csv_bytes(row("D-1", 1), row("D-2", 2), row("D-1", 1, weight_kg="0.6"), row("D-1", 1)),
    )
    assert problems(report) == {
        line: ("D-1", "refused", {("sku", "DUPLICATE_SKU")}) for line in (2, 4, 5)
    }
    assert items.get_item(fresh_db, "D-1") is None
    assert items.get_item(fresh_db, "D-2") is not None


def test_a_gtin_of_a_stored_item_is_refused_unless_the_file_moves_it(fresh_db):
    import_items(fresh_db, csv_bytes(row("OLD", 1)))
    report = import_items(fresh_db, csv_bytes(row("NEW", 1, description="New")))
    assert problems(report) == {2: ("NEW", "refused", {("gtin", "GTIN_TAKEN")})}
    # the same file also giving OLD another GTIN frees it
    report = import_items(fresh_db, csv_bytes(row("NEW", 1), row("OLD", 2)))
    assert report.ok and (report.counts.created, report.counts.updated) == (1, 1)
    moved = items.find_by_gtin(fresh_db, gtin(1))
    assert moved is not None and moved.item.sku == "NEW"


def test_absent_optional_columns_keep_stored_values(fresh_db):
    make_client(fresh_db, "ACME")
    header = HEADER + ",owner,serial_tracked,case_gtin,attr_material,attr_season"
    first = row("O-1", 1) + f",ACME,Y,{gtin(1, '1')},cotton,SS24"
    assert import_items(fresh_db, csv_bytes(first, header=header)).ok
    # a file without those columns (and a blank attribute) leaves them as they were
    header2 = HEADER + ",attr_season"
    report = import_items(
        fresh_db, csv_bytes(row("O-1", 1, description="Renamed") + ",", header=header2)
    )
    assert report.counts.updated == 1
    stored = items.get_item(fresh_db, "O-1")
    assert stored is not None
    assert (stored.description, stored.owner, stored.serial_tracked) == ("Renamed", "ACME", True)
    assert stored.case_gtin == gtin(1, "1")
    assert stored.attributes == {"material": "cotton"}


def test_a_case_gtin_found_in_the_file_is_a_case_of_case_qty(fresh_db):
    header = HEADER + ",case_gtin"
    report = import_items(
        fresh_db, csv_bytes(row("K-1", 1, case_qty="24") + f",{gtin(1, '1')}", header=header)
    )
    assert report.ok
    case = items.find_by_gtin(fresh_db, gtin(1, "1"))
    assert case is not None and (case.item.sku, case.uom, case.qty) == ("K-1", "CS", 24)


# -- a big file -------------------------------------------------------------------------------
def test_twenty_thousand_rows_import_correctly_with_progress(fresh_db):
    n = 20_000
    lines = []
    for i in range(n):
        if i % 1000 == 7:
            lines.append(
                row(f"BIG-{i:05d}", i, gtin=gtin(i)[:-1] + str((int(gtin(i)[-1]) + 1) % 10))
            )
        else:
            lines.append(row(f"BIG-{i:05d}", i, weight_kg='"1,5"' if i % 500 == 0 else "0.5"))
    data = csv_bytes(*lines)
    calls: list[tuple[int, int]] = []
    parsed = read_items_csv(data, progress=lambda done, total: calls.append((done, total)))
    report = import_items(fresh_db, parsed)
    assert report.counts.rows == n
    assert report.counts.refused == n // 1000
    assert report.counts.created == n - n // 1000
    assert report.counts.warnings == n // 500
    assert report.refused_lines() == {i + 2: ["GTIN_CHECK_DIGIT"] for i in range(7, n, 1000)}
    assert fresh_db.query_one("SELECT count(*) AS n FROM items")["n"] == n - n // 1000
    assert fresh_db.query_one("SELECT count(*) AS n FROM item_gtins")["n"] == n - n // 1000
    assert items.get_item(fresh_db, "BIG-00500") is not None
    assert items.get_item(fresh_db, "BIG-00500").weight_kg == 1.5  # type: ignore[union-attr]
    assert calls[-1] == (calls[-1][1], calls[-1][1])
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) > 5
    again = import_items(fresh_db, data)
    assert (again.counts.created, again.counts.updated) == (0, 0)


# -- the report -------------------------------------------------------------------------------
def test_report_round_trips_as_json_and_prints_as_a_table(fresh_db):
    report = import_items(fresh_db, MESSY.read_bytes(), source="items-messy.csv")
    assert item_import.ImportReport.model_validate_json(report.to_json()) == report
    table = report.table()
    assert "rows 49: imported 42 (created 42" in table
    assert "refused 6" in table
    line = next(t for t in table.splitlines() if t.strip().startswith("35 "))
    assert "APP-0034-32-BLA" in line and "REFUSED" in line and "GTIN_CHECK_DIGIT" in line


# -- never crashes ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory):
    db = Database(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    db.migrate()
    yield db
    db.close()


cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "Y", "x", "1,25", "1,250", "-2", "0", "EA", "each", "A", "X"]),
    st.integers(0, 10**16).map(str),
    st.sampled_from([gtin(1), gtin(2), "12345", "0614141000013", '"', "\r", ";"]),
)
csv_like = st.lists(st.lists(cells, min_size=0, max_size=16), max_size=8).map(
    lambda rows: HEADER + "\n" + "\n".join(",".join(r) for r in rows)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(st.text(), csv_like), encode_as=st.sampled_from(["utf-8", "utf-16", "cp1252"])
)
def test_the_reader_never_crashes(fuzz_db, text, encode_as):
    try:
        data = text.encode(encode_as)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    try:
        parsed = read_items_csv(data)
    except AislewayError as exc:
        assert exc.code.value == "IMPORT_INVALID"
        return
    report = import_items(fuzz_db, parsed, dry_run=True)
    assert report.counts.rows == len(parsed.rows)
    assert report.counts.imported + report.counts.refused + report.counts.skipped == len(
        parsed.rows
    )
    json.loads(report.to_json())


# -- CLI --------------------------------------------------------------------------------------
def run_cli(*args: str) -> int:
    return cli.main(["edge", "import-items", *args])


def test_cli_exit_codes_and_json_report(tmp_path, capsys):
    db_path = tmp_path / "site.db"
    out = tmp_path / "report.json"
    assert run_cli(str(MESSY), "--db", str(db_path), "--report-json", str(out)) == 1
    printed = capsys.readouterr().out
    assert "refused 6" in printed and "GTIN_CHECK_DIGIT" in printed
    saved = json.loads(out.read_text())
    assert saved["counts"]["imported"] == 42 and saved["counts"]["refused"] == 6

    clean = tmp_path / "clean.csv"
    clean.write_bytes(csv_bytes(row("CLI-1", 1)))
    assert run_cli(str(clean), "--db", str(db_path)) == 0
    with Database(db_path) as db:
        assert items.get_item(db, "CLI-1") is not None


def test_cli_dry_run_writes_nothing(tmp_path, capsys):
    db_path = tmp_path / "site.db"
    assert run_cli(str(MESSY), "--db", str(db_path), "--dry-run") == 1
    assert "dry run, nothing was written" in capsys.readouterr().out
    with Database(db_path) as db:
        assert db.query_one("SELECT count(*) AS n FROM items")["n"] == 0


def test_cli_unreadable_file_exits_2_and_touches_nothing(tmp_path, capsys):
    db_path = tmp_path / "site.db"
    assert run_cli(str(tmp_path / "missing.csv"), "--db", str(db_path)) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,description\nA,B\n")
    assert run_cli(str(bad), "--db", str(db_path)) == 2
    err = capsys.readouterr().err
    assert "cannot be read" in err and "lacks required columns" in err and "velocity" in err
    assert not db_path.exists()  # not even created


def test_cli_progress_bar_goes_to_stderr_when_asked(tmp_path, capsys):
    assert run_cli(str(MESSY), "--db", str(tmp_path / "s.db"), "--progress") == 1
    captured = capsys.readouterr()
    assert "checking rows" in captured.err and "checking rows" not in captured.out
    assert run_cli(str(MESSY), "--db", str(tmp_path / "s.db"), "--no-progress") == 1
    assert "checking rows" not in capsys.readouterr().err


# -- API --------------------------------------------------------------------------------------
def post_csv(edge: Any, data: bytes, headers: dict[str, str], query: str = "") -> Any:
    return edge.post(
        f"/api/v1/items/import{query}",
        content=data,
        headers={**headers, "Content-Type": "text/csv"},
    )


def test_import_over_http_is_idempotent_and_reports(edge, services, as_role):
    sup = as_role("supervisor")
    headers = sup.with_key()
    report = assert_response(post_csv(edge, MESSY.read_bytes(), headers), 200)
    assert report["counts"]["created"] == 42 and report["counts"]["refused"] == 6
    assert report["sha256"] and report["source"] == "upload"
    before = snapshot(services.db)
    replay = post_csv(edge, MESSY.read_bytes(), headers)
    assert replay.status_code == 200 and replay.json()["data"] == report
    assert snapshot(services.db) == before
    # the same key with another file is refused
    other = post_csv(edge, csv_bytes(row("X-1", 1)), headers)
    assert_response(other, 422, code="IDEMPOTENCY_KEY_REUSED")
    # a new key: the file again changes nothing
    again = assert_response(post_csv(edge, MESSY.read_bytes(), sup.with_key()), 200)
    assert again["counts"]["unchanged"] == 42
    found = assert_response(edge.get("/api/v1/items?q=hoodie", headers=sup.headers), 200)
    assert len(found["items"]) == 6  # 8 hoodies, two of them refused


def test_import_over_http_dry_run_and_refusals(edge, services, as_role):
    integration = as_role("integration")
    before = snapshot(services.db)
    dry = assert_response(
        post_csv(edge, MESSY.read_bytes(), integration.with_key(), "?dry_run=true"), 200
    )
    assert dry["dry_run"] is True and dry["counts"]["created"] == 42
    bad = post_csv(edge, b"sku,description\nA,B\n", integration.with_key())
    assert_response(bad, 422, code="IMPORT_INVALID")
    assert bad.json()["message"]["details"]["missing_columns"][0] == "gtin"
    multipart = edge.post(
        "/api/v1/items/import",
        files={"file": ("items.csv", MESSY.read_bytes(), "text/csv")},
        headers=integration.with_key(),
    )
    assert_response(multipart, 415, code="IMPORT_INVALID")
    # idempotency rows aside, nothing changed
    assert snapshot(services.db) == before


def test_a_row_naming_an_owner_that_is_no_client_is_refused_alone(fresh_db):
    make_client(fresh_db, "ACME")
    header = HEADER + ",owner"
    report = import_items(
        fresh_db, csv_bytes(row("K-1", 1) + ",ACME", row("K-2", 2) + ",NOBODY", header=header)
    )
    assert (report.counts.created, report.counts.refused) == (1, 1)
    problem = next(p for p in report.problems if p.sku == "K-2")
    assert (problem.field, problem.code, problem.severity) == ("owner", "OWNER_UNKNOWN", "refused")
    assert items.get_item(fresh_db, "K-2") is None
    stored = items.get_item(fresh_db, "K-1")
    assert stored is not None and stored.owner == "ACME"
