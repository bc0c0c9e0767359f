"""schemathesis's state machine over the core document flows of the edge server, in-process:
a purchase order or fulfillment order is put, then read, allocated or cancelled (again and
in any order) by the links below, in random sequences. No 5xx; responses, statuses and
content types as declared.

The product OpenAPI has no links (responses are plain envelopes, so schemathesis cannot
infer any); the test adds them to its copy. Random documents almost never pass the domain
checks (real SKUs, ISO country codes), so each PUT sends a valid document of demo SKUs under
a fresh number; what follows is generated. As an admin on the demo site, a fresh
Idempotency-Key on every request. AISLEWAY_SCHEMATHESIS_EXAMPLES deepens it.
"""

from __future__ import annotations

import copy
import itertools
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from edge_server.app import create_app
from edge_server.demo import SHIP_TO, seed_demo
from edge_server.services import Services, open_services

from conftest import login_as, make_settings
from schemathesis_support import CHECKS, DEEP

API = "/api/v1"
# (document path, its key) -> the operations that follow its creation.
FLOWS: dict[tuple[str, str], list[tuple[str, str]]] = {
    (f"{API}/purchase-orders/{{number}}", "number"): [("get", ""), ("post", "/cancel")],
    (f"{API}/fulfillment-orders/{{number}}", "number"): [
        ("get", ""),
        ("post", "/allocate"),
        ("post", "/cancel"),
    ],
}


def with_links(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    paths = spec["paths"]
    for (path, key), targets in FLOWS.items():
        links = {
            f"{method}{suffix or '-read'}": {
                "operationId": paths[path + suffix][method]["operationId"],
                "parameters": {key: f"$request.path.{key}"},
            }
            for method, suffix in targets
        }
        for status in ("200", "201"):
            paths[path]["put"]["responses"][status]["links"] = links
    return spec


@pytest.fixture(scope="module")
def site() -> Iterator[Services]:
    where = Path(tempfile.mkdtemp(prefix="aisleway-stateful-"))
    services = open_services(make_settings(where))
    seed_demo(services)
    yield services
    services.db.close()
    shutil.rmtree(where, ignore_errors=True)


def test_core_flows_in_random_sequences(site: Services) -> None:
    app = create_app(site.settings, site)
    schema = schemathesis.openapi.from_dict(with_links(app.openapi()))
    schema.app = app
    admin = login_as(site, "admin").headers
    skus = [row["sku"] for row in site.db.query("SELECT sku FROM items ORDER BY sku LIMIT 3")]
    service, ship_to = SHIP_TO[0]
    lines = [{"line_no": n, "sku": sku, "qty": n} for n, sku in enumerate(skus, start=1)]
    documents = {
        f"{API}/purchase-orders/{{number}}": {"supplier": "Schemathesis", "lines": lines},
        f"{API}/fulfillment-orders/{{number}}": {
            "ship_to": ship_to,
            "carrier_service": service,
            "lines": lines,
        },
    }
    numbers = itertools.count(1)
    calls: list[tuple[str, int]] = []

    class Flows(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            case.headers = {}  # ours only (a made-up X-Scanned-At refuses everything)
            if case.method == "PUT" and case.path in documents:
                case.path_parameters = {"number": f"ST-{next(numbers)}"}
                case.body = copy.deepcopy(documents[case.path])

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {**admin, "Idempotency-Key": f"sm-{uuid.uuid4().hex}"}}

        def after_call(self, response: Any, case: Any) -> None:
            calls.append((f"{case.method} {case.path}", response.status_code))

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Flows.run(
        settings=settings(
            max_examples=int(DEEP or 8),
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=DEEP is None,
        )
    )
    # The links were followed: documents were put, then read, allocated or cancelled.
    done = {op for op, status in calls if status < 300}
    assert f"PUT {API}/fulfillment-orders/{{number}}" in done, calls
    assert done & {f"GET {path}" for path in documents}, calls
    assert f"POST {API}/fulfillment-orders/{{number}}/allocate" in done, calls
