"""Pick tasks: one line per allocation in route order over the site's layout, cart positions,
the drop location, zone filtering, and every refusal leaving nothing behind."""

from __future__ import annotations

import pytest
from picking_support import (
    make_order,
    make_task,
    outbox,
    picking_site,
    put_stock,
    snapshot,
)

from edge_server.errors import AislewayError
from edge_server.services import Services
from edge_server.wms.outbound.pick_tasks import create_pick_task
from edge_server.wms.routing.router import route, route_length
from protocols.errors import ErrorCode


@pytest.fixture
def site(services: Services):
    return picking_site(services)


def task_lines(services: Services, task_id: int) -> list[dict]:
    return services.db.query(
        "SELECT pl.seq, l.code AS bin, i.sku, pl.lot, pl.qty, fo.number, pto.position "
        "FROM pick_lines pl JOIN locations l ON l.id = pl.location_id "
        "JOIN items i ON i.id = pl.item_id JOIN fo_lines fl ON fl.id = pl.order_line_id "
        "JOIN fulfillment_orders fo ON fo.id = fl.order_id "
        "JOIN pick_task_orders pto ON pto.task_id = pl.task_id AND pto.order_id = fo.id "
        "WHERE pl.task_id = ? ORDER BY pl.seq",
        [task_id],
    )


def refused(services: Services, code: ErrorCode, **kw) -> AislewayError:
    before = snapshot(services)
    with pytest.raises(AislewayError) as caught, services.db.write() as w:
        create_pick_task(w, "CHI", **kw)
    assert caught.value.code is code, caught.value
    assert snapshot(services) == before
    return caught.value


def test_a_discrete_task_has_a_line_per_allocation_in_route_order(services, site):
    # far bins first in the order, a near one last: the task walks them by the route
    put_stock(services, "A04-05-1R", "SOAP-1", 5)
    put_stock(services, "A01-01-1L", "MUG-1", 5)
    put_stock(services, "A02-03-1L", "JAM-1", 2)
    put_stock(services, "A03-02-1R", "JAM-1", 5)
    order = make_order(services, "SO-1", [("SOAP-1", 2), ("JAM-1", 4), ("MUG-1", 1)])
    task_id = make_task(services, [order])
    lines = task_lines(services, task_id)
    bins = {ln["bin"] for ln in lines}
    assert bins == {"A04-05-1R", "A01-01-1L", "A02-03-1L", "A03-02-1R"}
    expected = route(site, bins)
    assert [ln["bin"] for ln in lines] == expected.sequence
    assert sorted((ln["sku"], ln["qty"]) for ln in lines) == [
        ("JAM-1", 2),
        ("JAM-1", 2),
        ("MUG-1", 1),
        ("SOAP-1", 2),
    ]
    task = services.db.query_one("SELECT * FROM pick_tasks WHERE id = ?", [task_id])
    assert task["strategy"] == "discrete" and task["status"] == "open"
    assert task["route_length_m"] == pytest.approx(expected.length)
    assert task["route_length_m"] == pytest.approx(route_length(site, expected.sequence))
    assert task["route_method"] == expected.method
    drop = services.db.query_one(
        "SELECT code FROM locations WHERE id = ?", [task["drop_location_id"]]
    )
    assert drop["code"] == "PACK-01"
    assert (
        services.db.query_one("SELECT status FROM fulfillment_orders WHERE id = ?", [order])[
            "status"
        ]
        == "picking"
    )
    assert outbox(services, "fulfillment_order.changed")[-1] == {
        "site": "CHI",
        "number": "SO-1",
        "status": "picking",
        "outcome": "picking",
    }


def test_a_batch_task_puts_orders_at_positions_and_lines_at_one_bin_together(services, site):
    put_stock(services, "A02-01-1L", "SOAP-1", 20)
    put_stock(services, "A01-03-1R", "MUG-1", 20)
    a = make_order(services, "SO-A", [("SOAP-1", 1), ("MUG-1", 1)])
    b = make_order(services, "SO-B", [("MUG-1", 2)])
    c = make_order(services, "SO-C", [("SOAP-1", 3)])
    task_id = make_task(services, [c, a, b])
    positions = services.db.query(
        "SELECT fo.number, pto.position FROM pick_task_orders pto "
        "JOIN fulfillment_orders fo ON fo.id = pto.order_id WHERE task_id = ? ORDER BY position",
        [task_id],
    )
    assert [(p["number"], p["position"]) for p in positions] == [
        ("SO-C", 1),
        ("SO-A", 2),
        ("SO-B", 3),
    ]
    lines = task_lines(services, task_id)
    sequence = route(site, {"A02-01-1L", "A01-03-1R"}).sequence
    assert [ln["bin"] for ln in lines] == [
        sequence[0],
        sequence[0],
        sequence[1],
        sequence[1],
    ]
    for code in sequence:  # at one bin: by cart position
        at = [ln["position"] for ln in lines if ln["bin"] == code]
        assert at == sorted(at)
    assert [ln["seq"] for ln in lines] == [1, 2, 3, 4]


