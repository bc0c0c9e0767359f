"""Carrier services and their rate cards over HTTP (docs/shipping.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.shipping.services import get_service, list_services, put_service, rate_card_of
from edge_server.wms.purchase_orders import Source
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.rates import SERVICE_CODE_PATTERN, CarrierServiceIn, RateError, price

router = APIRouter(tags=["carriers"])

Reader = Annotated[Principal, Depends(Requires("carriers.read"))]
Manager = Annotated[Mutation, Depends(Mutates("carriers.manage"))]
Code = Annotated[str, Path(pattern=SERVICE_CODE_PATTERN, description="Carrier service code.")]
Side = Annotated[float | None, Query(gt=0, le=1000, description="cm")]
BASE = "/carrier-services"


def _service(source: Source, site: str, code: str) -> dict[str, Any]:
    found = get_service(source, site, code)
    if found is None:
        raise AislewayError(ErrorCode.CARRIER_SERVICE_NOT_FOUND, details={"code": code})
    return found


@router.get(BASE, response_model=Envelope[dict[str, Any]])
def list_carrier_services(
    db: DbDep, s: ServicesDep, who: Reader, active: bool | None = None
) -> dict[str, Any]:
    """The site's carrier services with their cutoffs, pickup days and rate cards."""
    return {"data": {"services": list_services(db, s.settings.site, active=active)}}


@router.get(BASE + "/{code}", response_model=Envelope[dict[str, Any]])
def get_carrier_service(code: Code, db: DbDep, s: ServicesDep, who: Reader) -> dict[str, Any]:
    """One carrier service."""
    return {"data": _service(db, s.settings.site, code)}


@router.put(
    BASE + "/{code}",
    response_model=Envelope[dict[str, Any]],
    responses=CREATED_OR_REPLACED,
)
def put_carrier_service(
    code: Code, body: CarrierServiceIn, s: ServicesDep, m: Manager
) -> JSONResponse:
    """Create (201) or replace (200) a carrier service and its rate card."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = put_service(w, site, code, body)
        data = {"carrier_service": _service(w, site, code), "outcome": outcome}
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"code": code, "service": body.model_dump(mode="json")}, effect))


@router.get(BASE + "/{code}/quote", response_model=Envelope[dict[str, Any]])
def quote_carrier_service(
    code: Code,
    db: DbDep,
    s: ServicesDep,
    who: Reader,
    country: Annotated[str, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")],
    weight_kg: Annotated[float, Query(gt=0, le=100_000)],
    postal_code: Annotated[str, Query(max_length=20)] = "",
    length_cm: Side = None,
    width_cm: Side = None,
    height_cm: Side = None,
) -> dict[str, Any]:
    """What one carton to this destination costs with the service's rate card (also for an
    inactive service, so a card can be tried before it goes live). Read-only, hence a GET."""
    found = _service(db, s.settings.site, code)
    sides = (length_cm, width_cm, height_cm)
    if any(side is not None for side in sides) and any(side is None for side in sides):
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            details={
                "errors": [
                    {
                        "field": "query.length_cm",
                        "reason": "give all three of length_cm, width_cm and height_cm, or none",
                    }
                ]
            },
        )
    card = rate_card_of(found)
    if card is None:
        raise AislewayError(
            ErrorCode.CARRIER_SERVICE_UNKNOWN, details={"service": code, "reason": "no rate card"}
        )
    dims = None if length_cm is None else (length_cm, width_cm or 0.0, height_cm or 0.0)
    try:
        breakdown = price(card, country, postal_code, weight_kg, dims_cm=dims)
    except RateError as exc:
        raise AislewayError(exc.code, details={**exc.details, "service": code}) from None
    return {
        "data": {
            "service": code,
            "carrier": found["carrier"],
            "active": found["active"],
            "quote": breakdown.model_dump(mode="json"),
        }
    }
