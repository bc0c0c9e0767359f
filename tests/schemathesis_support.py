"""What the schemathesis runs over the edge server's and the OMS's OpenAPI share: the checks,
how many examples, the Hypothesis settings, and how a generated case is sent.

A deeper run: AISLEWAY_SCHEMATHESIS_EXAMPLES=25 (random instead of the fixed examples).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

DEEP = os.environ.get("AISLEWAY_SCHEMATHESIS_EXAMPLES")
EXAMPLES_PER_OPERATION = int(DEEP or 5)
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]

#: The Hypothesis settings of every run: bounded, reproducible unless DEEP.
fuzz_settings = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=DEEP is None,
)


def call(case: Any, headers: dict[str, str], *, drop: tuple[str, ...] = ()) -> None:
    """Send `case` as the caller with `headers` (and a fresh Idempotency-Key) and run the
    checks. Our headers replace the generated ones of the same name (whatever their case);
    `drop` names generated headers to leave out too."""
    names = {name.lower() for name in headers} | set(drop)
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in names}
    headers = {**headers, "Idempotency-Key": f"st-{uuid.uuid4().hex}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
