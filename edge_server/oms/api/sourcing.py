"""Sourcing data and decisions over HTTP: a site's handling costs, capacity, time zone and
carrier services, item weights, the split penalty, and why an order ships from where (rules
in oms/sourcing_adapter.py; docs/sourcing.md#wiring)."""

# No `from __future__ import annotations`: FastAPI must see the real objects (see oms/deps.py).
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.errors import AislewayError
from edge_server.oms import orders
from edge_server.oms import sourcing_adapter as adapter
from edge_server.oms.api.orders import Number, _visible
from edge_server.oms.deps import OmsCaller, OmsDep, OmsMutates, OmsMutation, OmsRequires
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import fetch_rows
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.orders import SITE_CODE_PATTERN
from protocols.rates import SERVICE_CODE_PATTERN, CarrierServiceIn

router = APIRouter(tags=["sourcing"])

SiteReader = Annotated[OmsCaller, Depends(OmsRequires("oms.sites.read"))]
Manager = Annotated[OmsMutation, Depends(OmsMutates("oms.sites.manage"))]
OrderReader = Annotated[OmsCaller, Depends(OmsRequires("oms.orders.read"))]
Code = Annotated[str, Path(pattern=SITE_CODE_PATTERN, description="Site code: CHI.")]
Service = Annotated[str, Path(pattern=SERVICE_CODE_PATTERN, description="Service code.")]
Sku = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^\S+$")]


@router.get("/sites/{code}/sourcing", response_model=Envelope[dict[str, Any]])
def get_site_sourcing(code: Code, oms: OmsDep, who: SiteReader) -> dict[str, Any]:
    """A site's handling costs, daily capacity (and orders counted today), time zone and the
    carrier services on record with their rate cards."""
    return {"data": adapter.site_sourcing_view(oms.db, code)}


@router.put("/sites/{code}/sourcing", response_model=Envelope[dict[str, Any]])
def put_site_sourcing(
    code: Code, body: adapter.SiteSourcingIn, oms: OmsDep, m: Manager
) -> JSONResponse:
    """Set a site's handling per order and per line, daily order capacity (null: no limit)
    and time zone."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = adapter.put_site_sourcing(w, code, body)
        return 200, ok({"sourcing": adapter.site_sourcing_view(w, code), "outcome": outcome})

    return reply(*m.run({"code": code, "sourcing": body.model_dump(mode="json")}, effect))


@router.put("/sites/{code}/carrier-services/{service}", response_model=Envelope[dict[str, Any]])
def put_carrier_service(
    code: Code, service: Service, body: CarrierServiceIn, oms: OmsDep, m: Manager
) -> JSONResponse:
    """Record a site's carrier service by hand (normally the site's `carrier_service.changed`
    events keep them): cutoff, ship days, rate card."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        payload = {**body.model_dump(mode="json"), "code": service, "updated_at": iso()}
        outcome = adapter.upsert_site_carrier_service(w, code, payload)
        return 200, ok({"sourcing": adapter.site_sourcing_view(w, code), "outcome": outcome})

    body_json = body.model_dump(mode="json")
    return reply(*m.run({"code": code, "service": service, "body": body_json}, effect))


@router.get("/sourcing/settings", response_model=Envelope[dict[str, Any]])
def get_settings(oms: OmsDep, who: SiteReader) -> dict[str, Any]:
    """The split penalty and the most sites an order ships from."""
    return {"data": adapter.sourcing_settings_view(oms.db)}


@router.put("/sourcing/settings", response_model=Envelope[dict[str, Any]])
def put_settings(body: adapter.SourcingSettingsIn, oms: OmsDep, m: Manager) -> JSONResponse:
    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = adapter.put_sourcing_settings(w, body)
        return 200, ok({"settings": adapter.sourcing_settings_view(w), "outcome": outcome})

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.put("/items/{sku}", response_model=Envelope[dict[str, Any]])
def put_item(sku: Sku, body: adapter.ItemIn, oms: OmsDep, m: Manager) -> JSONResponse:
    """Set one SKU's unit weight (kg), which sourcing prices shipments on."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = adapter.put_item(w, sku, body.weight_kg)
        return 200, ok({"sku": sku, "weight_kg": str(body.weight_kg), "outcome": outcome})

    return reply(*m.run({"sku": sku, **body.model_dump(mode="json")}, effect))


@router.post("/items", response_model=Envelope[dict[str, Any]])
def post_items(body: adapter.ItemsIn, oms: OmsDep, m: Manager) -> JSONResponse:
    """Many SKUs' weights at once (a catalogue snapshot); counts per outcome."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for item in body.items:
            counts[adapter.put_item(w, item.sku, item.weight_kg)] += 1
        return 200, ok(counts)

    return reply(*m.run(body.model_dump(mode="json"), effect))


@router.get("/items/{sku}", response_model=Envelope[dict[str, Any]])
def get_item(sku: Sku, oms: OmsDep, who: SiteReader) -> dict[str, Any]:
    rows = fetch_rows(oms.db, "SELECT sku, weight_kg, updated_at FROM items WHERE sku = ?", [sku])
    if not rows:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"sku": sku})
    return {"data": rows[0]}


@router.get("/orders/{number}/sourcing", response_model=Envelope[dict[str, Any]])
def get_order_sourcing(number: Number, oms: OmsDep, who: OrderReader) -> dict[str, Any]:
    """Why the order ships from where: every sourcing decision taken for it (at intake and
    at each backorder fill), oldest first: method, explanation (`CHI saves $7.25 over DAL.`),
    plan with its cost breakdown per site, the alternative, excluded sites, fallback reason."""
    order = _visible(oms.db, who, number)
    decisions = adapter.order_sourcing(oms.db, orders.order_id(oms.db, number))
    return {"data": {"number": order["number"], "decisions": decisions}}
