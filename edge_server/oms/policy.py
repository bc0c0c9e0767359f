"""Who may do what on the OMS API: every protected route names one permission from this table
(API keys carry one role: `channel`, `admin` or `reader`). Site events come in signed, not with
a key (see docs/oms.md)."""

from __future__ import annotations

OMS_POLICY: dict[str, frozenset[str]] = {
    "oms.orders.write": frozenset({"channel", "admin"}),
    "oms.orders.read": frozenset({"channel", "admin", "reader"}),
    "oms.inventory.read": frozenset({"channel", "admin", "reader"}),
    "oms.sites.manage": frozenset({"admin"}),
    "oms.sites.read": frozenset({"admin", "reader"}),
    "oms.channels.manage": frozenset({"admin"}),
    "oms.channels.read": frozenset({"admin", "reader"}),
    "oms.returns.write": frozenset({"channel", "admin"}),
    "oms.notifications.read": frozenset({"admin", "reader"}),
    "oms.notifications.manage": frozenset({"admin"}),
    # Granted to no API key: signed site webhooks only (oms/api/site_events.py).
    "oms.site_events": frozenset(),
}


def oms_allowed(permission: str, role: str) -> bool:
    return role in OMS_POLICY[permission]
