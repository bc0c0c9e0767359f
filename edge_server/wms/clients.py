"""A 3PL's clients (owners): stored in `clients`, named by a code that items, stock, orders,
POs and ASNs carry as their `owner` ('' = the house's own). See docs/clients.md.

Ownership follows the item: a client's stock is the stock of its items, and an order or an
ASN belongs to the client whose items it holds — one client per document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.clients import (
    CLIENT_CODE_PATTERN,
    BillingRates,
    Branding,
    ClientIn,
    EdiPartner,
    PickingRules,
)
from protocols.errors import ErrorCode

__all__ = [
    "check_code",
    "claim_number",
    "client_by_edi_sender",
    "client_id_of",
    "document_owner",
    "foreign_skus",
    "get_client",
    "list_clients",
    "picking_rules",
    "put_client",
]

_CODE = re.compile(CLIENT_CODE_PATTERN)
_SELECT = (
    "SELECT id, code, name, active, edi_qualifier, edi_id, edi_carrier_service, picking_json, "
    "branding_json, billing_json, created_at, updated_at FROM clients"
)


def check_code(code: str) -> str:
    if not _CODE.match(code):
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="A client code is 1-32 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit.",
            details={"code": code[:64]},
        )
    return code


def _view(row: Mapping[str, Any]) -> dict[str, Any]:
    edi = None
    if row["edi_id"] is not None:
        edi = {
            "qualifier": row["edi_qualifier"],
            "id": row["edi_id"],
            "carrier_service": row["edi_carrier_service"],
        }
    picking = json.loads(row["picking_json"])
    return {
        "code": row["code"],
        "name": row["name"],
        "active": bool(row["active"]),
        "edi": edi,
        "picking": PickingRules.model_validate(picking).model_dump(mode="json"),
        "branding": Branding.model_validate(json.loads(row["branding_json"])).model_dump(
            mode="json"
        ),
        "billing": BillingRates.model_validate(json.loads(row["billing_json"])).model_dump(
            mode="json"
        ),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _row(source: Source, code: str) -> Mapping[str, Any] | None:
    rows = fetch_rows(source, f"{_SELECT} WHERE code = ?", [code])
    return rows[0] if rows else None


def get_client(source: Source, code: str) -> dict[str, Any]:
    row = _row(source, code)
    if row is None:
        raise AislewayError(ErrorCode.CLIENT_NOT_FOUND, details={"client": code})
    return _view(row)


def list_clients(source: Source, *, include_inactive: bool = True) -> list[dict[str, Any]]:
    where = "" if include_inactive else " WHERE active = 1"
    return [_view(r) for r in fetch_rows(source, f"{_SELECT}{where} ORDER BY code", [])]


def put_client(w: SUDatabase, code: str, body: ClientIn) -> tuple[bool, dict[str, Any]]:
    """Create or replace client `code`; returns (created, view)."""
    check_code(code)
    edi: EdiPartner | None = body.edi
    if edi is not None:
        taken = w.execute(
            "SELECT code FROM clients WHERE edi_qualifier = ? AND edi_id = ? AND code != ?",
            [edi.qualifier, edi.id, code],
        ).fetchone()
        if taken is not None:
            raise AislewayError(
                ErrorCode.CLIENT_EDI_TAKEN,
                details={"qualifier": edi.qualifier, "id": edi.id, "client": taken[0]},
            )
    values = [
        body.name,
        int(body.active),
        edi.qualifier if edi else None,
        edi.id if edi else None,
        edi.carrier_service if edi else "",
        body.picking.model_dump_json(),
        body.branding.model_dump_json(),
        body.billing.model_dump_json(),
    ]
    now = iso()
    existing = _row(w, code)
    if existing is None:
        w.execute(
            "INSERT INTO clients (name, active, edi_qualifier, edi_id, edi_carrier_service, "
            "picking_json, branding_json, billing_json, code, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [*values, code, now, now],
        )
    else:
        w.execute(
            "UPDATE clients SET name = ?, active = ?, edi_qualifier = ?, edi_id = ?, "
            "edi_carrier_service = ?, picking_json = ?, branding_json = ?, billing_json = ?, "
            "updated_at = ? "
            "WHERE code = ?",
            [*values, now, code],
        )
    return existing is None, get_client(w, code)


def client_id_of(source: Source, code: str, *, active: bool = True) -> int:
    """The id of client `code`; refused if unknown (or, with `active`, switched off)."""
    row = _row(source, code)
    if row is None:
        raise AislewayError(ErrorCode.CLIENT_NOT_FOUND, details={"client": code})
    if active and not row["active"]:
        raise AislewayError(ErrorCode.CLIENT_INACTIVE, details={"client": code})
    return int(row["id"])


def _item_column(
    source: Source, column: str, where: str, params: list[Any], values: list[Any]
) -> set[Any]:
    """The distinct `column` of the items matching `where`, whose `{marks}` stands for
    `values` (read 500 at a time: SQLite limits the parameters of one statement)."""
    found: set[Any] = set()
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        condition = where.format(marks=",".join("?" * len(chunk)))
        sql = f"SELECT DISTINCT {column} FROM items WHERE {condition}"
        found |= {r[column] for r in fetch_rows(source, sql, [*params, *chunk])}
    return found


def document_owner(source: Source, item_ids: Iterable[int], stated: str = "") -> str:
    """The one owner of the items a document (order, ASN, PO) holds.

    A document holds one client's items only; `stated` (the owner the sender named, '' for
    none) must agree with them."""
    owners = _item_column(source, "owner", "id IN ({marks})", [], sorted(set(item_ids)))
    if len(owners) > 1:
        raise AislewayError(ErrorCode.CLIENT_ITEMS_MIXED, details={"owners": sorted(owners)})
    owner = owners.pop() if owners else stated
    if stated and stated != owner:
        raise AislewayError(
            ErrorCode.CLIENT_OWNER_MISMATCH, details={"owner": stated, "items_owner": owner}
        )
    return owner


def picking_rules(source: Source, owner: str) -> PickingRules:
    """The client's picking rules ('' or an unknown owner: none beyond the site's)."""
    if not owner:
        return PickingRules()
    row = _row(source, owner)
    if row is None:
        return PickingRules()
    return PickingRules.model_validate(json.loads(row["picking_json"]))


def client_by_edi_sender(source: Source, qualifier: str, sender: str) -> dict[str, Any] | None:
    rows = fetch_rows(
        source, f"{_SELECT} WHERE edi_qualifier = ? AND edi_id = ?", [qualifier, sender.strip()]
    )
    return _view(rows[0]) if rows else None


def foreign_skus(source: Source, owner: str, skus: Iterable[str]) -> list[str]:
    """The SKUs among `skus` that are not `owner`'s (unknown ones included): to a client they
    do not exist, so its documents are refused as naming unknown SKUs — never as naming
    another client's."""
    wanted = sorted(set(skus))
    own = _item_column(source, "sku", "owner = ? AND sku IN ({marks})", [owner], wanted)
    return [s for s in wanted if s not in own]


def claim_number(source: Source, table: str, site: str, number: str, owner: str) -> None:
    """A client may create or replace document `number` (a fulfillment order or an ASN) only
    when no other owner's document has it; the refusal does not say whose it is."""
    if table not in ("fulfillment_orders", "asns"):
        raise ValueError(table)
    rows = fetch_rows(
        source,
        f"SELECT d.owner FROM {table} d JOIN sites s ON s.id = d.site_id "
        "WHERE s.code = ? AND d.number = ?",
        [site, number],
    )
    if rows and rows[0]["owner"] != owner:
        raise AislewayError(ErrorCode.CLIENT_NUMBER_TAKEN, details={"number": number})
