"""The transaction sets on realistic files: 940 → ShippingOrder, 856 → Asn, 945 written and read,
997 built from a parse result; round trips; set-level errors and what the 997 says about them;
mapping to FulfillmentOrderIn / AsnIn."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from edi_support import ORDER, order, sample, x12

from edge_server.edi import ParseResult, Transaction, read_interchange, wrap, write_interchange
from edge_server.edi.common import Party
from edge_server.edi.mapping import MappingError, to_asn, to_fulfillment_order
from edge_server.edi.ts856 import Asn, write_856
from edge_server.edi.ts940 import ShippingOrder, write_940
from edge_server.edi.ts945 import ShippedLine, ShippingAdvice, write_945
from edge_server.edi.ts997 import GroupAck, acknowledge, write_997

AT = datetime(2026, 11, 28, 18, 10)


def round_trip(tx: Transaction, fid_set: str | None = None) -> ParseResult:
    text = write_interchange(
        wrap([tx], sender=("ZZ", "NW3PL"), receiver=("ZZ", "ACME"), control_number=9, at=AT)
    )
    result = read_interchange(text)
    assert [s.errors for s in result.sets] == [[]], text
    return result


# --- 940 -----------------------------------------------------------------------------------


def test_940_sample_reads_into_shipping_orders() -> None:
    result = read_interchange(sample("940_acme_crlf.edi"))
    first, second = result.documents(ShippingOrder)
    assert (first.order_number, first.po_number, first.status) == ("SO-100234", "PO-88812", "N")
    assert first.ship_to == Party(
        "ST", "Jane Doe", "92", "C-5521", ("1200 Harbor Blvd", "Suite 400"), "Oakland", "CA",
        "94607", "US",
    )  # fmt: skip
    assert set(first.parties) == {"ST", "BT", "SF"}
    assert first.ship_date == date(2026, 11, 28)
    assert (first.scac, first.routing, first.payment) == ("UPSN", "UPS GROUND", "PP")
    assert first.references == {"CO": "CUST-77812"}
    assert [(ln.line_no, ln.sku, ln.qty, ln.uom) for ln in first.lines] == [
        (1, "ACME-TEE-BLK-M", 12, "EA"),
        (2, "ACME-MUG-01", 3, "EA"),
    ]
    assert first.lines[0].item_ids["UP"] == "012345678905"
    assert first.lines[0].description == "T-shirt black M" and first.lines[1].lot == "L2611A"
    assert second.ship_to is not None and second.ship_to.name == "Hans Müller c/o Lagerhaus Nord"
    assert second.ship_date == date(2026, 11, 30) and second.lines[0].sku == "ACME-TEE-WHT-L"


@pytest.mark.parametrize("name", ["940_acme_crlf.edi", "940_beverage_pipe_lf.edi"])
def test_940_read_write_read_is_equal(name: str) -> None:
    for doc in read_interchange(sample(name)).documents(ShippingOrder):
        [again] = round_trip(write_940(doc)).documents(ShippingOrder)
        assert again == doc


def test_940_line_numbers_without_lx_are_sequential() -> None:
    body = order((8, None), (6, None))  # drop both LX
    [doc] = read_interchange(x12([("940", body)])).documents(ShippingOrder)
    assert [ln.line_no for ln in doc.lines] == [1, 2]


@pytest.mark.parametrize(
    ("body", "code", "seg", "element", "words"),
    [
        (order((0, None)), "MANDATORY_MISSING", "W05", None, "W05"),
        (order((0, ["W05", "N"])), "MANDATORY_MISSING", "W05", 2, "depositor order number"),
        (order((0, ["W05", "Z", "SO-1"])), "ELEMENT_INVALID", "W05", 1, "one of"),
        (order((1, ["N1", "BT", "Acme"])), "MANDATORY_MISSING", "N1", None, "ship-to"),
        (order((4, ["G62", "10", "20261331"])), "ELEMENT_INVALID", "G62", 2, "CCYYMMDD"),
        (order((7, ["W01", "2.5", "EA", "", "VN", "SKU-A"])), "ELEMENT_INVALID", "W01", 1, "whole"),
        (
            order((7, ["W01", "0", "EA", "", "VN", "SKU-A"])),
            "ELEMENT_INVALID",
            "W01",
            1,
            "more than 0",
        ),
        (order((7, ["W01", "2", "EA"])), "MANDATORY_MISSING", "W01", 5, "names no item"),
        (order((10, ["W76", "8"])), "TOTALS_MISMATCH", "W76", 1, "add up to 7"),
        (order((3, ["BEG", "00", "SA"])), "SEGMENT_UNEXPECTED", "BEG", None, "not part of a 940"),
        (
            order((2, ["N1", "ST", "X"]), (1, ["N3", "1 Main"])),
            "SEGMENT_UNEXPECTED",
            "N3",
            None,
            "N1",
        ),
        ([ORDER[0], *ORDER[1:4]], "MANDATORY_MISSING", "W01", None, "line item"),
    ],
)
def test_940_errors(
    body: list[list[str]], code: str, seg: str, element: int | None, words: str
) -> None:
    [entry] = read_interchange(x12([("940", body)])).sets
    [err] = entry.errors
    assert (err.code, err.segment_id, err.element) == (code, seg, element)
    assert words in err.message
    assert err.set_position is not None and 2 <= err.set_position <= len(body) + 2


# --- 856 -----------------------------------------------------------------------------------


def test_856_sample_reads_into_an_asn() -> None:
    [asn] = read_interchange(sample("856_acme_oneline.edi")).documents(Asn)
    assert (asn.asn_number, asn.purpose, asn.date) == ("ASN-20261127-01", "00", date(2026, 11, 27))
    assert asn.expected_at == datetime(2026, 12, 1, 8, 0)
    assert asn.shipped_at == datetime(2026, 11, 27, 14, 0)
    assert (asn.scac, asn.references) == ("FDEG", {"BM": "BOL7781234"})
    assert asn.parties["SF"].name == "Acme Brands Inc" and asn.po_numbers == ["PO-88812"]
    got = [(x.sku, x.qty, x.uom, x.lot, x.expiry, x.sscc, x.po_line) for x in asn.lines]
    assert got == [
        ("ACME-TEE-BLK-M", 240, "EA", "", None, "003401234500000017", 1),
        ("ACME-MUG-01", 96, "EA", "L2611A", date(2028, 1, 31), "003401234500000017", 2),
        ("ACME-VITC-60", 20, "CA", "VC-0925", date(2027, 9, 30), "003401234500000024", 3),
    ]


def test_856_read_write_read_is_equal() -> None:
    [asn] = read_interchange(sample("856_acme_oneline.edi")).documents(Asn)
    [again] = round_trip(write_856(asn)).documents(Asn)
    assert again == asn


ASN = [
    ["BSN", "00", "ASN-1", "20261127", "1405", "0001"],
    ["HL", "1", "", "S"],
    ["HL", "2", "1", "O"],
    ["PRF", "PO-1"],
    ["HL", "3", "2", "I"],
    ["LIN", "1", "VN", "SKU-A"],
    ["SN1", "", "10", "EA"],
]


def asn_body(*changes: tuple[int, list[str] | None]) -> list[list[str]]:
    body = [list(s) for s in ASN]
    for i, seg in sorted(changes, key=lambda c: -c[0]):
        if seg is None:
            del body[i]
        else:
            body[i] = seg
    return body


@pytest.mark.parametrize(
    ("body", "code", "seg", "words"),
    [
        (asn_body((2, ["HL", "2", "9", "O"])), "ELEMENT_INVALID", "HL", "not an earlier HL"),
        (asn_body((2, ["HL", "1", "1", "O"])), "ELEMENT_INVALID", "HL", "used twice"),
        (asn_body((1, ["HL", "1", "", "O"])), "ELEMENT_INVALID", "HL", "shipment level"),
        (asn_body((2, ["HL", "2", "1", "X"])), "ELEMENT_INVALID", "HL", "one of"),
        (asn_body((6, None)), "MANDATORY_MISSING", "HL", "no SN1"),
        (asn_body((5, None)), "MANDATORY_MISSING", "HL", "no LIN"),
        (asn_body((6, ["SN1", "", "-3", "EA"])), "ELEMENT_INVALID", "SN1", "whole number"),
        (asn_body((4, ["HL", "3", "2", "P"])), "SEGMENT_UNEXPECTED", "LIN", "item level"),
        (
            asn_body((4, ["HL", "3", "2", "P"]), (5, None), (6, None)),
            "MANDATORY_MISSING",
            "HL",
            "item level",
        ),
        (asn_body((0, ["BSN", "00", "ASN-1", "2026-11-27"])), "ELEMENT_INVALID", "BSN", "CCYYMMDD"),
        (asn_body((3, ["W01", "1"])), "SEGMENT_UNEXPECTED", "W01", "not part of a 856"),
        ([*asn_body(), ["DTM", "036", "2028"]], "ELEMENT_INVALID", "DTM", "CCYYMMDD"),
    ],
)
def test_856_errors(body: list[list[str]], code: str, seg: str, words: str) -> None:
    [entry] = read_interchange(x12([("856", body)], fid="SH")).sets
    [err] = entry.errors
    assert (err.code, err.segment_id) == (code, seg)
    assert words in err.message


# --- 945 -----------------------------------------------------------------------------------

ADVICE = ShippingAdvice(
    "SO-100234",
    date(2026, 11, 28),
    "SHP-1",
    po_number="PO-88812",
    parties=[Party("ST", "Jane Doe", address_lines=("1 Main St",), city="Reno", country="US")],
    scac="UPSN",
    routing="GROUND",
    lines=[
        ShippedLine(1, "SKU-A", 2, 2, sscc="003401234500000017", tracking="1Z999AA10123456784"),
        ShippedLine(2, "SKU-B", 5, 4, lot="L1", sscc="003401234500000017"),
    ],
    weight="3.25",
    cartons=1,
    control_number="0001",
)


def test_945_write_read_is_equal() -> None:
    tx = write_945(ADVICE, "0001")
    text = write_interchange(
        wrap([tx], sender=("ZZ", "NW3PL"), receiver=("ZZ", "ACME"), control_number=5, at=AT)
    )
    assert "W12*CC*2*2*0*EA**VN*SKU-A~" in text and "W12*PR*5*4*1*EA**VN*SKU-B*L1~" in text
    assert "W03*6*3.25*KG***1*CTN~" in text and "GS*SW*" in text
    [again] = read_interchange(text).documents(ShippingAdvice)
    assert again == ADVICE


def test_945_sample_read_write_read_is_equal() -> None:
    [doc] = read_interchange(sample("945_northwind_tilde_lf.edi")).documents(ShippingAdvice)
    assert [(x.line_no, x.qty_shipped, x.status) for x in doc.lines] == [
        (1, 12, "CC"),
        (2, 2, "PR"),
    ]
    [again] = round_trip(write_945(doc, doc.control_number)).documents(ShippingAdvice)
    assert again == doc


def test_945_writer_needs_lines() -> None:
    with pytest.raises(ValueError, match="at least one"):
        write_945(ShippingAdvice("SO-1", date(2026, 1, 1), "S1"), "0001")


# --- 997 -----------------------------------------------------------------------------------


def test_997_accepts_everything_good() -> None:
    [ack] = acknowledge(read_interchange(sample("940_acme_crlf.edi")))
    assert (ack.functional_id, ack.control_number, ack.status) == ("OW", 4711, "A")
    assert (ack.included, ack.received, ack.accepted) == (2, 2, 2)
    assert [(s.control_number, s.status) for s in ack.sets] == [("0001", "A"), ("0002", "A")]


def test_997_reports_a_rejected_set_with_segment_and_element() -> None:
    bad = order((10, ["W76", "8"]))
    result = read_interchange(
        x12([("940", ORDER), ("940", bad), ("940", ORDER)], se_counts={3: "5"})
    )
    assert [s.accepted for s in result.sets] == [True, False, False]
    [ack] = acknowledge(result)
    tx = write_997(ack, "0001")
    text = write_interchange(
        wrap([tx], sender=("ZZ", "NW3PL"), receiver=("ZZ", "ACME"), control_number=7, at=AT)
    )
    body = text.split("ST*997*0001~\n")[1].split("SE*")[0]
    assert body == (
        "AK1*OW*7~\n"
        "AK2*940*0001~\nAK5*A~\n"
        "AK2*940*0002~\nAK3*W76*12**8~\nAK4*1**7*8~\nAK5*R*5~\n"
        "AK2*940*0003~\nAK5*R*4~\n"
        "AK9*P*3*3*1~\n"
    )
    [again] = read_interchange(text).documents(GroupAck)
    assert again == ack


def test_997_rejects_the_group_when_no_set_is_accepted() -> None:
    result = read_interchange(x12([("850", ORDER)]))
    [ack] = acknowledge(result)
    assert (ack.status, ack.accepted, ack.sets[0].codes) == ("R", 0, ["1"])


def test_997_missing_segment_is_ak3_code_3() -> None:
    [ack] = acknowledge(read_interchange(x12([("940", order((0, None)))])))
    [seg] = ack.sets[0].segments
    assert (seg.segment_id, seg.code, seg.elements) == ("W05", "3", [])


# --- mapping -------------------------------------------------------------------------------


def test_940_maps_to_a_fulfillment_order() -> None:
    first = read_interchange(sample("940_acme_crlf.edi")).documents(ShippingOrder)[0]
    number, fo = to_fulfillment_order(first, owner="ACME", carrier_service="UPS-GROUND")
    assert number == "SO-100234"
    assert fo.owner == "ACME" and fo.carrier_service == "UPS-GROUND"
    assert fo.ship_to.address_lines == ["1200 Harbor Blvd", "Suite 400"]
    assert (fo.ship_to.city, fo.ship_to.postal_code, fo.ship_to.country) == (
        "Oakland",
        "94607",
        "US",
    )
    assert fo.promised_ship_date == date(2026, 11, 28)
    assert [(x.line_no, x.sku, x.qty) for x in fo.lines] == [
        (1, "ACME-TEE-BLK-M", 12),
        (2, "ACME-MUG-01", 3),
    ]
    _, mapped = to_fulfillment_order(
        first, owner="ACME", carrier_service="X", sku_for=lambda line: "ACME/" + line.sku
    )
    assert mapped.lines[0].sku == "ACME/ACME-TEE-BLK-M"


def test_cases_need_a_case_quantity() -> None:
    [doc] = read_interchange(sample("940_beverage_pipe_lf.edi")).documents(ShippingOrder)
    with pytest.raises(MappingError) as info:
        to_fulfillment_order(doc, owner="BEV", carrier_service="LTL")
    assert info.value.field == "lines[1].uom" and "'CA'" in info.value.message
    _, fo = to_fulfillment_order(
        doc, owner="BEV", carrier_service="LTL", case_qty=lambda sku, uom: 12
    )
    assert [x.qty for x in fo.lines] == [48, 24]


def _order_with(**ship_to: str) -> ShippingOrder:
    [doc] = read_interchange(x12([("940", ORDER)])).documents(ShippingOrder)
    base = dict(code="ST", name="Jane Doe", address_lines=("1 Main St",), city="Reno", country="US")
    doc.parties["ST"] = Party(**{**base, **ship_to})  # type: ignore[arg-type]
    return doc


@pytest.mark.parametrize(
    ("ship_to", "field", "words"),
    [
        ({"country": "XX1"}, "ship_to.country", "ISO 3166-1"),
        ({"country": ""}, "ship_to.country", "no default country"),
        ({"city": ""}, "ship_to.city", "N401"),
        ({"address_lines": ()}, "ship_to.address_lines", "N3"),
        ({"name": ""}, "ship_to.name", "N102"),
    ],
)
def test_940_mapping_errors(ship_to: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(MappingError) as info:
        to_fulfillment_order(_order_with(**ship_to), owner="A", carrier_service="X")  # type: ignore[arg-type]
    assert info.value.field == field and words in info.value.message


def test_940_mapping_country_spellings_and_missing_ship_to() -> None:
    _, fo = to_fulfillment_order(_order_with(country="usa"), owner="A", carrier_service="X")
    assert fo.ship_to.country == "US"
    _, fo = to_fulfillment_order(
        _order_with(country=""), owner="A", carrier_service="X", default_country="de"
    )
    assert fo.ship_to.country == "DE"
    doc = _order_with()
    del doc.parties["ST"]
    with pytest.raises(MappingError, match="N1\\*ST"):
        to_fulfillment_order(doc, owner="A", carrier_service="X")
    doc = _order_with()
    doc.order_number = "SO/1"
    with pytest.raises(MappingError) as info:
        to_fulfillment_order(doc, owner="A", carrier_service="X")
    assert info.value.field == "order_number"


def test_856_maps_to_an_asn() -> None:
    [asn] = read_interchange(sample("856_acme_oneline.edi")).documents(Asn)
    number, doc = to_asn(asn, case_qty=lambda sku, uom: 12 if uom == "CA" else None)
    assert number == "ASN-20261127-01"
    assert (doc.po_number, doc.supplier, doc.expected_at) == (
        "PO-88812",
        "Acme Brands Inc",
        datetime(2026, 12, 1, 8, 0),
    )
    assert [
        (x.line_no, x.sku, x.qty, x.lot, x.expiry, x.sscc, x.po_line_no) for x in doc.lines
    ] == [
        (1, "ACME-TEE-BLK-M", 240, "", None, "003401234500000017", 1),
        (2, "ACME-MUG-01", 96, "L2611A", date(2028, 1, 31), "003401234500000017", 2),
        (3, "ACME-VITC-60", 240, "VC-0925", date(2027, 9, 30), "003401234500000024", 3),
    ]


def test_856_mapping_errors() -> None:
    [asn] = read_interchange(sample("856_acme_oneline.edi")).documents(Asn)
    with pytest.raises(MappingError) as info:
        to_asn(asn)
    assert info.value.field == "lines[3].uom"
    asn.lines = asn.lines[:2]
    asn.lines[1].po_number = "PO-2"
    with pytest.raises(MappingError, match="2 purchase orders"):
        to_asn(asn)
    asn.lines[1].po_number = "PO-88812"
    asn.lines[1].sscc = "003401234500000018"
    with pytest.raises(MappingError) as info:
        to_asn(asn)
    assert info.value.field == "lines.1.sscc" and "check digit" in info.value.message