def test_a_zone_task_takes_only_that_zones_allocations(services, site):
    put_stock(services, "A01-02-1L", "SOAP-1", 5)
    put_stock(services, "C01-01-1L", "MUG-1", 5)
    order = make_order(services, "SO-1", [("SOAP-1", 1), ("MUG-1", 2)])
    cold = make_task(services, [order], zone="COLD")
    assert [(ln["bin"], ln["sku"]) for ln in task_lines(services, cold)] == [("C01-01-1L", "MUG-1")]
    # the same order's other zone gets its own task, although the order is picking now
    ambient = make_task(services, [order], zone="A")
    assert [(ln["bin"], ln["sku"]) for ln in task_lines(services, ambient)] == [
        ("A01-02-1L", "SOAP-1")
    ]
    task = services.db.query_one("SELECT zone, strategy FROM pick_tasks WHERE id = ?", [cold])
    assert task == {"zone": "COLD", "strategy": "zone"}


def test_an_allocation_is_in_one_open_task_only(services, site):
    put_stock(services, "A01-02-1L", "SOAP-1", 5)
    order = make_order(services, "SO-1", [("SOAP-1", 2)])
    make_task(services, [order])
    err = refused(services, ErrorCode.PICK_NOTHING_TO_PICK, strategy="discrete", order_ids=[order])
    assert err.details == {"number": "SO-1"}


def test_orders_that_cannot_be_picked_are_refused(services, site):
    put_stock(services, "A01-02-1L", "SOAP-1", 5)
    received = make_order(services, "SO-R", [("SOAP-1", 1)], allocate=False)
    err = refused(
        services, ErrorCode.PICK_ORDER_NOT_READY, strategy="discrete", order_ids=[received]
    )
    assert err.details == {"number": "SO-R", "status": "received"}
    # backordered with nothing allocated: nothing to pick
    empty = make_order(services, "SO-E", [("JAM-1", 1)])
    refused(services, ErrorCode.PICK_NOTHING_TO_PICK, strategy="discrete", order_ids=[empty])
    # one bad order in a batch refuses the whole batch
    good = make_order(services, "SO-G", [("SOAP-1", 1)])
    refused(services, ErrorCode.PICK_ORDER_NOT_READY, strategy="batch", order_ids=[good, received])
    refused(services, ErrorCode.FO_NOT_FOUND, strategy="discrete", order_ids=[9999])
    # nothing in that zone
    refused(
        services,
        ErrorCode.PICK_NOTHING_TO_PICK,
        strategy="zone",
        zone="COLD",
        order_ids=[good],
    )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"strategy": "discrete", "order_ids": []}, "order_ids"),
        ({"strategy": "batch", "order_ids": [1, 1]}, "order_ids"),
        ({"strategy": "discrete", "order_ids": [1, 2]}, "order_ids"),
        ({"strategy": "zone", "order_ids": [1]}, "zone"),
        ({"strategy": "batch", "order_ids": [1], "zone": "A"}, "zone"),
        ({"strategy": "zone", "order_ids": [1], "zone": "NOPE"}, "zone"),
        ({"strategy": "batch", "order_ids": [1], "wave_id": 77}, "wave_id"),
        ({"strategy": "cluster", "order_ids": [1]}, "strategy"),
    ],
)
def test_bad_arguments_are_refused(services, site, kw, field):
    put_stock(services, "A01-02-1L", "SOAP-1", 5)
    make_order(services, "SO-1", [("SOAP-1", 1)])
    make_order(services, "SO-2", [("SOAP-1", 1)])
    err = refused(services, ErrorCode.VALIDATION_FAILED, **kw)
    assert field in err.details["fields"]


def test_a_site_without_a_packing_location_cannot_make_tasks(services, site):
    put_stock(services, "A01-02-1L", "SOAP-1", 5)
    order = make_order(services, "SO-1", [("SOAP-1", 1)])
    with services.db.write() as w:
        w.execute("UPDATE locations SET active = 0 WHERE type = 'packing'")
    refused(services, ErrorCode.PICK_NO_PACKING_LOCATION, strategy="discrete", order_ids=[order])
