"""Advertise this edge server on the LAN with zeroconf (mDNS / DNS-SD), so handhelds find it.

Interface policy (docs/discovery.md): multicast goes out on exactly one interface, the one whose
IPv4 address the server listens on. A server bound to every address (0.0.0.0 or ::) must be told
which interface to advertise on (`advertise_interface`); we never guess, because guessing would
announce the site on networks the operator did not choose.

`Advertiser.start()` and `stop()` block (registration probes the network for about two seconds;
withdrawal sends goodbyes for about a quarter of a second). They run zeroconf on its own thread,
so from async code call them through `asyncio.to_thread`, as `edge_server.server` does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import threading
from typing import Any

import ifaddr
from zeroconf import (
    DNSQuestionType,
    IPVersion,
    ServiceBrowser,
    ServiceInfo,
    Zeroconf,
)

from edge_server.settings import Settings
from protocols.discovery import SERVICE_TYPE, TXT_API, TXT_PROTOCOL, TXT_SCHEME, TXT_SITE
from protocols.version import API_BASE_PATH, PROTOCOL_VERSION

__all__ = ["AdvertiseError", "Advertiser", "advertise_address", "instance_name"]

log = logging.getLogger("aisleway.edge.discovery")


class AdvertiseError(ValueError):
    """The settings do not say safely where to advertise; the sentence says what to change."""


def instance_name(site: str) -> str:
    """The DNS-SD instance name a site's server asks for (zeroconf may add `-2` on a conflict)."""
    return f"Aisleway {site}.{SERVICE_TYPE}"


def _local_ipv4_addresses() -> set[str]:
    # ifaddr only reads the local adapter table; nothing goes on the network.
    return {
        str(ip.ip)
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
        if ip.is_IPv4 and isinstance(ip.ip, str)
    }


def advertise_address(host: str, interface: str | None = None) -> str:
    """The IPv4 address to announce and to carry multicast on, for a server bound to `host`.

    Raises AdvertiseError when the answer would be a guess or would announce an address the
    server does not listen on.
    """
    bind = "127.0.0.1" if host == "localhost" else host
    try:
        bound = ipaddress.ip_address(bind)
    except ValueError:
        raise AdvertiseError(
            f"cannot advertise a server bound to the name {host!r}: bind an IP address "
            "(--host), or turn advertising off (--no-advertise)"
        ) from None

    if bound.is_unspecified:
        if not interface:
            raise AdvertiseError(
                f"the server binds every interface ({host}); say which one terminals reach it on "
                "with --advertise-interface ADDRESS (AISLEWAY_ADVERTISE_INTERFACE), "
                "or turn advertising off (--no-advertise)"
            )
        chosen = _ipv4(interface, what="--advertise-interface")
    else:
        if bound.version != 4:
            raise AdvertiseError(
                f"zeroconf advertising is IPv4 only and the server binds {host}; bind an IPv4 "
                "address, or turn advertising off (--no-advertise)"
            )
        chosen = str(bound)
        if interface and _ipv4(interface, what="--advertise-interface") != chosen:
            raise AdvertiseError(
                f"the server listens on {chosen} only, so it cannot be advertised on {interface}; "
                "drop --advertise-interface or bind 0.0.0.0"
            )

    if chosen not in _local_ipv4_addresses():
        raise AdvertiseError(
            f"{chosen} is not an address of this machine; cannot advertise on it "
            "(check --host / --advertise-interface)"
        )
    return chosen


def _ipv4(value: str, *, what: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise AdvertiseError(f"{what} must be an IPv4 address, not {value!r}") from None
    if address.version != 4 or address.is_unspecified or address.is_multicast:
        raise AdvertiseError(f"{what} must be the IPv4 address of one interface, not {value}")
    return str(address)


def _dns_label(text: str) -> str:
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return label or "host"


def _ignore(**_: Any) -> None:
    return None


class Advertiser:
    """Registers `Aisleway <site>._aisleway._tcp.local.` on one interface while the server runs."""

    def __init__(self, settings: Settings) -> None:
        # Validate now, so a bad configuration stops the server before it binds.
        self.address = advertise_address(settings.host, settings.advertise_interface)
        self.site = settings.site
        self.scheme = "https" if settings.tls_cert_file else "http"
        self.port = settings.port
        self._lock = threading.Lock()
        self._zeroconf: Zeroconf | None = None
        self._info: ServiceInfo | None = None

    @property
    def name(self) -> str | None:
        """The registered instance name (after any conflict rename), or None when stopped."""
        info = self._info
        return info.name if info is not None else None

    def service_info(self, port: int) -> ServiceInfo:
        # The SRV target is our own name, never the machine's `<hostname>.local.`: claiming
        # that would collide with the host's own mDNS responder (avahi, Bonjour).
        host_label = _dns_label(f"aisleway-{self.site}-{socket.gethostname()}")[:50]
        return ServiceInfo(
            SERVICE_TYPE,
            instance_name(self.site),
            addresses=[socket.inet_aton(self.address)],
            port=port,
            properties={
                TXT_SITE: self.site,
                TXT_PROTOCOL: PROTOCOL_VERSION,
                TXT_API: API_BASE_PATH,
                TXT_SCHEME: self.scheme,
            },
            server=f"{host_label}-{port}.local.",
        )

    def start(self, port: int | None = None) -> None:
        """Register the service (blocking, about two seconds). `port` is the bound port."""
        _refuse_event_loop_thread("Advertiser.start")
        port = port or self.port
        if not 0 < port < 65536:
            raise ValueError(f"cannot advertise port {port}")
        with self._lock:
            if self._zeroconf is not None:
                return
            zc = Zeroconf(interfaces=[self.address], ip_version=IPVersion.V4Only)
            info = self.service_info(port)
            # zeroconf's probes ask for unicast replies (RFC 6762 §8.1). A second server on the
            # same host never sees the reply (only one socket bound to 5353 gets a unicast
            # datagram), so it would not rename. A short browse with multicast-reply questions
            # during probing puts any holder of our name into the cache, where the probe loop
            # finds the conflict and renames (`Aisleway CHI-2`).
            primer = ServiceBrowser(
                zc, SERVICE_TYPE, handlers=[_ignore], question_type=DNSQuestionType.QM
            )
            try:
                zc.register_service(info, allow_name_change=True)
            except BaseException:
                zc.close()
                raise
            finally:
                primer.cancel()
            self._zeroconf, self._info = zc, info
        log.info(
            "advertising with zeroconf",
            extra={"service": info.name, "address": self.address, "port": port},
        )

    def stop(self) -> None:
        """Withdraw the service (goodbye packets) and close zeroconf; safe to call twice."""
        _refuse_event_loop_thread("Advertiser.stop")
        with self._lock:
            zc, info = self._zeroconf, self._info
            self._zeroconf = self._info = None
        if zc is None or info is None:
            return
        try:
            zc.unregister_service(info)
        except Exception:
            log.warning("zeroconf goodbye failed", exc_info=True)
        finally:
            zc.close()
        log.info("stopped advertising", extra={"service": info.name})


def _refuse_event_loop_thread(what: str) -> None:
    # Inside a running loop zeroconf would attach to that loop, and the blocking call would
    # then wait on itself.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"{what}() blocks; call it with asyncio.to_thread from async code")
