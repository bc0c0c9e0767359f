"""Which workflows a logged-in role may open, and opening them (no Kivy).

The menu mirrors the server's permissions (edge_server/access/policy.py): a picker picks and
refills pick faces, a receiver receives, puts away and takes returns in, a packer packs, a
counter counts — and everyone on the floor counts what they are asked to (a pick or a putaway
asks for a count); supervisors and admins may open everything. Opening one the role may not
is refused with FORBIDDEN_ROLE, as the server would refuse its first command.
"""

from __future__ import annotations

from collections.abc import Callable

from protocols.errors import ErrorCode
from terminal.workflows.base import Workflow
from terminal.workflows.counting import CountingWorkflow
from terminal.workflows.packing import PackingWorkflow
from terminal.workflows.picking import PickingWorkflow
from terminal.workflows.putaway import PutawayWorkflow, ReplenishmentWorkflow
from terminal.workflows.receiving import ReceivingWorkflow
from terminal.workflows.returns import ReturnsWorkflow
from terminal.workflows.session import Work

__all__ = ["FACTORIES", "MENU", "MenuRefused", "open_workflow", "workflows_for"]

FACTORIES: dict[str, Callable[[Work], Workflow]] = {
    "receiving": ReceivingWorkflow,
    "putaway": PutawayWorkflow,
    "picking": PickingWorkflow,
    "replenishment": ReplenishmentWorkflow,
    "packing": PackingWorkflow,
    "counting": CountingWorkflow,
    "returns": ReturnsWorkflow,
}

#: In the order the menu lists them.
MENU: dict[str, tuple[str, ...]] = {
    # Everyone on the floor counts what they are asked to (a picker the bin a pick left low,
    # a receiver the bin of an Nth putaway): counting.work is FLOOR | MANAGERS on the server.
    "picker": ("picking", "replenishment", "counting"),
    "receiver": ("receiving", "putaway", "returns", "replenishment", "counting"),
    "packer": ("packing", "counting"),
    "counter": ("counting",),
    "supervisor": tuple(FACTORIES),
    "admin": tuple(FACTORIES),
}


class MenuRefused(Exception):
    """The role may not open that workflow (or there is no such workflow)."""

    def __init__(self, code: ErrorCode, workflow: str, role: str) -> None:
        super().__init__(f"{code.value}: {workflow} for {role}")
        self.code = code
        self.workflow = workflow
        self.role = role


def workflows_for(role: str) -> tuple[str, ...]:
    """The workflows `role` may open, in menu order (none for an unknown role)."""
    return MENU.get(role, ())


def open_workflow(name: str, work: Work) -> Workflow:
    """A new workflow `name` for the logged-in user of `work`."""
    if name not in FACTORIES:
        raise MenuRefused(ErrorCode.NOT_FOUND, name, work.role)
    if name not in workflows_for(work.role):
        raise MenuRefused(ErrorCode.FORBIDDEN_ROLE, name, work.role)
    return FACTORIES[name](work)
