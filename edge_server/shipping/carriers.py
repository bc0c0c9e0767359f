"""The carrier adapter interface (fixed) and its default, rate-card implementation (to come).

Packing asks `adapter_for(...)` for the order's carrier service and calls `label(...)` once
per carton: the adapter prices the carton, assigns a tracking number and renders the ZPL
shipping label.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlite_utils import Database as SUDatabase

from edge_server.wms.purchase_orders import Source

__all__ = ["CarrierAdapter", "LabelRequest", "LabelResult", "Quote", "adapter_for"]


@dataclass(frozen=True, slots=True)
class Quote:
    service: str
    carrier: str
    zone: str
    weight_kg: float
    price: Decimal
    currency: str
    transit_days: int | None


@dataclass(frozen=True, slots=True)
class LabelRequest:
    site: str
    order_number: str
    service: str
    ship_to: dict[str, Any]  # protocols.outbound.ShipTo as JSON
    sscc: str  # the carton's SSCC (18 digits)
    weight_kg: float
    carton_no: int
    carton_count: int | None = None


@dataclass(frozen=True, slots=True)
class LabelResult:
    tracking: str
    zpl: str
    quote: Quote


class CarrierAdapter(Protocol):
    def quote(self, service: str, ship_to: dict[str, Any], weight_kg: float) -> Quote: ...

    def label(self, w: SUDatabase, request: LabelRequest) -> LabelResult:
        """Price the carton, assign its tracking number (inside the caller's transaction) and
        render the ZPL label."""
        ...


def adapter_for(source: Source, site: str, service: str) -> CarrierAdapter:
    """The adapter for a configured carrier service; CARRIER_SERVICE_UNKNOWN otherwise."""
    raise NotImplementedError
