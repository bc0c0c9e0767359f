"""Sales channels over the OMS API: the safety buffer's rounding, the endpoint (SSRF-guarded,
its signing secret shown once), the SKU mapping, roles, and every bad input refused with a
clear code and nothing changed. Real app, real SQLite file."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_oms_foundation import oms_settings

from edge_server.oms import orders
from edge_server.oms.app import create_oms_app
from edge_server.oms.channels import buffered
from edge_server.oms.services import OmsServices, open_oms_services

from conftest import assert_response

_keys = itertools.count(1)
HOOK = "http://127.0.0.1:9/channel"


@dataclass
class Admin:
    services: OmsServices
    client: TestClient
    admin: dict[str, str]

    def key(self, role: str) -> dict[str, str]:
        _, secret = self.services.api_keys.create(f"{role}-{next(_keys)}", role=role)
        return {"Authorization": f"Bearer {secret}"}

    def send(self, method: str, path: str, who: dict[str, str] | None = None, **kw: Any) -> Any:
        headers = {**(who or self.admin), "Idempotency-Key": f"c{next(_keys)}"}
        headers.update(kw.pop("headers", {}))
        return self.client.request(method, "/api/v1" + path, headers=headers, **kw)

    def get(self, path: str, who: dict[str, str] | None = None) -> Any:
        return self.client.get("/api/v1" + path, headers=who or self.admin)

    def tables(self) -> list[Any]:
        return [
            self.services.db.query(f"SELECT * FROM {t} ORDER BY 1")
            for t in ("channels", "channel_skus", "webhook_subscribers", "outbox")
        ]


@pytest.fixture
def oms(tmp_path: Path) -> Iterator[Admin]:
    services = open_oms_services(
        oms_settings(tmp_path, channel_sync_enabled=False, webhook_allow_private=False)
    )
    with TestClient(create_oms_app(services.settings, services)) as client:
        admin = Admin(services, client, {})
        admin.admin = admin.key("admin")
        yield admin
    services.db.close()


@pytest.fixture
def lan_oms(tmp_path: Path) -> Iterator[Admin]:
    """Endpoints on loopback allowed (a channel connector on the same host)."""
    services = open_oms_services(oms_settings(tmp_path, channel_sync_enabled=False))
    with TestClient(create_oms_app(services.settings, services)) as client:
        admin = Admin(services, client, {})
        admin.admin = admin.key("admin")
        yield admin
    services.db.close()


def channel_body(**extra: Any) -> dict[str, Any]:
    return {"name": "Web store", "kind": "web", **extra}


def test_the_buffer_rounds_down_after_the_percentage_then_takes_the_units() -> None:
    assert buffered(10, 1000, 0) == 9  # 10 on hand, 10 %: 9
    assert buffered(5, 1000, 0) == 4  # 4.5 rounds down
    assert buffered(10, 0, 3) == 7
    assert buffered(10, 1000, 2) == 7  # floor(9) - 2
    assert buffered(8, 1250, 0) == 7  # 12.5 %: floor(7.0)
    assert buffered(2, 5000, 5) == 0  # never negative
    assert buffered(0, 0, 0) == 0
    assert buffered(7, 10_000, 0) == 0  # 100 % hides everything
    assert buffered(-3, 0, 0) == 0


def test_a_channel_is_created_with_its_secret_shown_once(lan_oms: Admin) -> None:
    resp = lan_oms.send(
        "PUT",
        "/channels/WEB",
        json=channel_body(endpoint_url="http://127.0.0.1:9/hook", buffer_pct="10", buffer_units=1),
        headers={"Idempotency-Key": "create-web"},
    )
    data = assert_response(resp, 201)
    secret = data["signing_secret"]
    assert secret.startswith("whsec_")
    assert data["channel"]["buffer_pct"] == "10" and data["channel"]["buffer_units"] == 1
    assert data["channel"]["endpoint_url"] == "http://127.0.0.1:9/hook"
    # The replay of the same request shows the same answer; a read never shows the secret.
    replay = lan_oms.send(
        "PUT",
        "/channels/WEB",
        json=channel_body(endpoint_url="http://127.0.0.1:9/hook", buffer_pct="10", buffer_units=1),
        headers={"Idempotency-Key": "create-web"},
    )
    assert assert_response(replay, 201)["signing_secret"] == secret
    view = assert_response(lan_oms.get("/channels/WEB"), 200)
    assert "signing_secret" not in view and secret not in str(view)
    assert view["signing_secret_hint"].endswith("…")
    # Changing the endpoint keeps the secret; no new one is shown.
    moved = lan_oms.send(
        "PUT", "/channels/WEB", json=channel_body(endpoint_url="http://127.0.0.1:9/v2")
    )
    data = assert_response(moved, 200)
    assert "signing_secret" not in data and data["outcome"] == "updated"
    assert data["channel"]["endpoint_url"] == "http://127.0.0.1:9/v2"
    sub = lan_oms.services.db.query("SELECT url, secret, event_types_json FROM webhook_subscribers")
    assert sub == [{"url": "http://127.0.0.1:9/v2", "secret": secret, "event_types_json": "[]"}]
    listed = assert_response(lan_oms.get("/channels"), 200)["items"]
    assert [c["code"] for c in listed] == ["WEB"]


def test_a_channel_made_for_orders_gets_a_buffer_and_endpoint_later(lan_oms: Admin) -> None:
    with lan_oms.services.db.write() as w:
        orders.add_channel(w, "AMAZON", kind="marketplace")
    resp = lan_oms.send(
        "PUT",
        "/channels/AMAZON",
        json=channel_body(name="Amazon", kind="marketplace", buffer_pct="12.5"),
    )
    data = assert_response(resp, 200)
    assert data["outcome"] == "updated" and "signing_secret" not in data
    assert data["channel"]["buffer_pct"] == "12.5" and data["channel"]["endpoint_url"] is None
    again = lan_oms.send(
        "PUT",
        "/channels/AMAZON",
        json=channel_body(name="Amazon", kind="marketplace", buffer_pct="12.5"),
    )
    assert assert_response(again, 200)["outcome"] == "unchanged"
    with_hook = lan_oms.send(
        "PUT",
        "/channels/AMAZON",
        json=channel_body(name="Amazon", kind="marketplace", buffer_pct="12.5", endpoint_url=HOOK),
    )
    assert assert_response(with_hook, 200)["signing_secret"].startswith("whsec_")
    # Without the endpoint the pushes stop; the subscriber is switched off.
    off = lan_oms.send(
        "PUT", "/channels/AMAZON", json=channel_body(name="Amazon", kind="marketplace")
    )
    assert assert_response(off, 200)["channel"]["endpoint_url"] is None
    assert lan_oms.services.db.query("SELECT active FROM webhook_subscribers") == [{"active": 0}]
    gone = lan_oms.send("DELETE", "/channels/AMAZON")
    assert assert_response(gone, 200)["channel"]["active"] is False


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (channel_body(buffer_pct="100.5"), "VALIDATION_FAILED"),
        (channel_body(buffer_pct="-1"), "VALIDATION_FAILED"),
        (channel_body(buffer_pct="10.555"), "VALIDATION_FAILED"),
        (channel_body(buffer_units=-1), "VALIDATION_FAILED"),
        (channel_body(kind="telepathy"), "VALIDATION_FAILED"),
        (channel_body(name=""), "VALIDATION_FAILED"),
        (channel_body(surprise=True), "VALIDATION_FAILED"),
        (channel_body(endpoint_url="http://127.0.0.1:9/hook"), "WEBHOOK_URL_INVALID"),
        (channel_body(endpoint_url="http://169.254.169.254/latest"), "WEBHOOK_URL_INVALID"),
        (channel_body(endpoint_url="http://10.1.2.3/hook"), "WEBHOOK_URL_INVALID"),
        (channel_body(endpoint_url="ftp://example.com/x"), "WEBHOOK_URL_INVALID"),
        (channel_body(endpoint_url="not a url"), "WEBHOOK_URL_INVALID"),
    ],
)
def test_a_bad_channel_is_refused_and_nothing_changes(
    oms: Admin, body: dict[str, Any], code: str
) -> None:
    before = oms.tables()
    assert_response(oms.send("PUT", "/channels/WEB", json=body), 422, code=code)
    assert oms.tables() == before


def test_a_bad_channel_code_or_unknown_channel_is_refused(lan_oms: Admin) -> None:
    before = lan_oms.tables()
    assert_response(lan_oms.send("PUT", "/channels/web", json=channel_body()), 422)
    assert_response(lan_oms.get("/channels/NOPE"), 404, code="UNKNOWN_CHANNEL")
    assert_response(lan_oms.send("DELETE", "/channels/NOPE"), 404, code="UNKNOWN_CHANNEL")
    assert_response(lan_oms.send("POST", "/channels/NOPE/reconcile"), 404, code="UNKNOWN_CHANNEL")
    assert_response(
        lan_oms.send("PUT", "/channels/NOPE/skus/SKU-1", json={"channel_sku": "X"}),
        404,
        code="UNKNOWN_CHANNEL",
    )
    assert_response(lan_oms.get("/channels/NOPE/skus"), 404, code="UNKNOWN_CHANNEL")
    assert lan_oms.tables() == before


def test_a_channel_without_endpoint_or_switched_off_is_not_pushed_to(lan_oms: Admin) -> None:
    assert_response(lan_oms.send("PUT", "/channels/B2B", json=channel_body(kind="b2b")), 201)
    before = lan_oms.tables()
    assert_response(
        lan_oms.send("POST", "/channels/B2B/reconcile"), 409, code="CHANNEL_NO_ENDPOINT"
    )
    assert_response(
        lan_oms.send("POST", "/channels/B2B/rotate-secret"), 409, code="CHANNEL_NO_ENDPOINT"
    )
    assert lan_oms.tables() == before
    assert_response(
        lan_oms.send("PUT", "/channels/B2B", json=channel_body(kind="b2b", endpoint_url=HOOK)),
        200,
    )
    assert_response(lan_oms.send("DELETE", "/channels/B2B"), 200)
    before = lan_oms.tables()
    assert_response(lan_oms.send("POST", "/channels/B2B/reconcile"), 409, code="CHANNEL_INACTIVE")
    assert lan_oms.tables() == before


def test_the_sku_mapping_lists_unlists_and_refuses_a_taken_channel_sku(lan_oms: Admin) -> None:
    assert_response(lan_oms.send("PUT", "/channels/WEB", json=channel_body()), 201)
    made = lan_oms.send(
        "PUT", "/channels/WEB/skus/SKU-1", json={"channel_sku": "W-1", "listing_id": "L1"}
    )
    assert assert_response(made, 201)["outcome"] == "created"
    same = lan_oms.send(
        "PUT", "/channels/WEB/skus/SKU-1", json={"channel_sku": "W-1", "listing_id": "L1"}
    )
    assert assert_response(same, 200)["outcome"] == "unchanged"
    paused = lan_oms.send(
        "PUT", "/channels/WEB/skus/SKU-1", json={"channel_sku": "W-1", "listed": False}
    )
    assert assert_response(paused, 200)["outcome"] == "updated"
    before = lan_oms.tables()
    taken = lan_oms.send("PUT", "/channels/WEB/skus/SKU-2", json={"channel_sku": "W-1"})
    assert_response(taken, 409, code="CHANNEL_SKU_TAKEN")
    for bad in ({"channel_sku": ""}, {"channel_sku": "has space"}, {"listed": True}, {}):
        assert_response(lan_oms.send("PUT", "/channels/WEB/skus/SKU-2", json=bad), 422)
    assert lan_oms.tables() == before
    items = assert_response(lan_oms.get("/channels/WEB/skus"), 200)["items"]
    assert items == [
        {
            "sku": "SKU-1",
            "channel_sku": "W-1",
            "listing_id": None,
            "listed": False,
            "published": None,
        }
    ]
    removed = lan_oms.send("DELETE", "/channels/WEB/skus/SKU-1")
    assert assert_response(removed, 200)["outcome"] == "removed"
    assert assert_response(lan_oms.get("/channels/WEB/skus"), 200)["items"] == []


def test_only_admins_manage_channels_and_readers_read(lan_oms: Admin) -> None:
    reader, channel = lan_oms.key("reader"), lan_oms.key("channel")
    assert_response(lan_oms.send("PUT", "/channels/WEB", json=channel_body()), 201)
    before = lan_oms.tables()
    for who in (reader, channel):
        assert_response(
            lan_oms.send("PUT", "/channels/WEB", who, json=channel_body(buffer_units=5)),
            403,
            code="FORBIDDEN_ROLE",
        )
        assert_response(
            lan_oms.send("POST", "/channels/WEB/reconcile", who), 403, code="FORBIDDEN_ROLE"
        )
    assert lan_oms.tables() == before
    assert assert_response(lan_oms.get("/channels/WEB", reader), 200)["code"] == "WEB"
    assert_response(lan_oms.get("/channels", channel), 403, code="FORBIDDEN_ROLE")
    assert lan_oms.client.get("/api/v1/channels").status_code == 401
