"""The OMS's HTTP client to one site's edge server: its integration API with the site's key.

Errors are typed so callers can decide: `SiteUnreachable` (no answer, a timeout, a 5xx, a
429 or an idempotent request still in progress) is worth retrying later; `SiteRefused` (a
4xx) will be refused again until someone changes something, and carries the edge's error
`code`, `text` and `details`. Both are `AislewayError`s (SITE_UNREACHABLE, SITE_REFUSED), so
an API route that lets one through answers with a clear code.

`transport` is injectable (httpx), so tests may use a real loopback server or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from edge_server.errors import AislewayError
from edge_server.oms.sites import Site
from protocols.errors import ErrorCode
from protocols.version import API_BASE_PATH

__all__ = ["SITE_EVENT_TYPES", "SiteClient", "SiteError", "SiteRefused", "SiteUnreachable"]

#: What the OMS subscribes to on each site (docs/oms-sites.md).
SITE_EVENT_TYPES = [
    "inventory.changed",
    "fulfillment_order.*",
    "wave.*",
    "shipment.*",
    "return.*",
    "tracking.*",
]


class SiteError(AislewayError):
    """A call to a site's edge server failed; `site` names it."""

    def __init__(self, code: ErrorCode, site: str, details: dict[str, Any]) -> None:
        super().__init__(code, details={"site": site, **details})
        self.site = site


class SiteUnreachable(SiteError):
    """No usable answer (network, timeout, 5xx, 429, 409 IDEMPOTENCY_IN_PROGRESS): retry."""

    def __init__(self, site: str, reason: str) -> None:
        super().__init__(ErrorCode.SITE_UNREACHABLE, site, {"reason": reason[:300]})
        self.reason = reason


class SiteRefused(SiteError):
    """The edge refused the request (4xx): `edge_code`, `edge_text`, `edge_details`."""

    def __init__(
        self, site: str, status: int, code: str, text: str, details: dict[str, Any] | None
    ) -> None:
        super().__init__(
            ErrorCode.SITE_REFUSED,
            site,
            {"status": status, "code": code, "text": text, "details": details or {}},
        )
        self.edge_status = status
        self.edge_code = code
        self.edge_text = text
        self.edge_details = details or {}


_RETRYABLE_CODES = {"IDEMPOTENCY_IN_PROGRESS"}


class SiteClient:
    """Calls to one site. Use as a context manager (or `close()`)."""

    def __init__(
        self,
        site: Site,
        *,
        timeout: float = 10.0,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.site = site
        self._http = httpx.Client(
            base_url=site.base_url.rstrip("/") + API_BASE_PATH,
            headers={"Authorization": f"Bearer {token or site.api_key}"},
            timeout=timeout,
            transport=transport,
            trust_env=False,  # never through a proxy from the environment
            follow_redirects=False,
        )

    def __enter__(self) -> SiteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing --------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        json: Any = None,
        params: Any = None,
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else None
        try:
            resp = self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise SiteUnreachable(self.site.code, f"{type(exc).__name__}: {exc}") from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        message = (body.get("message") or {}) if isinstance(body, dict) else {}
        code = str(message.get("code") or "")
        if resp.status_code >= 500 or resp.status_code in (408, 429) or code in _RETRYABLE_CODES:
            raise SiteUnreachable(self.site.code, f"HTTP {resp.status_code} {code}".strip())
        if resp.status_code >= 400 or not isinstance(body, dict):
            raise SiteRefused(
                self.site.code,
                resp.status_code,
                code or "NOT_JSON",
                str(message.get("text") or resp.text[:200]),
                message.get("details"),
            )
        data = body.get("data")
        return data if isinstance(data, dict) else {"items": data}

    # -- the calls the OMS makes -----------------------------------------------------------
    def put_fulfillment_order(self, number: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Create or replace FO `number` (`PUT /fulfillment-orders/{number}`)."""
        return self._call("PUT", f"/fulfillment-orders/{number}", key=key, json=body)

    def allocate(self, number: str, key: str) -> dict[str, Any]:
        """Allocate the FO's open lines (`POST /fulfillment-orders/{number}/allocate`)."""
        return self._call("POST", f"/fulfillment-orders/{number}/allocate", key=key)

    def put_return(self, rma: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Tell the site to expect return `rma` (`PUT /returns/{rma}`, docs/returns.md)."""
        return self._call("PUT", f"/returns/{rma}", key=key, json=body)

    def fulfillment_order(self, number: str) -> dict[str, Any]:
        return self._call("GET", f"/fulfillment-orders/{number}")

    def snapshot(self, skus: Sequence[str] | None = None) -> dict[str, Any]:
        """`GET /inventory/snapshot`: `{site, as_of, full, stock: [{sku, available}]}`; every
        SKU the site holds, or only `skus`."""
        if skus is not None and not skus:
            return {"site": self.site.code, "as_of": None, "full": False, "stock": []}
        params = {"sku": list(skus)} if skus is not None else None
        return self._call("GET", "/inventory/snapshot", params=params)

    def failed_deliveries(
        self, subscriber_id: int, *, before: int | None = None, limit: int = 500
    ) -> list[dict[str, Any]]:
        """The site's deliveries to `subscriber_id` it gave up on (`GET /webhooks/deliveries
        ?status=failed`), newest first; `before` (a delivery id) pages back."""
        params: dict[str, Any] = {"status": "failed", "subscriber_id": subscriber_id}
        params["limit"] = limit
        if before is not None:
            params["before"] = before
        items = self._call("GET", "/webhooks/deliveries", params=params).get("items")
        return [d for d in items or [] if isinstance(d, dict)]

    def event(self, seq: int) -> dict[str, Any] | None:
        """The site's event number `seq` from its feed (`GET /events`), or None."""
        page = self._call("GET", "/events", params={"after": max(seq - 1, 0), "limit": 1})
        events = page.get("events") or []
        return events[0] if events and events[0].get("seq") == seq else None

    def subscribe(self, url: str, key: str, description: str = "Aisleway OMS") -> dict[str, Any]:
        """Create the OMS's webhook subscriber on the site (needs `webhooks.manage`); the
        answer carries its `secret`, shown this once."""
        body = {"url": url, "event_types": SITE_EVENT_TYPES, "description": description}
        return self._call("POST", "/webhooks/subscribers", key=key, json=body)

    def deactivate_subscriber(self, subscriber_id: int, key: str) -> dict[str, Any]:
        return self._call("POST", f"/webhooks/subscribers/{subscriber_id}/deactivate", key=key)
