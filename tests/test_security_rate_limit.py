"""Per-client limits on failed logins and pairings (docs/security.md#rate-limits): one place
guessing across many badges (or pairing codes) is stopped; others are not; the window slides."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from edge_server.access.rate_limit import AttemptLimiter, SlidingWindow
from edge_server.app import create_app
from edge_server.services import Services, open_services

from conftest import assert_response, make_settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site(tmp_path, clock) -> Iterator[Services]:
    settings = make_settings(
        tmp_path,
        auth_rate_max_per_address=4,
        auth_rate_max_per_device=3,
        auth_rate_window_seconds=60,
    )
    services = open_services(settings)
    services.attempts = AttemptLimiter(settings, clock=clock)
    for n in range(10):
        services.users.create(badge=f"SUP{n:02d}", pin="4321", role="supervisor")
        services.users.create(badge=f"PICK{n:02d}", pin="4321", role="picker")
    yield services
    services.db.close()


def client_from(services: Services, address: str) -> TestClient:
    return TestClient(create_app(services.settings, services), client=(address, 40000))


def login(client: TestClient, badge: str, pin: str, device_token: str | None = None):
    headers = {"X-Device-Token": device_token} if device_token else {}
    return client.post("/api/v1/auth/login", json={"badge": badge, "pin": pin}, headers=headers)


def pair(client: TestClient, services: Services, code: str | None = None):
    code = code or services.devices.create_pairing_code().code
    return client.post("/api/v1/devices/pair", json={"code": code, "name": "hh"})


def badges_tried(site: Services) -> list[tuple[str, int]]:
    return [
        (r["badge"], r["failed_attempts"])
        for r in site.db.query("SELECT badge, failed_attempts FROM users WHERE failed_attempts")
    ]


def test_many_wrong_badges_from_one_address_get_429_with_retry_after(site, clock):
    attacker = client_from(site, "10.0.0.66")
    for n in range(4):  # one wrong PIN on each of four badges: no badge is near its lockout
        assert_response(login(attacker, f"SUP{n:02d}", "0000"), 401, code="BAD_CREDENTIALS")
    resp = login(attacker, "SUP05", "0000")
    assert_response(resp, 429, code="TOO_MANY_ATTEMPTS")
    assert resp.headers["Retry-After"] == "60"
    assert resp.json()["message"]["details"] == {"retry_after": 60}
    # Even the right PIN is refused while blocked (the answer must not reveal a good guess),
    # and the refused attempts did not reach the badges.
    assert_response(login(attacker, "SUP06", "4321"), 429, code="TOO_MANY_ATTEMPTS")
    assert sorted(badges_tried(site)) == [(f"SUP{n:02d}", 1) for n in range(4)]

    clock.now += 45
    assert login(attacker, "SUP06", "4321").headers["Retry-After"] == "15"
    # Another address is not affected meanwhile.
    other = client_from(site, "10.0.0.7")
    assert_response(login(other, "SUP07", "4321"), 200)

    clock.now += 15  # the window has slid past the first failures
    data = assert_response(login(attacker, "SUP06", "4321"), 200)
    assert data["user"]["badge"] == "SUP06"


def test_the_window_slides_one_failure_at_a_time(site, clock):
    attacker = client_from(site, "10.0.0.66")
    for n in range(4):
        assert_response(login(attacker, f"SUP{n:02d}", "0000"), 401)
        clock.now += 10  # failures at t=0, 10, 20, 30
    assert login(attacker, "SUP09", "4321").headers["Retry-After"] == "20"  # t=40
    clock.now += 20  # t=60: the t=0 failure left, three remain
    assert_response(login(attacker, "SUP04", "0000"), 401, code="BAD_CREDENTIALS")
    assert login(attacker, "SUP09", "4321").headers["Retry-After"] == "10"  # t=10 must leave


def test_successful_logins_do_not_count(site):
    client = client_from(site, "10.0.0.8")
    for n in range(10):  # a whole shift logging in at one desk
        assert_response(login(client, f"SUP{n:02d}", "4321"), 200)
    for n in range(3):
        assert_response(login(client, f"SUP{n:02d}", "0000"), 401, code="BAD_CREDENTIALS")
    assert_response(login(client, "SUP09", "4321"), 200)


def test_a_paired_handheld_is_limited_on_its_own_whatever_its_address(site, clock):
    desk = client_from(site, "10.0.0.9")
    handheld = assert_response(pair(desk, site), 200)["device_token"]
    roaming = [client_from(site, f"10.0.1.{n}") for n in range(4)]
    for n in range(3):  # three failures, each from a new address (the handheld roams)
        assert_response(login(roaming[n], f"PICK{n:02d}", "0000", handheld), 401)
    resp = login(roaming[3], "PICK05", "4321", handheld)
    assert_response(resp, 429, code="TOO_MANY_ATTEMPTS")
    assert resp.headers["Retry-After"] == "60"
    # Another handheld on the same address logs in.
    other = assert_response(pair(desk, site), 200)["device_token"]
    assert_response(login(roaming[3], "PICK05", "4321", other), 200)
    clock.now += 60
    assert_response(login(roaming[3], "PICK05", "4321", handheld), 200)


def test_guessing_pairing_codes_is_limited_and_spends_no_code(site, clock):
    attacker = client_from(site, "10.0.0.66")
    real = site.devices.create_pairing_code().code
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD"):
        assert_response(pair(attacker, site, guess), 400, code="PAIRING_CODE_INVALID")
    resp = pair(attacker, site, real)
    assert_response(resp, 429, code="TOO_MANY_ATTEMPTS")
    assert int(resp.headers["Retry-After"]) == 60
    assert site.db.query("SELECT id FROM devices") == []
    # The supervisor's handheld, elsewhere, pairs with the code the attacker could not use.
    assert_response(pair(client_from(site, "10.0.0.5"), site, real), 200)
    # Failed pairings and failed logins share the address's budget.
    clock.now += 60
    assert_response(pair(attacker, site, "EEEE-EEEE"), 400)
    for n in range(3):
        assert_response(login(attacker, f"SUP{n:02d}", "0000"), 401)
    assert_response(login(attacker, "SUP09", "4321"), 429, code="TOO_MANY_ATTEMPTS")


def test_the_badge_lockout_still_works_under_the_address_limit(tmp_path):
    settings = make_settings(tmp_path, auth_rate_max_per_address=50)
    services = open_services(settings)
    try:
        services.users.create(badge="SUP01", pin="4321", role="supervisor")
        client = client_from(services, "10.0.0.10")
        for _ in range(settings.pin_max_attempts):
            assert_response(login(client, "SUP01", "0000"), 401, code="BAD_CREDENTIALS")
        assert_response(login(client, "SUP01", "4321"), 429, code="LOCKED_OUT")
        # and from anywhere else too: the lockout belongs to the badge
        assert_response(login(client_from(services, "10.0.0.11"), "SUP01", "4321"), 429)
    finally:
        services.db.close()


def test_sliding_window_unit_limits_and_validates():
    clock = FakeClock()
    window = SlidingWindow(2, 10, clock)
    assert window.retry_after("a") == 0
    window.record("a")
    window.record("a")
    assert window.retry_after("a") == 10 and window.retry_after("b") == 0
    clock.now += 10
    assert window.retry_after("a") == 0
    with pytest.raises(ValueError):
        SlidingWindow(0, 10)
    with pytest.raises(ValueError):
        SlidingWindow(1, 0)
