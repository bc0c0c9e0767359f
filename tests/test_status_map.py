"""The OMS⇄WMS status map: mapping, forward-only journey, split-order rollup, docs in sync."""

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_server.wms import returns
from edge_server.wms.outbound import allocation, shipping, waves
from edge_server.wms.outbound.orders import FO_STATUSES as EDGE_FO_STATUSES
from protocols.status import (
    EVENT_TYPES,
    FO_STATUSES,
    JOURNEY_STEPS,
    STATUS_MAP,
    STATUS_MAP_VERSION,
    OmsStatus,
    advance,
    fingerprint,
    journey_step,
    map_event,
    rank,
    rollup,
)

ROOT = Path(__file__).resolve().parent.parent
S = OmsStatus

# One fingerprint per released version: changing the map without bumping the version fails.
KNOWN_FINGERPRINTS = {"1": "c79fe3b9fffea7a7"}


def _gen_script():
    spec = importlib.util.spec_from_file_location(
        "gen_status_map_docs", ROOT / "scripts" / "gen_status_map_docs.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- docs and version ----------------------------------------------------------------------------
def test_the_table_in_docs_is_generated_from_the_map():
    gen = _gen_script()
    text = (ROOT / "docs" / "status-map.md").read_text()
    assert gen.BEGIN in text and gen.END in text
    assert gen.refresh(text) == text, "docs/status-map.md is stale: run `make docs`"
    assert f"version **{STATUS_MAP_VERSION}**" in text


def test_changing_the_map_needs_a_new_version():
    assert KNOWN_FINGERPRINTS.get(STATUS_MAP_VERSION) == fingerprint(), (
        "the status map changed: bump STATUS_MAP_VERSION and pin its fingerprint here"
    )


def test_status_docs_are_linked():
    assert "status-map.md" in (ROOT / "docs" / "README.md").read_text()
    assert "status-map.md" in (ROOT / "docs" / "oms.md").read_text()


# -- the map covers what the edge really sends -----------------------------------------------------
def test_every_edge_fulfillment_order_status_is_mapped():
    assert FO_STATUSES == EDGE_FO_STATUSES
    for status in EDGE_FO_STATUSES:
        assert map_event(allocation.FO_CHANGED, status) is not None, status


def test_every_edge_event_in_the_map_is_one_the_edge_emits():
    emitted = {
        allocation.FO_CHANGED,
        allocation.FO_BACKORDERED,
        waves.WAVE_PLANNED,
        waves.WAVE_RELEASED,
        waves.WAVE_CANCELLED,
        shipping.SHIPMENT_CREATED,
        returns.RETURN_RECEIVED,
        returns.RETURN_CLOSED,
        returns.RETURN_CANCELLED,
    }
    from_edge = {row.event for row in STATUS_MAP if row.source == "edge"}
    assert from_edge == emitted
    assert set(EVENT_TYPES) == emitted | {"tracking.delivered"}


@pytest.mark.parametrize(
    ("event", "status", "expected"),
    [
        ("fulfillment_order.changed", "received", S.RELEASED),
        ("fulfillment_order.changed", "allocated", S.ALLOCATED),
        ("fulfillment_order.changed", "backordered", S.SHORT_AT_SITE),
        ("fulfillment_order.changed", "picking", S.PICKING),
        ("fulfillment_order.changed", "packed", S.PACKED),
        ("fulfillment_order.changed", "shipped", S.SHIPPED),
        ("fulfillment_order.changed", "cancelled", S.CANCELLED),
        ("wave.planned", None, S.WAVE_PLANNED),
        ("wave.released", None, S.PICKING),
        ("shipment.created", None, S.SHIPPED),
        ("tracking.delivered", None, S.DELIVERED),
        ("return.received", None, S.RETURN_RECEIVED),
        ("return.closed", None, S.RETURNED),
        ("fulfillment_order.backordered", None, None),
        ("wave.cancelled", None, None),
        ("fulfillment_order.changed", "teleported", None),
        ("inventory.changed", None, None),
    ],
)
def test_map_event(event, status, expected):
    assert map_event(event, status) == expected


def test_every_status_after_payment_reaches_a_journey_step_in_order():
    steps = [journey_step(s) for s in sorted(OmsStatus, key=rank) if journey_step(s)]
    positions = [JOURNEY_STEPS.index(step) for step in steps]
    assert positions == sorted(positions)
    assert set(steps) == set(JOURNEY_STEPS) - {"payment"}  # from the order's payment_status


# -- forward only ------------------------------------------------------------------------------
HAPPY_PATH = [
    ("fulfillment_order.changed", "received"),
    ("fulfillment_order.changed", "backordered"),
    ("fulfillment_order.changed", "allocated"),
    ("wave.planned", None),
    ("wave.released", None),
    ("fulfillment_order.changed", "picking"),
    ("fulfillment_order.changed", "packed"),
    ("shipment.created", None),
    ("fulfillment_order.changed", "shipped"),
    ("tracking.delivered", None),
    ("return.received", None),
    ("return.closed", None),
]


def test_the_happy_path_walks_the_whole_journey():
    status = S.RESERVED
    seen = []
    for event, payload in HAPPY_PATH:
        t = advance(status, event, payload)
        assert t is not None
        status = t.after
        seen.append((status, t.reason))
    assert [s for s, _ in seen] == [
        S.RELEASED,
        S.SHORT_AT_SITE,
        S.ALLOCATED,
        S.WAVE_PLANNED,
        S.PICKING,
        S.PICKING,
        S.PACKED,
        S.SHIPPED,
        S.SHIPPED,
        S.DELIVERED,
        S.RETURN_RECEIVED,
        S.RETURNED,
    ]
    assert seen[5][1] == "unchanged" and seen[8][1] == "unchanged"


def test_a_late_event_never_moves_an_order_back():
    t = advance(S.PICKING, "fulfillment_order.changed", "allocated")
    assert t is not None
    assert (t.after, t.reason, t.changed) == (S.PICKING, "stale", False)
    t = advance(S.DELIVERED, "shipment.created")
    assert t is not None and t.after == S.DELIVERED and t.reason == "stale"


def test_cancel_before_picking_is_terminal():
    t = advance(S.ALLOCATED, "fulfillment_order.changed", "cancelled")
    assert t is not None and t.after == S.CANCELLED and t.changed
    late = advance(S.CANCELLED, "wave.planned")
    assert late is not None and (late.after, late.reason) == (S.CANCELLED, "terminal")
    again = advance(S.CANCELLED, "fulfillment_order.changed", "cancelled")
    assert again is not None and again.reason == "unchanged"


def test_a_cancel_after_picking_is_a_conflict_and_changes_nothing():
    t = advance(S.PACKED, "fulfillment_order.changed", "cancelled")
    assert t is not None and (t.after, t.reason) == (S.PACKED, "conflict")


def test_noted_events_and_unknown_ones():
    t = advance(S.WAVE_PLANNED, "wave.cancelled")
    assert t is not None and (t.after, t.reason) == (S.WAVE_PLANNED, "noted")
    assert advance(S.ALLOCATED, "fulfillment_order.changed", "lost") is None
    assert advance(S.ALLOCATED, "pick_task.done") is None


@given(st.permutations(HAPPY_PATH), st.sampled_from([S.PARTIALLY_RESERVED, S.RESERVED]))
def test_any_delivery_order_ends_at_the_furthest_status_and_never_goes_back(events, start):
    status = start
    for event, payload in events:
        t = advance(status, event, payload)
        assert t is not None
        assert rank(t.after) >= rank(status)
        status = t.after
    assert status == S.RETURNED


# -- split orders --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], None),
        ([S.ALLOCATED], S.ALLOCATED),
        ([S.PICKING, S.ALLOCATED], S.ALLOCATED),
        ([S.SHIPPED, S.PACKED], S.PARTIALLY_SHIPPED),
        ([S.SHIPPED, S.DELIVERED], S.SHIPPED),
        ([S.DELIVERED, S.DELIVERED], S.DELIVERED),
        ([S.DELIVERED, S.RETURN_RECEIVED], S.RETURN_RECEIVED),
        ([S.SHIPPED, S.RETURNED], S.RETURN_RECEIVED),
        ([S.RETURNED, S.RETURNED], S.RETURNED),
        ([S.CANCELLED, S.PICKING], S.PICKING),
        ([S.CANCELLED, S.CANCELLED], S.CANCELLED),
        ([S.CANCELLED, S.SHIPPED], S.SHIPPED),
    ],
)
def test_rollup_of_a_split_order(statuses, expected):
    assert rollup(statuses) == expected
