"""Webhook subscribers, delivery status, and the outbox as a pull feed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.integration import subscriptions
from edge_server.integration.outbox import events_after, valid_pattern
from edge_server.integration.url_guard import MAX_URL_LENGTH, check_webhook_url
from protocols.envelope import Envelope

router = APIRouter(tags=["webhooks"])

Manage = Annotated[Mutation, Depends(Mutates("webhooks.manage"))]


class SubscriberIn(BaseModel):
    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH)
    event_types: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=50)
    description: str = Field(default="", max_length=200)

    @field_validator("event_types")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        bad = [p for p in value if not valid_pattern(p)]
        if bad:
            raise ValueError(
                f"not an event type pattern: {', '.join(bad)} "
                "(use '*', 'inventory.*' or an exact type like 'inventory.changed')"
            )
        return list(dict.fromkeys(value))


@router.post("/webhooks/subscribers", status_code=201, response_model=Envelope[dict[str, Any]])
def create_subscriber(body: SubscriberIn, services: ServicesDep, m: Manage) -> JSONResponse:
    # Resolve and check the address before the write transaction: DNS can be slow and the
    # write lock must not wait for it.
    checked = check_webhook_url(body.url, allow_private=services.settings.webhook_allow_private)

    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        view = subscriptions.create_subscriber(w, checked, body.event_types, body.description)
        # The secret is in this response only (and its idempotent replay).
        return 201, ok(view)

    return reply(*m.run(body.model_dump(), effect))


@router.get("/webhooks/subscribers", response_model=Envelope[list[dict[str, Any]]])
def list_subscribers(
    services: ServicesDep, who: Annotated[Principal, Depends(Requires("webhooks.manage"))]
) -> dict[str, Any]:
    return {"data": subscriptions.list_subscribers(services.db)}


@router.get("/webhooks/subscribers/{subscriber_id}", response_model=Envelope[dict[str, Any]])
def get_subscriber(
    subscriber_id: int,
    services: ServicesDep,
    who: Annotated[Principal, Depends(Requires("webhooks.manage"))],
) -> dict[str, Any]:
    return {"data": subscriptions.get_subscriber(services.db, subscriber_id)}


@router.post(
    "/webhooks/subscribers/{subscriber_id}/deactivate", response_model=Envelope[dict[str, Any]]
)
def deactivate_subscriber(subscriber_id: int, m: Manage) -> JSONResponse:
    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        return 200, ok(subscriptions.deactivate_subscriber(w, subscriber_id))

    return reply(*m.run({"subscriber_id": subscriber_id}, effect))


@router.post(
    "/webhooks/subscribers/{subscriber_id}/rotate-secret", response_model=Envelope[dict[str, Any]]
)
def rotate_secret(subscriber_id: int, m: Manage) -> JSONResponse:
    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        view = subscriptions.rotate_secret(w, subscriber_id)
        return 200, ok(view)

    return reply(*m.run({"subscriber_id": subscriber_id}, effect))


@router.post(
    "/webhooks/subscribers/{subscriber_id}/test",
    status_code=202,
    response_model=Envelope[dict[str, Any]],
)
def send_test(subscriber_id: int, m: Manage) -> JSONResponse:
    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        return 202, ok(subscriptions.send_test_event(w, subscriber_id))

    return reply(*m.run({"subscriber_id": subscriber_id}, effect))


@router.get("/webhooks/deliveries", response_model=Envelope[list[dict[str, Any]]])
def list_deliveries(
    services: ServicesDep,
    who: Annotated[Principal, Depends(Requires("events.read"))],
    status: Literal["pending", "delivered", "failed"] | None = None,
    subscriber_id: int | None = None,
    event_id: str | None = None,
    before: Annotated[int | None, Query(description="Page back: deliveries below this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    rows = subscriptions.list_deliveries(
        services.db,
        status=status,
        subscriber_id=subscriber_id,
        event_id=event_id,
        before=before,
        limit=limit,
    )
    return {"data": rows}


@router.post("/webhooks/deliveries/{delivery_id}/retry", response_model=Envelope[dict[str, Any]])
def retry_delivery(delivery_id: int, m: Manage) -> JSONResponse:
    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        return 200, ok(subscriptions.retry_delivery(w, delivery_id))

    return reply(*m.run({"delivery_id": delivery_id}, effect))


@router.get("/events", response_model=Envelope[dict[str, Any]])
def list_events(
    services: ServicesDep,
    who: Annotated[Principal, Depends(Requires("events.read"))],
    after: Annotated[int, Query(ge=0, description="Return events with seq above this.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    events = events_after(services.db, after, limit)
    # next_after is the cursor for the next call, even when this page is empty.
    return {"data": {"events": events, "next_after": events[-1]["seq"] if events else after}}
