"""schemathesis over the OMS's whole OpenAPI, in-process: no 5xx, and every response matches
the schema, a status and a content type the route declares. An admin API key (every OMS
permission), then the other callers (a channel key, a reader key, whatever `Authorization`
schemathesis makes up); a fresh Idempotency-Key on every request, a few fixed examples per
operation; see tests/test_schemathesis_edge.py for the edge server and
AISLEWAY_SCHEMATHESIS_EXAMPLES."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st

from edge_server.oms.app import create_oms_app
from edge_server.oms.services import open_oms_services
from edge_server.oms.settings import OmsSettings

from schemathesis_support import call, fuzz_settings

ROLES = ("admin", "channel", "reader")
OTHERS = ("channel", "reader", "made-up")

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
def callers() -> Iterator[dict[str, dict[str, str]]]:
    keys = {role: _OMS.api_keys.create(f"schemathesis-{role}", role=role)[1] for role in ROLES}
    yield {
        **{role: {"Authorization": f"Bearer {secret}"} for role, secret in keys.items()},
        "made-up": {},  # the generated Authorization, if any
    }
    _OMS.db.close()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@fuzz_settings
def test_oms_api(case: Any, callers: dict[str, dict[str, str]]) -> None:
    call(case, callers["admin"])


@schema.given(who=st.sampled_from(OTHERS))
@schema.parametrize()
@fuzz_settings
def test_oms_api_other_callers(case: Any, who: str, callers: dict[str, dict[str, str]]) -> None:
    call(case, callers[who])
