"""Find edge servers on the LAN (zeroconf / DNS-SD) for the terminal's site chooser. No Kivy.

Every server advertises `_aisleway._tcp.local.` with TXT `site`, `protocol` and `api`
(docs/discovery.md). A server whose protocol differs from this terminal's is still reported, with
`compatible=False`, so the chooser can say "update the app" instead of hiding the site; `browse`
leaves such servers out unless asked.

Which interfaces to browse on is always the caller's choice (`interfaces=`): the handheld passes
`ALL_INTERFACES` (or its WLAN address), tests pass `["127.0.0.1"]`.

When discovery finds nothing (multicast blocked between VLANs, a guest Wi-Fi), the worker types
the server's address; `from_url` checks it through `GET /health` and yields the same `EdgeServer`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

from protocols.discovery import SERVICE_TYPE, TXT_API, TXT_PROTOCOL, TXT_SCHEME, TXT_SITE
from protocols.version import PROTOCOL_VERSION

__all__ = [
    "ALL_INTERFACES",
    "Browser",
    "DiscoveryError",
    "EdgeServer",
    "browse",
    "from_url",
]

log = logging.getLogger("aisleway.terminal.discovery")

#: Browse on every interface (what a handheld on the warehouse Wi-Fi does).
ALL_INTERFACES = InterfaceChoice.All

Interfaces = Sequence[str] | InterfaceChoice
ServerCallback = Callable[["EdgeServer"], None]

#: How long to wait for a found service's address, port and TXT records.
RESOLVE_TIMEOUT_SECONDS = 3.0


class DiscoveryError(Exception):
    """A server could not be reached or does not look like an Aisleway edge server."""


@dataclass(frozen=True)
class EdgeServer:
    """One edge server as the terminal sees it."""

    name: str  # DNS-SD instance name, e.g. "Aisleway CHI._aisleway._tcp.local."
    site: str
    host: str  # IPv4 address
    port: int
    protocol: str
    api_base: str  # e.g. "/api/v1"
    scheme: str = "http"  # "https" when the TXT record or a typed-in URL says so

    @property
    def url(self) -> str:
        """Base URL of the server (health, dashboard)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL of the versioned API."""
        return self.url + self.api_base

    @property
    def compatible(self) -> bool:
        """Whether this terminal speaks the server's protocol version."""
        return self.protocol == PROTOCOL_VERSION

    @property
    def label(self) -> str:
        """What the instance calls itself, without the service type (`Aisleway CHI-2`)."""
        suffix = "." + SERVICE_TYPE
        return self.name[: -len(suffix)] if self.name.endswith(suffix) else self.name


def _text(properties: Mapping[str, str | None], key: str) -> str | None:
    value = properties.get(key)
    return value.strip() if value and value.strip() else None


def server_from_service(
    name: str, addresses: Sequence[str], port: int | None, properties: Mapping[str, str | None]
) -> EdgeServer | None:
    """An EdgeServer from resolved DNS-SD data, or None when a required piece is missing."""
    site, protocol, api = (_text(properties, k) for k in (TXT_SITE, TXT_PROTOCOL, TXT_API))
    if not (site and protocol and api and addresses and port):
        return None
    scheme = "https" if _text(properties, TXT_SCHEME) == "https" else "http"
    return EdgeServer(
        name=name,
        site=site,
        host=addresses[0],
        port=port,
        protocol=protocol,
        api_base=api,
        scheme=scheme,
    )


def _sort_key(server: EdgeServer) -> tuple[bool, str, str]:
    return (not server.compatible, server.site, server.name)


