import pytest

from edge_server.cli import main

from conftest import assert_response, login_as


def pair(edge, services):
    code = services.devices.create_pairing_code().code
    return assert_response(edge.post("/api/v1/devices/pair", json={"code": code}), 200)


def login(edge, badge, pin, device=None):
    headers = {"X-Device-Token": device["device_token"]} if device else {}
    return edge.post("/api/v1/auth/login", json={"badge": badge, "pin": pin}, headers=headers)


def test_pins_are_stored_as_argon2id_hashes(services):
    services.users.create(badge="REC01", pin="8642", role="receiver")
    stored = services.db.query_one("SELECT pin_hash FROM users WHERE badge = 'REC01'")["pin_hash"]
    assert stored.startswith("$argon2id$") and "8642" not in stored


def test_wrong_pins_lock_the_badge_even_for_the_right_pin(edge, services):
    services.users.create(badge="PICK01", pin="1111", role="picker")
    device = pair(edge, services)
    for _ in range(services.settings.pin_max_attempts):
        assert_response(login(edge, "PICK01", "9999", device), 401, code="BAD_CREDENTIALS")
    assert_response(login(edge, "PICK01", "1111", device), 429, code="LOCKED_OUT")
    # the lockout ends by itself
    with services.db.write() as w:
        w.execute("UPDATE users SET locked_until = '2000-01-01T00:00:00+00:00'")
    data = assert_response(login(edge, "PICK01", "1111", device), 200)
    assert data["user"]["role"] == "picker" and data["device_id"] == device["device_id"]


def test_a_good_login_resets_the_count_of_wrong_pins(edge, services):
    services.users.create(badge="PICK02", pin="1111", role="picker")
    device = pair(edge, services)
    for _ in range(services.settings.pin_max_attempts - 1):
        login(edge, "PICK02", "0000", device)
    assert_response(login(edge, "PICK02", "1111", device), 200)
    assert_response(login(edge, "PICK02", "0000", device), 401, code="BAD_CREDENTIALS")
    assert_response(login(edge, "PICK02", "1111", device), 200)


def test_unknown_badge_answers_like_a_wrong_pin(edge, services):
    assert_response(login(edge, "NOBODY", "1234"), 401, code="BAD_CREDENTIALS")


def test_floor_roles_must_log_in_from_a_paired_handheld(edge, services):
    services.users.create(badge="PACK01", pin="1234", role="packer")
    assert_response(login(edge, "PACK01", "1234"), 401, code="DEVICE_REQUIRED")
    resp = edge.post(
        "/api/v1/auth/login",
        json={"badge": "PACK01", "pin": "1234"},
        headers={"X-Device-Token": "awd_made_up"},
    )
    assert_response(resp, 401, code="DEVICE_UNKNOWN")


def test_supervisor_logs_in_from_the_web_without_a_device(edge, services):
    services.users.create(badge="SUP01", pin="123456", role="supervisor")
    data = assert_response(login(edge, "SUP01", "123456"), 200)
    assert data["device_id"] is None
    me = assert_response(
        edge.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {data['token']}"}), 200
    )
    assert me["role"] == "supervisor"


def test_expired_pairing_code_is_refused(edge, services):
    code = services.devices.create_pairing_code().code
    with services.db.write() as w:
        w.execute("UPDATE pairing_codes SET expires_at = '2000-01-01T00:00:00+00:00'")
    assert_response(
        edge.post("/api/v1/devices/pair", json={"code": code}), 400, code="PAIRING_CODE_INVALID"
    )
    assert services.db.query_one("SELECT COUNT(*) AS n FROM devices")["n"] == 0


def test_pairing_code_is_forgiving_about_case_and_dashes(edge, services):
    code = services.devices.create_pairing_code().code
    assert_response(
        edge.post("/api/v1/devices/pair", json={"code": code.replace("-", " ").lower()}), 200
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"badge": "x", "pin": "1234", "role": "picker"}, "badge"),
        ({"badge": "GOOD01", "pin": "12", "role": "picker"}, "pin"),
        ({"badge": "GOOD01", "pin": "abcd", "role": "picker"}, "pin"),
        ({"badge": "GOOD01", "pin": "1234", "role": "boss"}, "role"),
    ],
)
def test_bad_new_users_are_refused_naming_the_field(edge, services, body, field):
    admin = login_as(services, "admin")
    resp = edge.post("/api/v1/users", json=body, headers=admin.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert field in resp.json()["message"]["details"]["fields"]
    assert services.db.query_one("SELECT COUNT(*) AS n FROM users")["n"] == 1


def test_duplicate_badge_is_refused(edge, services):
    admin = login_as(services, "admin")
    body = {"badge": "DUP01", "pin": "1234", "role": "picker"}
    assert_response(edge.post("/api/v1/users", json=body, headers=admin.with_key()), 201)
    assert_response(
        edge.post("/api/v1/users", json=body, headers=admin.with_key()), 409, code="USER_EXISTS"
    )


def test_api_key_lifecycle_over_http(edge, services):
    admin = login_as(services, "admin")
    created = assert_response(
        edge.post("/api/v1/api-keys", json={"name": "oms"}, headers=admin.with_key()), 201
    )
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    assert assert_response(edge.get("/api/v1/auth/me", headers=headers), 200)["role"] == (
        "integration"
    )
    assert_response(
        edge.post(f"/api/v1/api-keys/{created['id']}/revoke", headers=admin.with_key()), 200
    )
    assert_response(edge.get("/api/v1/auth/me", headers=headers), 401, code="API_KEY_INVALID")


def test_cli_pair_add_user_and_api_key(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AISLEWAY_PIN_HASH_MEMORY_KIB", "1024")
    db = str(tmp_path / "cli.db")
    assert (
        main(["edge", "add-user", "SUP9", "--pin", "2468", "--role", "supervisor", "--db", db]) == 0
    )
    assert "user SUP9 (supervisor) created" in capsys.readouterr().out
    assert (
        main(["edge", "add-user", "SUP9", "--pin", "2468", "--role", "supervisor", "--db", db]) == 2
    )
    assert "already exists" in capsys.readouterr().err
    assert main(["edge", "pair", "--db", db]) == 0
    assert "pairing code: " in capsys.readouterr().out
    assert main(["edge", "add-api-key", "webstore", "--db", db]) == 0
    assert "awk_" in capsys.readouterr().out
