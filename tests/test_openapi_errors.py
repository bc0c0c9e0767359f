"""The OpenAPI declares every refusal (edge_server/openapi_errors.py): which statuses each
operation can answer, from what its dependencies are, each with the one error body; and real
refusals match what is declared (schemathesis checks them, as in the fuzzing runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from label_helpers import closed_port

from edge_server.app import create_app
from edge_server.oms.app import create_oms_app
from edge_server.oms.services import open_oms_services
from edge_server.oms.settings import OmsSettings
from edge_server.services import Services
from edge_server.settings import Settings
from protocols.errors import ErrorCode

from conftest import Caller, make_settings
from factories import make_item, make_site
from schemathesis_support import CHECKS

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
# The operations anyone may call.
PUBLIC = {"/health", "/metrics", "/api/v1/auth/login", "/api/v1/devices/pair"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, printer_allow_loopback=True, printer_timeout_seconds=2.0)


@pytest.fixture
def edge_spec(services: Services) -> dict[str, Any]:
    spec: dict[str, Any] = create_app(services.settings, services).openapi()
    return spec


@pytest.fixture
def oms_spec(tmp_path: Path) -> Any:
    oms = open_oms_services(
        OmsSettings(
            db_path=tmp_path / "oms.db",
            relay_enabled=False,
            site_sync_enabled=False,
            channel_sync_enabled=False,
        )
    )
    yield create_oms_app(oms.settings, oms).openapi()
    oms.db.close()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, op) for path, ops in spec["paths"].items() for m, op in ops.items()]


def _statuses(spec: dict[str, Any], path: str, method: str) -> set[int]:
    return {int(s) for s in spec["paths"][path][method]["responses"]}


@pytest.mark.parametrize("which", ["edge_spec", "oms_spec"])
def test_every_refusal_is_declared_with_the_one_error_body(
    which: str, request: pytest.FixtureRequest
) -> None:
    spec = request.getfixturevalue(which)
    text = str(spec)
    assert "HTTPValidationError" not in text  # FastAPI's own 422 shape, never sent
    for path, method, op in _operations(spec):
        errors = {s: r for s, r in op["responses"].items() if int(s) >= 400}
        if path not in PUBLIC:
            assert {"401", "403", "422"} <= set(errors), (path, method)
        for status, response in errors.items():
            assert response["content"] == {"application/json": {"schema": ENVELOPE}}, (
                path,
                method,
                status,
            )
    message = spec["components"]["schemas"]["ErrorMessage"]
    assert set(message["properties"]["code"]["enum"]) == {c.value for c in ErrorCode}


def test_the_statuses_follow_what_the_route_is(edge_spec: dict[str, Any]) -> None:
    api = "/api/v1"
    # A read behind a permission: no idempotency key, no state conflict.
    assert _statuses(edge_spec, f"{api}/inventory/stock", "get") == {200, 401, 403, 404, 422}
    # A mutation: the key (400), the state (409); printing adds the spooler's 503.
    assert {400, 401, 403, 404, 409, 422, 503} <= _statuses(edge_spec, f"{api}/labels/lpn", "post")
    assert 503 not in _statuses(edge_spec, f"{api}/printers/{{name}}", "put")
    # What a route declares itself keeps the shared body: 429 on login.
    assert {401, 422, 429} <= _statuses(edge_spec, f"{api}/auth/login", "post")
    # A raw body that is not JSON may come with the wrong content type; a JSON one not.
    assert 415 in _statuses(edge_spec, f"{api}/items/import", "post")
    assert 415 not in _statuses(edge_spec, f"{api}/layout", "put")
    # An upsert answers 201 or 200, both with the route's body.
    put = edge_spec["paths"][f"{api}/carton-types/{{code}}"]["put"]["responses"]
    assert put["201"]["content"] == put["200"]["content"]
    # Nothing to refuse.
    assert _statuses(edge_spec, "/health", "get") == {200}


def test_real_refusals_match_their_declaration(services: Services, as_role: Any) -> None:
    make_site(services.db)
    make_item(services.db, "SKU-1")
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(services.settings, services)
    )
    supervisor: Caller = as_role("supervisor")
    receiver: Caller = as_role("receiver")
    printer = schema["/api/v1/printers/{name}"]["PUT"].Case(
        path_parameters={"name": "dock"}, body={"host": "127.0.0.1", "port": closed_port()}
    )
    assert (
        printer.call_and_validate(headers=supervisor.with_key(), checks=CHECKS).status_code == 200
    )
    label = {"printer": "dock", "lpn": "LPN000012348", "sku": "SKU-1", "qty": 5}
    lpn = schema["/api/v1/labels/lpn"]["POST"]
    refusals = [
        # the printer is down: 503 PRINTER_UNREACHABLE, the job kept for retry
        (lpn.Case(body=label), receiver.with_key(), 503),
        # a handheld user's token without the handheld: 401 DEVICE_REQUIRED
        (lpn.Case(body=label), {"Authorization": receiver.headers["Authorization"]}, 401),
        # a role that may not print
        (lpn.Case(body=label), as_role("counter").with_key(), 403),
        # no Idempotency-Key
        (lpn.Case(body=label), receiver.headers, 400),
        # an item the site does not have
        (lpn.Case(body={**label, "sku": "NOPE"}), receiver.with_key(), 404),
    ]
    for case, headers, status in refusals:
        # A down printer is a declared 503, not our bug: the conformance checks only.
        resp = case.call_and_validate(headers=headers, checks=CHECKS[1:])
        assert resp.status_code == status, resp.text
        assert resp.json()["data"] is None and resp.json()["message"]["type"] == "error"
