"""Label previews: real PNG/PDF files whose barcodes scan back to the label's data."""

from __future__ import annotations

import io
import re

from label_helpers import scan_image
from PIL import Image

from protocols.barcodes import GS, ScanKind, parse_scan

from conftest import assert_response
from factories import make_item, make_site

GTIN = "09501101530003"


def _png(resp) -> Image.Image:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(resp.content))
    image.load()
    return image


def test_lpn_preview_png_scans_back(edge, services, as_role):
    make_item(services.db, "SKU-1", gtin=GTIN)
    picker = as_role("picker")  # previews are for anyone on the floor
    resp = edge.get(
        "/api/v1/labels/preview/lpn",
        params={
            "lpn": "LPN000012348",
            "sku": "SKU-1",
            "qty": 24,
            "lot": "B7",
            "expiry": "2026-03-31",
        },
        headers=picker.headers,
    )
    image = _png(resp)
    assert image.size == (812, 1218)  # 4 x 6 in at 203 dpi
    found = {r.symbology_identifier: r for r in scan_image(image)}
    assert set(found) == {"]C0", "]C1"}
    assert found["]C0"].text == "LPN000012348"
    content = found["]C1"].bytes.decode()
    assert content == f"01{GTIN}17260331" + f"3024{GS}10B7"
    scan = parse_scan("]C1" + content)
    assert (scan.kind, scan.count, scan.lot) == (ScanKind.ITEM, 24, "B7")


def test_sscc_preview_pdf(edge, services, as_role):
    make_item(services.db, "SKU-1", gtin=GTIN)
    sup = as_role("supervisor")
    params = {"sscc": "340123450000000000", "sku": "SKU-1", "qty": 2, "format": "pdf"}
    resp = edge.get("/api/v1/labels/preview/lpn", params=params, headers=sup.headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF-")
    # One page of 4 x 6 inches (288 x 432 points).
    box = re.search(rb"/MediaBox \[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", resp.content)
    assert box is not None
    assert (float(box[1]), float(box[2])) == (288.0, 432.0)


def test_sscc_preview_barcode_is_gs1_128(edge, services, as_role):
    make_item(services.db, "SKU-1")  # no GTIN: only the SSCC barcode
    sup = as_role("supervisor")
    params = {"sscc": "340123450000000000", "sku": "SKU-1", "qty": 2}
    image = _png(edge.get("/api/v1/labels/preview/lpn", params=params, headers=sup.headers))
    (only,) = scan_image(image)
    assert only.symbology_identifier == "]C1"
    assert parse_scan("]C1" + only.bytes.decode()).sscc == "340123450000000000"


def test_bin_preview_scans_as_the_location(edge, services, as_role):
    make_site(services.db, bins={"A03-07-2L": "pick_face", "RETURNS": "returns"})
    counter = as_role("counter")
    for code, printed in (("A03-07-2L", "A03-07-2L"), ("RETURNS", "L:RETURNS")):
        image = _png(edge.get(f"/api/v1/labels/preview/bin/{code}", headers=counter.headers))
        assert image.size == (812, 406)  # 4 x 2 in
        (found,) = scan_image(image)
        assert found.text == printed
        assert parse_scan(found.text, symbology="]C0").value == code
    resp = edge.get("/api/v1/labels/preview/bin/A99-01-1L", headers=counter.headers)
    assert_response(resp, 404, code="UNKNOWN_LOCATION")


def test_preview_needs_a_login(edge):
    resp = edge.get("/api/v1/labels/preview/bin/A03-07-2L")
    assert_response(resp, 401, code="AUTH_REQUIRED")
