"""The rate-card adapter's label: tracking numbers from the service's sequence (never reused,
in the caller's transaction, with a check digit) and a 4x6 ZPL label whose barcodes scan back
to the tracking number and the carton's SSCC. Refusals change nothing."""

from __future__ import annotations

import re
import sqlite3
from decimal import Decimal
from typing import Any

import pytest
from label_helpers import barcode_fields, scan_image, scan_zpl_barcode

from edge_server.errors import AislewayError
from edge_server.shipping import carriers
from edge_server.shipping.carriers import LabelRequest, RateCardAdapter, adapter_for
from edge_server.shipping.label import render_shipping_label
from edge_server.shipping.services import put_service
from edge_server.shipping.tracking import format_tracking, tracking_is_valid
from protocols.barcodes.labels import gs1_check_digit
from protocols.rates import CarrierServiceIn

from factories import make_site


def sscc(serial: int) -> str:
    body = f"03401234{serial:09d}"
    return body + str(gs1_check_digit(body))


SHIP_TO = {
    "name": "Ada Lovelace",
    "address_lines": ["12 Analytical St", "Suite ^XZ 4"],
    "city": "Chicago",
    "postal_code": "60612",
    "country": "US",
}
CARD = {
    "currency": "USD",
    "weight_breaks_kg": ["1", "5", "30"],
    "zones": [
        {"name": "2", "country": "US", "postal_prefixes": ["606"], "prices": ["5", "8", "15"],
         "transit_days": 1},
        {"name": "5", "country": "US", "prices": ["7", "11", "21"], "transit_days": 4},
    ],
}  # fmt: skip


def service(**changes: Any) -> CarrierServiceIn:
    body = {"carrier": "ACME", "name": "Acme Ground", "cutoff_local": "17:00", "rate_card": CARD}
    return CarrierServiceIn.model_validate({**body, **changes})


@pytest.fixture
def site(services):
    make_site(services.db)
    with services.db.write() as w:
        w.execute("UPDATE sites SET name = 'Chicago DC' WHERE code = 'CHI'")
        put_service(w, "CHI", "ACME-GROUND", service())
        put_service(w, "CHI", "ACME-AIR", service(name="Acme Air"))
    return services


def request(**changes: Any) -> LabelRequest:
    values: dict[str, Any] = {
        "site": "CHI",
        "order_number": "SO-1001",
        "service": "ACME-GROUND",
        "ship_to": SHIP_TO,
        "sscc": sscc(1),
        "weight_kg": 2.35,
        "carton_no": 1,
        "carton_count": 3,
    }
    values.update(changes)
    return LabelRequest(**values)


def label(services, **changes: Any) -> carriers.LabelResult:
    req = request(**changes)
    with services.db.write() as w:
        return adapter_for(w, "CHI", req.service).label(w, req)


def state(services) -> tuple[Any, ...]:
    db = services.db
    return (
        db.query("SELECT * FROM tracking_sequences ORDER BY service_id"),
        db.query("SELECT * FROM tracking_numbers ORDER BY id"),
    )


def test_label_prices_numbers_and_records_the_carton(site):
    result = label(site)
    service_id = site.db.query_one("SELECT id FROM carrier_services WHERE code = 'ACME-GROUND'")
    assert result.tracking == format_tracking("CHI", service_id["id"], 1)
    assert re.fullmatch(r"AWCHI[0-9]{3}000000001[0-9]", result.tracking)
    assert tracking_is_valid(result.tracking)
    q = result.quote
    assert (q.service, q.carrier, q.zone, q.currency, q.transit_days) == (
        "ACME-GROUND",
        "ACME",
        "2",
        "USD",
        1,
    )
    assert str(q.price) == "8.00" and q.weight_kg == 2.35
    (row,) = site.db.query("SELECT * FROM tracking_numbers")
    assert row["tracking"] == result.tracking and row["sscc"] == sscc(1)
    assert (row["order_number"], row["carton_no"], row["price"]) == ("SO-1001", 1, "8.00")


def test_the_label_barcodes_scan_back_to_the_tracking_number_and_the_sscc(site):
    result = label(site)
    zpl = result.zpl
    assert zpl.startswith("^XA^CI28^PW812^LL1218") and zpl.rstrip().endswith("^XZ")
    tracking_fd, sscc_fd = barcode_fields(zpl)
    tracking = scan_zpl_barcode(tracking_fd)
    assert tracking.format.name == "Code128" and tracking.text == result.tracking
    carton = scan_zpl_barcode(sscc_fd)
    assert carton.symbology_identifier == "]C1"  # GS1-128: FNC1 first
    assert carton.bytes.decode("ascii") == "00" + sscc(1)
    texts = re.findall(r"\^FH\^FD(.*?)\^FS", zpl)
    for expected in (
        "Chicago DC",
        "Ada Lovelace",
        "12 Analytical St",
        "Chicago 60612",
        "US",
        "Acme Ground",  # the carrier's name is not repeated
        "1 OF 3",
        "2.35 KG",
        "SO-1001",
        result.tracking,
        f"(00){sscc(1)}",
    ):
        assert expected in texts, (expected, texts)
    # User text cannot end a field or start a command: ^ and ~ are hex-escaped.
    assert "Suite _5EXZ 4" in texts
    assert zpl.count("^XZ") == 1