class Browser:
    """Keeps the set of edge servers on the LAN current and reports changes.

    Callbacks run on zeroconf's browser thread, one at a time: a Kivy view hops to the UI
    thread (`@mainthread`) before touching widgets. A callback that raises is logged, and
    browsing goes on.
    """

    def __init__(
        self,
        *,
        interfaces: Interfaces,
        on_added: ServerCallback | None = None,
        on_removed: ServerCallback | None = None,
        on_updated: ServerCallback | None = None,
        resolve_timeout: float = RESOLVE_TIMEOUT_SECONDS,
    ) -> None:
        self._interfaces = interfaces
        self._on_added = on_added
        self._on_removed = on_removed
        self._on_updated = on_updated
        self._resolve_timeout_ms = int(resolve_timeout * 1000)
        self._servers: dict[str, EdgeServer] = {}
        self._changed = threading.Condition()
        self._zeroconf: Zeroconf | None = None
        self._browser: ServiceBrowser | None = None

    def start(self) -> None:
        if self._zeroconf is not None:
            return
        interfaces: InterfaceChoice | list[str]
        if isinstance(self._interfaces, InterfaceChoice):
            interfaces = self._interfaces
        elif isinstance(self._interfaces, str):
            interfaces = [self._interfaces]
        else:
            interfaces = list(self._interfaces)
        # Our servers advertise IPv4 only, so there is nothing to hear on IPv6.
        self._zeroconf = Zeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        self._browser = ServiceBrowser(self._zeroconf, SERVICE_TYPE, handlers=[self._on_change])

    def close(self) -> None:
        browser, zc = self._browser, self._zeroconf
        self._browser = self._zeroconf = None
        if browser is not None:
            browser.cancel()
        if zc is not None:
            zc.close()

    def __enter__(self) -> Browser:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def servers(self) -> list[EdgeServer]:
        """The servers known now: compatible first, then by site."""
        with self._changed:
            return sorted(self._servers.values(), key=_sort_key)

    def wait_for(
        self, predicate: Callable[[list[EdgeServer]], bool], timeout: float
    ) -> list[EdgeServer] | None:
        """Block until `predicate(servers())` holds (return the list) or `timeout` passes (None)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                servers = sorted(self._servers.values(), key=_sort_key)
                if predicate(servers):
                    return servers
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)

    # -- zeroconf thread -----------------------------------------------------------------------
    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            with self._changed:
                gone = self._servers.pop(name, None)
                self._changed.notify_all()
            if gone is not None:
                log.info("edge server gone", extra={"service": name, "site": gone.site})
                self._call(self._on_removed, gone)
            return

        server = self._resolve(zeroconf, service_type, name)
        if server is None:
            return
        with self._changed:
            before = self._servers.get(name)
            self._servers[name] = server
            self._changed.notify_all()
        if before is None:
            if not server.compatible:
                log.warning(
                    "edge server speaks another protocol",
                    extra={"service": name, "server": server.protocol, "ours": PROTOCOL_VERSION},
                )
            log.info("edge server found", extra={"service": name, "url": server.url})
            self._call(self._on_added, server)
        elif before != server:
            self._call(self._on_updated, server)

    def _resolve(self, zeroconf: Zeroconf, service_type: str, name: str) -> EdgeServer | None:
        info = zeroconf.get_service_info(service_type, name, timeout=self._resolve_timeout_ms)
        if info is None:
            log.debug("no answer resolving %s", name)
            return None
        server = server_from_service(
            name, info.parsed_addresses(IPVersion.V4Only), info.port, info.decoded_properties
        )
        if server is None:
            log.warning("ignoring a service without site/protocol/api", extra={"service": name})
        return server

    @staticmethod
    def _call(callback: ServerCallback | None, server: EdgeServer) -> None:
        if callback is None:
            return
        try:
            callback(server)
        except Exception:
            log.exception("discovery callback failed", extra={"service": server.name})


def browse(
    timeout: float, *, interfaces: Interfaces, include_incompatible: bool = False
) -> list[EdgeServer]:
    """The edge servers that answer within `timeout` seconds, compatible first, then by site."""
    with Browser(interfaces=interfaces) as browser:
        time.sleep(timeout)
        servers = browser.servers()
    return [s for s in servers if include_incompatible or s.compatible]


def from_url(url: str, *, timeout: float = 5.0, client: httpx.Client | None = None) -> EdgeServer:
    """Check a typed-in server address (`192.168.1.20:8000` or `http://…`) through /health."""
    raw = url.strip()
    parts = urlsplit(raw if "://" in raw else f"http://{raw}")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DiscoveryError(f"{url!r} is not a server address (example: 192.168.1.20:8000)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DiscoveryError(f"{url!r} has a bad port number") from None
    base = f"{parts.scheme}://{parts.netloc}"
    own = client is None
    http = client or httpx.Client(timeout=timeout)
    try:
        response = http.get(f"{base}/health")
        response.raise_for_status()
        body: Any = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DiscoveryError(f"no Aisleway edge server answers at {base}") from exc
    finally:
        if own:
            http.close()
    data = body.get("data") if isinstance(body, dict) else None
    fields = [data.get(k) if isinstance(data, dict) else None for k in ("site", "protocol", "api")]
    site, protocol, api = (str(v) if v not in (None, "") else "" for v in fields)
    if not (site and protocol and api):
        raise DiscoveryError(f"{base} does not look like an Aisleway edge server")
    return EdgeServer(
        name=base,
        site=site,
        host=parts.hostname,
        port=port,
        protocol=protocol,
        api_base=api,
        scheme=parts.scheme,
    )
