import re

from conftest import assert_response, idem


def test_health_is_public(edge):
    data = assert_response(edge.get("/health"), 200)
    assert data["site"] == "CHI"


def test_pair_then_login_with_badge_and_pin(edge, services, as_role):
    sup = as_role("supervisor")
    code = assert_response(edge.post("/api/v1/devices/pairing-codes", headers=sup.with_key()), 201)[
        "code"
    ]
    services.users.create(badge="PICK01", pin="4321", role="picker")
    dev = assert_response(
        edge.post("/api/v1/devices/pair", json={"code": code, "name": "hh1"}), 200
    )
    # the code works once
    assert_response(
        edge.post("/api/v1/devices/pair", json={"code": code, "name": "hh2"}),
        400,
        code="PAIRING_CODE_INVALID",
    )
    login = assert_response(
        edge.post(
            "/api/v1/auth/login",
            json={"badge": "PICK01", "pin": "4321"},
            headers={"X-Device-Token": dev["device_token"]},
        ),
        200,
    )
    me = assert_response(
        edge.get(
            "/api/v1/auth/me",
            headers={
                "Authorization": f"Bearer {login['token']}",
                "X-Device-Token": dev["device_token"],
            },
        ),
        200,
    )
    assert me["role"] == "picker" and me["device_id"] == dev["device_id"]
    _ = idem


def test_openapi_describes_every_api_route(edge):
    from conftest import api_routes

    schema = edge.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    routes = {  # OpenAPI writes `{sku:path}` as `{sku}`
        (m, re.sub(r":\w+}", "}", path))
        for path, route in api_routes(edge.app)
        for m in route.methods
        if m != "HEAD"
    }
    assert routes <= documented
    assert edge.get("/docs").status_code == 200
