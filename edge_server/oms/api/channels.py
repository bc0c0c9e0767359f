"""Sales channels: buffer, endpoint (its signing secret shown once), SKU mapping, and the
reconciliation push (rules in oms/channels.py and oms/channel_sync.py; docs/oms-channels.md)."""

# No `from __future__ import annotations`: FastAPI must see the real objects (see oms/deps.py).
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import CREATED_OR_REPLACED, ok, reply
from edge_server.oms import channel_sync, channels
from edge_server.oms.deps import OmsCaller, OmsDep, OmsMutates, OmsMutation, OmsRequires
from protocols.envelope import Envelope
from protocols.orders import CHANNEL_CODE_PATTERN

router = APIRouter(tags=["channels"])

Reader = Annotated[OmsCaller, Depends(OmsRequires("oms.channels.read"))]
Manager = Annotated[OmsMutation, Depends(OmsMutates("oms.channels.manage"))]
Code = Annotated[str, Path(pattern=CHANNEL_CODE_PATTERN, description="Channel code: WEB.")]
Sku = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^\S+$", description="Our SKU.")]


def _view(src: Any, code: str) -> dict[str, Any]:
    return channels.channel_view(channels.channel_row(src, code))


@router.get("/channels", response_model=Envelope[dict[str, Any]])
def list_channels(oms: OmsDep, who: Reader) -> dict[str, Any]:
    """Every channel, active or not (no secrets)."""
    return {"data": {"items": channels.list_channels(oms.db)}}


@router.get("/channels/{code}", response_model=Envelope[dict[str, Any]])
def get_channel(code: Code, oms: OmsDep, who: Reader) -> dict[str, Any]:
    return {"data": _view(oms.db, code)}


@router.put(
    "/channels/{code}",
    response_model=Envelope[dict[str, Any]],
    responses=CREATED_OR_REPLACED,
)
def put_channel(code: Code, body: channels.ChannelIn, oms: OmsDep, m: Manager) -> JSONResponse:
    """Create (201) or update (200) a channel. The first time an endpoint is set, the answer
    carries `signing_secret` (shown this once; a replay with the same Idempotency-Key shows it
    again). Leaving `endpoint_url` out stops the pushes."""
    # Resolve and check the address before the write transaction (DNS can be slow).
    checked = (
        channels.check_channel_url(
            body.endpoint_url, allow_private=oms.settings.webhook_allow_private
        )
        if body.endpoint_url is not None
        else None
    )

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome, secret = channels.put_channel(w, code, body, checked)
        data: dict[str, Any] = {"channel": _view(w, code), "outcome": outcome}
        if secret is not None:
            data["signing_secret"] = secret
        return (201 if outcome == "created" else 200), ok(data)

    return reply(*m.run({"code": code, "channel": body.model_dump(mode="json")}, effect))


@router.delete("/channels/{code}", response_model=Envelope[dict[str, Any]])
def deactivate_channel(code: Code, oms: OmsDep, m: Manager) -> JSONResponse:
    """Stop pushing to the channel (pushes already queued are still delivered)."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = channels.deactivate_channel(w, code)
        return 200, ok({"channel": _view(w, code), "outcome": outcome})

    return reply(*m.run({"code": code}, effect))


@router.post("/channels/{code}/rotate-secret", response_model=Envelope[dict[str, Any]])
def rotate_secret(code: Code, oms: OmsDep, m: Manager) -> JSONResponse:
    """A new signing secret (shown once); pushes are signed with the old one too for 24 h."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok({"channel": code, **channels.rotate_channel_secret(w, code)})

    return reply(*m.run({"code": code}, effect))


@router.post("/channels/{code}/reconcile", response_model=Envelope[dict[str, Any]])
def reconcile(code: Code, oms: OmsDep, m: Manager) -> JSONResponse:
    """Queue a push of the channel's complete list (every listed SKU and its value now)."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 202, ok(channel_sync.reconcile(w, code))

    return reply(*m.run({"code": code}, effect))


@router.get("/channels/{code}/skus", response_model=Envelope[dict[str, Any]])
def list_skus(code: Code, oms: OmsDep, who: Reader) -> dict[str, Any]:
    """The channel's SKU mapping with the last value pushed and whether it was acknowledged."""
    return {"data": {"channel": code, "items": channels.list_channel_skus(oms.db, code)}}


@router.put(
    "/channels/{code}/skus/{sku}",
    response_model=Envelope[dict[str, Any]],
    responses=CREATED_OR_REPLACED,
)
def put_sku(
    code: Code, sku: Sku, body: channels.ChannelSkuIn, oms: OmsDep, m: Manager
) -> JSONResponse:
    """List our SKU on the channel under its channel SKU (and listing id); `listed: false`
    keeps the mapping without pushing."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = channels.put_channel_sku(w, code, sku, body)
        return (201 if outcome == "created" else 200), ok(
            {"channel": code, "sku": sku, **body.model_dump(mode="json"), "outcome": outcome}
        )

    return reply(*m.run({"code": code, "sku": sku, **body.model_dump(mode="json")}, effect))


@router.delete("/channels/{code}/skus/{sku}", response_model=Envelope[dict[str, Any]])
def remove_sku(code: Code, sku: Sku, oms: OmsDep, m: Manager) -> JSONResponse:
    """Forget the mapping: the SKU is no longer pushed to this channel."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        outcome = channels.remove_channel_sku(w, code, sku)
        return 200, ok({"channel": code, "sku": sku, "outcome": outcome})

    return reply(*m.run({"code": code, "sku": sku}, effect))
