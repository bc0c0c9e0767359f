"""Building envelope responses in routes."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from protocols.envelope import Envelope, Message, MessageType


def ok(data: Any, *, code: str = "OK", text: str = "", status: int = 200) -> dict[str, Any]:
    """An envelope as a plain dict (what idempotent mutations store and replay)."""
    message = Message(type=MessageType.SUCCESS, code=code, text=text) if text else None
    return Envelope[Any](data=data, message=message).model_dump(mode="json")


def reply(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=status, content=body)
