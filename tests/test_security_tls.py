"""Optional TLS with the site's own CA, and handhelds pinning it at pairing
(docs/security.md#tls-and-pinning). Real uvicorn with TLS on 127.0.0.1, real certificates."""

from __future__ import annotations

import json
import os
import signal
import ssl
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from edge_server.access.tls import TlsFiles, fingerprint, init_tls, show_fingerprint
from edge_server.app import create_app
from edge_server.cli import main
from edge_server.server import _tls_problem
from edge_server.services import Services, open_services
from terminal.client.credentials import CredentialStore, StoredPairing
from terminal.client.edge import EdgeClient, Offline, UntrustedServer, pem_sha256
from terminal.net.discovery import Browser

from conftest import assert_response, make_settings, serving

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> TlsFiles:
    return init_tls(tmp_path_factory.mktemp("pki"), ["127.0.0.1", "localhost"], "CHI")


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory) -> TlsFiles:
    """Another site's CA and server certificate, for the same address."""
    return init_tls(tmp_path_factory.mktemp("other"), ["127.0.0.1"], "NYC")


def tls_site(tmp_path: Path, files: TlsFiles, **overrides: Any) -> Services:
    settings = make_settings(
        tmp_path,
        tls_cert_file=files.server_cert,
        tls_key_file=files.server_key,
        **overrides,
    )
    services = open_services(settings)
    services.users.create(badge="PICK01", pin="4321", role="picker")
    return services


@contextmanager
def serving_tls(services: Services) -> Iterator[str]:
    """The edge app under uvicorn with the site's TLS settings, on a free loopback port."""
    settings = services.settings
    app = create_app(settings, services)
    try:
        with serving(
            app,
            scheme="https",
            ssl_certfile=str(settings.tls_cert_file),
            ssl_keyfile=str(settings.tls_key_file),
        ) as served:
            yield served.url
    finally:
        services.db.close()


def trusting(files: TlsFiles) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(files.ca_cert))


