"""Which workflows a role may open (what the server's permissions let it do)."""

from __future__ import annotations

import pytest
from terminal_workflow_support import Handheld, refused, scan

from edge_server.access.policy import POLICY
from terminal.workflows.menu import MENU, MenuRefused, open_workflow, workflows_for

# The permission each workflow's commands need on the server (None: no API yet).
NEEDS = {
    "receiving": "receiving.scan",
    "putaway": "putaway.work",
    "picking": "picking.work",
    "replenishment": "replenishment.work",
    "packing": "packing.work",
    "counting": "counting.work",
    "returns": "returns.receive",
}


def test_each_role_sees_what_the_server_lets_it_do():
    assert workflows_for("picker") == ("picking", "replenishment", "counting")
    assert workflows_for("packer") == ("packing", "counting")
    assert workflows_for("counter") == ("counting",)
    assert workflows_for("receiver")[:2] == ("receiving", "putaway")
    assert set(workflows_for("supervisor")) == set(NEEDS) == set(workflows_for("admin"))
    assert workflows_for("integration") == ()
    for role, names in MENU.items():
        for name in names:
            if NEEDS[name] is not None:
                assert role in POLICY[NEEDS[name]], (role, name)


@pytest.mark.parametrize("role", ["counter", "picker", "receiver", "packer", "supervisor"])
def test_everyone_on_the_floor_opens_counting_and_nothing_is_queued_by_opening(
    live_edge, tmp_path, role
):
    hh = Handheld.open(live_edge, tmp_path, role)
    try:
        wf = open_workflow("counting", hh.work)
        assert wf.view().state == "choose_task"
        refused(wf.on_scan(scan("A01-01-1L")), "COUNT_BIN_NOT_IN_TASK")  # no count visits it
        refused(wf.on_input("qty", 3), "TERMINAL_WRONG_STEP")
        assert hh.conn.queue.commands() == []
    finally:
        hh.close()


def test_a_role_cannot_open_another_roles_workflow(live_edge, tmp_path):
    hh = Handheld.open(live_edge, tmp_path, "picker")
    try:
        with pytest.raises(MenuRefused) as refused_:
            open_workflow("receiving", hh.work)
        assert refused_.value.code.value == "FORBIDDEN_ROLE"
        with pytest.raises(MenuRefused) as unknown:
            open_workflow("juggling", hh.work)
        assert unknown.value.code.value == "NOT_FOUND"
        assert open_workflow("picking", hh.work).name == "picking"
    finally:
        hh.close()
