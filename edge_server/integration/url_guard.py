"""SSRF guard for webhook subscribers.

A webhook URL is something an admin types and the server then POSTs to, so it must not become
a way to reach the edge server's own neighbourhood: loopback, link-local (cloud metadata at
169.254.169.254), private LANs, multicast, unspecified or otherwise non-public addresses are
refused unless `webhook_allow_private` is set (tests, demos, a receiver on the same host).

The check runs twice: when a subscriber is created (`check_webhook_url`, a clear refusal for
the admin) and when the relay connects (`GuardedTransport`: the addresses actually dialled
are the ones checked, so a hostname that later resolves somewhere else — DNS rebinding — is
still refused before a single packet is sent).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from edge_server.errors import AislewayError
from protocols.errors import ErrorCode

__all__ = [
    "AddressRefused",
    "GuardedTransport",
    "address_problem",
    "check_webhook_url",
    "resolve_allowed",
]

MAX_URL_LENGTH = 2000
ALLOWED_SCHEMES = ("http", "https")
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: `socket.getaddrinfo`-shaped resolver, injectable so tests never touch real DNS.
Resolver = Callable[..., list[tuple[Any, ...]]]


class AddressRefused(Exception):
    """The relay refused to connect to an address; the text names the address and why."""


def _embedded_v4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses hidden inside an IPv6 one (mapped, 6to4, NAT64)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip in NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_problem(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why `ip` may not receive webhooks, or None when it may."""
    for inner in _embedded_v4(ip):
        problem = address_problem(inner, allow_private=allow_private)
        if problem:
            return problem
    # Never useful for an HTTP POST, even in a demo: 0.0.0.0 quietly means "this host".
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if allow_private:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def resolve_allowed(
    host: str,
    port: int,
    *,
    allow_private: bool,
    resolver: Resolver = socket.getaddrinfo,
) -> list[tuple[int, tuple[Any, ...]]]:
    """Resolve `host` and return its (family, sockaddr) pairs, or raise `AddressRefused`.

    Every address must pass: a name that resolves to one public and one private address is
    refused, since we cannot choose which one a later connection would get."""
    literal = _parse_ip(host.strip("[]"))
    if literal is not None:
        problem = address_problem(literal, allow_private=allow_private)
        if problem:
            raise AddressRefused(f"{literal} is {problem}")
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        return [(family, (str(literal), port))]
    try:
        infos = resolver(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(f"{host} does not resolve ({exc})") from exc
    if not infos:
        raise AddressRefused(f"{host} does not resolve")
    result: list[tuple[int, tuple[Any, ...]]] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        ip = _parse_ip(str(sockaddr[0]))
        if ip is None:
            raise AddressRefused(f"{host} resolves to an unusable address {sockaddr[0]!r}")
        problem = address_problem(ip, allow_private=allow_private)
        if problem:
            raise AddressRefused(f"{host} resolves to {ip}, {problem}")
        result.append((family, tuple(sockaddr)))
    return result


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    url: str
    host: str
    port: int


def _refuse(url: str, reason: str) -> AislewayError:
    return AislewayError(
        ErrorCode.WEBHOOK_URL_INVALID,
        f"That webhook address is not allowed: {reason}.",
        details={"url": url[:200], "reason": reason},
    )


def check_webhook_url(
    url: str, *, allow_private: bool, resolver: Resolver = socket.getaddrinfo
) -> CheckedUrl:
    """Refuse (WEBHOOK_URL_INVALID, naming why) a URL the relay must not POST to.

    Resolves the host name, so call it outside a write transaction."""
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(url, f"it is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise _refuse(url, "it contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse(url, f"it is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise _refuse(url, "only http:// and https:// addresses can receive webhooks")
    host = parts.hostname
    if not host:
        raise _refuse(url, "it has no host")
    if parts.username is not None or parts.password is not None:
        # URLs are listed back through the API and written to logs; credentials do not belong.
        raise _refuse(url, "it must not carry a user name or password")
    if parts.fragment:
        raise _refuse(url, "it must not have a #fragment")
    port = port or (443 if scheme == "https" else 80)
    try:
        resolve_allowed(host, port, allow_private=allow_private, resolver=resolver)
    except AddressRefused as exc:
        raise _refuse(url, str(exc)) from exc
    return CheckedUrl(url=url, host=host, port=port)


class _GuardedBackend(httpcore.SyncBackend):
    """Dials only addresses that passed `resolve_allowed`; the check and the connection use
    the same resolution, so there is no window for the name to change in between."""

    def __init__(self, *, allow_private: bool, resolver: Resolver) -> None:
        self._allow_private = allow_private
        self._resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve_allowed(
            host, port, allow_private=self._allow_private, resolver=self._resolver
        )
        last_error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for _family, sockaddr in addresses:
            try:
                return super().connect_tcp(
                    str(sockaddr[0]),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # resolve_allowed never returns an empty list
        raise last_error


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose every TCP connection goes through the SSRF guard.

    The TLS server name and the connection pool key stay the URL's host name, so certificate
    checks and keep-alive work as usual."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = socket.getaddrinfo,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=32, max_keepalive_connections=16)
        super().__init__(trust_env=False, limits=limits)
        # httpx has no public hook for httpcore's network backend; replacing the pool it just
        # built (same arguments, plus our backend) is the narrowest way in.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(allow_private=allow_private, resolver=resolver),
        )
