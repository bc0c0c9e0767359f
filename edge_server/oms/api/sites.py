"""The sites' edge servers this OMS fulfils from: list, read, create or update, deactivate
(rules in oms/sites.py; docs/oms-orders.md#sites). Secrets are written, never read back."""

# No `from __future__ import annotations`: FastAPI must see the real objects (see oms/deps.py).
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.errors import AislewayError
from edge_server.oms import sites
from edge_server.oms.deps import OmsCaller, OmsDep, OmsMutates, OmsMutation, OmsRequires
from edge_server.wms.purchase_orders import fetch_rows
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.orders import SITE_CODE_PATTERN

router = APIRouter(tags=["sites"])

Reader = Annotated[OmsCaller, Depends(OmsRequires("oms.sites.read"))]
Manager = Annotated[OmsMutation, Depends(OmsMutates("oms.sites.manage"))]
Code = Annotated[str, Path(pattern=SITE_CODE_PATTERN, description="Site code: CHI.")]


def _view(src: Any, code: str) -> dict[str, Any]:
    rows = fetch_rows(src, "SELECT * FROM sites WHERE code = ?", [code])
    if not rows:
        raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
    return sites.site_view(rows[0])


@router.get("/sites", response_model=Envelope[dict[str, Any]])
def list_sites(oms: OmsDep, who: Reader) -> dict[str, Any]:
    """Every site, active or not (no secrets)."""
    return {"data": {"items": sites.list_sites(oms.db)}}


@router.get("/sites/{code}", response_model=Envelope[dict[str, Any]])
def get_site(code: Code, oms: OmsDep, who: Reader) -> dict[str, Any]:
    return {"data": _view(oms.db, code)}


@router.put(
    "/sites/{code}",
    response_model=Envelope[dict[str, Any]],
    responses=CREATED_OR_REPLACED,
)
def put_site(code: Code, body: sites.SiteIn, oms: OmsDep, m: Manager) -> JSONResponse:
    """Create (201) or update (200) a site. A new site needs `api_key`; leaving a secret out
    of an update keeps it. The base URL must be reachable under the OMS's address rules."""
    base_url = sites.check_site_url(body.base_url, allow_private=oms.settings.webhook_allow_private)

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = sites.put_site(w, code, body, base_url=base_url)
        data = {"site": _view(w, code), "outcome": outcome}
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"code": code, "site": body.model_dump(mode="json")}, effect))


@router.delete("/sites/{code}", response_model=Envelope[dict[str, Any]])
def deactivate_site(code: Code, oms: OmsDep, m: Manager) -> JSONResponse:
    """Stop promising from a site (it stays listed; PUT it with `active: true` to resume).
    Reservations it holds stay until their orders are released or cancelled."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = sites.deactivate_site(w, code)
        return 200, ok({"site": _view(w, code), "outcome": outcome})

    return reply(*m.run({"code": code}, effect))
