"""Who may do what: every protected route names one permission from this table.

The auth-matrix test walks every route of the app and checks it against this table, so a
route without a permission, or a role that reaches what it should not, fails the build.
"""

from __future__ import annotations

FLOOR = frozenset({"picker", "receiver", "counter", "packer"})
MANAGERS = frozenset({"supervisor", "admin"})

POLICY: dict[str, frozenset[str]] = {
    # who am I / my session
    "session.read": FLOOR | MANAGERS | {"integration"},
    # barcode lookup
    "scan.resolve": FLOOR | MANAGERS | {"integration"},
    # warehouse model
    "layout.read": FLOOR | MANAGERS | {"integration"},
    "layout.write": MANAGERS,
    "items.read": FLOOR | MANAGERS | {"integration"},
    "items.write": MANAGERS | {"integration"},
    # ledger
    "stock.read": FLOOR | MANAGERS | {"integration"},
    "stock.receive": frozenset({"receiver"}) | MANAGERS | {"integration"},
    "stock.move": FLOOR | MANAGERS,
    "stock.pick": frozenset({"picker", "packer"}) | MANAGERS,
    "stock.ship": frozenset({"packer"}) | MANAGERS | {"integration"},
    "stock.adjust": frozenset({"counter"}) | MANAGERS,
    "stock.status": frozenset({"receiver", "counter"}) | MANAGERS,
    # purchase orders and ASNs
    "inbound.read": frozenset({"receiver"}) | MANAGERS | {"integration"},
    "inbound.write": MANAGERS | {"integration"},
    # fulfillment orders and allocation
    "orders.read": frozenset({"picker", "packer"}) | MANAGERS | {"integration"},
    "orders.write": MANAGERS | {"integration"},
    # waves, picking, packing and shipping
    "waves.read": frozenset({"picker", "packer"}) | MANAGERS | {"integration"},
    "waves.manage": MANAGERS,
    "picking.work": frozenset({"picker"}) | MANAGERS,
    "packing.work": frozenset({"packer"}) | MANAGERS,
    "carriers.read": FLOOR | MANAGERS | {"integration"},
    "carriers.manage": MANAGERS,
    # handhelds report on themselves (queue health, commands refused on replay)
    "terminal.report": FLOOR | MANAGERS,
    # directed putaway and replenishment
    "putaway.work": frozenset({"receiver"}) | MANAGERS,
    "replenishment.work": frozenset({"picker", "receiver"}) | MANAGERS,
    "replenishment.rules": MANAGERS,
    "kpi.read": MANAGERS,
    # receiving scenario
    "receiving.scan": frozenset({"receiver"}) | MANAGERS,
    "receiving.override": MANAGERS,
    "receiving.kpi": MANAGERS | {"integration"},
    # returns (RMAs): the OMS sends them and sets the rules; receivers take them in
    "returns.read": frozenset({"receiver"}) | MANAGERS | {"integration"},
    "returns.receive": frozenset({"receiver"}) | MANAGERS,
    "returns.manage": MANAGERS | {"integration"},
    # access administration
    "users.read": MANAGERS,
    "users.write": frozenset({"admin"}),
    "devices.pair_code": MANAGERS,
    "devices.manage": MANAGERS,
    "api_keys.manage": frozenset({"admin"}),
    # integration
    "events.read": MANAGERS | {"integration"},
    "webhooks.manage": frozenset({"admin"}),
    # labels and printers
    "labels.print": frozenset({"receiver", "packer"}) | MANAGERS,
    "labels.preview": FLOOR | MANAGERS,
    "printers.manage": MANAGERS,
    # cycle counting: anyone on the floor counts what they are asked to (a picker confirms a
    # bin a pick left nearly empty); supervisors plan counts and approve big adjustments
    "counting.read": FLOOR | MANAGERS,
    "counting.work": FLOOR | MANAGERS,
    "counting.manage": MANAGERS,
    "counting.approve": MANAGERS,
    # labor figures and standards
    "labor.read": MANAGERS,
    "labor.manage": MANAGERS,
    # the supervisors' web page, handing tasks to another worker, the operations report
    "dashboard.read": MANAGERS,
    "tasks.assign": MANAGERS,
    "reports.read": MANAGERS | {"integration"},
    # 3PL: the clients (owners), their billing data; a client's own key reaches only the
    # client API, which answers with that client's data only (docs/clients.md)
    "clients.read": MANAGERS | {"integration"},
    "clients.manage": frozenset({"admin"}),
    "billing.read": MANAGERS | {"integration"},
    "client.portal": frozenset({"client"}),
    # EDI interchanges from 3PL clients sent by the house (docs/edi.md)
    "edi.submit": MANAGERS | {"integration"},
    "edi.read": MANAGERS | {"integration"},
}


def allowed(permission: str, role: str) -> bool:
    return role in POLICY[permission]
