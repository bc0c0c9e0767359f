"""Hypothesis over the X12 reader: random bytes and mutated realistic files only ever give an
X12Error (envelope) or a ParseResult whose rejected sets carry X12Errors; the 997 for any
result can be written and read back; accepted documents map or raise MappingError."""

from __future__ import annotations

from datetime import datetime

from edi_support import SAMPLES
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from edge_server.edi import X12Error, read_interchange, wrap, write_interchange
from edge_server.edi.mapping import MappingError, to_asn, to_fulfillment_order
from edge_server.edi.ts856 import Asn
from edge_server.edi.ts940 import ShippingOrder
from edge_server.edi.ts997 import GroupAck, acknowledge, write_997
from edge_server.edi.x12 import ENVELOPE_CODES, TRANSACTION_CODES

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
TEXTS = [p.read_bytes() for p in SAMPLES]
FRAGMENTS = [
    "*", "~", ">", "|", ":", "^", "ISA", "IEA", "GS", "GE", "ST", "SE", "HL", "LIN", "SN1",
    "W01", "W76", "N1", "000", "99", "-1", "2.5", "é", "", " ", "\r\n", "\n", "\x00",
]  # fmt: skip


def check(data: bytes | str) -> None:
    try:
        result = read_interchange(data)
    except X12Error as err:
        assert err.code in ENVELOPE_CODES, err
        assert err.message.strip()
        event(f"refused {err.code}")
        return
    event(f"{len(result.accepted)} accepted, {len(result.rejected)} rejected")
    for entry in result.sets:
        for err in entry.errors:
            assert err.code in TRANSACTION_CODES, err
            assert err.message.strip()
    for ack in acknowledge(result):
        text = write_interchange(
            wrap(
                [write_997(ack, "0001")],
                sender=("ZZ", "NW3PL"),
                receiver=("ZZ", "PARTNER"),
                control_number=1,
                at=datetime(2026, 1, 1),
            )
        )
        assert read_interchange(text).documents(GroupAck) == [ack]
    for order in result.documents(ShippingOrder):
        try:
            to_fulfillment_order(order, owner="A", carrier_service="X", default_country="US")
        except MappingError as err:
            assert err.message
    for asn in result.documents(Asn):
        try:
            to_asn(asn, case_qty=lambda sku, uom: 6)
        except MappingError as err:
            assert err.message


@FUZZ
@given(st.binary(max_size=400))
@example(b"ISA")
@example(b"ISA*" + b" " * 120)
def test_random_bytes_only_raise_x12_error(data: bytes) -> None:
    check(data)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS)).decode("utf-8")
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["delete", "insert", "replace", "cut", "swap", "isa"]))
        # most mutations land after the ISA (which has its own tests) so the sets get read
        at = draw(st.integers(0, len(text))) if action == "isa" else draw(st.integers(106, 10**5))
        at = min(at, len(text))
        if action == "isa":
            action = "replace"
        if action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)) :]
        elif action == "insert":
            text = text[:at] + draw(st.sampled_from(FRAGMENTS) | st.text(max_size=4)) + text[at:]
        elif action == "replace":
            text = text[:at] + draw(st.text(min_size=1, max_size=3)) + text[at + 1 :]
        elif action == "cut":
            text = text[:at]
        else:  # swap two segments (keeps the envelope, breaks the order)
            segs = text.split("~")
            if len(segs) > 3:
                i = draw(st.integers(1, len(segs) - 2))
                j = draw(st.integers(1, len(segs) - 2))
                segs[i], segs[j] = segs[j], segs[i]
                text = "~".join(segs)
    return text


@FUZZ
@given(mutated())
def test_mutated_files_only_raise_x12_error(text: str) -> None:
    check(text)
    check(text.encode("utf-8"))
