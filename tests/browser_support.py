"""The dashboard's tests: a floor with some activity (seeded through the real API), and
Playwright driving Debian's chromium (never a downloaded browser).

    floor = seed_floor(live_edge)          # a receipt, a pick with a mis-scan, a count variance
    with browser() as b:                   # fails (not skips) without /usr/bin/chromium
        page = b.new_page(); page.goto(live_edge.url + "/dashboard/")
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from picking_support import Picker, gtin13, make_order, make_task, picking_site, put_stock
from receiving_support import Handheld, make_po

from conftest import Caller, LiveEdge, assert_response, login_as

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: Screenshots are also copied here (gitignored) so a CI run can keep them.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "dashboard"
PIN = "1234"
COUNT_BIN = "A01-02-1L"
_keys = itertools.count(1)


@dataclass
class Floor:
    """What `seed_floor` made: who did it, and the variance waiting for approval."""

    supervisor: Caller
    supervisor_badge: str
    variance_id: int
    count_bin: str
    count_sku: str


def _post(http: Any, who: Caller, path: str, body: dict[str, Any], status: int = 200) -> Any:
    resp = http.post(path, json=body, headers=who.with_key(f"dash-{next(_keys)}"))
    return assert_response(resp, status)


def seed_floor(edge: LiveEdge) -> Floor:
    """Through the API: PO line received short of a correction-free match (1 of 2 lines
    accurate), a pick with one wrong-bin scan, and a bin count of MUG-1 that found 3 where the
    books hold 5 (worth 2.50 each; the test settings hold every valued variance for
    approval)."""
    services = edge.services
    picking_site(services)
    with services.db.write() as w:
        w.execute("UPDATE items SET unit_cost = '2.50' WHERE sku = 'MUG-1'")
    put_stock(services, "A01-01-1L", "SOAP-1", 10)
    put_stock(services, COUNT_BIN, "MUG-1", 5)
    with edge.client() as http:
        # Receiving: JAM-1 as expected; TEA-1 recounted (a correction → not accurate).
        make_po(services, "PO-D1", [("JAM-1", 4), ("MUG-1", 2)])
        rec = Handheld(http, login_as(services, "receiver", badge="REC-D"))
        rec.step("start", {"po": "PO-D1"})
        rec.step("scan", {"barcode": gtin13("JAM-1")})
        rec.step("quantity", {"qty": 4})
        rec.step("lpn", {})
        rec.step("scan", {"barcode": gtin13("MUG-1")})
        rec.step("quantity", {"qty": 3})
        rec.step("quantity", {"qty": 2})  # recounted: a correction
        rec.step("lpn", {})
        rec.step("close", {})
        # Picking: one wrong bin scanned, then the pick done right.
        task_id = make_task(services, [make_order(services, "SO-D1", [("SOAP-1", 3)])])
        picker = Picker(http, login_as(services, "picker", badge="PICK-D"))
        picker.claim(task_id)
        picker.bind("TOTE-0001")
        wrong = picker.post("scan-bin", {"barcode": "A01-03-1L"})
        assert wrong.status_code >= 400, wrong.text
        picker.pick_all()
        # Counting: a blind bin count that finds 3 of the 5 on the books.
        sup_badge = "SUP-D"
        sup = login_as(services, "supervisor", badge=sup_badge)
        task = _post(http, sup, "/api/v1/counts/tasks", {"kind": "bin", "location": COUNT_BIN}, 201)
        count_id = task["task"]["id"] if "task" in task else task["id"]
        counter = login_as(services, "counter", badge="CNT-D")
        _post(http, counter, f"/api/v1/counts/tasks/{count_id}/claim", {})
        _post(
            http,
            counter,
            f"/api/v1/counts/tasks/{count_id}/lines",
            {"location": COUNT_BIN, "sku": "MUG-1", "qty": 3},
            201,
        )
        outcome = _post(http, counter, f"/api/v1/counts/tasks/{count_id}/submit", {})
        assert outcome["outcome"] == "awaiting_approval", outcome
        waiting = assert_response(
            http.get("/api/v1/counts/variances?status=awaiting_approval", headers=sup.headers),
            200,
        )["items"]
    assert len(waiting) == 1, waiting
    return Floor(
        supervisor=sup,
        supervisor_badge=sup_badge,
        variance_id=int(waiting[0]["id"]),
        count_bin=COUNT_BIN,
        count_sku="MUG-1",
    )


# -- the browser -------------------------------------------------------------------------------
def require_chromium() -> None:
    """Fail (never skip) when Debian's chromium is missing: the browser tests are required."""
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is not installed (/usr/bin/chromium): run "
            "scripts/system_packages.sh (never `playwright install`).",
            pytrace=False,
        )


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Debian chromium through Playwright's sync API (its own event loop: keep it
    out of asyncio tests)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    """Save a full-page screenshot under the test's tmp_path and copy it to ARTIFACTS."""
    out = tmp_path / f"{name}.png"
    page.screenshot(path=str(out), full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy2(out, ARTIFACTS / out.name)
    return out


def log_in(page: Any, badge: str, pin: str = PIN) -> None:
    page.get_by_label("Badge", exact=True).fill(badge)
    page.get_by_label("PIN", exact=True).fill(pin)
    page.get_by_role("button", name="Log in").click()
