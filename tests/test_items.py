"""The item master: normalisation, storage, GTIN lookup, and the items API."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_server.errors import AislewayError
from edge_server.wms import items
from edge_server.wms.items import Issue, Item, canonical_gtin, find_by_gtin, upsert_item

from conftest import assert_response
from factories import make_client, make_item

EAN13 = "0614141000012"  # GS1's example: the EAN-13 printed on a pack
GTIN14 = "00614141000012"  # the same, as GTIN-14
UPCA = "614141000012"  # and as the 12-digit UPC-A
CASE_GTIN = "10614141000019"  # a case of them (packaging indicator 1)


def item_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sku": "APP-1",
        "description": "T-Shirt Crew, Black, size M",
        "gtin": EAN13,
        "case_gtin": CASE_GTIN,
        "uom": "EA",
        "case_qty": 12,
        "weight_kg": 0.18,
        "length_cm": 30,
        "width_cm": 25,
        "height_cm": 2,
        "velocity": "A",
        "size": "M",
        "colour": "Black",
    }
    data.update(overrides)
    return data


def snapshot(db: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    return (
        db.query("SELECT * FROM items ORDER BY id"),
        db.query("SELECT rowid, * FROM item_gtins ORDER BY rowid"),
        db.query_one("SELECT count(*) AS n FROM outbox")["n"],
    )


def refusal_codes(exc: AislewayError) -> set[tuple[str, str]]:
    return {(p["field"], p["code"]) for p in exc.details["problems"]}


# -- GTINs ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, canonical",
    [
        (EAN13, GTIN14),
        (UPCA, GTIN14),
        (GTIN14, GTIN14),
        (" 0614141000012 ", GTIN14),
        ("96385074", "00000096385074"),  # GTIN-8
        (CASE_GTIN, CASE_GTIN),
    ],
)
def test_every_gtin_length_becomes_one_gtin14(raw, canonical):
    assert canonical_gtin(raw) == canonical


@pytest.mark.parametrize(
    "raw, code",
    [
        ("12345", Issue.GTIN_LENGTH),
        ("061414100001234", Issue.GTIN_LENGTH),
        ("0614141000013", Issue.GTIN_CHECK_DIGIT),
        ("0614141000341", Issue.GTIN_CHECK_DIGIT),
        ("061414100001X", Issue.GTIN_NOT_NUMERIC),
        ("6.14141E+11", Issue.GTIN_NOT_NUMERIC),
        ("٠٦١٤١٤١٠٠٠٠١٢", Issue.GTIN_NOT_NUMERIC),  # Arabic-Indic digits are not GTIN digits
        ("00000000", Issue.GTIN_PLACEHOLDER),
    ],
)
def test_bad_gtins_are_refused_with_their_reason(raw, code):
    with pytest.raises(items.FieldProblem) as caught:
        canonical_gtin(raw)
    assert caught.value.code == code


# -- the model --------------------------------------------------------------------------------
def test_item_normalises_spellings_and_reports_each_change():
    item, warnings = items.validate_item(
        {
            "sku": " APP-2 ",
            "description": "  HOODIE   ZIP, OLIVE  ",
            "gtin": UPCA,
            "uom": "pcs",
            "case_qty": "6",
            "weight_kg": "0,65",
            "length_cm": "40",
            "width_cm": "32.5",
            "height_cm": "",
            "lot_tracked": "no",
            "expiry_tracked": "x",
            "serial_tracked": "0",
            "velocity": "b",
        }
    )
    assert item.sku == "APP-2"
    assert item.description == "HOODIE ZIP, OLIVE"  # case kept, spaces collapsed
    assert item.gtin == GTIN14
    assert (item.uom, item.case_qty, item.weight_kg, item.width_cm) == ("EA", 6, 0.65, 32.5)
    assert item.height_cm is None
    assert item.velocity == "B"
    # expiry is kept per lot, so an expiry-tracked item becomes lot-tracked
    assert (item.lot_tracked, item.expiry_tracked, item.serial_tracked) == (True, True, False)
    assert {(w.field, w.code) for w in warnings} == {
        ("sku", Issue.WHITESPACE),
        ("description", Issue.WHITESPACE),
        ("description", Issue.DESCRIPTION_ALL_CAPS),
        ("uom", Issue.UOM_NORMALISED),
        ("weight_kg", Issue.DECIMAL_COMMA),
        ("height_cm", Issue.DIMENSION_MISSING),
        ("lot_tracked", Issue.LOT_TRACKING_IMPLIED),
    }


def test_omitted_fields_take_quiet_defaults_but_missing_measures_warn():
    item, warnings = items.validate_item({"sku": "S1", "description": "Spark plug"})
    assert (item.uom, item.case_qty, item.velocity, item.owner) == ("EA", 1, "C", "")
    assert {w.code for w in warnings} == {
        Issue.GTIN_MISSING,
        Issue.WEIGHT_MISSING,
        Issue.DIMENSION_MISSING,
    }


def test_an_item_lists_every_refusal_at_once():
    with pytest.raises(AislewayError) as caught:
        items.validate_item(
            item_data(
                sku="TWO WORDS",
                description="",
                gtin="0614141000013",
                uom="case",
                case_qty="2.5",
                weight_kg="-1",
                length_cm="1,250",
                width_cm="12cm",
                lot_tracked="maybe",
                velocity="X",
                colour="Black\x07",
                nonsense=1,
            )
        )
    assert caught.value.code.value == "ITEM_INVALID"
    assert refusal_codes(caught.value) == {
        ("sku", "SKU_INVALID"),
        ("description", "DESCRIPTION_MISSING"),
        ("gtin", "GTIN_CHECK_DIGIT"),
        ("uom", "UOM_UNKNOWN"),
        ("case_qty", "CASE_QTY_INVALID"),
        ("weight_kg", "VALUE_NOT_POSITIVE"),
        ("length_cm", "NUMBER_AMBIGUOUS"),
        ("width_cm", "NUMBER_INVALID"),
        ("lot_tracked", "BOOLEAN_INVALID"),
        ("velocity", "VELOCITY_UNKNOWN"),
        ("colour", "TEXT_INVALID"),
        ("nonsense", "FIELD_UNKNOWN"),
    }


def test_the_same_gtin_twice_on_one_item_is_refused():
    with pytest.raises(AislewayError) as caught:
        items.validate_item(item_data(case_gtin=GTIN14))
    assert refusal_codes(caught.value) == {("case_gtin", "GTIN_REPEATED")}


@pytest.mark.parametrize("value", [True, "1e3", "nan", "inf", "9" * 400, 10**400, [1]])
def test_numbers_refuse_what_is_not_a_plain_number(value):
    with pytest.raises(AislewayError) as caught:
        items.validate_item(item_data(weight_kg=value))
    assert {code for _, code in refusal_codes(caught.value)} <= {
        "NUMBER_INVALID",
        "VALUE_TOO_LARGE",
    }


# -- storage ----------------------------------------------------------------------------------
def test_upsert_creates_then_is_a_no_op_then_updates(fresh_db):
    item, _ = items.validate_item(item_data())
    with fresh_db.write() as w:
        assert upsert_item(w, item) == "created"
    before = snapshot(fresh_db)
    with fresh_db.write() as w:
        assert upsert_item(w, item) == "unchanged"
    assert snapshot(fresh_db) == before  # not even updated_at moves

    changed, _ = items.validate_item(item_data(description="T-Shirt Crew, Black, M", case_qty=24))
    with fresh_db.write() as w:
        assert upsert_item(w, changed) == "updated"
    stored = items.get_item(fresh_db, "APP-1")
    assert stored is not None
    assert stored.description == "T-Shirt Crew, Black, M"
    assert stored.created_at == before[0][0]["created_at"]
    assert stored.updated_at > before[0][0]["updated_at"]
    # the case GTIN row follows the new case quantity
    match = find_by_gtin(fresh_db, CASE_GTIN)
    assert match is not None and (match.uom, match.qty) == ("CS", 24)


def test_stored_item_reads_back_every_field(fresh_db):
    make_client(fresh_db, "ACME")
    item, _ = items.validate_item(
        item_data(
            owner="ACME",
            serial_tracked="Y",
            alt_gtins=["96385074"],
            attributes={"Material": "cotton"},
        )
    )
    with fresh_db.write() as w:
        upsert_item(w, item)
    stored = items.get_item(fresh_db, " APP-1 ")
    assert stored is not None
    assert stored.model_dump(exclude={"id", "created_at", "updated_at"}) == item.model_dump()
    assert stored.attributes == {"material": "cotton"}
    assert items.get_item(fresh_db, "app-1") is None  # SKUs are exact


def test_scanned_ean13_upca_and_gtin14_find_the_same_item(fresh_db):
    item, _ = items.validate_item(item_data())
    with fresh_db.write() as w:
        upsert_item(w, item)
    for scanned in (EAN13, GTIN14, UPCA):
        match = find_by_gtin(fresh_db, scanned)
        assert match is not None, scanned
        assert (match.item.sku, match.gtin, match.uom, match.qty) == ("APP-1", GTIN14, "EA", 1)
    case = find_by_gtin(fresh_db, CASE_GTIN)
    assert case is not None and (case.item.sku, case.uom, case.qty) == ("APP-1", "CS", 12)
    assert find_by_gtin(fresh_db, "96385074") is None
    with pytest.raises(AislewayError) as caught:
        find_by_gtin(fresh_db, "0614141000013")
    assert caught.value.code.value == "BARCODE_CHECK_DIGIT"
    with pytest.raises(AislewayError) as caught:
        find_by_gtin(fresh_db, "12345")
    assert caught.value.code.value == "BARCODE_UNREADABLE"


def test_lookup_finds_gtins_stored_unpadded_by_other_code(fresh_db):
    make_item(fresh_db, "LEGACY", gtin=EAN13)  # written straight to the table, 13 digits
    with fresh_db.write() as w:  # works inside a write transaction too
        match = find_by_gtin(w, GTIN14)
    assert match is not None and match.item.sku == "LEGACY"


def test_a_gtin_of_another_item_is_refused_and_nothing_changes(fresh_db):
    first, _ = items.validate_item(item_data())
    with fresh_db.write() as w:
        upsert_item(w, first)
    before = snapshot(fresh_db)
    second, _ = items.validate_item(item_data(sku="APP-2", case_gtin=None))
    with pytest.raises(AislewayError) as caught, fresh_db.write() as w:
        upsert_item(w, second)
    assert caught.value.code.value == "GTIN_IN_USE"
    assert caught.value.details == {"gtin": GTIN14, "sku": "APP-2", "owner_sku": "APP-1"}
    assert snapshot(fresh_db) == before


def test_two_items_can_swap_gtins_in_one_batch(fresh_db):
    a, _ = items.validate_item(item_data(sku="A", gtin=EAN13, case_gtin=None))
    b, _ = items.validate_item(item_data(sku="B", gtin="96385074", case_gtin=None))
    with fresh_db.write() as w:
        items.upsert_items(w, [a, b])
    a2 = a.model_copy(update={"gtin": canonical_gtin("96385074")})
    b2 = b.model_copy(update={"gtin": GTIN14})
    with fresh_db.write() as w:
        assert items.upsert_items(w, [a2, b2]) == ["updated", "updated"]
    found = find_by_gtin(fresh_db, EAN13)
    assert found is not None and found.item.sku == "B"


def test_list_items_by_prefix_in_pages(fresh_db):
    batch = [
        items.validate_item(
            item_data(sku=f"APP-{n:02d}", description=f"Shirt {n}", gtin=None, case_gtin=None)
        )[0]
        for n in range(7)
    ]
    batch.append(
        items.validate_item(
            item_data(sku="AUT-1", description="Oil filter", gtin=None, case_gtin=None)
        )[0]
    )
    with fresh_db.write() as w:
        items.upsert_items(w, batch)
    seen: list[str] = []
    after = None
    while True:
        page = items.list_items(fresh_db, q="APP-", after=after, limit=3)
        seen += [i.sku for i in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == [f"APP-{n:02d}" for n in range(7)]
    assert [i.sku for i in items.list_items(fresh_db, q="oil").items] == ["AUT-1"]
    assert [i.sku for i in items.list_items(fresh_db, q="shirt 6").items] == ["APP-06"]
    assert items.list_items(fresh_db, q="app-").items == []  # the SKU prefix keeps its case
    assert items.list_items(fresh_db, q="%").items == []  # LIKE wildcards are literal


# -- API --------------------------------------------------------------------------------------
def test_put_then_get_round_trips_and_replays(edge, as_role):
    sup = as_role("supervisor")
    headers = sup.with_key()
    created = assert_response(
        edge.put("/api/v1/items/APP-1", json=item_data(uom="each"), headers=headers), 201
    )
    assert created["outcome"] == "created"
    assert created["warnings"] == [
        {"field": "uom", "code": "UOM_NORMALISED", "reason": "unit 'each' was read as EA."}
    ]
    item = created["item"]
    assert (item["sku"], item["gtin"], item["case_gtin"], item["uom"]) == (
        "APP-1",
        GTIN14,
        CASE_GTIN,
        "EA",
    )
    got = assert_response(edge.get("/api/v1/items/APP-1", headers=sup.headers), 200)
    assert got == item
    # the same key again: the first answer, nothing done twice
    replay = edge.put("/api/v1/items/APP-1", json=item_data(uom="each"), headers=headers)
    assert replay.status_code == 201 and replay.json()["data"] == created
    # a new key, same data: unchanged
    again = assert_response(
        edge.put("/api/v1/items/APP-1", json=item_data(), headers=sup.with_key()), 200
    )
    assert again["outcome"] == "unchanged"
    assert again["item"]["updated_at"] == item["updated_at"]


def test_put_with_a_bad_gtin_is_refused_and_changes_nothing(edge, services, as_role):
    sup = as_role("supervisor")
    assert_response(edge.put("/api/v1/items/APP-1", json=item_data(), headers=sup.with_key()), 201)
    before = snapshot(services.db)
    resp = edge.put(
        "/api/v1/items/APP-1",
        json=item_data(gtin="0614141000013", description="Renamed"),
        headers=sup.with_key(),
    )
    assert_response(resp, 422, code="ITEM_INVALID")
    problems = resp.json()["message"]["details"]["problems"]
    assert [(p["field"], p["code"]) for p in problems] == [("gtin", "GTIN_CHECK_DIGIT")]
    assert snapshot(services.db) == before

    resp = edge.put("/api/v1/items/NEW-1", json=item_data(gtin="12345"), headers=sup.with_key())
    assert_response(resp, 422, code="ITEM_INVALID")
    assert_response(edge.get("/api/v1/items/NEW-1", headers=sup.headers), 404, code="UNKNOWN_ITEM")


def test_put_refuses_a_gtin_owned_by_another_item_and_a_sku_mismatch(edge, services, as_role):
    sup = as_role("supervisor")
    assert_response(edge.put("/api/v1/items/APP-1", json=item_data(), headers=sup.with_key()), 201)
    before = snapshot(services.db)
    resp = edge.put("/api/v1/items/APP-2", json=item_data(sku="APP-2"), headers=sup.with_key())
    assert_response(resp, 409, code="GTIN_IN_USE")
    resp = edge.put("/api/v1/items/APP-3", json=item_data(sku="APP-1"), headers=sup.with_key())
    assert_response(resp, 422, code="ITEM_INVALID")
    assert resp.json()["message"]["details"]["problems"][0]["code"] == "SKU_MISMATCH"
    assert snapshot(services.db) == before


def test_gtin_lookup_over_http(edge, as_role):
    sup = as_role("supervisor")
    assert_response(edge.put("/api/v1/items/APP-1", json=item_data(), headers=sup.with_key()), 201)
    for scanned in (EAN13, GTIN14):
        found = assert_response(
            edge.get(f"/api/v1/items/by-gtin/{scanned}", headers=sup.headers), 200
        )
        assert (found["item"]["sku"], found["uom"], found["qty"]) == ("APP-1", "EA", 1)
    case = assert_response(edge.get(f"/api/v1/items/by-gtin/{CASE_GTIN}", headers=sup.headers), 200)
    assert (case["uom"], case["qty"]) == ("CS", 12)
    assert_response(
        edge.get("/api/v1/items/by-gtin/96385074", headers=sup.headers), 404, code="UNKNOWN_ITEM"
    )
    assert_response(
        edge.get("/api/v1/items/by-gtin/0614141000013", headers=sup.headers),
        422,
        code="BARCODE_CHECK_DIGIT",
    )


def test_search_over_http_pages_through_results(edge, as_role):
    sup = as_role("supervisor")
    for n in range(3):
        body = item_data(sku=f"APP-{n}", gtin=None, case_gtin=None)
        assert_response(edge.put(f"/api/v1/items/APP-{n}", json=body, headers=sup.with_key()), 201)
    first = assert_response(edge.get("/api/v1/items?q=APP&limit=2", headers=sup.headers), 200)
    assert [i["sku"] for i in first["items"]] == ["APP-0", "APP-1"]
    rest = assert_response(
        edge.get(f"/api/v1/items?q=APP&limit=2&after={first['next_after']}", headers=sup.headers),
        200,
    )
    assert [i["sku"] for i in rest["items"]] == ["APP-2"] and rest["next_after"] is None


def test_sku_with_a_slash_works_in_the_address(edge, as_role):
    sup = as_role("supervisor")
    body = item_data(sku="AB/12", gtin=None, case_gtin=None)
    assert_response(edge.put("/api/v1/items/AB/12", json=body, headers=sup.with_key()), 201)
    assert assert_response(edge.get("/api/v1/items/AB/12", headers=sup.headers), 200)["sku"] == (
        "AB/12"
    )


def test_a_picker_reads_items_but_cannot_change_them(edge, services, as_role):
    sup = as_role("supervisor")
    assert_response(edge.put("/api/v1/items/APP-1", json=item_data(), headers=sup.with_key()), 201)
    picker = as_role("picker")
    assert_response(edge.get("/api/v1/items/APP-1", headers=picker.headers), 200)
    assert_response(edge.get(f"/api/v1/items/by-gtin/{EAN13}", headers=picker.headers), 200)
    before = snapshot(services.db)
    resp = edge.put(
        "/api/v1/items/APP-1", json=item_data(description="Hacked"), headers=picker.with_key()
    )
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    resp = edge.post(
        "/api/v1/items/import",
        content=b"sku\n",
        headers={**picker.with_key(), "Content-Type": "text/csv"},
    )
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    assert snapshot(services.db) == before


def test_put_emits_an_event_only_when_something_changed(edge, services, as_role):
    sup = as_role("supervisor")
    edge.put("/api/v1/items/APP-1", json=item_data(), headers=sup.with_key())
    edge.put("/api/v1/items/APP-1", json=item_data(), headers=sup.with_key())
    events = services.db.query("SELECT type, payload_json FROM outbox ORDER BY id")
    assert [(e["type"], e["payload_json"]) for e in events] == [
        ("item.changed", '{"sku":"APP-1","outcome":"created"}')
    ]


def test_model_fields_are_all_stored():
    # A field added to Item without a column (or a GTIN/attributes rule) would be lost.
    stored_elsewhere = {"gtin", "case_gtin", "alt_gtins", "attributes"}
    assert set(Item.model_fields) == set(items.ITEM_COLUMNS) | stored_elsewhere


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(data=st.dictionaries(st.sampled_from([*Item.model_fields, "other"]), json_values))
def test_any_json_body_is_an_item_or_a_clear_refusal(data):
    try:
        item, _ = items.validate_item(data)
    except AislewayError as exc:
        assert exc.code.value == "ITEM_INVALID"
        assert all(set(p) == {"field", "code", "reason"} for p in exc.details["problems"])
        assert all(p["code"] in Issue.__members__ for p in exc.details["problems"])
    else:
        assert item.sku and item.description and item.velocity in ("A", "B", "C")
