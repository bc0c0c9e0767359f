"""The one response envelope: `{next_state, data, message}`.

Scenario endpoints fill `next_state` with the state the terminal should show next; plain
resource endpoints leave it null. `message` carries a catalogue code and its sentence.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from protocols.errors import ErrorCode, message_for

__all__ = ["Envelope", "Message", "MessageType", "error_envelope"]

T = TypeVar("T")


class MessageType(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class Message(BaseModel):
    type: MessageType
    code: str
    text: str
    details: dict[str, Any] | None = None


class Envelope(BaseModel, Generic[T]):
    next_state: str | None = None
    data: T | None = None
    message: Message | None = Field(default=None)


def error_envelope(
    code: ErrorCode, *, text: str | None = None, details: dict[str, Any] | None = None
) -> Envelope[None]:
    """An error envelope whose sentence comes from the catalogue unless `text` refines it."""
    return Envelope[None](
        message=Message(
            type=MessageType.ERROR,
            code=code.value,
            text=text or message_for(code).text,
            details=details,
        )
    )
