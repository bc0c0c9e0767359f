"""schemathesis over the edge server's whole OpenAPI, in-process: no 5xx, and every response
matches the schema the route declares.

One site database for the module (the demo site), an admin caller (every permission), a fresh
Idempotency-Key on every request. Bounded: a few fixed examples per operation (~45 s).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from edge_server.app import create_app
from edge_server.demo import seed_demo
from edge_server.services import open_services

from conftest import login_as, make_settings

# A deeper run: AISLEWAY_SCHEMATHESIS_EXAMPLES=25 (random instead of the fixed examples).
DEEP = os.environ.get("AISLEWAY_SCHEMATHESIS_EXAMPLES")
EXAMPLES_PER_OPERATION = int(DEEP or 5)


# Loaded when the module is collected (schemathesis parametrizes by operation), on a site
# database of its own; closed and removed after the module's tests.
_DIR = Path(tempfile.mkdtemp(prefix="aisleway-schemathesis-"))
_SERVICES = open_services(make_settings(_DIR))
# The demo site (layout, items, stock, a PO, orders): small ids and codes reach real rows.
seed_demo(_SERVICES)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_SERVICES.settings, _SERVICES))


@pytest.fixture(scope="module")
def admin_headers() -> Iterator[dict[str, str]]:
    yield login_as(_SERVICES, "admin").headers
    _SERVICES.db.close()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=DEEP is None,
)
def test_edge_api(case: Any, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, "Idempotency-Key": f"st-{uuid.uuid4().hex}"}
    case.call_and_validate(
        headers=headers, checks=[not_a_server_error, response_schema_conformance]
    )
