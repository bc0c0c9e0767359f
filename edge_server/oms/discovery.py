"""Find sites' edge servers on the LAN for the OMS (`aisleway oms discover`).

Edge servers advertise `_aisleway._tcp.local.` with TXT `site`, `protocol` and `api`
(docs/discovery.md); this reuses the terminal's browser (`terminal/net/discovery.py`, no Kivy).
Which interfaces to browse on is the caller's choice: the demo and the tests pass
`["127.0.0.1"]`.
"""

from __future__ import annotations

from terminal.net.discovery import ALL_INTERFACES, EdgeServer, Interfaces, browse

__all__ = ["ALL_INTERFACES", "EdgeServer", "discover_sites"]


def discover_sites(timeout: float, *, interfaces: Interfaces = ALL_INTERFACES) -> list[EdgeServer]:
    """The compatible edge servers answering within `timeout` seconds, one per site (the
    first found when a site advertises twice), ordered by site code."""
    found: dict[str, EdgeServer] = {}
    for server in browse(timeout, interfaces=interfaces):
        found.setdefault(server.site, server)
    return [found[code] for code in sorted(found)]
