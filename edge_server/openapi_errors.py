"""The error responses in the OpenAPI, declared in one place for every operation.

A refusal is always the one envelope with `message.type = "error"` and a catalogue code
(`protocols/errors.py`); `install_error_handlers` (edge_server/app.py) turns every exception
into it. This module makes the OpenAPI say so: after FastAPI builds the document, each
operation of the edge server and the OMS gets the statuses it can answer with, each with the
shared `ErrorEnvelope` body, worked out from what the route is (table in docs/api.md,
"Refusals in the OpenAPI"):

- 400: an idempotent dependency (`Idempotency-Key` missing) or a body (unparseable);
- 401: reads `Authorization` or `X-Device-Token`, or names a permission;
- 403: names a permission;
- 404 and 422: has any parameter or body (something named may not exist; validation);
- 409: POST, PUT, PATCH, DELETE (the current state may not allow it);
- 415: a raw request body that is not JSON (CSV imports, EDI interchanges);
- whatever a dependency lists in its `error_statuses` attribute (503 for the print spooler).

A route that can answer another status (429 on login, 503 when a printer is down) declares
it with FastAPI's `responses=`; it gets the shared body here. FastAPI's own 422
(`HTTPValidationError`, a shape never sent) is replaced.

Headers the shared dependencies read straight off the request (`Authorization`,
`X-Device-Token`, `X-Scanned-At`, `Idempotency-Key`: see `reads_headers` in
edge_server/deps.py) are declared here too, as optional header parameters of every
operation that uses those dependencies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from protocols.errors import ErrorCode

__all__ = ["ERROR_ENVELOPE", "document_error_responses", "install_error_responses"]

_REF = "#/components/schemas/ErrorEnvelope"
_MUTATING = {"post", "put", "patch", "delete"}

ERROR_ENVELOPE: dict[str, Any] = {
    "title": "ErrorEnvelope",
    "description": "Every refusal: no data, and a message naming a catalogue code "
    "(docs/errors.md) with the sentence to show.",
    "type": "object",
    "required": ["next_state", "data", "message"],
    "properties": {
        "next_state": {"type": "null"},
        "data": {"type": "null"},
        "message": {"$ref": "#/components/schemas/ErrorMessage"},
    },
}
_ERROR_MESSAGE: dict[str, Any] = {
    "title": "ErrorMessage",
    "type": "object",
    "required": ["type", "code", "text"],
    "properties": {
        "type": {"type": "string", "enum": ["error"]},
        "code": {"type": "string", "enum": [code.value for code in ErrorCode]},
        "text": {"type": "string", "minLength": 1},
        "details": {"anyOf": [{"type": "object"}, {"type": "null"}]},
    },
}
_DESCRIPTIONS = {
    400: "Refused: a required header is missing or a one-time code is wrong",
    401: "Refused: not logged in, or the login, device or API key is not valid",
    403: "Refused: the caller's role may not do this",
    404: "Refused: something the request names does not exist",
    409: "Refused: the current state does not allow this",
    422: "Refused: some of the data sent is not valid",
    415: "Refused: the body is not of a content type this operation reads",
    429: "Refused: too many attempts; wait and retry",
    503: "Refused for now: a device or service it needs is unreachable; retry later",
}


def _api_routes(routes: list[Any]) -> Iterator[Any]:
    """Every API route in the schema, through included routers: FastAPI >= 0.16x keeps them
    lazily (a route context carries the prefix and the router's dependencies); older versions
    copy them into the app."""
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # pragma: no cover - FastAPI < 0.16x
        contexts: Any = routes
    else:
        contexts = iter_route_contexts(routes)
    for route in contexts:
        if (
            isinstance(getattr(route, "original_route", route), APIRoute)
            and route.include_in_schema
        ):
            yield route


def _calls(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _calls(sub)


def _statuses(route: Any, method: str) -> set[int]:
    deps = list(_calls(route.dependant))
    markers = [d.call for d in deps if d.call is not None]
    headers = {p.alias.lower() for d in [route.dependant, *deps] for p in d.header_params}
    headers |= {h.lower() for c in markers for h in getattr(c, "reads_headers", {})}
    has_input = bool(headers) or any(
        d.path_params or d.query_params or d.header_params or d.body_params
        for d in [route.dependant, *deps]
    )
    guarded = any(hasattr(c, "permission") for c in markers)
    statuses: set[int] = set()
    if has_input:
        statuses |= {404, 422}
    if guarded:
        statuses |= {401, 403}
    if headers & {"authorization", "x-device-token"}:
        statuses |= {401, 422}
    if any(getattr(c, "idempotent", False) for c in markers):
        statuses |= {400, 422}
    if any(d.body_params for d in [route.dependant, *deps]):
        statuses.add(400)  # a body that cannot be parsed at all
    if method in _MUTATING:
        statuses.add(409)
    for call in markers:  # what a dependency says it can answer besides
        statuses.update(getattr(call, "error_statuses", ()))
    return statuses


def _document_headers(route: Any, operation: dict[str, Any]) -> None:
    """The headers a dependency reads off the request, as optional header parameters."""
    params = operation.get("parameters", [])
    declared = {p.get("name", "").lower() for p in params if p.get("in") == "header"}
    for dep in _calls(route.dependant):
        for name, description in getattr(dep.call, "reads_headers", {}).items():
            if name.lower() in declared:
                continue
            declared.add(name.lower())
            operation.setdefault("parameters", []).append(
                {
                    "name": name,
                    "in": "header",
                    "required": False,
                    "description": description,
                    "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": name},
                }
            )


def _fill_success_bodies(responses: dict[str, Any]) -> None:
    """A success status a route declares besides its own (`CREATED_OR_REPLACED`, a 200 next
    to a 201) has the route's body: FastAPI leaves it without one."""
    success = [k for k in responses if k.isdigit() and 200 <= int(k) < 300]
    content = next((responses[k]["content"] for k in success if responses[k].get("content")), None)
    for key in success:
        if content is not None and not responses[key].get("content"):
            responses[key]["content"] = content


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(status, "Refused"),
        "content": {"application/json": {"schema": {"$ref": _REF}}},
    }


def document_error_responses(schema: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """Add the error responses of every API route's operation to `schema` (in place)."""
    paths = schema.get("paths", {})
    for route in _api_routes(routes):
        for method in {m.lower() for m in route.methods}:
            operation = paths.get(route.path_format, {}).get(method)
            if operation is None:
                continue
            _document_headers(route, operation)
            responses: dict[str, Any] = operation.setdefault("responses", {})
            _fill_success_bodies(responses)
            statuses = _statuses(route, method)
            body_types = operation.get("requestBody", {}).get("content", {})
            if body_types and "application/json" not in body_types:
                statuses.add(415)  # a raw body (CSV, EDI) of another content type
            for status in statuses:
                responses[str(status)] = _error_response(status)
            for key, response in list(responses.items()):
                # An error status the route declared itself (e.g. 429): the shared body.
                if key.isdigit() and int(key) >= 400 and _REF not in str(response):
                    responses[key] = {**_error_response(int(key)), **response}
                    responses[key]["content"] = _error_response(int(key))["content"]
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorEnvelope"] = ERROR_ENVELOPE
    components["ErrorMessage"] = _ERROR_MESSAGE
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install_error_responses(app: FastAPI) -> None:
    """Make `app.openapi()` document the error responses: on the document FastAPI builds (and
    caches, rebuilding it when routes are added), once per build."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        if "ErrorEnvelope" not in schema.get("components", {}).get("schemas", {}):
            document_error_responses(schema, app.routes)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
