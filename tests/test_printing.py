"""Printers and the print queue: raw TCP to a printer on 127.0.0.1, one job per connection,
one job at a time per printer, jobs kept and retried when the printer is down."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from label_helpers import FakePrinter, closed_port

from edge_server.labels import PrintSpooler, print_lpn_label, printers
from edge_server.services import Services
from edge_server.settings import Settings

from conftest import assert_response, make_settings
from factories import make_item, make_site

GTIN = "09501101530003"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The retry thread waits a minute after a failure unless a test asks for less.
    return make_settings(
        tmp_path,
        printer_allow_loopback=True,
        printer_timeout_seconds=2.0,
        print_backoff_base_seconds=60.0,
    )


@pytest.fixture
def printer() -> Any:
    fake = FakePrinter().start()
    yield fake
    fake.stop()


@pytest.fixture
def site(services: Services) -> None:
    make_site(services.db)
    make_item(services.db, "SKU-1", gtin=GTIN)


def _put_printer(edge: Any, who: Any, name: str, port: int, host: str = "127.0.0.1") -> Any:
    return edge.put(
        f"/api/v1/printers/{name}", json={"host": host, "port": port}, headers=who.with_key()
    )


def _lpn_body(**kw: Any) -> dict[str, Any]:
    return {"printer": "dock", "lpn": "LPN000012348", "sku": "SKU-1", "qty": 5, **kw}


def _job(services: Services, job_id: int) -> dict[str, Any]:
    return printers.get_job(services.db, services.settings.site, job_id)


def test_lpn_label_reaches_the_printer_exactly_once(edge, services, as_role, site, printer):
    sup, receiver = as_role("supervisor"), as_role("receiver")
    assert_response(_put_printer(edge, sup, "dock", printer.port), 200)
    headers = receiver.with_key()
    resp = edge.post("/api/v1/labels/lpn", json=_lpn_body(lot="L1"), headers=headers)
    jobs = assert_response(resp, 201)["jobs"]
    assert [j["status"] for j in jobs] == ["sent"]
    received = printer.wait_for(1)
    assert received == [_job(services, jobs[0]["id"])["zpl"].encode()]
    assert b"^FDLPN000012348^FS" in received[0]
    # The same request again (a lost answer): same job, nothing printed twice.
    again = edge.post("/api/v1/labels/lpn", json=_lpn_body(lot="L1"), headers=headers)
    assert assert_response(again, 201)["jobs"][0]["id"] == jobs[0]["id"]
    time.sleep(0.3)
    assert len(printer.jobs) == 1


def test_bin_labels_one_connection_per_label(edge, services, as_role, site, printer):
    sup = as_role("supervisor")
    _put_printer(edge, sup, "dock", printer.port)
    with services.db.write() as w:
        w.execute("UPDATE locations SET block = 'A', aisle = 1 WHERE code LIKE 'A01-%'")
    resp = edge.post(
        "/api/v1/labels/bins",
        json={"printer": "dock", "block": "A", "aisle": 1},
        headers=sup.with_key(),
    )
    jobs = assert_response(resp, 201)["jobs"]
    assert [j["ref"] for j in jobs] == ["A01-01-1L", "A01-02-1L"]
    received = printer.wait_for(2)
    assert sorted(received) == sorted(_job(services, j["id"])["zpl"].encode() for j in jobs)
    assert all(r.count(b"^XA") == 1 for r in received)
    resp = edge.post(
        "/api/v1/labels/bins",
        json={"printer": "dock", "codes": ["DOCK-01", "NOPE-01"]},
        headers=sup.with_key(),
    )
    assert_response(resp, 404, code="UNKNOWN_LOCATION")


def test_concurrent_jobs_arrive_whole(edge, services, as_role, site, printer):
    sup = as_role("supervisor")
    _put_printer(edge, sup, "dock", printer.port)

    def post(i: int) -> Any:
        body = _lpn_body(qty=i + 1, lot=f"LOT{i}" * 3)
        return edge.post("/api/v1/labels/lpn", json=body, headers=sup.with_key())

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(post, range(6)))
    ids = [assert_response(r, 201)["jobs"][0]["id"] for r in responses]
    expected = sorted(_job(services, i)["zpl"].encode() for i in ids)
    assert sorted(printer.wait_for(6)) == expected


def test_one_job_at_a_time_per_printer(services, monkeypatch):
    """The per-printer lock: jobs to one printer never overlap; two printers do not wait."""
    make_item(services.db, "SKU-1", gtin=GTIN)
    active: dict[str, int] = {}
    most: dict[str, int] = {}
    guard = threading.Lock()

    def slow_send(host: str, port: int, data: bytes, **kw: Any) -> None:
        with guard:
            active[host] = active.get(host, 0) + 1
            most[host] = max(most.get(host, 0), active[host])
            most["all"] = max(most.get("all", 0), sum(active.values()))
        time.sleep(0.15)
        with guard:
            active[host] -= 1

    monkeypatch.setattr(printers, "send_raw", slow_send)
    with services.db.write() as w:
        printers.upsert_printer(w, "CHI", "p1", host="10.0.0.1")
        printers.upsert_printer(w, "CHI", "p2", host="10.0.0.2")
    ids = [
        print_lpn_label(services.db, "CHI", name, lpn="LPN000012348", sku="SKU-1", qty=1)
        for name in ("p1", "p1", "p1", "p2", "p2")
    ]
    spooler = PrintSpooler(services.db, services.settings)
    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda i: spooler.dispatch([i]), ids))
    assert all(r[0]["status"] == "sent" for r in results)
    assert (most["10.0.0.1"], most["10.0.0.2"]) == (1, 1)
    # ...while two printers do run side by side (else the test proves nothing).
    most.clear()
    with ThreadPoolExecutor(2) as pool:
        more = [
            print_lpn_label(services.db, "CHI", n, lpn="LPN000012348", sku="SKU-1", qty=1)
            for n in ("p1", "p2")
        ]
        list(pool.map(lambda i: spooler.dispatch([i]), more))
    assert most["all"] == 2


def test_unreachable_printer_keeps_the_job_and_retry_sends_it_once(edge, services, as_role, site):
    sup, receiver = as_role("supervisor"), as_role("receiver")
    port = closed_port()
    _put_printer(edge, sup, "dock", port)
    resp = edge.post("/api/v1/labels/lpn", json=_lpn_body(), headers=receiver.with_key())
    assert resp.status_code == 503
    body = resp.json()
    assert body["message"]["code"] == "PRINTER_UNREACHABLE"
    assert "refused" in body["message"]["details"]["error"].lower()
    (job,) = body["message"]["details"]["jobs"]
    assert (job["status"], job["attempts"]) == ("queued", 1)
    listed = assert_response(
        edge.get("/api/v1/print-jobs?status=queued", headers=receiver.headers), 200
    )
    assert [j["id"] for j in listed] == [job["id"]]

    printer = FakePrinter(port=port).start()
    try:
        retry = edge.post(f"/api/v1/print-jobs/{job['id']}/retry", headers=receiver.with_key())
        (after,) = assert_response(retry, 200)["jobs"]
        assert (after["status"], after["attempts"]) == ("sent", 2)
        time.sleep(0.3)
        assert printer.wait_for(1) == [_job(services, job["id"])["zpl"].encode()]
        again = edge.post(f"/api/v1/print-jobs/{job['id']}/retry", headers=receiver.with_key())
        assert_response(again, 409, code="PRINT_JOB_DONE")
        assert len(printer.jobs) == 1
    finally:
        printer.stop()


def test_spooler_retries_with_backoff_until_the_printer_is_back(tmp_path):
    from fastapi.testclient import TestClient

    from edge_server.app import create_app
    from edge_server.services import open_services

    settings = make_settings(
        tmp_path,
        printer_allow_loopback=True,
        print_backoff_base_seconds=0.2,
        print_backoff_max_seconds=0.4,
    )
    services = open_services(settings)
    make_item(services.db, "SKU-1", gtin=GTIN)
    port = closed_port()
    with services.db.write() as w:
        printers.upsert_printer(w, "CHI", "dock", host="127.0.0.1", port=port)
    try:
        with TestClient(create_app(settings, services)):
            job_id = print_lpn_label(
                services.db, "CHI", "dock", sscc="340123450000000000", sku="SKU-1", qty=3
            )
            deadline = time.monotonic() + 5
            while _job(services, job_id)["attempts"] < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            job = _job(services, job_id)
            assert job["status"] == "queued" and job["attempts"] >= 2
            printer = FakePrinter(port=port).start()
            try:
                assert len(printer.wait_for(1, timeout=5)) == 1
                time.sleep(1.0)  # several backoff steps: still exactly once
                assert printer.jobs == [job["zpl"].encode()]
                assert _job(services, job_id)["status"] == "sent"
            finally:
                printer.stop()
    finally:
        services.db.close()


def test_attempts_run_out_then_only_a_person_retries(services):
    make_item(services.db, "SKU-1")
    port = closed_port()
    with services.db.write() as w:
        printers.upsert_printer(w, "CHI", "dock", host="127.0.0.1", port=port)
    settings = services.settings.model_copy(update={"print_max_attempts": 2})
    spooler = PrintSpooler(services.db, settings)
    job_id = print_lpn_label(services.db, "CHI", "dock", lpn="LPN000012348", sku="SKU-1", qty=1)
    assert spooler.dispatch([job_id])[0]["status"] == "queued"
    (job,) = spooler.dispatch([job_id])
    assert (job["status"], job["attempts"]) == ("failed", 2)
    assert spooler.run_once()[0] == 0  # failed jobs are not retried by the thread


def test_printer_addresses(edge, as_role):
    sup = as_role("supervisor")
    for host in ("169.254.169.254", "0.0.0.0", "224.0.0.1", "bad host!", "-x.lan"):
        resp = edge.put("/api/v1/printers/p1", json={"host": host}, headers=sup.with_key())
        assert_response(resp, 422, code="PRINTER_HOST_INVALID")
    ok = edge.put("/api/v1/printers/p1", json={"host": "ZT410-Dock.lan"}, headers=sup.with_key())
    data = assert_response(ok, 200)
    assert (data["host"], data["port"], data["kind"]) == ("zt410-dock.lan", 9100, "zpl")
    edge.put("/api/v1/printers/p2", json={"host": "10.1.2.3", "port": 6101}, headers=sup.with_key())
    listed = assert_response(edge.get("/api/v1/printers", headers=sup.headers), 200)
    assert [(p["name"], p["host"], p["port"]) for p in listed] == [
        ("p1", "zt410-dock.lan", 9100),
        ("p2", "10.1.2.3", 6101),
    ]


def test_loopback_printers_need_the_setting(services):
    from edge_server.errors import AislewayError

    with pytest.raises(AislewayError) as refused:
        printers.check_printer_host("127.0.0.1", allow_loopback=False)
    assert refused.value.code.value == "PRINTER_HOST_INVALID"
    with pytest.raises(printers.PrinterError, match="loopback"):
        printers.send_raw("localhost", 9, b"x", timeout=1, allow_loopback=False)
    assert printers.check_printer_host("::1", allow_loopback=True) == "::1"


def test_who_may_print_and_manage_printers(edge, as_role, site, printer):
    picker, receiver, sup = as_role("picker"), as_role("receiver"), as_role("supervisor")
    resp = _put_printer(edge, picker, "dock", printer.port)
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    assert_response(_put_printer(edge, receiver, "dock", printer.port), 403, code="FORBIDDEN_ROLE")
    assert_response(_put_printer(edge, sup, "dock", printer.port), 200)
    resp = edge.post("/api/v1/labels/lpn", json=_lpn_body(), headers=picker.with_key())
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    resp = edge.post("/api/v1/labels/lpn", json=_lpn_body(printer="nope"), headers=sup.with_key())
    assert_response(resp, 404, code="PRINTER_UNKNOWN")
    assert printer.jobs == []


def test_bad_label_data_is_refused_and_queues_nothing(edge, services, as_role, site, printer):
    sup = as_role("supervisor")
    _put_printer(edge, sup, "dock", printer.port)
    resp = edge.post(
        "/api/v1/labels/lpn", json=_lpn_body(lpn="LPN000012349"), headers=sup.with_key()
    )
    assert_response(resp, 422, code="BARCODE_CHECK_DIGIT")
    resp = edge.post("/api/v1/labels/lpn", json=_lpn_body(sku="NOPE"), headers=sup.with_key())
    assert_response(resp, 404, code="UNKNOWN_ITEM")
    both = _lpn_body(sscc="340123450000000000")
    assert_response(edge.post("/api/v1/labels/lpn", json=both, headers=sup.with_key()), 422)
    assert printers.list_jobs(services.db, "CHI") == []
