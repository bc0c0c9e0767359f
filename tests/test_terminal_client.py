"""The handheld's HTTP client against a live edge on 127.0.0.1: pairing, badge + PIN login,
typed errors; and the pairing file."""

from __future__ import annotations

import socket
import stat

import httpx
import pytest

from terminal.client.credentials import CredentialStore, StoredPairing
from terminal.client.edge import EdgeClient, Offline, Refused, ServerError


def paired_client(live_edge) -> EdgeClient:
    services = live_edge.services
    services.users.create(badge="R-100", pin="4321", role="receiver")
    client = EdgeClient(live_edge.url + "/api/v1", timeout=3.0)
    client.pair(services.devices.create_pairing_code().code, "hh-7")
    return client


def test_pair_then_badge_login_then_calls_carry_both_credentials(live_edge):
    client = paired_client(live_edge)
    assert client.device is not None and client.device.device_token.startswith("awd")
    session = client.login("R-100", "4321")
    assert session.role == "receiver" and session.badge == "R-100" and session.token
    me = client.get("/auth/me")["data"]
    assert me["device_id"] == client.device.device_id and me["user"]["badge"] == "R-100"
    assert client.health()["data"]
    client.logout()
    with pytest.raises(Refused) as exc:
        client.get("/auth/me")
    assert exc.value.code == "AUTH_REQUIRED" and exc.value.needs_login
    client.close()


def test_wrong_pin_and_spent_pairing_code_are_refused_with_their_codes(live_edge):
    client = paired_client(live_edge)
    with pytest.raises(Refused) as exc:
        client.login("R-100", "0000")
    assert (exc.value.status, exc.value.code) == (401, "BAD_CREDENTIALS")
    assert exc.value.text  # the catalogue's sentence, shown as is
    with pytest.raises(Refused) as exc:
        client.pair("ZZZZ-ZZZZ", "x")
    assert exc.value.code == "PAIRING_CODE_INVALID" and not exc.value.needs_login
    client.close()


def test_floor_role_cannot_log_in_without_pairing(live_edge):
    live_edge.services.users.create(badge="P-1", pin="1111", role="picker")
    client = EdgeClient(live_edge.url + "/api/v1")
    with pytest.raises(Refused) as exc:
        client.login("P-1", "1111")
    assert exc.value.code == "DEVICE_REQUIRED"
    client.close()


def test_a_refused_command_carries_code_details_and_envelope(live_edge):
    client = paired_client(live_edge)
    client.login("R-100", "4321")
    body = {"from_location": "NOPE", "to_location": "X", "sku": "S", "qty": 1}
    with pytest.raises(Refused) as exc:
        client.send("POST", "/inventory/moves", body, "k-1")
    assert exc.value.status >= 400 and exc.value.envelope["message"]["code"] == exc.value.code
    with pytest.raises(ValueError):
        client.send("POST", "/inventory/moves", body, "")
    with pytest.raises(ValueError):
        client.get("inventory/stock")
    client.close()


def test_nobody_listening_is_offline():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = EdgeClient(f"http://127.0.0.1:{port}/api/v1", timeout=1.0)
    with pytest.raises(Offline):
        client.send("POST", "/inventory/moves", {}, "k")
    with pytest.raises(Offline):
        client.health()
    client.close()


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (500, b'{"message": {"code": "INTERNAL", "text": "boom"}}'),
        (502, b"<html>bad gateway"),
        (404, b"<html>captive portal"),
    ],
)
def test_5xx_and_answers_that_are_not_envelopes_are_server_errors(status, content):
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=content))
    client = EdgeClient("http://edge.test/api/v1", transport=transport)
    with pytest.raises(ServerError) as exc:
        client.send("POST", "/x", {}, "k")
    assert exc.value.status == status
    client.close()


def test_pairing_file_is_private_and_round_trips(tmp_path):
    store = CredentialStore(tmp_path / "conf" / "pairing.json")
    assert store.load() is None
    pairing = StoredPairing("http://10.0.0.5:8000/api/v1", 12, "awd_secret", site="CHI", name="hh")
    store.save(pairing)
    assert stat.S_IMODE((tmp_path / "conf" / "pairing.json").stat().st_mode) == 0o600
    assert store.load() == pairing and store.load().device.device_id == 12
    store.save(StoredPairing("http://x/api/v1", 13, "awd_other"))
    assert store.load().device_id == 13
    assert [p.name for p in (tmp_path / "conf").iterdir()] == ["pairing.json"]  # no temp left
    store.clear()
    assert store.load() is None


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", '{"api_url": "x"}', '{"api_url": "x", "device_id": "n", "device_token": "t"}'],
)
def test_a_corrupt_pairing_file_means_not_paired(tmp_path, text):
    path = tmp_path / "pairing.json"
    path.write_text(text)
    assert CredentialStore(path).load() is None
