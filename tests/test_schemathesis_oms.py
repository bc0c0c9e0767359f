"""schemathesis over the OMS's whole OpenAPI, in-process: no 5xx, and every response matches
the schema the route declares. An admin API key (every OMS permission), a fresh
Idempotency-Key on every request, a few fixed examples per operation; see
tests/test_schemathesis_edge.py for the edge server and AISLEWAY_SCHEMATHESIS_EXAMPLES."""

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

from edge_server.oms.app import create_oms_app
from edge_server.oms.services import open_oms_services
from edge_server.oms.settings import OmsSettings

DEEP = os.environ.get("AISLEWAY_SCHEMATHESIS_EXAMPLES")
EXAMPLES_PER_OPERATION = int(DEEP or 5)

_DIR = Path(tempfile.mkdtemp(prefix="aisleway-schemathesis-oms-"))
_OMS = open_oms_services(
    OmsSettings(
        db_path=_DIR / "oms.db",
        relay_enabled=False,
        site_sync_enabled=False,
        channel_sync_enabled=False,
        webhook_allow_private=True,
    )
)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_oms_app(_OMS.settings, _OMS))


@pytest.fixture(scope="module")
def admin_headers() -> Iterator[dict[str, str]]:
    _, secret = _OMS.api_keys.create("schemathesis", role="admin")
    yield {"Authorization": f"Bearer {secret}"}
    _OMS.db.close()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=DEEP is None,
)
def test_oms_api(case: Any, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, "Idempotency-Key": f"st-{uuid.uuid4().hex}"}
    case.call_and_validate(
        headers=headers, checks=[not_a_server_error, response_schema_conformance]
    )
