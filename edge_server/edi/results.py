"""The outcome of reading an interchange: every transaction set, accepted (with its typed
document) or rejected (with its errors). `edge_server.edi.reader.read_interchange` builds it;
`edge_server.edi.ts997.acknowledge` turns it into 997 acknowledgements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from edge_server.edi.x12 import FunctionalGroup, Interchange, Transaction, X12Error

__all__ = ["ParseResult", "SetResult"]

T = TypeVar("T")


@dataclass
class SetResult:
    group: FunctionalGroup
    transaction: Transaction
    document: object | None = None
    errors: list[X12Error] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors and self.document is not None


@dataclass
class ParseResult:
    interchange: Interchange
    sets: list[SetResult] = field(default_factory=list)

    @property
    def accepted(self) -> list[SetResult]:
        return [s for s in self.sets if s.accepted]

    @property
    def rejected(self) -> list[SetResult]:
        return [s for s in self.sets if not s.accepted]

    def documents(self, kind: type[T]) -> list[T]:
        """The accepted documents of one type, e.g. `result.documents(ShippingOrder)`."""
        return [s.document for s in self.sets if s.accepted and isinstance(s.document, kind)]
