"""The carrier adapter interface (fixed) and its default, rate-card implementation.

Packing asks `adapter_for(...)` for the order's carrier service and calls `label(...)` once
per carton: the adapter prices the carton, assigns a tracking number and renders the ZPL
shipping label.

Which adapter serves a service is chosen by the service's carrier name: `register_adapter()`
plugs a real carrier's API in (docs/shipping.md#adapters); every carrier without one gets the
`RateCardAdapter`, which prices with the service's rate card, numbers from the service's own
sequence and renders our label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from pydantic import ValidationError
from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.shipping import tracking
from edge_server.shipping.label import ShippingLabel, shipping_label_zpl
from edge_server.shipping.services import get_service, rate_card_of
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.barcodes import BarcodeError, ScanKind, parse_scan
from protocols.errors import ErrorCode
from protocols.outbound import ShipTo
from protocols.rates import PriceBreakdown, RateCard, RateError, price

__all__ = [
    "AdapterFactory",
    "CarrierAdapter",
    "LabelRequest",
    "LabelResult",
    "Quote",
    "RateCardAdapter",
    "adapter_for",
    "register_adapter",
    "unregister_adapter",
]


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
    ship_from: tuple[str, ...] = ()  # return address lines; empty: the site's name and code


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


#: Makes the adapter for one configured service: (source, site, service as stored:
#: `get_service()`'s dict with code, carrier, name, rate_card, ...) -> adapter.
AdapterFactory = Callable[[Source, str, Mapping[str, Any]], CarrierAdapter]

_REGISTRY: dict[str, AdapterFactory] = {}


def _carrier_key(carrier: str) -> str:
    return carrier.strip().casefold()


def register_adapter(carrier: str, factory: AdapterFactory) -> None:
    """Serve every service of `carrier` (matched case-insensitively) with `factory`'s adapter
    instead of the rate card. Call it at start-up, e.g. from an integrator's plugin module."""
    _REGISTRY[_carrier_key(carrier)] = factory


def unregister_adapter(carrier: str) -> None:
    """Back to the rate-card adapter for `carrier`."""
    _REGISTRY.pop(_carrier_key(carrier), None)


def adapter_for(source: Source, site: str, service: str) -> CarrierAdapter:
    """The adapter for a configured carrier service; CARRIER_SERVICE_UNKNOWN otherwise."""
    found = get_service(source, site, service)
    if found is None or not found["active"]:
        raise AislewayError(
            ErrorCode.CARRIER_SERVICE_UNKNOWN,
            details={"service": service, "reason": "inactive" if found else "not set up"},
        )
    factory = _REGISTRY.get(_carrier_key(found["carrier"]), RateCardAdapter.for_service)
    return factory(source, site, found)


def _refused(exc: RateError, service: str) -> AislewayError:
    return AislewayError(exc.code, details={**exc.details, "service": service})


