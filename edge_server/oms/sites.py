"""The sites this OMS fulfils from: each one edge server, reached over its integration API
(`base_url` + `api_key`) and heard through its signed webhooks (`webhook_secret`).

The secrets are stored as given (the OMS must send the key and verify with the secret) and
never leave through `site_view`; `secret_hints` shows enough to tell them apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.signing import SECRET_PREFIX
from edge_server.integration.url_guard import check_webhook_url
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode
from protocols.orders import SITE_CODE_PATTERN

__all__ = [
    "Site",
    "SiteIn",
    "check_site_url",
    "deactivate_site",
    "get_site",
    "list_sites",
    "put_site",
    "site_id",
    "site_view",
]


_SECRET = re.compile(rf"{SECRET_PREFIX}[A-Za-z0-9+/=]{{16,200}}")


class SiteIn(BaseModel):
    """A site as an administrator sets it. Leaving out `api_key` or `webhook_secret` when
    updating keeps the stored one."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    base_url: str = Field(
        min_length=1, max_length=2000, description="The edge server, e.g. http://10.0.0.5:8000"
    )
    api_key: str | None = Field(
        default=None, min_length=8, max_length=200, description="Key for the site's API."
    )
    webhook_secret: str | None = Field(
        default=None,
        max_length=300,
        description="The secret of the OMS's webhook subscription on the site (whsec_…).",
    )
    active: bool = True

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET.fullmatch(value):
            raise PydanticCustomError(
                "secret_invalid",
                "a webhook secret is whsec_ and base64, as the site's edge server showed it.",
            )
        return value


@dataclass(frozen=True, slots=True)
class Site:
    """What the site-integration code needs to talk to a site."""

    id: int
    code: str
    name: str
    base_url: str
    api_key: str
    webhook_secret: str
    active: bool


def _rows(src: Source, where: str = "", params: list[Any] | None = None) -> list[dict[str, Any]]:
    return fetch_rows(src, "SELECT * FROM sites " + where + " ORDER BY code", params or [])


def _hint(secret: str) -> str | None:
    return secret[: min(len(secret) // 3, 10)] + "…" if secret else None


def site_view(row: dict[str, Any]) -> dict[str, Any]:
    """A site for the API: no secrets, only hints of them."""
    return {
        "code": row["code"],
        "name": row["name"],
        "base_url": row["base_url"],
        "active": bool(row["active"]),
        "api_key_hint": _hint(row["api_key"]),
        "webhook_secret_hint": _hint(row["webhook_secret"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def get_site(src: Source, code: str) -> Site | None:
    """The site with `code` (active or not), secrets included, or None."""
    rows = _rows(src, "WHERE code = ?", [code])
    if not rows:
        return None
    r = rows[0]
    return Site(
        id=r["id"],
        code=r["code"],
        name=r["name"],
        base_url=r["base_url"],
        api_key=r["api_key"],
        webhook_secret=r["webhook_secret"],
        active=bool(r["active"]),
    )


def site_id(src: Source, code: str) -> int:
    """The id of site `code`; UNKNOWN_SITE when there is none."""
    site = get_site(src, code)
    if site is None:
        raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
    return site.id


def list_sites(src: Source, *, active_only: bool = False) -> list[dict[str, Any]]:
    return [site_view(r) for r in _rows(src, "WHERE active = 1" if active_only else "")]


def check_site_url(url: str, *, allow_private: bool) -> str:
    """Refuse (SITE_URL_INVALID) a base URL the OMS must not call; resolves the host, so
    call it outside a write transaction. Returns the URL without a trailing slash."""
    try:
        check_webhook_url(url, allow_private=allow_private)
    except AislewayError as exc:
        raise AislewayError(
            ErrorCode.SITE_URL_INVALID,
            details={"url": url[:200], "reason": exc.details.get("reason", exc.text)},
        ) from exc
    return url.rstrip("/")


def put_site(
    w: SUDatabase, code: str, body: SiteIn, *, base_url: str
) -> Literal["created", "updated", "unchanged"]:
    """Create or update site `code` inside the caller's transaction. `base_url` is the URL
    already checked by `check_site_url`. A new site needs its `api_key`."""
    if not _matches(code, SITE_CODE_PATTERN):
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            details={"errors": [{"field": "code", "reason": "not a site code"}]},
        )
    now = iso()
    stored = get_site(w, code)
    if stored is None:
        if body.api_key is None:
            raise AislewayError(
                ErrorCode.VALIDATION_FAILED,
                details={"errors": [{"field": "api_key", "reason": "a new site needs its key"}]},
            )
        w.execute(
            "INSERT INTO sites (code, name, base_url, api_key, webhook_secret, active, "
            "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            [
                code,
                body.name,
                base_url,
                body.api_key,
                body.webhook_secret or "",
                int(body.active),
                now,
                now,
            ],
        )
        return "created"
    new = (
        body.name,
        base_url,
        body.api_key if body.api_key is not None else stored.api_key,
        body.webhook_secret if body.webhook_secret is not None else stored.webhook_secret,
        body.active,
    )
    old = (stored.name, stored.base_url, stored.api_key, stored.webhook_secret, stored.active)
    if new == old:
        return "unchanged"
    w.execute(
        "UPDATE sites SET name = ?, base_url = ?, api_key = ?, webhook_secret = ?, active = ?, "
        "updated_at = ? WHERE id = ?",
        [*new[:4], int(new[4]), now, stored.id],
    )
    return "updated"


def deactivate_site(w: SUDatabase, code: str) -> Literal["deactivated", "unchanged"]:
    """Stop promising from site `code`: its stock no longer counts as ATP for new orders.
    Reservations it holds stay (cancel or release them order by order)."""
    stored = get_site(w, code)
    if stored is None:
        raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
    if not stored.active:
        return "unchanged"
    w.execute("UPDATE sites SET active = 0, updated_at = ? WHERE id = ?", [iso(), stored.id])
    return "deactivated"


def _matches(text: str, pattern: str) -> bool:
    return re.fullmatch(pattern, text) is not None