def test_the_preview_shows_both_barcodes(site):
    from edge_server.shipping.label import ShippingLabel
    from protocols.outbound import ShipTo

    result = label(site)
    image = render_shipping_label(
        ShippingLabel(
            ship_from=("Chicago DC",),
            ship_to=ShipTo.model_validate(SHIP_TO),
            carrier="ACME",
            service="ACME-GROUND",
            service_name="Acme Ground",
            zone="2",
            tracking=result.tracking,
            sscc=sscc(1),
            order_number="SO-1001",
            carton_no=1,
            carton_count=None,
            weight_kg=Decimal("2.35"),
        )
    )
    assert image.size == (812, 1218)
    found = {r.text for r in scan_image(image)}
    assert result.tracking in found
    assert any(sscc(1) in text for text in found), found


def test_numbers_follow_each_service_sequence_and_are_never_reused(site):
    first = label(site)
    second = label(site, sscc=sscc(2), carton_no=2)
    air = label(site, service="ACME-AIR", sscc=sscc(3))
    assert first.tracking[-10:-1] == "000000001" and second.tracking[-10:-1] == "000000002"
    assert air.tracking[-10:-1] == "000000001"  # its own sequence ...
    assert len({first.tracking, second.tracking, air.tracking}) == 3  # ... and its own numbers
    assert all(tracking_is_valid(t) for t in (first.tracking, second.tracking, air.tracking))
    # A label whose transaction rolls back never existed: the next one takes its number.
    with pytest.raises(RuntimeError), site.db.write() as w:
        adapter_for(w, "CHI", "ACME-GROUND").label(w, request(sscc=sscc(4)))
        raise RuntimeError("the packer's transaction failed later on")
    third = label(site, sscc=sscc(4))
    assert third.tracking[-10:-1] == "000000003"
    # The database itself refuses to take a sequence back or forget an issued number.
    with pytest.raises(sqlite3.IntegrityError), site.db.write() as w:
        w.execute("UPDATE tracking_sequences SET last_seq = 1")
    with pytest.raises(sqlite3.IntegrityError), site.db.write() as w:
        w.execute("DELETE FROM tracking_numbers")
    assert len(site.db.query("SELECT 1 FROM tracking_numbers")) == 4


def test_a_check_digit_typo_is_detected():
    good = format_tracking("CHI", 7, 42)
    assert tracking_is_valid(good)
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert not tracking_is_valid(wrong)
    assert not tracking_is_valid("1Z999AA10123456784")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"weight_kg": 31}, "RATE_WEIGHT_OUT_OF_RANGE"),
        ({"weight_kg": 0}, "RATE_WEIGHT_OUT_OF_RANGE"),
        ({"ship_to": {**SHIP_TO, "country": "CA"}}, "RATE_NO_ZONE"),
        ({"ship_to": {**SHIP_TO, "address_lines": []}}, "LABEL_DATA_INVALID"),
        ({"sscc": "123"}, "LABEL_DATA_INVALID"),
        ({"sscc": sscc(1)[:-1] + str((int(sscc(1)[-1]) + 1) % 10)}, "LABEL_DATA_INVALID"),
        ({"carton_no": 0}, "LABEL_DATA_INVALID"),
        ({"carton_no": 4, "carton_count": 3}, "LABEL_DATA_INVALID"),
        ({"site": "DAL"}, "LABEL_DATA_INVALID"),
    ],
)
def test_a_refused_label_changes_nothing_even_if_the_caller_commits(site, changes, code):
    label(site)  # something to compare with
    before = state(site)
    # The caller goes on and commits after the refusal.
    with site.db.write() as w, pytest.raises(AislewayError) as exc:
        adapter_for(w, "CHI", "ACME-GROUND").label(w, request(**changes))
    assert exc.value.code == code
    assert state(site) == before


def test_unknown_or_inactive_services_have_no_adapter(site):
    with pytest.raises(AislewayError) as exc:
        label(site, service="NOPE")
    assert exc.value.code == "CARRIER_SERVICE_UNKNOWN"
    with site.db.write() as w:
        put_service(w, "CHI", "ACME-AIR", service(active=False))
    with pytest.raises(AislewayError) as exc:
        label(site, service="ACME-AIR")
    assert exc.value.code == "CARRIER_SERVICE_UNKNOWN"
    assert state(site) == ([], [])


def test_a_registered_carrier_adapter_replaces_the_rate_card(site):
    class FixedTrackingAdapter(RateCardAdapter):
        """What an integrator might write: the carrier's own number, our label and price."""

        def label(self, w, request):  # type: ignore[no-untyped-def]
            result = super().label(w, request)
            return carriers.LabelResult(
                tracking="1Z" + result.tracking, zpl=result.zpl, quote=result.quote
            )

    carriers.register_adapter("acme", FixedTrackingAdapter.for_service)
    try:
        adapter = adapter_for(site.db, "CHI", "ACME-GROUND")
        assert isinstance(adapter, FixedTrackingAdapter)
        assert label(site).tracking.startswith("1ZAWCHI")
    finally:
        carriers.unregister_adapter("ACME")
    assert type(adapter_for(site.db, "CHI", "ACME-GROUND")) is RateCardAdapter