def _ship_to(ship_to: Mapping[str, Any]) -> ShipTo:
    try:
        return ShipTo.model_validate(ship_to)
    except ValidationError as exc:
        errors = [
            {"field": "ship_to." + ".".join(str(p) for p in e["loc"]), "reason": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        raise AislewayError(ErrorCode.LABEL_DATA_INVALID, details={"errors": errors}) from None


def _label_data_invalid(field: str, reason: str) -> AislewayError:
    return AislewayError(
        ErrorCode.LABEL_DATA_INVALID, details={"errors": [{"field": field, "reason": reason}]}
    )


class RateCardAdapter:
    """The default adapter: prices with the service's rate card, numbers cartons from the
    service's tracking sequence and renders Aisleway's own 4x6 shipping label."""

    def __init__(
        self,
        *,
        site: str,
        service_id: int,
        code: str,
        carrier: str,
        name: str,
        card: RateCard,
    ) -> None:
        self.site = site
        self.service_id = service_id
        self.code = code
        self.carrier = carrier
        self.name = name
        self.card = card

    @classmethod
    def for_service(cls, source: Source, site: str, service: Mapping[str, Any]) -> RateCardAdapter:
        card = rate_card_of(service)
        if card is None:
            raise AislewayError(
                ErrorCode.CARRIER_SERVICE_UNKNOWN,
                details={"service": service["code"], "reason": "no valid rate card"},
            )
        return cls(
            site=site,
            service_id=int(service["id"]),
            code=str(service["code"]),
            carrier=str(service["carrier"]),
            name=str(service["name"]),
            card=card,
        )

    def _check_service(self, service: str) -> None:
        if service != self.code:
            raise AislewayError(
                ErrorCode.CARRIER_SERVICE_UNKNOWN,
                details={"service": service, "reason": f"this adapter serves {self.code}"},
            )

    def breakdown(
        self,
        ship_to: Mapping[str, Any],
        weight_kg: float | Decimal,
        dims_cm: tuple[float, float, float] | None = None,
    ) -> PriceBreakdown:
        """The full price breakdown; RATE_NO_ZONE or RATE_WEIGHT_OUT_OF_RANGE when refused."""
        try:
            return price(
                self.card,
                str(ship_to.get("country", "")),
                str(ship_to.get("postal_code", "") or ""),
                weight_kg,
                dims_cm=dims_cm,
            )
        except RateError as exc:
            raise _refused(exc, self.code) from None

    def _quote(self, found: PriceBreakdown) -> Quote:
        return Quote(
            service=self.code,
            carrier=self.carrier,
            zone=found.zone,
            weight_kg=float(found.billable_weight_kg),
            price=found.total,
            currency=found.currency,
            transit_days=found.transit_days,
        )

    def quote(self, service: str, ship_to: dict[str, Any], weight_kg: float) -> Quote:
        self._check_service(service)
        return self._quote(self.breakdown(ship_to, weight_kg))

    def label(self, w: SUDatabase, request: LabelRequest) -> LabelResult:
        """Price the carton, take its tracking number from the service's sequence (in `w`, the
        caller's transaction) and render the label. Refusals change nothing."""
        self._check_service(request.service)
        if request.site != self.site:
            raise _label_data_invalid("site", f"this adapter labels for site {self.site}")
        ship_to = _ship_to(request.ship_to)
        try:
            sscc = parse_scan(request.sscc, expect={ScanKind.LPN}).sscc
        except BarcodeError:
            sscc = None
        if sscc is None:
            raise _label_data_invalid("sscc", "not a valid 18-digit SSCC")
        if request.carton_no < 1:
            raise _label_data_invalid("carton_no", "cartons are numbered from 1")
        if request.carton_count is not None and request.carton_count < request.carton_no:
            raise _label_data_invalid("carton_count", "fewer cartons than this carton's number")
        found = self.breakdown(ship_to.model_dump(), request.weight_kg)
        seq = tracking.next_sequence(w, self.service_id)
        number = tracking.format_tracking(self.site, self.service_id, seq)
        site_rows = fetch_rows(w, "SELECT id, name FROM sites WHERE code = ?", [self.site])
        site_name = str(site_rows[0]["name"] or "") if site_rows else ""
        ship_from = request.ship_from or tuple(
            line for line in (site_name, f"Aisleway site {self.site}") if line
        )
        label = ShippingLabel(
            ship_from=tuple(ship_from),
            ship_to=ship_to,
            carrier=self.carrier,
            service=self.code,
            service_name=self.name,
            zone=found.zone,
            tracking=number,
            sscc=sscc,
            order_number=request.order_number,
            carton_no=request.carton_no,
            carton_count=request.carton_count,
            weight_kg=Decimal(str(request.weight_kg)),
        )
        try:
            zpl = shipping_label_zpl(label)
        except ValueError as exc:
            raise _label_data_invalid("label", str(exc)) from None
        w.execute(
            "INSERT INTO tracking_numbers (site_id, service_id, seq, tracking, order_number, "
            "sscc, carton_no, weight_kg, zone, price, currency, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                int(site_rows[0]["id"]),
                self.service_id,
                seq,
                number,
                request.order_number,
                sscc,
                request.carton_no,
                request.weight_kg,
                found.zone,
                str(found.total),
                found.currency,
                iso(),
            ],
        )
        return LabelResult(tracking=number, zpl=zpl, quote=self._quote(found))
