"""Liveness and identity of this edge server (public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from edge_server.deps import ServicesDep
from protocols.envelope import Envelope
from protocols.version import API_BASE_PATH, PROTOCOL_VERSION

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Envelope[dict[str, Any]])
def health(services: ServicesDep) -> dict[str, Any]:
    services.db.query_one("SELECT 1")
    return {
        "data": {
            "status": "ok",
            "site": services.settings.site,
            "protocol": PROTOCOL_VERSION,
            "api": API_BASE_PATH,
        }
    }
