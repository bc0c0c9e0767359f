"""Inbound EDI on a real site: a client's 940s become fulfillment orders and its 856s ASNs,
exactly once per interchange key, over the API and through the watched folder. Real SQLite,
the app over HTTP, the sample files of tests/data/edi/."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from edi_site_support import API, X12, setup_3pl, snapshot
from edi_support import ORDER, order, sample, x12

from edge_server.edi import read_interchange
from edge_server.edi.ts997 import GroupAck
from edge_server.services import Services
from edge_server.wms import asns
from edge_server.wms.edi_folder import SETTLE_SECONDS, EdiFolders
from edge_server.wms.outbound import allocation, orders

from conftest import Caller, assert_response

ACME_ORDER = order(
    (7, ["W01", "2", "EA", "", "VN", "ACME-MUG-01"]),
    (9, ["W01", "5", "EA", "", "UP", "012345678905"]),  # by UPC: ACME-TEE-BLK-M
)


@pytest.fixture
def site(services: Services) -> Services:
    setup_3pl(services)
    return services


@pytest.fixture
def house(site: Services, as_role: Any) -> Caller:
    caller: Caller = as_role("integration")
    return caller


@pytest.fixture
def acme(site: Services, as_role: Any) -> Caller:
    caller: Caller = as_role("client", client="ACME")
    return caller


@pytest.fixture
def bolt(site: Services, as_role: Any) -> Caller:
    caller: Caller = as_role("client", client="BOLT")
    return caller


def post(edge: Any, who: Caller, data: bytes | str, path: str = "/edi/interchanges") -> Any:
    body = data.encode() if isinstance(data, str) else data
    return edge.post(API + path, content=body, headers={**who.with_key(), **X12})


def acks(text: str) -> list[GroupAck]:
    result = read_interchange(text)
    assert not result.rejected
    return result.documents(GroupAck)


def test_a_940_file_becomes_allocatable_orders_and_a_997(edge: Any, site: Services, acme: Caller):
    data = assert_response(post(edge, acme, sample("940_acme_crlf.edi"), "/client/edi"), 201)
    assert data["key"] == "ZZ:ACMEBRANDS:000004711"
    assert data["client"] == "ACME" and data["status"] == "accepted" and data["source"] == "api"
    assert [(s["set_id"], s["number"], s["outcome"]) for s in data["sets"]] == [
        ("940", "SO-100234", "created"),
        ("940", "SO-100235", "created"),
    ]
    first = orders.get_order(site.db, "CHI", "SO-100234", owner="ACME")
    assert first is not None and first["owner"] == "ACME"
    assert first["carrier_service"] == "UPS-GROUND"  # W66 "UPS GROUND" = our service's name
    assert [(ln["sku"], ln["qty_ordered"]) for ln in first["lines"]] == [
        ("ACME-TEE-BLK-M", 12),
        ("ACME-MUG-01", 3),
    ]
    second = orders.get_order(site.db, "CHI", "SO-100235", owner="ACME")
    assert second is not None and second["carrier_service"] == "UPS-GROUND"  # client default
    assert second["ship_to"]["country"] == "DE"
    with site.db.write() as w:
        allocation.allocate_order(w, "CHI", "SO-100234")
    allocated = orders.get_order(site.db, "CHI", "SO-100234")
    assert allocated is not None and allocated["status"] == "allocated"
    # the 997 comes back in the answer, and is served as an outbound document
    (ack,) = acks(data["ack_997"])
    assert (ack.functional_id, ack.control_number, ack.status, ack.accepted) == ("OW", 4711, "A", 2)
    out = assert_response(edge.get(API + "/client/edi/outbound", headers=acme.headers), 200)
    assert [(d["kind"], d["reference"], d["text"]) for d in out["documents"]] == [
        ("997", "ZZ:ACMEBRANDS:000004711", data["ack_997"])
    ]
    ix = read_interchange(data["ack_997"]).interchange
    assert (ix.sender_id.strip(), ix.receiver_id.strip()) == ("NORTHWIND3PL", "ACMEBRANDS")


def test_an_856_becomes_an_expected_asn_receivable_by_sscc(
    edge: Any, site: Services, house: Caller
):
    data = assert_response(post(edge, house, sample("856_acme_oneline.edi")), 201)
    assert data["status"] == "accepted", data
    assert data["sets"][0]["number"] == "ASN-20261127-01"
    asn = asns.get_asn(site.db, "CHI", "ASN-20261127-01", owner="ACME")
    assert asn is not None and asn["status"] == "expected" and asn["po_number"] is None
    lines = {ln["sku"]: ln for ln in asn["lines"]}
    assert lines["ACME-TEE-BLK-M"]["qty"] == 240
    assert lines["ACME-VITC-60"]["qty"] == 20 * 12  # cases of 12 eaches
    assert lines["ACME-VITC-60"]["lot"] == "VC-0925"
    found = asns.asn_lines_by_sscc(site.db, "CHI", "003401234500000024")
    assert found is not None and found["asn"]["number"] == "ASN-20261127-01"
    assert [ln["sku"] for ln in found["lines"]] == ["ACME-VITC-60"]


def test_a_repeat_changes_nothing_and_other_bytes_under_the_key_are_refused(
    edge: Any, site: Services, house: Caller, acme: Caller
):
    data = sample("940_acme_crlf.edi")
    first = assert_response(post(edge, house, data), 201)
    before = snapshot(site)
    again = assert_response(post(edge, acme, data, "/client/edi"), 200)  # another door, same key
    assert again == first
    assert snapshot(site) == before
    changed = data.replace(b"W01*12*EA", b"W01*11*EA").replace(b"W76*15", b"W76*14")
    resp = post(edge, house, changed)
    assert_response(resp, 409, code="EDI_INTERCHANGE_REUSED")
    assert snapshot(site) == before


@pytest.mark.parametrize(
    ("data", "code", "segment"),
    [
        (b"", "EMPTY_INPUT", ""),
        (b"hello", "NOT_X12", ""),
        (sample("940_acme_crlf.edi").replace(b"IEA*1*000004711", b"IEA*1*000004712"),
         "IEA_MISMATCH", "IEA"),
        (sample("940_acme_crlf.edi").replace(b"GE*2*4711", b"GE*3*4711"), "GE_MISMATCH", "GE"),
        (sample("940_acme_crlf.edi").replace(b"*261127*", b"*261327*"), "ISA_INVALID", "ISA"),
    ],
)  # fmt: skip
def test_malformed_envelopes_are_refused_and_write_nothing(
    edge: Any, site: Services, house: Caller, data: bytes, code: str, segment: str
):
    before = snapshot(site)
    resp = post(edge, house, data)
    assert_response(resp, 422, code="EDI_ENVELOPE_INVALID")
    details = resp.json()["message"]["details"]
    assert details["code"] == code and details["message"]
    if segment:
        assert details["segment_id"] == segment and details["position"] >= 1
    assert snapshot(site) == before


def test_one_bad_set_is_rejected_and_the_good_one_applied(edge: Any, site: Services, house: Caller):
    unknown = order(
        (0, ["W05", "N", "SO-9"]),
        (7, ["W01", "2", "EA", "", "VN", "ACME-MUG-01"]),
        (9, ["W01", "5", "EA", "", "VN", "BOLT-TENT"]),  # another client's SKU
    )
    bad_count = order((0, ["W05", "N", "SO-8"]))
    text = x12([("940", ACME_ORDER), ("940", unknown), ("940", bad_count)], control=77,
               se_counts={3: "99"})  # fmt: skip
    data = assert_response(post(edge, house, text), 201)
    assert data["status"] == "partial"
    good, foreign, miscounted = data["sets"]
    assert (good["status"], good["number"], good["outcome"]) == ("accepted", "SO-1", "created")
    assert foreign["status"] == "rejected" and foreign["errors"][0]["code"] == "FO_INVALID"
    problems = foreign["errors"][0]["details"]["problems"]
    assert [p["code"] for p in problems] == ["UNKNOWN_SKU"]
    assert "BOLT" not in json.dumps(foreign["errors"]).replace("BOLT-TENT", "")  # no owner leak
    assert miscounted["errors"][0]["code"] == "SE_COUNT"
    so1 = orders.get_order(site.db, "CHI", "SO-1")
    assert so1 is not None and [(ln["sku"], ln["qty_ordered"]) for ln in so1["lines"]] == [
        ("ACME-MUG-01", 2),
        ("ACME-TEE-BLK-M", 5),
    ]
    assert orders.get_order(site.db, "CHI", "SO-9") is None
    assert orders.get_order(site.db, "CHI", "SO-8") is None
    (ack,) = acks(data["ack_997"])
    assert (ack.status, ack.included, ack.accepted) == ("P", 3, 1)
    assert [s.status for s in ack.sets] == ["A", "R", "R"]
    (bad_line,) = ack.sets[1].segments
    assert (bad_line.segment_id, bad_line.position) == ("W01", 11)  # the second W01 (ST = 1)
    assert ack.sets[1].codes == ["5"]
    assert ack.sets[2].codes == ["4"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (order((4, ["N4", "Reno", "NV", "89502", "USAX"])), "EDI_DOCUMENT_INVALID"),
        (order((0, ["W05", "H", "SO-1"])), "EDI_SET_UNSUPPORTED"),
        (order((7, ["W01", "2", "EA", "", "VN", "NOPE"])), "FO_INVALID"),
    ],
)
def test_a_set_we_cannot_take_is_rejected_with_our_code(
    edge: Any, site: Services, house: Caller, body: list[list[str]], code: str
):
    data = assert_response(post(edge, house, x12([("940", body)], control=5)), 201)
    assert data["status"] == "rejected"
    assert data["sets"][0]["errors"][0]["code"] == code
    assert site.db.query("SELECT * FROM fulfillment_orders") == []
    (ack,) = acks(data["ack_997"])
    assert (ack.status, ack.accepted) == ("R", 0)


def test_a_number_another_client_holds_is_a_rejected_set(
    edge: Any, site: Services, house: Caller, bolt: Caller
):
    bolt_order = {
        "ship_to": {"name": "B", "address_lines": ["1 St"], "city": "Reno", "country": "US"},
        "carrier_service": "UPS-GROUND",
        "lines": [{"line_no": 1, "sku": "BOLT-TENT", "qty": 1}],
    }
    assert_response(
        edge.put(API + "/client/orders/SO-1", json=bolt_order, headers=bolt.with_key()), 201
    )
    data = assert_response(post(edge, house, x12([("940", ACME_ORDER)], control=6)), 201)
    assert data["sets"][0]["errors"][0]["code"] == "CLIENT_NUMBER_TAKEN"
    assert "BOLT" not in json.dumps(data["sets"])


def test_no_carrier_and_no_default_refuses_the_set(edge: Any, services: Services, as_role: Any):
    setup_3pl(services, carrier=False)
    with services.db.write() as w:
        w.execute("UPDATE clients SET edi_carrier_service = '' WHERE code = 'ACME'")
    house = as_role("integration")
    data = assert_response(post(edge, house, x12([("940", ORDER)], control=8)), 201)
    assert data["sets"][0]["errors"][0]["code"] == "EDI_CARRIER_UNKNOWN"


def test_senders_are_checked_and_clients_see_only_their_own(
    edge: Any, site: Services, house: Caller, acme: Caller, bolt: Caller
):
    before = snapshot(site)
    # BOLT's key cannot send ACME's file; an unknown sender is refused on the house's door
    assert_response(
        post(edge, bolt, sample("940_acme_crlf.edi"), "/client/edi"), 403,
        code="EDI_SENDER_MISMATCH",
    )  # fmt: skip
    stranger = sample("940_acme_crlf.edi").replace(b"ACMEBRANDS     ", b"NOBODY         ")
    assert_response(post(edge, house, stranger), 422, code="EDI_SENDER_UNKNOWN")
    assert_response(post(edge, acme, stranger, "/client/edi"), 403, code="EDI_SENDER_MISMATCH")
    assert snapshot(site) == before
    data = assert_response(post(edge, acme, sample("940_acme_crlf.edi"), "/client/edi"), 201)
    # BOLT cannot read ACME's interchange or its 997, and lists nothing
    assert_response(
        edge.get(f"{API}/client/edi/interchanges/{data['id']}", headers=bolt.headers),
        404,
        code="EDI_INTERCHANGE_NOT_FOUND",
    )
    listed = assert_response(edge.get(API + "/client/edi/interchanges", headers=bolt.headers), 200)
    assert listed["interchanges"] == []
    out = assert_response(edge.get(API + "/client/edi/outbound", headers=bolt.headers), 200)
    assert out["documents"] == []
    ack_id = data["ack_id"]
    assert_response(
        edge.post(f"{API}/client/edi/outbound/{ack_id}/picked-up", headers=bolt.with_key()),
        404,
        code="EDI_OUTBOUND_NOT_FOUND",
    )
    # ACME and the house read it; ACME marks its 997 picked up
    mine = assert_response(
        edge.get(f"{API}/client/edi/interchanges/{data['id']}", headers=acme.headers), 200
    )
    assert mine == data
    assert_response(edge.get(f"{API}/edi/interchanges/{data['id']}", headers=house.headers), 200)
    all_ = assert_response(edge.get(API + "/edi/interchanges?client=ACME", headers=house.headers),
                           200)  # fmt: skip
    assert [i["key"] for i in all_["interchanges"]] == [data["key"]]
    got = assert_response(
        edge.post(f"{API}/client/edi/outbound/{ack_id}/picked-up", headers=acme.with_key()), 200
    )
    assert got["picked_up_at"]
    pending = assert_response(
        edge.get(API + "/client/edi/outbound?pending=true", headers=acme.headers), 200
    )
    assert pending["documents"] == []


def test_the_body_must_be_x12_and_an_idempotency_key_is_required(
    edge: Any, site: Services, house: Caller
):
    resp = edge.post(API + "/edi/interchanges", json={"x": 1}, headers={**house.with_key()})
    assert_response(resp, 415, code="EDI_BODY_INVALID")
    resp = edge.post(
        API + "/edi/interchanges",
        content=sample("940_acme_crlf.edi"),
        headers={**house.headers, **X12},
    )
    assert_response(resp, 400, code="IDEMPOTENCY_KEY_REQUIRED")
    assert site.db.query("SELECT * FROM edi_interchanges") == []


def _age(path: Path) -> None:
    old = time.time() - SETTLE_SECONDS - 5
    os.utime(path, (old, old))


def test_the_watched_folder_takes_each_file_once(site: Services, tmp_path: Path):
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    settings = site.settings.model_copy(
        update={"edi_inbox_dir": str(inbox), "edi_outbox_dir": str(outbox)}
    )
    folders = EdiFolders(site.db, settings)
    (inbox / "acme-940.edi").write_bytes(sample("940_acme_crlf.edi"))
    (inbox / "again.edi").write_bytes(sample("940_acme_crlf.edi"))
    (inbox / "broken.edi").write_bytes(b"ISA*garbage")
    (inbox / ".hidden.edi").write_bytes(sample("856_acme_oneline.edi"))
    (inbox / "half.edi.part").write_bytes(sample("856_acme_oneline.edi"))
    (inbox / "fresh.edi").write_bytes(sample("856_acme_oneline.edi"))
    for name in ("acme-940.edi", "again.edi", "broken.edi", ".hidden.edi", "half.edi.part"):
        _age(inbox / name)
    os.utime(inbox / "again.edi", (time.time() - SETTLE_SECONDS - 1,) * 2)  # after the first

    folders.tick()
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [
        ".hidden.edi",
        "fresh.edi",  # still being written, as far as we can tell
        "half.edi.part",
    ]
    result = json.loads((inbox / "processed" / "acme-940.edi.json").read_text())
    assert result["interchange"]["status"] == "accepted" and not result["duplicate"]
    assert result["interchange"]["file_name"] == "acme-940.edi"
    assert result["interchange"]["source"] == "folder"
    repeat = json.loads((inbox / "processed" / "again.edi.json").read_text())
    assert repeat["duplicate"] and repeat["interchange"] == result["interchange"]
    refused = json.loads((inbox / "rejected" / "broken.edi.json").read_text())
    assert refused["error"]["code"] == "EDI_ENVELOPE_INVALID"
    assert len(site.db.query("SELECT * FROM edi_interchanges")) == 1
    assert orders.get_order(site.db, "CHI", "SO-100234") is not None
    # the 997 went to the outbox, once
    (written,) = outbox.iterdir()
    assert written.read_text() == result["interchange"]["ack_997"]
    folders.tick()
    assert len(list(outbox.iterdir())) == 1

    _age(inbox / "fresh.edi")
    folders.tick()
    assert (inbox / "processed" / "fresh.edi.json").exists()
    assert asns.get_asn(site.db, "CHI", "ASN-20261127-01") is not None
    assert len(list(outbox.iterdir())) == 2
