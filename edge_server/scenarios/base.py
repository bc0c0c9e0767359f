"""Scenario services with declared states (the OCA shopfloor pattern).

A scenario is a class whose public endpoint methods are decorated with `@endpoint(...)`,
naming the states the handheld may be in when it calls it (`from_`) and every state it may
answer with (`to`). Each answer goes through `_response_for_<state>`; the decorator refuses
(as an internal error) any answer whose `next_state` was not declared, so the declared
transitions are what the code does, and docs/scenarios/<name>.md is checked against them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from edge_server.settings import Settings
from edge_server.wms.ledger import Actor
from protocols.envelope import Envelope, Message, MessageType
from protocols.errors import ErrorCode, message_for

__all__ = ["Endpoint", "ScenarioService", "UndeclaredState", "endpoint"]

F = TypeVar("F", bound=Callable[..., dict[str, Any]])


class UndeclaredState(AssertionError):
    """An endpoint answered with a state it does not declare: a bug, never a user error."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    from_states: frozenset[str]
    to_states: frozenset[str]
    in_diagram: bool = True


def endpoint(
    from_: Iterable[str], to: Iterable[str], *, in_diagram: bool = True
) -> Callable[[F], F]:
    """Declare an endpoint: the states it is called from and the states it can return."""
    from_states, to_states = frozenset(map(str, from_)), frozenset(map(str, to))

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def checked(*args: Any, **kwargs: Any) -> dict[str, Any]:
            body = method(*args, **kwargs)
            if body.get("next_state") not in to_states:
                raise UndeclaredState(
                    f"{method.__name__} answered {body.get('next_state')!r}; "
                    f"declared {sorted(to_states)}"
                )
            return body

        checked.__scenario_endpoint__ = Endpoint(  # type: ignore[attr-defined]
            method.__name__, from_states, to_states, in_diagram
        )
        return checked  # type: ignore[return-value]

    return wrap


class ScenarioService:
    """Base of the scenario services: who is working (site, user, device, role), the
    declared states and the envelope builder."""

    name: ClassVar[str]
    states: ClassVar[tuple[str, ...]]
    initial: ClassVar[str]
    final: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        settings: Settings,
        *,
        user_id: int | None,
        device_id: int | None,
        role: str,
        scanned_at: str | None = None,
    ) -> None:
        self.settings = settings
        self.site = settings.site
        self.user_id = user_id
        self.device_id = device_id
        self.role = role
        self.actor = Actor(user_id=user_id, device_id=device_id, scanned_at=scanned_at)

    @classmethod
    def endpoints(cls) -> dict[str, Endpoint]:
        found: dict[str, Endpoint] = {}
        for attr in dir(cls):
            spec = getattr(getattr(cls, attr), "__scenario_endpoint__", None)
            if isinstance(spec, Endpoint):
                found[spec.name] = spec
        return found

    @classmethod
    def transitions(cls) -> set[tuple[str, str, str]]:
        """(from state, to state, endpoint) for every declared move shown in the diagram."""
        return {
            (a, b, e.name)
            for e in cls.endpoints().values()
            if e.in_diagram
            for a in e.from_states
            for b in e.to_states
        }

    @classmethod
    def mermaid(cls) -> str:
        """The state diagram as mermaid text (what docs/scenarios/<name>.md holds)."""
        lines = ["stateDiagram-v2", f"    [*] --> {cls.initial}"]
        for a, b, name in sorted(cls.transitions()):
            lines.append(f"    {a} --> {b} : {name}")
        lines += [f"    {s} --> [*]" for s in cls.final]
        return "\n".join(lines)

    @staticmethod
    def envelope(
        state: str,
        data: dict[str, Any],
        message: ErrorCode | None = None,
        *,
        kind: MessageType = MessageType.SUCCESS,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        msg = (
            Message(type=kind, code=message.value, text=message_for(message).text, details=details)
            if message is not None
            else None
        )
        return Envelope[Any](next_state=state, data={state: data}, message=msg).model_dump(
            mode="json"
        )
