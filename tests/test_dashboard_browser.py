"""The supervisors' page in Debian's chromium (Playwright, headless) against the real server
on loopback: log in, KPIs equal the API's, approve a variance, live updates, refusals."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from browser_support import browser, log_in, screenshot, seed_floor
from picking_support import stock_at

from conftest import assert_response, login_as, make_settings

SUMMARY = "/api/v1/dashboard/summary"


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    return make_settings(tmp_path, count_tolerance_units=100, count_approval_value=Decimal("0"))


@pytest.fixture
def chromium() -> Any:
    with browser() as b:
        yield b


def kpi(page: Any, name: str) -> str:
    return str(page.locator(f'[data-kpi="{name}"]').inner_text()).strip()


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:g} %"


def test_supervisor_sees_the_floor_approves_and_watches_it_live(live_edge, chromium, tmp_path):
    floor = seed_floor(live_edge)
    with live_edge.client() as http:
        api = assert_response(http.get(SUMMARY, headers=floor.supervisor.headers), 200)
    page = chromium.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(live_edge.url + "/")  # redirected to /dashboard/
    log_in(page, floor.supervisor_badge)
    page.wait_for_selector('[data-kpi="receiving-pct"]:not(:text("–"))')
    # The tiles show what the API computes.
    assert float(kpi(page, "receiving-pct").rstrip(" %")) == api["receiving"]["accuracy_pct"]
    assert kpi(page, "receiving-target") == pct(api["receiving"]["target_pct"])
    assert float(kpi(page, "pick-pct").rstrip(" %")) == api["picking"]["pick_accuracy_pct"]
    assert float(kpi(page, "scan-pct").rstrip(" %")) == api["picking"]["scan_accuracy_pct"]
    assert kpi(page, "mis-scans") == str(api["picking"]["mis_scans_total"]) == "1"
    assert kpi(page, "orders-open") == str(api["orders"]["open"])
    assert kpi(page, "awaiting-approval") == "1"
    assert kpi(page, "hh-offline") == str(api["handhelds"]["offline"])
    assert kpi(page, "ira-counted") == str(api["counting"]["ira"]["overall"]["counted"])
    assert page.locator('[data-chart="receiving"] svg[role="img"]').count() == 1
    assert page.locator('[data-chart="labor"] svg[role="img"]').count() >= 1
    stamp = page.locator('[data-testid="updated"]').inner_text()
    assert re.fullmatch(r"updated \d\d:\d\d:\d\d", stamp), stamp
    screenshot(page, tmp_path, "dashboard-seeded")

    # Approve the variance: the books change by the difference (5 on the books, 3 counted).
    before = stock_at(live_edge.services, floor.count_bin, floor.count_sku)
    page.get_by_label(f"Note for variance {floor.variance_id}").fill("recounted by hand")
    page.locator(f'[data-approve="{floor.variance_id}"]').click()
    page.wait_for_selector('[data-result="variances"]:has-text("approved")')
    # ...and the live stream brings the tile down without a reload.
    page.wait_for_selector('[data-kpi="awaiting-approval"]:text-is("0")')
    assert stock_at(live_edge.services, floor.count_bin, floor.count_sku) == before - 2 == 3
    with live_edge.client() as http:
        posted = assert_response(
            http.get("/api/v1/counts/variances?status=posted", headers=floor.supervisor.headers),
            200,
        )["items"]
    assert [v["id"] for v in posted] == [floor.variance_id]

    # A change made elsewhere (another order arrives) shows up live.
    from picking_support import make_order

    opened = int(kpi(page, "orders-open"))
    make_order(live_edge.services, "SO-LIVE", [("SOAP-1", 1)])
    page.wait_for_selector(f'[data-kpi="orders-open"]:text-is("{opened + 1}")')
    screenshot(page, tmp_path, "dashboard-live-update")


def test_server_refusals_are_shown_in_its_words(live_edge, chromium, tmp_path):
    sup = login_as(live_edge.services, "supervisor", badge="SUP-E")
    assert sup.role == "supervisor"
    page = chromium.new_page()
    page.goto(live_edge.url + "/dashboard/")
    log_in(page, "SUP-E")
    page.wait_for_selector('[data-testid="updated"]:has-text("updated ")')
    # Releasing a wave that does not exist, reassigning to an unknown badge: the server's text.
    page.get_by_label("Task id").fill("999")
    page.get_by_label("To badge").fill("NOBODY")
    page.get_by_role("button", name="Reassign").click()
    result = page.locator('[data-result="assign"]')
    result.wait_for()
    page.wait_for_function(
        "document.querySelector('[data-result=\"assign\"]').textContent !== 'Working…'"
    )
    assert "error-text" in (result.get_attribute("class") or "")
    assert result.inner_text().strip() not in ("", "Working…")
    # A pairing code, shown big.
    page.get_by_role("button", name="Create pairing code").click()
    page.wait_for_selector('[data-testid="pairing-code"]:not(:empty)')
    code = page.locator('[data-testid="pairing-code"]').inner_text().strip()
    assert live_edge.services.devices.pair(code, "hh-new").device_id > 0
    screenshot(page, tmp_path, "dashboard-actions")


def test_item_master_import_shows_its_report(live_edge, chromium, tmp_path):
    login_as(live_edge.services, "supervisor", badge="SUP-I")
    csv = tmp_path / "items.csv"
    header = "sku,description,gtin,uom,case_qty,weight_kg,length_cm,width_cm,height_cm,"
    header += "lot_tracked,expiry_tracked,velocity,size,colour\n"
    good = "NEW-1,A new thing,0614141000012,EA,1,0.2,10,10,10,N,N,A,,\n"
    bad = "NEW-2,Bad weight,,EA,1,heavy,10,10,10,N,N,A,,\n"
    csv.write_text(header + good + bad, encoding="utf-8")
    page = chromium.new_page()
    page.goto(live_edge.url + "/dashboard/")
    log_in(page, "SUP-I")
    page.wait_for_selector('[data-testid="updated"]:has-text("updated ")')
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Import items").click()
    page.wait_for_selector('[data-result="import"] p')
    text = page.locator('[data-result="import"]').inner_text()
    assert "1 created" in text and "1 refused" in text, text
    assert "line 3 · NEW-2 · weight_kg" in text, text
    screenshot(page, tmp_path, "dashboard-import")
    # A file the server refuses as a whole: its sentence and the missing columns.
    csv.write_text("sku,description\nNEW-3,x\n", encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Import items").click()
    page.wait_for_selector('[data-result="import"]:has-text("required columns")')
    assert "uom" in page.locator('[data-result="import"]').inner_text()


@pytest.mark.parametrize("role", ["picker", "integration-user"])
def test_non_supervisors_are_refused(live_edge, chromium, tmp_path, role):
    services = live_edge.services
    if role == "picker":
        services.users.create(badge="PICK-X", pin="1234", role="picker")
        badge = "PICK-X"
    else:
        services.users.create(badge="INT-X", pin="1234", role="integration")
        badge = "INT-X"
    page = chromium.new_page()
    page.goto(live_edge.url + "/dashboard/")
    log_in(page, badge)
    error = page.locator("#login-error")
    page.wait_for_selector("#login-error:not(:empty)")
    assert "Only supervisors and administrators" in error.inner_text()
    assert page.locator("#dashboard").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    screenshot(page, tmp_path, f"dashboard-refused-{role}")


def test_a_missing_chromium_fails_with_the_fix(monkeypatch, tmp_path):
    import browser_support

    monkeypatch.setattr(browser_support, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match=r"scripts/system_packages\.sh"):
        browser_support.require_chromium()
