"""OMS liveness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from protocols.version import PROTOCOL_VERSION

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, Any]:
    return {"status": "ok", "service": "aisleway-oms", "protocol": PROTOCOL_VERSION}
