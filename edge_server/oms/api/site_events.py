"""The sites over HTTP: their signed events come in here, orders are released to them, an
order's journey is read, and an admin subscribes the OMS to a site or reconciles its stock
(rules in oms/site_events.py and oms/release.py; docs/oms-sites.md)."""

# No `from __future__ import annotations`: FastAPI must see the real objects (see oms/deps.py).
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.errors import AislewayError
from edge_server.oms import journey, release, site_events
from edge_server.oms.api.orders import _visible as visible_order
from edge_server.oms.deps import OmsCaller, OmsDep, OmsMutates, OmsMutation, OmsRequires
from edge_server.oms.sites import Site, get_site
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.orders import ORDER_NUMBER_PATTERN, SITE_CODE_PATTERN

router = APIRouter(tags=["sites"])

Code = Annotated[str, Path(pattern=SITE_CODE_PATTERN, description="Site code: CHI.")]
Number = Annotated[
    str, Path(pattern=ORDER_NUMBER_PATTERN, description="OMS order number: WEB-1001.")
]
Reader = Annotated[OmsCaller, Depends(OmsRequires("oms.orders.read"))]
Writer = Annotated[OmsMutation, Depends(OmsMutates("oms.orders.write"))]
SiteAdmin = Annotated[OmsMutation, Depends(OmsMutates("oms.sites.manage"))]


@dataclass(frozen=True)
class SignedEvent:
    """A site event whose signature verified: the site, its webhook id, raw body, parsed."""

    site: Site
    webhook_id: str
    body: bytes
    event: dict[str, Any]


def SignedBySite() -> Callable[..., Coroutine[Any, Any, SignedEvent]]:
    """Dependency for the site event intake: authenticated by the site's Standard Webhooks
    signature, not an API key. It names the marker permission `oms.site_events` (granted to
    no key) and is idempotent through the webhook id (oms/site_events.py `take_event`)."""

    async def signed(code: Code, request: Request, oms: OmsDep) -> SignedEvent:
        body = await request.body()
        site = get_site(oms.db, code)
        if site is None:
            raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
        webhook_id = site_events.check_signature(site, request.headers, body)
        return SignedEvent(site, webhook_id, body, site_events.parse_event(site, webhook_id, body))

    signed.permission = "oms.site_events"  # type: ignore[attr-defined]
    signed.idempotent = True  # type: ignore[attr-defined]
    return signed


@router.post("/sites/{code}/events", response_model=Envelope[dict[str, Any]])
def take_site_event(
    code: Code, oms: OmsDep, signed: Annotated[SignedEvent, Depends(SignedBySite())]
) -> dict[str, Any]:
    """A site's signed webhook (its subscription points here). Applied once per webhook id:
    a redelivery answers 200 `duplicate` and changes nothing."""
    with oms.db.write() as w:
        result = site_events.take_event(
            w, signed.site, signed.webhook_id, signed.body, signed.event
        )
    return {"data": result}


@router.post("/orders/{number}/release", response_model=Envelope[dict[str, Any]])
def release_order(number: Number, oms: OmsDep, m: Writer) -> JSONResponse:
    """Send what the order holds reserved to its site(s) as fulfillment orders. A site that
    does not answer keeps its part pending; the OMS retries it. The answer shows each FO's
    release state now (`sent`, `pending`, `refused`)."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        visible_order(w, m.caller, number)
        waiting = release.plan_release(w, number)
        return 202, ok({"number": number, "fulfillment_orders": waiting})

    m.run({"number": number}, effect)
    for fo in release.fulfillments_view(oms.db, number)["fulfillment_orders"]:
        if fo["release_state"] == "pending":
            release.send_fulfillment(oms, fo["number"])
    return reply(200, ok(release.fulfillments_view(oms.db, number)))


@router.get("/orders/{number}/journey", response_model=Envelope[dict[str, Any]])
def order_journey(number: Number, oms: OmsDep, who: Reader) -> dict[str, Any]:
    """Payment, reserved, released, wave planned, picking, packed, shipped (tracking numbers),
    delivered, returned: when each was reached, per site."""
    visible_order(oms.db, who, number)
    return {"data": journey.order_journey(oms.db, number)}


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    public_url: str | None = Field(
        default=None,
        max_length=2000,
        description="The OMS's base URL as the site reaches it (default AISLEWAY_OMS_PUBLIC_URL).",
    )
    admin_key: str | None = Field(
        default=None,
        min_length=8,
        max_length=200,
        description="A key or token with webhooks.manage on the site; default the site's key.",
    )


@router.post("/sites/{code}/subscribe", response_model=Envelope[dict[str, Any]])
def subscribe(
    code: Code, oms: OmsDep, m: SiteAdmin, body: SubscribeIn | None = None
) -> JSONResponse:
    """Subscribe the OMS to the site's events and store the secret the site returns."""
    body = body or SubscribeIn()
    public_url = body.public_url or oms.settings.public_url
    if not public_url:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            details={"errors": [{"field": "public_url", "reason": "give the OMS's URL"}]},
        )

    attempt = uuid.uuid4().hex

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        if get_site(w, code) is None:
            raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
        return 202, ok({"site": code, "attempt": attempt})

    _, stored = m.run({"code": code, "public_url": public_url}, effect)
    if stored["data"]["attempt"] != attempt:  # a replay: subscribed the first time already
        return reply(200, ok(site_events.site_link(oms.db, code)))
    done = site_events.subscribe_site(
        oms.db,
        code,
        public_url,
        admin_key=body.admin_key,
        timeout=oms.settings.site_timeout_seconds,
    )
    return reply(200, ok(done))


@router.post("/sites/{code}/reconcile", response_model=Envelope[dict[str, Any]])
def reconcile(code: Code, oms: OmsDep, m: SiteAdmin) -> JSONResponse:
    """Take the events the site gave up delivering, then pull its stock snapshot and apply
    it in full (what the site loop does every `AISLEWAY_OMS_SITE_RECONCILE_SECONDS`)."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        if get_site(w, code) is None:
            raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
        return 202, ok({"site": code})

    m.run({"code": code}, effect)
    timeout = oms.settings.site_timeout_seconds
    recovered = site_events.recover_missed(oms.db, code, timeout=timeout)
    counts = site_events.reconcile_site(oms.db, code, timeout=timeout)
    return reply(200, ok({"site": code, **counts, "recovered": recovered}))
