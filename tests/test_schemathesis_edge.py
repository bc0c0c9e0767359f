"""schemathesis over the edge server's whole OpenAPI, in-process: no 5xx, every response
matches the schema its route declares, its status is one the route declares (the error
statuses come from edge_server/openapi_errors.py) and its content type too.

One site database for the module (the demo site), a fresh Idempotency-Key on every request.
Two runs over every operation: as an admin (every permission, so the routes do real work),
and as floor callers (a picker on its paired handheld, the picker's token with another
handheld's credential or with none, a supervisor on the web, and whatever `Authorization`
schemathesis makes up), so the 401/403 paths and the device checks are fuzzed too.
Bounded: a few fixed examples per operation.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st

from edge_server.app import create_app
from edge_server.demo import seed_demo
from edge_server.services import open_services

from conftest import login_as, make_settings
from schemathesis_support import call, fuzz_settings

# The floor callers, by name (see `callers`).
FLOOR = ("picker", "picker-other-device", "picker-no-device", "supervisor", "made-up")


# Loaded when the module is collected (schemathesis parametrizes by operation), on a site
# database of its own; closed and removed after the module's tests.
_DIR = Path(tempfile.mkdtemp(prefix="aisleway-schemathesis-"))
_SERVICES = open_services(make_settings(_DIR))
# The demo site (layout, items, stock, a PO, orders): small ids and codes reach real rows.
seed_demo(_SERVICES)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_SERVICES.settings, _SERVICES))


@pytest.fixture(scope="module")
def callers() -> Iterator[dict[str, dict[str, str]]]:
    """Headers by caller; `None` values are headers the caller must not send."""
    picker = login_as(_SERVICES, "picker").headers
    other = login_as(_SERVICES, "picker").headers  # a second handheld, paired
    yield {
        "admin": login_as(_SERVICES, "admin").headers,
        "picker": picker,
        "picker-other-device": {**picker, "X-Device-Token": other["X-Device-Token"]},
        "picker-no-device": {"Authorization": picker["Authorization"]},
        "supervisor": login_as(_SERVICES, "supervisor").headers,
        "made-up": {},  # the generated Authorization / X-Device-Token, if any
    }
    _SERVICES.db.close()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@fuzz_settings
def test_edge_api(case: Any, callers: dict[str, dict[str, str]]) -> None:
    call(case, callers["admin"])


@schema.given(who=st.sampled_from(FLOOR))
@schema.parametrize()
@fuzz_settings
def test_edge_api_floor(case: Any, who: str, callers: dict[str, dict[str, str]]) -> None:
    drop = ("x-device-token",) if who == "picker-no-device" else ()
    call(case, callers[who], drop=drop)
