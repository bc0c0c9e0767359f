"""CSV uploads: the file itself is the request body (`Content-Type: text/csv`), read and
checked off the event loop, then applied as one idempotent write keyed by the file's hash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlite_utils import Database as SUDatabase
from starlette.concurrency import run_in_threadpool

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutation
from edge_server.errors import AislewayError
from protocols.errors import ErrorCode

#: Content types accepted for a CSV body (browsers and spreadsheets label .csv oddly).
CSV_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "text/tab-separated-values",
        "application/csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
    }
)

#: `openapi_extra` for a route whose body is a CSV file.
CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class Parsed(Protocol):
    sha256: str


P = TypeVar("P", bound=Parsed)


async def csv_import(
    request: Request,
    m: Mutation,
    *,
    read: Callable[[bytes], P],
    apply: Callable[[SUDatabase, P], BaseModel],
    dry_run: bool,
) -> JSONResponse:
    """Refuse a body that is not CSV (415), read it with `read`, then `apply` it inside the
    idempotent write; the answer is the import's report."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES:
        raise AislewayError(
            ErrorCode.IMPORT_INVALID,
            "Send the CSV file itself as the request body, with Content-Type: text/csv.",
            details={"content_type": content_type},
            status=415,
        )
    data = await request.body()
    # Parsing and writing are CPU and disk work: keep them off the event loop.
    parsed = await run_in_threadpool(read, data)

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        return 200, ok(apply(w, parsed).model_dump(mode="json"))

    payload = {"sha256": parsed.sha256, "dry_run": dry_run}
    return reply(*await run_in_threadpool(m.run, payload, effect))
