"""Purchase orders and ASNs over HTTP (the integration API for inbound goods)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.csv_upload import CSV_BODY, csv_import
from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.wms import asn_import, asns, po_import, purchase_orders
from protocols.barcodes import BarcodeError
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.inbound import DOC_NUMBER_PATTERN, AsnIn, PurchaseOrderIn, normalise_sscc

router = APIRouter(tags=["inbound"])

Reader = Annotated[Principal, Depends(Requires("inbound.read"))]
Writer = Annotated[Mutation, Depends(Mutates("inbound.write"))]
Number = Annotated[str, Path(pattern=DOC_NUMBER_PATTERN, description="PO or ASN number.")]
PoStatus = Literal["open", "receiving", "closed", "cancelled"]
_INTERNAL = ("id", "item_id", "po_line_id")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A PO or ASN (or one of its lines) without database ids."""
    return {k: v for k, v in row.items() if k not in _INTERNAL}


def po_out(po: dict[str, Any]) -> dict[str, Any]:
    out = _public(po)
    if "lines" in po:
        out["lines"] = [_public(line) for line in po["lines"]]
    return out


def _po(w: purchase_orders.Source, site: str, number: str) -> dict[str, Any]:
    po = purchase_orders.get_po(w, site, number)
    if po is None:
        raise AislewayError(ErrorCode.PO_NOT_FOUND, details={"number": number})
    return po_out(po)


# -- purchase orders --------------------------------------------------------------------------
@router.get("/purchase-orders", response_model=Envelope[dict[str, Any]])
def list_purchase_orders(
    db: DbDep,
    s: ServicesDep,
    who: Reader,
    status: PoStatus | None = None,
    supplier: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """A page of the site's POs in number order, with receiving progress (no lines)."""
    page = purchase_orders.list_pos(
        db, s.settings.site, status=status, supplier=supplier, limit=limit, offset=offset
    )
    page["items"] = [po_out(p) for p in page["items"]]
    return {"data": page}


@router.post(
    "/purchase-orders/import",
    response_model=Envelope[dict[str, Any]],
    openapi_extra=CSV_BODY,
)
async def import_purchase_orders(
    request: Request, s: ServicesDep, m: Writer, dry_run: bool = False
) -> JSONResponse:
    """Import a PO CSV sent as the request body (`Content-Type: text/csv`). Returns the
    report; a PO with any refused row is refused whole, the others import in one transaction."""
    site = s.settings.site
    return await csv_import(
        request,
        m,
        read=lambda data: po_import.read_pos_csv(data, source="upload"),
        apply=lambda w, parsed: po_import.apply_po_import(w, parsed, site, dry_run=dry_run),
        dry_run=dry_run,
    )


@router.get("/purchase-orders/{number}", response_model=Envelope[dict[str, Any]])
def get_purchase_order(number: Number, db: DbDep, s: ServicesDep, who: Reader) -> dict[str, Any]:
    """One PO with its lines: qty_expected (eaches), qty_received and status per line."""
    return {"data": _po(db, s.settings.site, number)}


@router.put(
    "/purchase-orders/{number}",
    response_model=Envelope[dict[str, Any]],
    responses=CREATED_OR_REPLACED,
)
def put_purchase_order(
    number: Number, body: PurchaseOrderIn, s: ServicesDep, m: Writer
) -> JSONResponse:
    """Create (201) or replace (200) a PO. Lines left out are cancelled; see docs/receiving.md
    for what may change once receiving has started."""
    site = s.settings.site
    header = purchase_orders.PoHeader(
        supplier=body.supplier, due_date=body.due_date, blind=body.blind, notes=body.notes
    )

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = purchase_orders.put_po(w, site, number, header, body.lines)
        data = {"purchase_order": _po(w, site, number), "outcome": outcome}
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"number": number, "po": body.model_dump(mode="json")}, effect))


@router.post("/purchase-orders/{number}/cancel", response_model=Envelope[dict[str, Any]])
def cancel_purchase_order(number: Number, s: ServicesDep, m: Writer) -> JSONResponse:
    """Cancel a PO nothing has been received on."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = purchase_orders.cancel_po(w, site, number)
        return 200, ok({"purchase_order": _po(w, site, number), "outcome": outcome})

    return reply(*m.run({"number": number}, effect))


# -- ASNs -------------------------------------------------------------------------------------
def asn_out(asn: dict[str, Any]) -> dict[str, Any]:
    out = _public(asn)
    out["lines"] = [_public(line) for line in asn["lines"]]
    return out


def _asn(w: purchase_orders.Source, site: str, number: str) -> dict[str, Any]:
    asn = asns.get_asn(w, site, number)
    if asn is None:
        raise AislewayError(ErrorCode.ASN_NOT_FOUND, details={"number": number})
    return asn_out(asn)


@router.post(
    "/asns/import",
    response_model=Envelope[dict[str, Any]],
    openapi_extra=CSV_BODY,
)
async def import_asns(
    request: Request, s: ServicesDep, m: Writer, dry_run: bool = False
) -> JSONResponse:
    """Import an ASN CSV sent as the request body (`Content-Type: text/csv`). Returns the
    report; an ASN with any refused row is refused whole, the others import in one
    transaction."""
    site = s.settings.site
    return await csv_import(
        request,
        m,
        read=lambda data: asn_import.read_asns_csv(data, source="upload"),
        apply=lambda w, parsed: asn_import.apply_asn_import(w, parsed, site, dry_run=dry_run),
        dry_run=dry_run,
    )


@router.get("/asns/by-sscc/{sscc}", response_model=Envelope[dict[str, Any]])
def asn_by_sscc(sscc: str, db: DbDep, s: ServicesDep, who: Reader) -> dict[str, Any]:
    """The ASN lines travelling on one pallet or case (SSCC, 18 digits, `00` prefix allowed)."""
    try:
        value = normalise_sscc(sscc)
    except ValueError as exc:
        code = (
            ErrorCode.BARCODE_CHECK_DIGIT
            if "check digit" in str(exc)
            else (ErrorCode.BARCODE_UNREADABLE)
        )
        raise BarcodeError(code, {"field": "sscc", "data": sscc, "reason": str(exc)}) from None
    found = asns.asn_lines_by_sscc(db, s.settings.site, value)
    if found is None:
        raise AislewayError(ErrorCode.SSCC_NOT_EXPECTED, details={"sscc": value})
    return {
        "data": {
            "sscc": value,
            "asn": _public(found["asn"]),
            "lines": [_public(line) for line in found["lines"]],
        }
    }


@router.get("/asns/{number}", response_model=Envelope[dict[str, Any]])
def get_asn(number: Number, db: DbDep, s: ServicesDep, who: Reader) -> dict[str, Any]:
    return {"data": _asn(db, s.settings.site, number)}


@router.put(
    "/asns/{number}",
    response_model=Envelope[dict[str, Any]],
    responses=CREATED_OR_REPLACED,
)
def put_asn(number: Number, body: AsnIn, s: ServicesDep, m: Writer) -> JSONResponse:
    """Create (201) or replace (200) an ASN."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = asns.put_asn(w, site, number, body)
        data = {"asn": _asn(w, site, number), "outcome": outcome}
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"number": number, "asn": body.model_dump(mode="json")}, effect))
