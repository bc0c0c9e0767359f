"""The receiving scenario's endpoints (thin: the rules live in scenarios/receiving.py) and
the receiving accuracy KPI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.scenarios.receiving import ReceivingScenario
from edge_server.scenarios.receiving_kpi import receiving_accuracy
from edge_server.services import Services
from protocols.envelope import Envelope
from protocols.errors import ErrorCode
from protocols.receiving import (
    ApproveIn,
    BadgeOverrideIn,
    CloseIn,
    DamagedIn,
    LotIn,
    LpnIn,
    QuantityIn,
    ScanIn,
    SessionIn,
    StartIn,
)

router = APIRouter(tags=["receiving"])
PREFIX = "/scenarios/receiving"
Answer = Envelope[dict[str, Any]]
ScanStep = Annotated[Mutation, Depends(Mutates("receiving.scan"))]


def _scenario(s: Services, who: Principal) -> ReceivingScenario:
    return ReceivingScenario(
        s.settings,
        user_id=who.user_id,
        device_id=who.device_id,
        role=who.role,
        scanned_at=who.scanned_at,
    )


def _run(
    m: Mutation,
    s: Services,
    payload: Any,
    call: Callable[[ReceivingScenario, SUDatabase], dict[str, Any]],
) -> JSONResponse:
    scenario = _scenario(s, m.principal)
    return reply(*m.run(payload, lambda w: (200, call(scenario, w))))


@router.post(f"{PREFIX}/start", response_model=Answer)
def start(body: StartIn, s: ServicesDep, m: ScanStep) -> JSONResponse:
    """Scan (or choose) the PO, the ASN, or a pallet's SSCC, at a receiving dock."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.start(w, body))


@router.post(f"{PREFIX}/scan", response_model=Answer)
def scan(body: ScanIn, s: ServicesDep, m: ScanStep) -> JSONResponse:
    """A product barcode (GTIN, GS1-128, GS1 DataMatrix) or a pallet SSCC."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.scan(w, body))


@router.post(f"{PREFIX}/quantity", response_model=Answer)
def quantity(body: QuantityIn, s: ServicesDep, m: ScanStep) -> JSONResponse:
    """How many of the scanned unit arrived."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.quantity(w, body))


@router.post(f"{PREFIX}/lot", response_model=Answer)
def lot(body: LotIn, s: ServicesDep, m: ScanStep) -> JSONResponse:
    """Lot and/or expiry of a tracked item."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.lot(w, body))


@router.post(f"{PREFIX}/lpn", response_model=Answer)
def lpn(body: LpnIn, s: ServicesDep, m: ScanStep) -> JSONResponse:
    """A scanned pre-printed LPN label, or none for a new LPN number; posts the receipt."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.lpn(w, body))


@router.post(f"{PREFIX}/damaged", response_model=Answer)
def damaged(body: DamagedIn, s: ServicesDep, m: ScanStep) -> JSONResponse:
    """Mark (or unmark) what is being received as damaged."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.damaged(w, body))


@router.post(f"{PREFIX}/cancel", response_model=Answer)
def cancel(body: SessionIn, s: ServicesDep, m: ScanStep) -> JSONResponse:
    """Drop what is being received; nothing is posted."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.cancel(w, body.session_id))


@router.post(f"{PREFIX}/override", response_model=Answer)
def override_with_badge(body: BadgeOverrideIn, s: ServicesDep, m: ScanStep) -> JSONResponse:
    """A supervisor approves on the receiver's handheld with badge and PIN."""
    badge = body.badge[6:] if body.badge.upper().startswith("BADGE-") else body.badge
    try:
        approver = s.users.authenticate(badge, body.pin)
    except AislewayError as exc:
        if exc.code is ErrorCode.BAD_CREDENTIALS:
            # Not 401: the receiver's own login is fine; the supervisor's PIN was wrong.
            raise AislewayError(ErrorCode.RECEIVING_SUPERVISOR_PIN_WRONG) from None
        raise
    # The PIN never enters the stored request hash.
    payload = {"session_id": body.session_id, "badge": badge}
    return _run(
        m,
        s,
        payload,
        lambda sc, w: sc.override(
            w,
            body.session_id,
            approver_id=approver.id,
            approver_role=approver.role,
            method="badge_pin",
        ),
    )


@router.post(f"{PREFIX}/sessions/{{session_id}}/approve", response_model=Answer)
def approve(
    session_id: int,
    body: ApproveIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("receiving.override"))],
) -> JSONResponse:
    """A supervisor approves a waiting over-receipt or unexpected item from their session."""
    who = m.principal
    assert who.user_id is not None  # receiving.override is for users, never API keys
    return _run(
        m,
        s,
        body.model_dump(mode="json"),
        lambda sc, w: sc.override(
            w,
            session_id,
            approver_id=who.user_id or 0,
            approver_role=who.role,
            method="supervisor",
            note=body.note,
        ),
    )


@router.post(f"{PREFIX}/close", response_model=Answer)
def close(body: CloseIn, s: ServicesDep, m: ScanStep) -> JSONResponse:
    """Close the delivery; PO lines left below expected close short after a confirmation."""
    return _run(m, s, body.model_dump(mode="json"), lambda sc, w: sc.close(w, body))


@router.get(f"{PREFIX}/sessions/{{session_id}}", response_model=Answer)
def session_state(
    session_id: int,
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("receiving.scan"))],
) -> dict[str, Any]:
    """The session's current state, as its last answer gave it (resume after a restart)."""
    return _scenario(s, who).state(s.db, session_id)


@router.get("/kpi/receiving-accuracy", response_model=Answer)
def accuracy(
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("receiving.kpi"))],
    from_: Annotated[date | None, Query(alias="from", description="First UTC day.")] = None,
    to: Annotated[date | None, Query(description="Last UTC day (inclusive).")] = None,
    receiver: Annotated[str | None, Query(max_length=32, description="Receiver's badge.")] = None,
) -> dict[str, Any]:
    """Share of received lines that matched the PO without correction, per day and receiver."""
    if from_ and to and from_ > to:
        raise AislewayError(ErrorCode.VALIDATION_FAILED, details={"from": "after to"})
    return {
        "data": receiving_accuracy(
            s.db,
            target=s.settings.receiving_accuracy_target,
            day_from=from_,
            day_to=to,
            receiver=receiver,
        )
    }
