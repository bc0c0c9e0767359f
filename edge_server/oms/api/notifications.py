"""Customer e-mails for administrators: the queue with its status, and a retry."""

# No `from __future__ import annotations`: FastAPI must see the real objects (see oms/deps.py).
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.oms.deps import OmsCaller, OmsDep, OmsMutates, OmsMutation, OmsRequires
from edge_server.oms.notifications import EmailKind, get_email, list_emails, requeue_email
from protocols.envelope import Envelope

router = APIRouter(tags=["notifications"])

Read = Annotated[OmsCaller, Depends(OmsRequires("oms.notifications.read"))]
Manage = Annotated[OmsMutation, Depends(OmsMutates("oms.notifications.manage"))]


@router.get("/notifications", response_model=Envelope[list[dict[str, Any]]])
def get_notifications(
    oms: OmsDep,
    who: Read,
    status: Literal["pending", "sent", "failed"] | None = None,
    kind: EmailKind | None = None,
    before: Annotated[int | None, Query(description="Page back: e-mails below this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    return {"data": list_emails(oms.db, status=status, kind=kind, before=before, limit=limit)}


@router.get("/notifications/{email_id}", response_model=Envelope[dict[str, Any]])
def get_notification(email_id: int, oms: OmsDep, who: Read) -> dict[str, Any]:
    return {"data": get_email(oms.db, email_id)}


@router.post("/notifications/{email_id}/retry", response_model=Envelope[dict[str, Any]])
def retry_notification(email_id: int, m: Manage) -> JSONResponse:
    """A pending or failed e-mail is due now, for one more attempt (the mailer is woken by
    the commit)."""

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok(requeue_email(w, email_id))

    return reply(*m.run({"email_id": email_id}, effect))
