"""Each scenario's docs/scenarios/<name>.md diagram shows exactly the transitions its code
declares, and every state an endpoint can answer has a response builder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge_server.scenarios.base import ScenarioService
from edge_server.scenarios.packing import PackingScenario
from edge_server.scenarios.picking import PickingScenario
from edge_server.scenarios.receiving import ReceivingScenario
from edge_server.scenarios.returns import ReturnsScenario

DOCS = Path(__file__).resolve().parent.parent / "docs" / "scenarios"
SCENARIOS = [ReceivingScenario, PickingScenario, PackingScenario, ReturnsScenario]


def diagram(name: str) -> tuple[set[tuple[str, str, str]], str | None, set[str]]:
    """(from, to, endpoint) moves, the initial state and the final states of the mermaid
    block in docs/scenarios/<name>.md."""
    text = (DOCS / f"{name}.md").read_text()
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block, f"docs/scenarios/{name}.md has no mermaid block"
    moves, initial, finals = set(), None, set()
    for line in block.group(1).splitlines():
        m = re.fullmatch(r"\s*(\S+)\s*-->\s*(\S+)\s*(?::\s*(\S+))?\s*", line)
        if not m:
            continue
        a, b, label = m.groups()
        if a == "[*]":
            initial = b
        elif b == "[*]":
            finals.add(a)
        else:
            moves.add((a, b, label))
    return moves, initial, finals


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_the_diagram_shows_exactly_the_declared_transitions(
    scenario: type[ScenarioService],
) -> None:
    moves, initial, finals = diagram(scenario.name)
    assert moves == scenario.transitions()
    assert initial == scenario.initial
    assert finals == set(scenario.final)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_state_an_endpoint_can_answer_has_a_builder(
    scenario: type[ScenarioService],
) -> None:
    for spec in scenario.endpoints().values():
        assert spec.to_states <= set(scenario.states), spec
        for state in spec.to_states - {scenario.initial}:
            assert hasattr(scenario, f"_response_for_{state}"), (scenario.name, state)


def test_every_scenario_has_its_page() -> None:
    documented = {p.stem for p in DOCS.glob("*.md")}
    assert {s.name for s in SCENARIOS} <= documented
