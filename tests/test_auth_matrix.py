"""Every non-public route refuses a missing, forged or expired token and every role that may
not use it. Routes are discovered from the app, so a new route is covered automatically."""

import base64
import json
import re
import time

import pytest
from fastapi.routing import APIRoute

from edge_server.access.policy import POLICY
from edge_server.db.migrations import KEY_ROLES

from conftest import api_routes, login_as

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/metrics"),  # counts only; AISLEWAY_METRICS_TOKEN guards it when set
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/devices/pair"),
}


def _permission(route: APIRoute) -> str | None:
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        if dep.call is not None and hasattr(dep.call, "permission"):
            return str(dep.call.permission)
        stack.extend(dep.dependencies)
    return None


def protected_routes(app):
    out = []
    for path, route in api_routes(app):
        for method in sorted(route.methods):
            if (method, path) in PUBLIC:
                continue
            out.append((method, path, _permission(route)))
    return out


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def call(client, method, path, headers):
    headers = {**headers, "Idempotency-Key": f"matrix-{time.monotonic_ns()}"}
    if method in {"GET", "DELETE"}:
        return client.request(method, _url(path), headers=headers)
    return client.request(method, _url(path), headers=headers, json={})


def test_every_route_is_public_or_names_a_permission(edge):
    routes = protected_routes(edge.app)
    assert routes, "no routes found"
    missing = [(m, p) for m, p, perm in routes if perm is None]
    assert not missing, f"routes without a permission: {missing}"
    assert all(perm in POLICY for _, _, perm in routes)


def _is_idempotent(route: APIRoute) -> bool:
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        if getattr(dep.call, "idempotent", False):
            return True
        stack.extend(dep.dependencies)
    return False


def test_every_mutating_route_is_idempotent(edge):
    """Principle 3: every state-changing route runs through Mutates (Idempotency-Key)."""
    mutating = [
        (method, path, route)
        for path, route in api_routes(edge.app)
        for method in route.methods
        if method in {"POST", "PUT", "PATCH", "DELETE"} and (method, path) not in PUBLIC
    ]
    assert len(mutating) > 10
    missing = [(m, p) for m, p, route in mutating if not _is_idempotent(route)]
    assert not missing, f"mutating routes without an idempotency key: {missing}"


def test_missing_forged_expired_and_wrong_device_tokens_are_refused(edge, services):
    sup = login_as(services, "supervisor")
    picker = login_as(services, "picker")
    user = services.users.list()[0]
    good = sup.headers["Authorization"].split()[1]
    prefix, body, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["r"] = "admin"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    expired = services.tokens.issue(
        user_id=user.id, role=user.role, device_id=None, now=time.time() - 13 * 3600
    )
    bad = {
        "missing": ({}, "AUTH_REQUIRED"),
        "not bearer": ({"Authorization": f"Basic {good}"}, "TOKEN_INVALID"),
        "garbage": ({"Authorization": "Bearer nonsense"}, "TOKEN_INVALID"),
        "forged role": ({"Authorization": f"Bearer {prefix}.{forged_body}.{sig}"}, "TOKEN_INVALID"),
        "bad signature": (
            {"Authorization": f"Bearer {prefix}.{body}.{sig[:-2]}AA"},
            "TOKEN_INVALID",
        ),
        "expired": ({"Authorization": f"Bearer {expired}"}, "TOKEN_EXPIRED"),
        "wrong api key": ({"Authorization": "Bearer awk_notakey"}, "API_KEY_INVALID"),
        "handheld token without device": (
            {"Authorization": picker.headers["Authorization"]},
            "DEVICE_REQUIRED",
        ),
        "handheld token with another device": (
            {**picker.headers, "X-Device-Token": "awd_forged"},
            "DEVICE_UNKNOWN",
        ),
    }
    for method, path, _ in protected_routes(edge.app):
        for name, (headers, code) in bad.items():
            resp = call(edge, method, path, headers)
            assert resp.status_code == 401, (method, path, name, resp.text)
            assert resp.json()["message"]["code"] == code, (method, path, name)


@pytest.mark.parametrize("role", KEY_ROLES)  # the users' roles and a 3PL client's key
def test_each_role_reaches_exactly_what_the_policy_allows(edge, services, role):
    who = login_as(services, role)
    for method, path, permission in protected_routes(edge.app):
        resp = call(edge, method, path, who.headers)
        if role in POLICY[permission]:
            assert resp.status_code not in (401, 403), (role, method, path, resp.text)
        else:
            assert resp.status_code == 403, (role, method, path, resp.status_code, resp.text)
            assert resp.json()["message"]["code"] == "FORBIDDEN_ROLE"


def test_revoked_device_and_deactivated_user_lose_access(edge, services):
    picker = login_as(services, "picker")
    assert edge.get("/api/v1/auth/me", headers=picker.headers).status_code == 200
    device_id = services.devices.list()[-1]["id"]
    services.devices.revoke(device_id)
    resp = edge.get("/api/v1/auth/me", headers=picker.headers)
    assert resp.status_code == 401 and resp.json()["message"]["code"] == "DEVICE_UNKNOWN"

    sup = login_as(services, "supervisor")
    with services.db.write() as w:
        w.execute("UPDATE users SET active = 0 WHERE role = 'supervisor'")
    resp = edge.get("/api/v1/auth/me", headers=sup.headers)
    assert resp.status_code == 401 and resp.json()["message"]["code"] == "TOKEN_INVALID"


def test_revoked_api_key_is_refused(edge, services):
    key, secret = services.api_keys.create("oms")
    headers = {"Authorization": f"Bearer {secret}"}
    assert edge.get("/api/v1/auth/me", headers=headers).status_code == 200
    services.api_keys.revoke(key.id)
    resp = edge.get("/api/v1/auth/me", headers=headers)
    assert resp.status_code == 401 and resp.json()["message"]["code"] == "API_KEY_INVALID"
