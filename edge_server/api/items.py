"""The item master over HTTP: search, look up by SKU or scanned GTIN, upsert, CSV import."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.csv_upload import CSV_BODY, csv_import
from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.wms import item_import, items
from protocols.envelope import Envelope
from protocols.errors import ErrorCode

router = APIRouter(prefix="/items", tags=["items"])

Reader = Annotated[Principal, Depends(Requires("items.read"))]


def item_out(item: items.StoredItem) -> dict[str, Any]:
    return item.model_dump(mode="json")


@router.get("", response_model=Envelope[dict[str, Any]])
def search_items(
    db: DbDep,
    who: Reader,
    q: Annotated[str | None, Query(max_length=64, description="SKU or description prefix")] = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    velocity: Literal["A", "B", "C"] | None = None,
    after: Annotated[str | None, Query(description="next_after of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Items in SKU order whose SKU (exact case) or description (any case) starts with `q`."""
    page = items.list_items(db, q=q, owner=owner, velocity=velocity, after=after, limit=limit)
    return {"data": {"items": [item_out(i) for i in page.items], "next_after": page.next_after}}


@router.get("/by-gtin/{gtin}", response_model=Envelope[dict[str, Any]])
def item_by_gtin(gtin: str, db: DbDep, who: Reader) -> dict[str, Any]:
    """The item a scanned GTIN-8/12/13/14 belongs to, and how many base units one scan is."""
    match = items.find_by_gtin(db, gtin)
    if match is None:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"gtin": gtin})
    return {
        "data": {
            "item": item_out(match.item),
            "gtin": match.gtin,
            "uom": match.uom,
            "qty": match.qty,
        }
    }


@router.post(
    "/import",
    response_model=Envelope[dict[str, Any]],
    openapi_extra=CSV_BODY,
)
async def import_items(
    request: Request,
    m: Annotated[Mutation, Depends(Mutates("items.write"))],
    dry_run: bool = False,
) -> JSONResponse:
    """Import an item CSV sent as the request body (`Content-Type: text/csv`), not multipart.

    Returns the validation report. Rows that are refused are listed; the others are imported
    in one transaction. The file's SHA-256 is part of the idempotent request."""
    return await csv_import(
        request,
        m,
        read=lambda data: item_import.read_items_csv(data, source="upload"),
        apply=lambda w, parsed: item_import.apply_import(w, parsed, dry_run=dry_run),
        dry_run=dry_run,
    )


@router.get("/{sku:path}", response_model=Envelope[dict[str, Any]])
def get_item(sku: str, db: DbDep, who: Reader) -> dict[str, Any]:
    item = items.get_item(db, sku)
    if item is None:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"sku": sku})
    return {"data": item_out(item)}


@router.put(
    "/{sku:path}",
    response_model=Envelope[dict[str, Any]],
    responses=CREATED_OR_REPLACED,
)
def put_item(
    sku: str,
    body: Annotated[dict[str, Any], Body(description="The item's fields; see docs/items.md.")],
    m: Annotated[Mutation, Depends(Mutates("items.write"))],
) -> JSONResponse:
    """Create or fully replace one item. 201 when created, 200 when updated or unchanged."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        given = body.get("sku")
        if given is not None and (not isinstance(given, str) or given.strip() != sku.strip()):
            problem = {
                "field": "sku",
                "code": items.Issue.SKU_MISMATCH.value,
                "reason": "the SKU in the body differs from the SKU in the address.",
            }
            raise AislewayError(ErrorCode.ITEM_INVALID, details={"problems": [problem]})
        item, warnings = items.validate_item({**body, "sku": sku})
        outcome = items.upsert_item(w, item)
        if outcome != "unchanged":
            emit(w, items.ITEM_CHANGED, {"sku": item.sku, "outcome": outcome})
        stored = items.get_item(w, item.sku)
        assert stored is not None
        data = {
            "item": item_out(stored),
            "outcome": outcome,
            "warnings": [n.as_dict() for n in warnings],
        }
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"sku": sku, "item": body}, effect))
