"""Who may use the counting routes: exactly the roles the policy names (the app-wide matrix in
test_auth_matrix.py covers every route; this one keeps counting's own answer visible)."""

import pytest
from test_auth_matrix import call, protected_routes

from edge_server.access.policy import POLICY
from edge_server.db.migrations import ROLES

from conftest import login_as


@pytest.mark.parametrize("role", ROLES)
def test_counting_routes_follow_the_policy(edge, services, role):
    who = login_as(services, role)
    routes = [r for r in protected_routes(edge.app) if r[1].startswith("/api/v1/counts")]
    assert len(routes) == 15
    for method, path, permission in routes:
        assert permission is not None and permission.startswith("counting.")
        resp = call(edge, method, path, who.headers)
        if role in POLICY[permission]:
            assert resp.status_code not in (401, 403, 500), (role, method, path, resp.text)
        else:
            assert resp.status_code == 403, (role, method, path, resp.status_code, resp.text)
            assert resp.json()["message"]["code"] == "FORBIDDEN_ROLE"
