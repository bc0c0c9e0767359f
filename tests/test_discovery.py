"""Zeroconf discovery over loopback: the edge server advertises, the terminal finds it.

Every test advertises and browses on 127.0.0.1 only, and uses a site code of its own, so runs
on the same machine (other checkouts, parallel CI jobs) do not see each other's servers.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from edge_server import discovery as edge_discovery
from edge_server.discovery import AdvertiseError, Advertiser, advertise_address
from protocols.discovery import SERVICE_TYPE
from protocols.version import API_BASE_PATH, PROTOCOL_VERSION
from terminal.net.discovery import (
    Browser,
    DiscoveryError,
    EdgeServer,
    browse,
    from_url,
    server_from_service,
)

from conftest import make_settings

LOOPBACK = ["127.0.0.1"]
DEADLINE = 20.0  # seconds; generous for a loaded 2-core CI machine


def unique_site() -> str:
    return "T" + uuid.uuid4().hex[:6].upper()


def of_site(site: str) -> Callable[[list[EdgeServer]], bool]:
    return lambda servers: any(s.site == site for s in servers)


@pytest.fixture
def advertised(tmp_path: Path) -> Iterator[Callable[..., Advertiser]]:
    """Start advertisers on loopback; every one is stopped at the end of the test."""
    started: list[Advertiser] = []

    def start(site: str, port: int) -> Advertiser:
        adv = Advertiser(make_settings(tmp_path, site=site, port=port, advertise=True))
        adv.start()
        started.append(adv)
        return adv

    yield start
    for adv in started:
        adv.stop()


def wait_until(condition: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def browser() -> Iterator[tuple[Browser, list[EdgeServer]]]:
    """A browser on loopback, and the servers its `on_removed` callback reported."""
    removed: list[EdgeServer] = []
    with Browser(interfaces=LOOPBACK, on_removed=removed.append) as b:
        yield b, removed


def test_advertised_server_is_found_with_its_txt_records(advertised, browser):
    b, _ = browser
    site = unique_site()
    adv = advertised(site, 18731)
    assert adv.name == f"Aisleway {site}.{SERVICE_TYPE}"

    servers = b.wait_for(of_site(site), DEADLINE)
    assert servers is not None, "the advertised server was not found"
    (found,) = [s for s in servers if s.site == site]
    assert found == EdgeServer(
        name=f"Aisleway {site}.{SERVICE_TYPE}",
        site=site,
        host="127.0.0.1",
        port=18731,
        protocol=PROTOCOL_VERSION,
        api_base=API_BASE_PATH,
    )
    assert found.compatible
    assert found.url == "http://127.0.0.1:18731"
    assert found.api_url == f"http://127.0.0.1:18731{API_BASE_PATH}"
    assert found.label == f"Aisleway {site}"


def test_stopped_server_disappears_from_the_browser(advertised, browser):
    b, removed = browser
    site = unique_site()
    adv = advertised(site, 18732)
    assert b.wait_for(of_site(site), DEADLINE) is not None

    adv.stop()
    # The goodbye packet makes the browser drop the service at once, not after the TTL.
    assert b.wait_for(lambda servers: not of_site(site)(servers), DEADLINE) is not None
    # (Other runs on this machine may come and go on loopback too: look at our site only.)
    assert wait_until(lambda: any(s.site == site for s in removed))
    assert [s.port for s in removed if s.site == site] == [18732]
    assert adv.name is None
    adv.stop()  # twice is harmless


def test_browse_returns_the_servers_that_answer(advertised):
    site = unique_site()
    advertised(site, 18733)
    deadline = time.monotonic() + DEADLINE
    found: list[EdgeServer] = []
    while not found and time.monotonic() < deadline:
        found = [s for s in browse(2.0, interfaces=LOOPBACK) if s.site == site]
    assert [(s.host, s.port, s.protocol) for s in found] == [("127.0.0.1", 18733, PROTOCOL_VERSION)]


def test_server_with_another_protocol_is_flagged_and_left_out_of_browse(
    advertised, browser, monkeypatch
):
    b, _ = browser
    site = unique_site()
    monkeypatch.setattr(edge_discovery, "PROTOCOL_VERSION", "999")
    advertised(site, 18734)

    servers = b.wait_for(of_site(site), DEADLINE)
    assert servers is not None
    (found,) = [s for s in servers if s.site == site]
    assert found.protocol == "999"
    assert not found.compatible

    assert site not in {s.site for s in browse(1.0, interfaces=LOOPBACK)}
    deadline = time.monotonic() + DEADLINE
    with_incompatible: set[str] = set()
    while site not in with_incompatible and time.monotonic() < deadline:
        servers = browse(2.0, interfaces=LOOPBACK, include_incompatible=True)
        with_incompatible = {s.site for s in servers}
    assert site in with_incompatible


def test_second_server_for_the_same_site_is_renamed(advertised, browser):
    b, _ = browser
    site = unique_site()
    first = advertised(site, 18735)
    assert b.wait_for(of_site(site), DEADLINE) is not None
    # mDNS answers a record at most once a second (RFC 6762 §6); the first server's
    # announcements just used that allowance, so let it lapse before the second one probes.
    time.sleep(1.2)
    second = advertised(site, 18736)

    assert first.name == f"Aisleway {site}.{SERVICE_TYPE}"
    assert second.name == f"Aisleway {site}-2.{SERVICE_TYPE}"
    servers = b.wait_for(lambda ss: len([s for s in ss if s.site == site]) == 2, DEADLINE)
    assert servers is not None
    assert sorted((s.label, s.port) for s in servers if s.site == site) == [
        (f"Aisleway {site}", 18735),
        (f"Aisleway {site}-2", 18736),
    ]


def test_a_failing_callback_does_not_stop_browsing(advertised):
    site_a, site_b = unique_site(), unique_site()
    seen: list[str] = []

    def on_added(server: EdgeServer) -> None:
        seen.append(server.site)
        raise RuntimeError("a broken view")

    with Browser(interfaces=LOOPBACK, on_added=on_added) as b:
        advertised(site_a, 18737)
        advertised(site_b, 18738)
        both = b.wait_for(lambda ss: of_site(site_a)(ss) and of_site(site_b)(ss), DEADLINE)
    assert both is not None
    assert {site_a, site_b} <= set(seen)


# -- where to advertise ----------------------------------------------------------------------
def test_advertises_on_the_bind_address():
    assert advertise_address("127.0.0.1") == "127.0.0.1"
    assert advertise_address("localhost") == "127.0.0.1"
    assert advertise_address("127.0.0.1", "127.0.0.1") == "127.0.0.1"


def test_all_interfaces_bind_needs_an_explicit_interface():
    with pytest.raises(AdvertiseError, match="--advertise-interface"):
        advertise_address("0.0.0.0")
    with pytest.raises(AdvertiseError, match="--advertise-interface"):
        advertise_address("::")
    assert advertise_address("0.0.0.0", "127.0.0.1") == "127.0.0.1"


@pytest.mark.parametrize(
    ("host", "interface", "reason"),
    [
        ("127.0.0.1", "192.0.2.77", "listens on 127.0.0.1 only"),
        ("edge.example", None, "bind an IP address"),
        ("::1", None, "IPv4 only"),
        ("0.0.0.0", "eth0", "must be an IPv4 address"),
        ("0.0.0.0", "224.0.0.251", "address of one interface"),
        ("0.0.0.0", "198.51.100.9", "not an address of this machine"),
    ],
)
def test_unsafe_or_wrong_advertise_settings_are_refused(host, interface, reason):
    with pytest.raises(AdvertiseError, match=reason):
        advertise_address(host, interface)


def test_advertiser_refuses_to_block_an_event_loop(tmp_path):
    adv = Advertiser(make_settings(tmp_path, advertise=True))

    async def inside_the_loop() -> None:
        adv.start()

    with pytest.raises(RuntimeError, match=r"asyncio\.to_thread"):
        asyncio.run(inside_the_loop())
    assert adv.name is None


# -- parsing and the manual URL fallback -----------------------------------------------------
def test_service_without_aisleway_txt_records_is_ignored():
    full = {"site": "CHI", "protocol": "1", "api": "/api/v1"}
    assert server_from_service("x", ["10.0.0.5"], 8000, full) is not None
    for key in full:
        assert server_from_service("x", ["10.0.0.5"], 8000, {**full, key: None}) is None
    assert server_from_service("x", [], 8000, full) is None
    assert server_from_service("x", ["10.0.0.5"], None, full) is None


def _health_client(body: object, status: int = 200) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/health"
        return httpx.Response(status, json=body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_typed_in_address_is_checked_through_health():
    body = {"data": {"status": "ok", "site": "DAL", "protocol": "1", "api": "/api/v1"}}
    server = from_url("192.168.7.20:8000", client=_health_client(body))
    assert (server.site, server.host, server.port, server.url) == (
        "DAL",
        "192.168.7.20",
        8000,
        "http://192.168.7.20:8000",
    )
    assert server.compatible
    assert from_url("http://192.168.7.20:8000/whatever/", client=_health_client(body)) == server


@pytest.mark.parametrize(
    ("url", "body", "status"),
    [
        ("192.168.7.20:8000", {"hello": "world"}, 200),
        ("192.168.7.20:8000", {"data": {"site": "DAL"}}, 200),
        ("192.168.7.20:8000", {"data": None}, 500),
        ("ftp://192.168.7.20", {}, 200),
        ("http://192.168.7.20:notaport", {}, 200),
    ],
)
def test_typed_in_address_that_is_not_an_edge_server_is_refused(url, body, status):
    with pytest.raises(DiscoveryError):
        from_url(url, client=_health_client(body, status))
