"""Bad input for every parser: whatever comes in, only the parser's documented error comes out.

- barcodes (`parse_scan`, every `expect`): `BarcodeError` with a catalogue code;
- item / PO / ASN CSV imports (any bytes, any encoding, any columns): `AislewayError`
  (IMPORT_INVALID) for a file that cannot be read, else a report with row problems;
- layout files (`Layout.parse` on any JSON-ish value): `AislewayError(LAYOUT_INVALID)`;
- firmware profiles (`parse_profile` on any TOML-ish table): `ProfileError` naming keys;
- `X-Scanned-At` (`scan_time`): `AislewayError(VALIDATION_FAILED)`.

Examples are bounded so the whole file runs in well under a minute.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from edge_server.db import Database
from edge_server.deps import scan_time
from edge_server.errors import AislewayError
from edge_server.wms import asn_import, item_import, po_import
from edge_server.wms.layout import Layout
from edge_server.wms.layout_store import load_layout
from protocols import API_BASE_PATH, ErrorCode
from protocols.barcodes import GS, BarcodeError, ScanKind, parse_scan
from terminal.profiles.load import ProfileError, parse_profile
from terminal.scanners.config import ScannerConfigError

from conftest import assert_response, login_as

ROOT = Path(__file__).resolve().parents[1]
API = API_BASE_PATH
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
FEW = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))


def assert_clear(err: AislewayError, *codes: ErrorCode) -> None:
    assert err.code in codes, err
    assert err.text.strip(), err


# --- JSON-ish / TOML-ish values and "a valid document with one thing wrong" ------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-3, 120)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "A", "CHI", "pick_face", "10", "ambient", "\x1d", "\r", "é"])
)
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=12,
)
toml_values = st.recursive(
    scalars | st.dates() | st.times() | st.datetimes() | st.datetimes(timezones=st.timezones()),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], values: st.SearchStrategy[Any]) -> Any:
    """`base` with one to three nodes replaced, deleted or given an extra key."""
    doc: Any = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        if not path:
            if draw(st.booleans()):
                return draw(values)
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(values)
        else:
            parent[path[-1]] = draw(values)
    return doc


# --- barcodes with every `expect` -------------------------------------------------------------

LABEL_FRAGMENTS = [
    "A03-07-2L",
    "ZZ99-99-9R",
    "L:",
    "DOCK-01",
    "STAGE-A3",
    "LPN000012348",
    "LPN",
    "TOTE-0001",
    "TOTE-",
    "POS-3",
    "POS-",
    "BADGE-",
    "BADGE-ab_12",
    "RMA-",
    "RMA-1",
    "PO-",
    "PO-2001",
    "ASN-",
    "ASN-5001",
    "00",
    "340123450000000000",
    "00340123450000000000",
    "01",
    "09501101530003",
    "10",
    "17",
    "250100",
    "21",
    "37",
    "(00)",
    "(01)",
    GS,
    "|",
    "<GS>",
    "]C1",
    "]d2",
    "]Q3",
    "]E0",
    "]A0",
    "-",
    "0",
    " ",
    "/",
    ".",
    "ſ",
    "\u0663",
]
label_ish = st.lists(
    st.one_of(st.sampled_from(LABEL_FRAGMENTS), st.text(max_size=3)), max_size=8
).map("".join)
expects = st.none() | st.frozensets(st.sampled_from(list(ScanKind)))


@FUZZ
@given(label_ish, expects, st.sampled_from([None, "", "]C1", "d2", "E0", "A0", "xx"]))
@example("POS-0", frozenset({ScanKind.CART_POSITION}), None)
@example("TOTE-0000000", frozenset({ScanKind.TOTE}), None)
@example("L:" + GS, frozenset({ScanKind.BIN}), None)
def test_scans_with_any_expect_only_raise_barcode_error(
    text: str, expect: frozenset[ScanKind] | None, sym: str | None
) -> None:
    for sub in (None, "|", "<GS>"):
        try:
            scan = parse_scan(text, expect=expect, symbology=sym, gs_substitute=sub)
        except BarcodeError as err:
            assert isinstance(err.code, ErrorCode) and err.text
        else:
            assert expect is None or scan.kind in expect
            assert isinstance(scan.value, str)
            assert scan.hri == "".join(e.hri for e in scan.elements)


# --- CSV imports -----------------------------------------------------------------------------

CELL_VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "12",
    "1e309",
    "nan",
    "inf",
    "0.18",
    "1,25",
    "Y",
    "N",
    "yes",
    "true",
    "EA",
    "CS",
    "each",
    "A",
    "X",
    "APP-0001-XS-BLA",
    "MUG-01",
    "TEE-M",
    "PO-2001",
    "ASN-5001",
    "0614141000012",
    "12345",
    "00614141000012|0614141000029",
    "006141400000000013",
    "(00) 006141400000000037",
    "2025-04-01",
    "2025-02-30",
    "2025-04-03T07:30:00+00:00",
    "9999-12-31T23:59:59-23:59",
    "L1;L2",
    '"',
    '""',
    "=cmd|' /C calc'!A0",
    "\x00",
    "\r\n",
    "\ufeff",
    "é",
    "\U0001f600",
]
cells = st.sampled_from(CELL_VALUES) | st.text(max_size=10)


def csv_files(columns: tuple[str, ...]) -> st.SearchStrategy[bytes]:
    names = st.sampled_from([*columns, "attr_x", "attr_", "Colour", " SKU ", "", "x y"])

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        header = draw(
            st.one_of(
                st.permutations(list(columns)),
                st.lists(names, min_size=1, max_size=len(columns) + 2),
            )
        )
        width = len(header)
        rows = draw(
            st.lists(
                st.lists(cells, min_size=max(0, width - 2), max_size=width + 2),
                max_size=6,
            )
        )
        delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
        quote = draw(st.booleans())

        def line(cs: list[str]) -> str:
            if quote:
                return delimiter.join('"' + c.replace('"', '""') + '"' for c in cs)
            return delimiter.join(cs)

        newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        text = newline.join(line(r) for r in [list(header), *rows])
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
        return text.encode(encoding, errors="replace")

    return build()


@pytest.fixture(scope="module")
def import_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(tmp_path_factory.mktemp("fuzz") / "site.db")
    db.migrate()
    # A site with a layout, items and POs, so fuzzed rows reach the database checks too.
    load_layout(db, Layout.parse(GOOD_LAYOUT), site="CHI")
    items = (ROOT / "tests/data/items-messy.csv").read_bytes()
    items += b"TEE-M,Tee,0614141999996,EA,1,0.2,1,1,1,N,N,A,M,Red\n"
    assert item_import.import_items(db, items).counts.created
    po_import.import_pos(db, (ROOT / "tests/data/pos-sample.csv").read_bytes(), "CHI")
    yield db
    db.close()


def _import_or_clear_error(fn: Any, *args: Any, **kw: Any) -> None:
    try:
        report = fn(*args, **kw)
    except AislewayError as err:
        assert_clear(err, ErrorCode.IMPORT_INVALID, ErrorCode.LAYOUT_NOT_LOADED)
        event(f"refused: {err.code}")
    else:
        event("report")
        assert report.counts is not None
        json.loads(report.to_json())


@FUZZ
@given(st.binary(max_size=300) | csv_files(item_import.REQUIRED_COLUMNS))
@example(b"sku,description\n\xff\xfe")
@example("sku;description;gtin\n".encode("utf-16"))
def test_item_csv_any_bytes(import_db: Database, data: bytes) -> None:
    _import_or_clear_error(item_import.import_items, import_db, data, dry_run=True)


@FUZZ
@given(st.binary(max_size=300) | csv_files((*po_import.REQUIRED_COLUMNS, "due_date", "uom")))
def test_po_csv_any_bytes(import_db: Database, data: bytes) -> None:
    _import_or_clear_error(po_import.import_pos, import_db, data, "CHI", dry_run=True)


@FUZZ
@given(
    st.binary(max_size=300)
    | csv_files((*asn_import.REQUIRED_COLUMNS, "expected_at", "expiry", "sscc", "lot"))
)
def test_asn_csv_any_bytes(import_db: Database, data: bytes) -> None:
    _import_or_clear_error(asn_import.import_asns, import_db, data, "CHI", dry_run=True)


# --- layout files ----------------------------------------------------------------------------

GOOD_LAYOUT: dict[str, Any] = {
    "site": "CHI",
    "name": "fuzz",
    "depot": {"x": 0.0},
    "blocks": [
        {
            "id": "A",
            "x": 1.5,
            "y": 0.0,
            "aisles": 2,
            "aisle_pitch": 3.0,
            "length": 10.0,
            "bays": 3,
            "levels": 2,
            "reserve_from_level": 2,
        },
        {
            "id": "B",
            "x": 1.5,
            "y": 10.0,
            "aisles": 2,
            "aisle_pitch": 3.0,
            "length": 10.0,
            "bays": 2,
            "levels": 1,
        },
    ],
    "areas": [
        {
            "zone": "DOCK",
            "type": "receiving_dock",
            "bins": [{"code": "DOCK-01", "x": 0.0, "y": -2.0}],
        }
    ],
}


def _layout_or_clear_error(source: Any) -> None:
    try:
        layout = Layout.parse(source)
    except AislewayError as err:
        assert_clear(err, ErrorCode.LAYOUT_INVALID)
        problems = err.details["errors"]
        assert problems and all(p["field"] and p["reason"] for p in problems), problems
    else:
        assert layout.bins
        layout.summary()
        assert layout.graph is not None


def test_the_fuzzed_layout_base_is_valid() -> None:
    assert len(Layout.parse(GOOD_LAYOUT).bins) == 2 * 3 * 2 * 2 + 2 * 2 * 1 * 2 + 1


@FUZZ
@given(json_values | mutated(GOOD_LAYOUT, json_values))
def test_layout_any_json_value(doc: Any) -> None:
    _layout_or_clear_error(doc)


@FEW
@given(
    st.binary(max_size=200)
    | mutated(GOOD_LAYOUT, json_values).map(lambda d: json.dumps(d, allow_nan=True))
)
def test_layout_any_text(source: bytes | str) -> None:
    _layout_or_clear_error(source)


# --- firmware profiles -----------------------------------------------------------------------

PROFILE_FILES = sorted((ROOT / "firmware_configs").glob("*.toml"))
PROFILES = [tomllib.loads(p.read_text()) for p in PROFILE_FILES]


def _profile_or_clear_error(doc: Any) -> None:
    try:
        profile = parse_profile(doc, "fuzz.toml")
    except ProfileError as err:
        assert err.problems and all(p.reason for p in err.problems), err
        assert str(err)
    else:
        profile.summary()
        profile.aims()
        try:
            profile.driver_settings()
        except ScannerConfigError as err:  # depends on the devices attached to this machine
            assert str(err).startswith(profile.name + ": ")


@FUZZ
@given(
    st.sampled_from(PROFILES)
    .flatmap(lambda base: mutated(base, toml_values))
    .filter(lambda doc: isinstance(doc, dict))
)
def test_profile_any_toml_table(doc: Any) -> None:
    _profile_or_clear_error(doc)


@FEW
@given(st.dictionaries(st.text(max_size=10), toml_values, max_size=6))
def test_profile_any_table(doc: Any) -> None:
    _profile_or_clear_error(doc)


# --- X-Scanned-At ----------------------------------------------------------------------------


@FUZZ
@given(
    st.text(max_size=40)
    | st.datetimes(timezones=st.none() | st.timezones()).map(dt.datetime.isoformat)
    | st.sampled_from(
        ["2026-13-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]
    )
)
@example("0001-01-01T00:00:00+01:00")
@example("9999-12-31T23:59:59-01:00")
def test_scanned_at_any_header(header: str) -> None:
    try:
        value = scan_time(header)
    except AislewayError as err:
        assert_clear(err, ErrorCode.VALIDATION_FAILED)
    else:
        assert value is None or dt.datetime.fromisoformat(value).tzinfo is not None


# --- crashes the fuzzing found, kept as plain tests ------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: used to raise OverflowError (500)
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    ],
)
def test_a_scan_time_outside_the_calendar_in_utc_is_a_clear_422(
    services: Any, edge: Any, header: str
) -> None:
    who = login_as(services, "supervisor")
    resp = edge.get(f"{API}/auth/me", headers={**who.headers, "X-Scanned-At": header})
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert "X-Scanned-At" in resp.json()["message"]["text"]


def test_a_hid_profile_naming_several_devices_without_a_vendor_asks_for_the_device() -> None:
    """Valid as a profile, but nothing single to pin: the driver used to get an empty match
    and fail with a message naming neither the profile nor the remedy."""
    doc = copy.deepcopy(next(p for p in PROFILES if p["transport"]["type"] == "hid"))
    doc["match"] = {"evdev_name_contains": ["Honeywell", "Metrologic"]}
    profile = parse_profile(doc, "two-names.toml")
    with pytest.raises(ScannerConfigError, match="needs the device it was chosen for"):
        profile.driver_settings()


@pytest.mark.parametrize(
    "path",
    [
        "/putaway/tasks/9223372036854775808",
        "/counts/tasks/9223372036854775808",
        "/webhooks/subscribers/9223372036854775808",
        "/webhooks/deliveries?before=9223372036854775808",
    ],
)
def test_an_id_beyond_sqlite_integers_is_a_clear_422(services: Any, edge: Any, path: str) -> None:
    """schemathesis found these: 2**63 reached SQLite and raised OverflowError (a 500)."""
    who = login_as(services, "admin")
    resp = edge.get(API + path, headers=who.headers)
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert "out of range" in resp.json()["message"]["text"]


def test_a_body_id_beyond_sqlite_integers_is_a_clear_422_and_changes_nothing(
    services: Any, edge: Any
) -> None:
    who = login_as(services, "supervisor")
    tables = ("pick_tasks", "pick_events", "idempotency")

    def rows() -> list[list[dict[str, Any]]]:
        return [services.db.query(f"SELECT * FROM {t}") for t in tables]

    before = rows()
    body = {"task_id": 2**63, "barcode": "TOTE-0001"}
    resp = edge.post(f"{API}/picking/bind-tote", json=body, headers=who.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert "out of range" in resp.json()["message"]["text"]
    assert rows() == before