# -- the CA and certificates -----------------------------------------------------------------
def test_tls_init_makes_a_ca_and_a_server_certificate_for_the_hosts(pki):
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(pki.server_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.issuer == ca.subject
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    for key in (pki.ca_key, pki.server_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(fingerprint(pki.ca_cert.read_bytes())) == 64
    assert fingerprint(pki.ca_cert.read_bytes()) == pem_sha256(pki.ca_cert.read_text())


def test_tls_init_cli_prints_the_fingerprint_and_will_not_replace_a_ca(tmp_path, capsys):
    folder = tmp_path / "tls"
    args = ["edge", "tls", "init", "--db", str(tmp_path / "s.db"), "--dir", str(folder)]
    assert main([*args, "--host", "127.0.0.1", "--host", "edge.local"]) == 0
    out = capsys.readouterr().out
    shown = show_fingerprint(fingerprint((folder / "ca.pem").read_bytes()))
    assert shown in out
    before = (folder / "ca.pem").read_bytes()
    assert main([*args, "--host", "127.0.0.1"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (folder / "ca.pem").read_bytes() == before
    assert main([*args, "--host", "127.0.0.1", "--force"]) == 0
    assert (folder / "ca.pem").read_bytes() != before


def test_pair_command_shows_the_ca_fingerprint_when_tls_is_on(tmp_path, pki, capsys, monkeypatch):
    db = str(tmp_path / "s.db")
    assert main(["edge", "pair", "--db", db]) == 0
    assert "fingerprint" not in capsys.readouterr().out
    monkeypatch.setenv("AISLEWAY_TLS_CERT_FILE", str(pki.server_cert))
    monkeypatch.setenv("AISLEWAY_TLS_KEY_FILE", str(pki.server_key))
    assert main(["edge", "pair", "--db", db]) == 0
    assert show_fingerprint(fingerprint(pki.ca_cert.read_bytes())) in capsys.readouterr().out


def test_half_or_missing_tls_settings_refuse_to_start(tmp_path, pki):
    assert _tls_problem(make_settings(tmp_path)) is None
    assert _tls_problem(make_settings(tmp_path, tls_cert_file=pki.server_cert)) is not None
    missing = make_settings(
        tmp_path, tls_cert_file=pki.server_cert, tls_key_file=tmp_path / "nope.pem"
    )
    assert "nope.pem" in str(_tls_problem(missing))
    no_ca = make_settings(
        tmp_path,
        tls_cert_file=pki.server_cert,
        tls_key_file=pki.server_key,
        tls_ca_file=tmp_path / "ca.pem",
    )
    assert "ca.pem" in str(_tls_problem(no_ca))


# -- the server over TLS -------------------------------------------------------------------
def test_a_client_trusting_the_site_ca_is_served_one_with_another_ca_is_refused(
    tmp_path, pki, other_pki
):
    with serving_tls(tls_site(tmp_path, pki)) as url:
        resp = httpx.get(f"{url}/health", verify=trusting(pki))
        assert resp.status_code == 200 and resp.json()["data"]["site"] == "CHI"
        for verify in (trusting(other_pki), True):  # another site's CA; the system's CAs
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                httpx.get(f"{url}/health", verify=verify)
        with pytest.raises(httpx.HTTPError):  # plain HTTP gets no answer
            httpx.get(url.replace("https://", "http://") + "/health", timeout=3)


def test_the_pairing_answer_carries_the_ca_only_when_tls_is_on(tmp_path, pki, edge, services):
    code = services.devices.create_pairing_code().code
    data = assert_response(edge.post("/api/v1/devices/pair", json={"code": code}), 200)
    assert data.get("ca_sha256") is None and data.get("ca_pem") is None

    site = tls_site(tmp_path / "tls", pki)
    try:
        code = site.devices.create_pairing_code().code
        with TestClient(create_app(site.settings, site)) as client:
            data = assert_response(client.post("/api/v1/devices/pair", json={"code": code}), 200)
        assert data["ca_sha256"] == fingerprint(pki.ca_cert.read_bytes())
        assert data["ca_pem"] == pki.ca_cert.read_text()
    finally:
        site.db.close()


# -- the terminal pins the CA ------------------------------------------------------------------
def test_the_terminal_pins_the_ca_at_pairing_and_then_trusts_only_it(tmp_path, pki, other_pki):
    site = tls_site(tmp_path, pki)
    code = site.devices.create_pairing_code().code
    expected = show_fingerprint(fingerprint(pki.ca_cert.read_bytes()))  # as the CLI shows it
    with serving_tls(site) as url:
        client = EdgeClient(url + "/api/v1")
        device = client.pair(code, "hh-1", expected_ca_sha256=expected)
        assert client.ca_pem == pki.ca_cert.read_text()
        assert client.ca_sha256 == fingerprint(pki.ca_cert.read_bytes())
        session = client.login("PICK01", "4321")  # over the pinned connection
        assert session.role == "picker"

        store = CredentialStore(tmp_path / "pairing.json")
        store.save(
            StoredPairing(
                api_url=client.api_url,
                device_id=device.device_id,
                device_token=device.device_token,
                ca_pem=client.ca_pem or "",
                ca_sha256=client.ca_sha256 or "",
            )
        )
        client.close()
        stored = store.load()
        assert stored is not None and stored.ca_pem == pki.ca_cert.read_text()
        again = EdgeClient(stored.api_url, device=stored.device, ca_pem=stored.ca_pem)
        assert again.login("PICK01", "4321").user_id == session.user_id
        again.close()

    # Another server on this address (another CA's certificate): refused before anything is
    # sent, as an UntrustedServer (an Offline: queued commands stay queued).
    impostor = tls_site(tmp_path / "impostor", other_pki)
    impostor.users.create(badge="PICK02", pin="4321", role="picker")
    with serving_tls(impostor) as url2:
        pinned = EdgeClient(url2 + "/api/v1", device=stored.device, ca_pem=stored.ca_pem)
        with pytest.raises(UntrustedServer, match="certificate"):
            pinned.login("PICK02", "4321")
        with pytest.raises(Offline):
            pinned.health()
        pinned.close()


def test_pairing_refuses_a_fingerprint_other_than_the_expected_one(tmp_path, pki, other_pki):
    site = tls_site(tmp_path, pki)
    code = site.devices.create_pairing_code().code
    with serving_tls(site) as url:
        client = EdgeClient(url + "/api/v1")
        wrong = fingerprint(other_pki.ca_cert.read_bytes())
        with pytest.raises(UntrustedServer, match="fingerprint"):
            client.pair(code, "hh-1", expected_ca_sha256=wrong)
        assert client.ca_pem is None and client.device is None
        client.close()


def test_pairing_refuses_a_server_whose_certificate_is_not_from_the_ca_it_sent(
    tmp_path, pki, other_pki
):
    """A server (or a man in the middle) that hands out one CA but cannot show a certificate
    from it is not pinned."""
    site = tls_site(tmp_path, pki, tls_ca_file=other_pki.ca_cert)
    code = site.devices.create_pairing_code().code
    with serving_tls(site) as url:
        client = EdgeClient(url + "/api/v1")
        with pytest.raises(UntrustedServer):
            client.pair(code, "hh-1")
        assert client.ca_pem is None and client.device is None
        client.close()


# -- `aisleway edge serve` with TLS, advertised by zeroconf ----------------------------------
@pytest.mark.slow
def test_serve_with_tls_is_advertised_as_https_and_pairs_with_a_pin(tmp_path, pki):
    site_code = "T" + uuid.uuid4().hex[:6].upper()
    db = tmp_path / "edge.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLEWAY_")}
    env |= {
        "AISLEWAY_RELAY_ENABLED": "false",
        "AISLEWAY_LOG_JSON": "true",
        "AISLEWAY_TLS_CERT_FILE": str(pki.server_cert),
        "AISLEWAY_TLS_KEY_FILE": str(pki.server_key),
    }
    cmd = [sys.executable, "-m", "edge_server.cli", "edge", "serve", "--db", str(db)]
    cmd += ["--site", site_code, "--host", "127.0.0.1", "--port", "0"]
    log_path = tmp_path / "edge.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        with Browser(interfaces=["127.0.0.1"]) as browser:
            listening = _wait_for_line(log_path, proc, "listening on https://127.0.0.1:")
            servers = browser.wait_for(lambda ss: any(s.site == site_code for s in ss), 45)
            assert servers is not None, "the TLS server was not found by zeroconf"
            (found,) = [s for s in servers if s.site == site_code]
            assert found.scheme == "https" and found.port == listening["port"]

            services = open_services(make_settings(tmp_path, db_path=db, site=site_code))
            code = services.devices.create_pairing_code().code
            services.db.close()
            client = EdgeClient(found.api_url)
            client.pair(code, "hh-z")
            assert client.ca_sha256 == fingerprint(pki.ca_cert.read_bytes())
            assert client.health()["data"]["site"] == site_code
            client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)


def _wait_for_line(log_path: Path, proc: subprocess.Popen[bytes], needle: str) -> Any:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        for raw in log_path.read_text(errors="replace").splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if needle in str(line.get("msg", "")):
                return line
        assert proc.poll() is None, log_path.read_text()
        time.sleep(0.1)
    raise AssertionError(f"no {needle!r} in the log:\n{log_path.read_text()}")


def test_tls_renew_signs_a_new_server_certificate_with_the_same_ca(tmp_path, capsys):
    folder = tmp_path / "tls"
    db = ["--db", str(tmp_path / "s.db")]
    renew = ["edge", "tls", "renew", *db, "--dir", str(folder), "--host", "127.0.0.1"]
    assert main(renew) == 2  # no CA yet: nothing written
    assert "tls init" in capsys.readouterr().err and not folder.exists()
    assert main(["edge", "tls", "init", *db, "--dir", str(folder), "--host", "127.0.0.1"]) == 0
    ca_before = (folder / "ca.pem").read_bytes()
    cert_before = (folder / "server.pem").read_bytes()
    assert main([*renew, "--host", "edge-chi.local"]) == 0
    out = capsys.readouterr().out
    assert show_fingerprint(fingerprint(ca_before)) in out
    assert (folder / "ca.pem").read_bytes() == ca_before
    assert (folder / "server.pem").read_bytes() != cert_before
    ca = x509.load_pem_x509_certificate(ca_before)
    server = x509.load_pem_x509_certificate((folder / "server.pem").read_bytes())
    assert server.issuer == ca.subject
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["edge-chi.local"]
    renewed = (folder / "server.pem").read_bytes()
    assert main([*renew[:-2], "--host", "not a host!"]) == 2  # a bad name: nothing replaced
    assert (folder / "server.pem").read_bytes() == renewed
