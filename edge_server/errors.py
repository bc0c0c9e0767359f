"""The one exception domain code raises for a clear refusal."""

from __future__ import annotations

from typing import Any

from protocols.errors import ErrorCode, message_for


class AislewayError(Exception):
    """A refusal with a stable code; the HTTP status and sentence come from the catalogue."""

    def __init__(
        self,
        code: ErrorCode,
        text: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        self.code = code
        self.text = text or message_for(code).text
        self.details = details or {}
        self.status = status or message_for(code).status
        super().__init__(f"{code.value}: {self.text}")
