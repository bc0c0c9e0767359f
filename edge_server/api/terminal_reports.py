"""Handhelds report on their offline queues: refused replays and heartbeats; supervisors list
and acknowledge the refusals (docs/terminal-sync.md)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.integration import terminal_reports
from protocols.envelope import Envelope
from protocols.errors import ErrorCode

router = APIRouter(tags=["terminal reports"])

#: Largest command body a report may carry (JSON text).
MAX_BODY_CHARS = 64_000


class RejectionIn(BaseModel):
    """One command the edge refused when the handheld replayed it."""

    seq: int = Field(ge=1, description="The command's sequence number on the handheld.")
    idempotency_key: str = Field(
        min_length=1, max_length=200, description="The key it was sent with."
    )
    method: Literal["POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(min_length=1, max_length=300, pattern=r"^/[!-~]*$")
    body: Any = None
    workflow: str = Field(default="", max_length=32)
    user_id: int | None = Field(default=None, description="Who scanned it.")
    scanned_at: AwareDatetime
    code: str = Field(min_length=1, max_length=64, description="The refusal's error code.")
    text: str = Field(default="", max_length=500)
    details: dict[str, Any] = Field(default_factory=dict)
    http_status: int | None = Field(default=None, ge=100, le=599)


class HeartbeatIn(BaseModel):
    pending: int = Field(ge=0, description="Commands queued, not yet sent.")
    rejected: int = Field(ge=0, description="Refused commands not yet acknowledged.")
    app_version: str = Field(default="", max_length=40)


class AcknowledgeIn(BaseModel):
    note: str = Field(default="", max_length=500)


def _device(who: Principal) -> int:
    if who.device_id is None:
        raise AislewayError(ErrorCode.DEVICE_REQUIRED)
    return who.device_id


@router.post(
    "/devices/me/rejections",
    status_code=201,
    response_model=Envelope[dict[str, Any]],
    responses={200: {"description": "Already recorded"}},
)
def report_rejection(
    body: RejectionIn,
    services: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("terminal.report"))],
) -> JSONResponse:
    """Report a queued command the edge refused on replay. A repeat (same device and command
    key) returns the stored report with 200."""
    device_id = _device(m.principal)
    payload = body.model_dump(mode="json")
    if len(json.dumps(payload["body"])) > MAX_BODY_CHARS:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="The command body is too large to report.",
            details={"max_chars": MAX_BODY_CHARS},
        )

    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        row, created = terminal_reports.record_rejection(
            w,
            site=services.settings.site,
            device_id=device_id,
            reported_by=m.principal.user_id,
            report={**payload, "key": payload["idempotency_key"]},
        )
        return (201 if created else 200), ok(row)

    return reply(*m.run(payload, effect))


@router.post("/devices/me/heartbeat", response_model=Envelope[dict[str, Any]])
def report_heartbeat(
    body: HeartbeatIn,
    m: Annotated[Mutation, Depends(Mutates("terminal.report"))],
) -> JSONResponse:
    """The handheld is alive: its queue depth and app version, for the supervisors' view."""
    device_id = _device(m.principal)

    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        return 200, ok(
            terminal_reports.heartbeat(
                w,
                device_id=device_id,
                user_id=m.principal.user_id,
                pending=body.pending,
                rejected=body.rejected,
                app_version=body.app_version,
            )
        )

    return reply(*m.run(body.model_dump(), effect))


@router.get("/devices/rejections", response_model=Envelope[dict[str, Any]])
def list_rejections(
    services: ServicesDep,
    who: Annotated[Principal, Depends(Requires("devices.manage"))],
    status: Literal["open", "acknowledged", "all"] = "open",
    device_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Refused handheld commands, oldest first (open ones by default)."""
    return {
        "data": terminal_reports.list_rejections(
            services.db, status=status, device_id=device_id, limit=limit, offset=offset
        )
    }


@router.post(
    "/devices/rejections/{rejection_id}/acknowledge", response_model=Envelope[dict[str, Any]]
)
def acknowledge_rejection(
    rejection_id: int,
    body: AcknowledgeIn,
    m: Annotated[Mutation, Depends(Mutates("devices.manage"))],
) -> JSONResponse:
    """A supervisor has dealt with a refused command (re-entered it, or decided not to)."""

    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        return 200, ok(
            terminal_reports.acknowledge(
                w, rejection_id, user_id=m.principal.user_id, note=body.note
            )
        )

    return reply(*m.run({"id": rejection_id, **body.model_dump()}, effect))


@router.get("/devices/queues", response_model=Envelope[list[dict[str, Any]]])
def device_queues(
    services: ServicesDep, who: Annotated[Principal, Depends(Requires("devices.manage"))]
) -> dict[str, Any]:
    """Each handheld's last heartbeat (queue depth, app version) and open refusals."""
    return {"data": terminal_reports.device_queues(services.db)}
