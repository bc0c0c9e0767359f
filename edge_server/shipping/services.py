"""A site's carrier services: stored in `carrier_services`, each with its cutoff, pickup days
and rate card (docs/shipping.md). Loaded over HTTP (PUT) or from a file (`load-carriers`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.errors import ErrorCode
from protocols.rates import SERVICE_CODE_PATTERN, CarrierServiceIn, RateCard

__all__ = [
    "SERVICE_CHANGED_EVENT",
    "CarrierServiceFileEntry",
    "CarrierServicesFile",
    "LoadReport",
    "get_service",
    "list_services",
    "load_services",
    "parse_services_file",
    "put_service",
    "rate_card_of",
    "read_services_file",
]

#: Emitted whenever a service is created or changed (the OMS keeps the cards for sourcing).
SERVICE_CHANGED_EVENT = "carrier_service.changed"

_SELECT = (
    "SELECT cs.id, cs.code, cs.carrier, cs.name, cs.cutoff_local, cs.ship_days, "
    "cs.rate_card_json, cs.active, cs.updated_at "
    "FROM carrier_services cs JOIN sites s ON s.id = cs.site_id WHERE s.code = ?"
)


def _view(row: Mapping[str, Any]) -> dict[str, Any]:
    try:
        card: Any = json.loads(row["rate_card_json"])
    except (TypeError, ValueError):
        card = None
    return {
        "id": int(row["id"]),
        "code": row["code"],
        "carrier": row["carrier"],
        "name": row["name"],
        "cutoff_local": row["cutoff_local"],
        "ship_days": row["ship_days"],
        "active": bool(row["active"]),
        "rate_card": card,
        "updated_at": row["updated_at"],
    }


def list_services(source: Source, site: str, *, active: bool | None = None) -> list[dict[str, Any]]:
    """The site's carrier services by code (no site yet: none)."""
    sql = _SELECT
    params: list[Any] = [site]
    if active is not None:
        sql += " AND cs.active = ?"
        params.append(int(active))
    return [_view(r) for r in fetch_rows(source, sql + " ORDER BY cs.code", params)]


def get_service(source: Source, site: str, code: str) -> dict[str, Any] | None:
    rows = fetch_rows(source, _SELECT + " AND cs.code = ?", [site, code])
    return _view(rows[0]) if rows else None


def rate_card_of(service: Mapping[str, Any]) -> RateCard | None:
    """The service's rate card; None when none is stored or it no longer validates."""
    try:
        return RateCard.model_validate(service["rate_card"])
    except ValidationError:
        return None


def _canonical_card(body: CarrierServiceIn) -> str:
    return json.dumps(body.rate_card.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def put_service(w: SUDatabase, site: str, code: str, body: CarrierServiceIn) -> str:
    """Create or replace service `code`; returns `created`, `updated` or `unchanged`. A change
    emits `carrier_service.changed` in the same transaction."""
    sid = site_id(w, site)
    card_json = _canonical_card(body)
    values = {
        "carrier": body.carrier,
        "name": body.name,
        "cutoff_local": body.cutoff_local,
        "ship_days": body.ship_days,
        "rate_card_json": card_json,
        "active": int(body.active),
    }
    row = w.execute(
        "SELECT id, carrier, name, cutoff_local, ship_days, rate_card_json, active "
        "FROM carrier_services WHERE site_id = ? AND code = ?",
        [sid, code],
    ).fetchone()
    now = iso()
    if row is None:
        w.execute(
            "INSERT INTO carrier_services (site_id, code, carrier, name, cutoff_local, "
            "ship_days, rate_card_json, active, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [sid, code, *values.values(), now],
        )
        outcome = "created"
    else:
        current = dict(zip(values, tuple(row)[1:], strict=True))
        if current == values:
            return "unchanged"
        w.execute(
            "UPDATE carrier_services SET carrier = ?, name = ?, cutoff_local = ?, ship_days = ?, "
            "rate_card_json = ?, active = ?, updated_at = ? WHERE id = ?",
            [*values.values(), now, row[0]],
        )
        outcome = "updated"
    stored = get_service(w, site, code)
    assert stored is not None
    emit(w, SERVICE_CHANGED_EVENT, {"site": site, "outcome": outcome, "service": stored})
    return outcome


# -- files -----------------------------------------------------------------------------------
class CarrierServiceFileEntry(CarrierServiceIn):
    """One service in a `load-carriers` file: the PUT body plus its code."""

    code: str = Field(pattern=SERVICE_CODE_PATTERN)


class CarrierServicesFile(BaseModel):
    """`{"services": [...]}`: the services to create or update (others are left alone)."""

    model_config = ConfigDict(extra="forbid")

    services: list[CarrierServiceFileEntry] = Field(min_length=1, max_length=500)

    @field_validator("services")
    @classmethod
    def _codes_unique(cls, value: list[CarrierServiceFileEntry]) -> list[CarrierServiceFileEntry]:
        seen: set[str] = set()
        for entry in value:
            if entry.code in seen:
                raise PydanticCustomError(
                    "code_duplicate", "service code '{code}' appears twice.", {"code": entry.code}
                )
            seen.add(entry.code)
        return value


def _field(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "$"


def _invalid(errors: list[dict[str, Any]]) -> AislewayError:
    return AislewayError(ErrorCode.CARRIER_SERVICES_INVALID, details={"errors": errors})


def parse_services_file(source: str | bytes | Mapping[str, Any]) -> CarrierServicesFile:
    """Validate a carrier services file; CARRIER_SERVICES_INVALID with every problem as
    `{"field": "services[0].rate_card.zones", "reason": ...}`."""
    data: Any = source
    if isinstance(source, str | bytes):
        try:
            data = json.loads(source)
        except json.JSONDecodeError as exc:
            raise _invalid(
                [{"field": "$", "reason": f"not valid JSON at line {exc.lineno}: {exc.msg}"}]
            ) from None
        except UnicodeDecodeError:
            raise _invalid([{"field": "$", "reason": "not UTF-8 text"}]) from None
    try:
        return CarrierServicesFile.model_validate(data)
    except ValidationError as exc:
        raise _invalid(
            [
                {
                    "field": _field(tuple(e["loc"])),
                    "reason": "this field is required"
                    if e["type"] == "missing"
                    else str(e["msg"]).removeprefix("Value error, "),
                }
                for e in exc.errors(include_url=False)
            ]
        ) from None


def read_services_file(path: str | Path) -> CarrierServicesFile:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _invalid([{"field": "$", "reason": f"cannot read {path}: {exc.strerror}"}]) from None
    return parse_services_file(raw)


@dataclass
class LoadReport:
    outcomes: dict[str, str] = field(default_factory=dict)  # code -> created/updated/unchanged

    def lines(self) -> list[str]:
        return [f"  {code}: {outcome}" for code, outcome in self.outcomes.items()]


def load_services(db: Database, site: str, services: CarrierServicesFile) -> LoadReport:
    """Create or update every service of the file in one transaction (all or nothing)."""
    report = LoadReport()
    with db.write() as w:
        for entry in services.services:
            report.outcomes[entry.code] = put_service(w, site, entry.code, entry)
    return report
