"""Building envelope responses in routes."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from protocols.envelope import Envelope, Message, MessageType

#: `responses=` for a route answering 201 when it creates and 200 when it replaces (the
#: 201's body is the 200's, filled in by edge_server/openapi_errors.py).
CREATED_OR_REPLACED: dict[int | str, dict[str, Any]] = {
    201: {"description": "Created (200: replaced)"}
}


_AnyEnvelope = Envelope[Any]  # parametrised once, not per answer


def ok(data: Any, *, code: str = "OK", text: str = "", status: int = 200) -> dict[str, Any]:
    """An envelope as a plain dict (what idempotent mutations store and replay)."""
    message = Message(type=MessageType.SUCCESS, code=code, text=text) if text else None
    return _AnyEnvelope(data=data, message=message).model_dump(mode="json")


def reply(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=status, content=body)
