"""Taking a 3PL client's X12 interchange (docs/edi.md): 940s become fulfillment orders, 856s
ASNs, exactly once per interchange key (ISA05:ISA06:ISA13).

`receive(w, site, data, ...)` runs inside ONE write transaction with the interchange record:

- envelope errors (`X12Error`) → EDI_ENVELOPE_INVALID with the code, segment and position;
  nothing is written. So are an unknown sender (EDI_SENDER_UNKNOWN), a client key sending
  another identity's file (EDI_SENDER_MISMATCH) and a key reused for other bytes
  (EDI_INTERCHANGE_REUSED);
- the same key with the same bytes answers the stored record and changes nothing;
- otherwise every transaction set is applied in its own savepoint: a set the reader rejected,
  or whose document fails our checks (unknown SKU for that client, FO_INVALID,
  CLIENT_NUMBER_TAKEN, a bad country, no carrier...), is rejected alone — the X12 way: the
  good sets of a partly bad interchange are applied and the 997 says AK9 `P`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.edi import SetResult, X12Error, read_interchange
from edge_server.edi.mapping import MappingError, to_asn, to_fulfillment_order
from edge_server.edi.ts856 import Asn, AsnLine
from edge_server.edi.ts940 import OrderLine, ShippingOrder
from edge_server.edi.ts997 import acknowledge, write_997
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms import asns, clients, edi_outbound, items
from edge_server.wms.outbound import orders
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.errors import ErrorCode

__all__ = ["EDI_RECEIVED", "Received", "get_interchange", "list_interchanges", "receive"]

EDI_RECEIVED = "edi.interchange_received"
#: identifiers read as the client's own SKU, then as a GTIN, in this order
_SKU_QUALIFIERS = ("SK", "VN", "BP", "IN", "PI")
_GTIN_QUALIFIERS = ("UP", "UK", "EN", "UC", "UA")
_CASE_UOMS = {"CA", "CS", "CT", "BX", "PK"}


@dataclass
class Received:
    created: bool  # False: a repeat of an interchange already taken
    interchange: dict[str, Any]


class _SetRejected(Exception):
    """A set our checks refuse: its savepoint is rolled back, the others go on."""

    def __init__(self, error: dict[str, Any], *, segment: str = "", nth: int = 1) -> None:
        self.error = error
        self.segment = segment  # segment id the 997's AK3 points at
        self.nth = nth  # which occurrence of it in the set


def _rejection(code: ErrorCode, message: str, details: Any = None) -> dict[str, Any]:
    return {"code": code.value, "message": message, "details": details}


# -- SKUs and carriers per client ---------------------------------------------------------------
def _sku_resolver(w: SUDatabase, owner: str) -> Callable[[dict[str, str], str], str]:
    """(item_ids, fallback) → the client's SKU: SK/VN/BP... naming one of its SKUs, else a
    UPC/GTIN of one of its items, else `fallback` (refused later as an unknown SKU)."""

    def own_sku(sku: str) -> bool:
        return bool(fetch_rows(w, "SELECT 1 FROM items WHERE owner = ? AND sku = ?", [owner, sku]))

    def resolve(ids: dict[str, str], fallback: str) -> str:
        for q in _SKU_QUALIFIERS:
            if ids.get(q) and own_sku(ids[q]):
                return ids[q]
        for q in _GTIN_QUALIFIERS:
            if not ids.get(q):
                continue
            try:
                match = items.find_by_gtin(w, ids[q])
            except AislewayError:  # not a readable GTIN
                continue
            if match is not None and match.item.owner == owner:
                return match.item.sku
        return fallback

    return resolve


def _case_qty(w: SUDatabase, owner: str) -> Callable[[str, str], int | None]:
    """Eaches in one `uom` of the client's `sku`, from its item GTINs (uom and qty)."""

    def case_qty(sku: str, uom: str) -> int | None:
        rows = fetch_rows(
            w,
            "SELECT g.uom, g.qty FROM item_gtins g JOIN items i ON i.id = g.item_id "
            "WHERE i.owner = ? AND i.sku = ? AND g.qty > 1 ORDER BY g.qty",
            [owner, sku],
        )
        wanted = uom.upper()
        for r in rows:
            if r["uom"].upper() == wanted:
                return int(r["qty"])
        for r in rows:  # CA and CS name the same thing
            if wanted in _CASE_UOMS and r["uom"].upper() in _CASE_UOMS:
                return int(r["qty"])
        return None

    return case_qty


def _carrier_service(w: SUDatabase, sid: int, order: ShippingOrder, default: str) -> str:
    """W66: a carrier service whose code or name is the routing (W6605), or whose code is the
    SCAC (W6610); else the client's EDI default; else the set is refused."""
    routing, scac = order.routing.strip().upper(), order.scac.strip().upper()
    services = fetch_rows(
        w, "SELECT code, name FROM carrier_services WHERE site_id = ? AND active = 1", [sid]
    )
    for wanted, fields in ((routing, ("code", "name")), (scac, ("code",))):
        if not wanted:
            continue
        for svc in services:
            if any(str(svc[f]).strip().upper() == wanted for f in fields):
                return str(svc["code"])
    if default:
        return default
    raise _SetRejected(
        _rejection(
            ErrorCode.EDI_CARRIER_UNKNOWN,
            f"W66 names SCAC {order.scac!r} and service {order.routing!r}: no carrier service "
            "of ours matches and the client has no default EDI carrier service.",
            {"scac": order.scac, "routing": order.routing},
        ),
        segment="W66",
    )


# -- applying one set ---------------------------------------------------------------------------
def _refused(err: AislewayError, *, segment: str) -> _SetRejected:
    error = _rejection(err.code, err.text, err.details or None)
    nth = 1
    problems = (err.details or {}).get("problems") if isinstance(err.details, dict) else None
    if problems and isinstance(problems[0], dict) and "line_index" in problems[0]:
        nth = int(problems[0]["line_index"]) + 1
    return _SetRejected(error, segment=segment, nth=nth)


def _unknown_skus(
    code: ErrorCode, number: str, lines: list[tuple[int, str]], foreign: list[str]
) -> AislewayError:
    problems = [
        {
            "line_no": line_no,
            "line_index": n,
            "field": "sku",
            "code": "UNKNOWN_SKU",
            "reason": f"SKU {sku} is not one of the client's items.",
        }
        for n, (line_no, sku) in enumerate(lines)
        if sku in foreign
    ]
    return AislewayError(code, details={"number": number, "problems": problems})


def _mapping(exc: MappingError, header: str) -> _SetRejected:
    segment = header
    nth = 1
    if exc.field.startswith("lines["):
        segment = "W01" if header == "W05" else "LIN"
    elif exc.field.startswith("ship_to"):
        segment = "N1"
    return _SetRejected(
        _rejection(ErrorCode.EDI_DOCUMENT_INVALID, exc.message, {"field": exc.field}),
        segment=segment,
        nth=nth,
    )


def _apply_940(
    w: SUDatabase, site: str, sid: int, client: dict[str, Any], ix_id: int, order: ShippingOrder
) -> dict[str, Any]:
    owner = client["code"]
    if order.status == "C":
        number = order.order_number.strip().upper()
        try:
            clients.claim_number(w, "fulfillment_orders", site, number, owner)
            outcome = orders.cancel_order(w, site, number)
        except AislewayError as err:
            raise _refused(err, segment="W05") from None
        return {"document": "fulfillment_order", "number": number, "outcome": outcome}
    if order.status not in ("N", "F", "R"):
        raise _SetRejected(
            _rejection(
                ErrorCode.EDI_SET_UNSUPPORTED,
                f"W0501 status {order.status!r} is not taken: send N (new), F/R (replace) or "
                "C (cancel).",
                {"status": order.status},
            ),
            segment="W05",
        )
    resolve = _sku_resolver(w, owner)
    skus = {line.line_no: resolve(line.item_ids, line.sku) for line in order.lines}

    def sku_for(line: OrderLine) -> str:
        return skus[line.line_no]

    service = _carrier_service(w, sid, order, (client.get("edi") or {}).get("carrier_service", ""))
    try:
        number, body = to_fulfillment_order(
            order,
            owner=owner,
            carrier_service=service,
            sku_for=sku_for,
            case_qty=_case_qty(w, owner),
        )
    except MappingError as exc:
        raise _mapping(exc, "W05") from None
    try:
        clients.claim_number(w, "fulfillment_orders", site, number, owner)
        lines = [(line.line_no, line.sku) for line in body.lines]
        foreign = clients.foreign_skus(w, owner, [sku for _, sku in lines])
        if foreign:
            raise _unknown_skus(ErrorCode.FO_INVALID, number, lines, foreign)
        outcome = orders.put_order(w, site, number, body)
    except AislewayError as err:
        raise _refused(err, segment="W01" if err.code == ErrorCode.FO_INVALID else "W05") from None
    named = {
        str(line.line_no): _named_id(line.item_ids, skus[line.line_no]) for line in order.lines
    }
    w.execute(
        "INSERT INTO edi_orders (site_id, order_number, client_id, interchange_id, po_number, "
        "scac, routing, lines_json) VALUES (?,?,?,?,?,?,?,?) "
        "ON CONFLICT(site_id, order_number) DO UPDATE SET "
        "interchange_id = excluded.interchange_id, "
        "po_number = excluded.po_number, scac = excluded.scac, routing = excluded.routing, "
        "lines_json = excluded.lines_json",
        [
            sid,
            number,
            clients.client_id_of(w, owner, active=False),
            ix_id,
            order.po_number,
            order.scac,
            order.routing,
            json.dumps(named),
        ],
    )
    return {"document": "fulfillment_order", "number": number, "outcome": outcome}


def _named_id(ids: dict[str, str], sku: str) -> dict[str, str]:
    """How the 940 named the item, for the 945 to echo: the qualifier it used for our SKU, else
    its first identifier."""
    for q, value in ids.items():
        if value == sku:
            return {"qualifier": q, "id": value}
    for q, value in ids.items():
        if q != "UC":
            return {"qualifier": q, "id": value}
    return {"qualifier": "VN", "id": sku}


def _apply_856(w: SUDatabase, site: str, sid: int, owner: str, asn: Asn) -> dict[str, Any]:
    if asn.purpose not in ("00", "05"):
        raise _SetRejected(
            _rejection(
                ErrorCode.EDI_SET_UNSUPPORTED,
                f"BSN01 purpose {asn.purpose!r} is not taken: send 00 (original) or 05 (replace).",
                {"purpose": asn.purpose},
            ),
            segment="BSN",
        )
    resolve = _sku_resolver(w, owner)

    def sku_for(line: AsnLine) -> str:
        return resolve(line.item_ids, line.sku)

    try:
        number, body = to_asn(asn, sku_for=sku_for, case_qty=_case_qty(w, owner))
    except MappingError as exc:
        raise _mapping(exc, "BSN") from None
    if body.po_number is not None:
        # the client's own PO only; any other (unknown, or another owner's) is not linked
        po = fetch_rows(
            w,
            "SELECT 1 FROM purchase_orders WHERE site_id = ? AND number = ? AND owner = ?",
            [sid, body.po_number, owner],
        )
        if not po:
            body = body.model_copy(
                update={
                    "po_number": None,
                    "lines": [ln.model_copy(update={"po_line_no": None}) for ln in body.lines],
                }
            )
    try:
        clients.claim_number(w, "asns", site, number, owner)
        lines = [(line.line_no, line.sku) for line in body.lines]
        foreign = clients.foreign_skus(w, owner, [sku for _, sku in lines])
        if foreign:
            raise _unknown_skus(ErrorCode.ASN_INVALID, number, lines, foreign)
        outcome = asns.put_asn(w, site, number, body, stated_owner=owner)
    except AislewayError as err:
        raise _refused(err, segment="LIN" if err.code == ErrorCode.ASN_INVALID else "BSN") from None
    return {"document": "asn", "number": number, "outcome": outcome}


def _segment_position(entry: SetResult, segment: str, nth: int) -> int:
    seen = 0
    for seg in entry.transaction.segments:
        if seg.id == segment:
            seen += 1
            if seen == nth:
                return entry.transaction.position_of(seg)
    return 1


def _apply_set(
    w: SUDatabase, site: str, sid: int, client: dict[str, Any], ix_id: int, entry: SetResult
) -> dict[str, Any]:
    tx = entry.transaction
    out: dict[str, Any] = {
        "set_id": tx.set_id,
        "control_number": tx.control_number,
        "group_control_number": entry.group.control_number,
        "status": "rejected",
        "document": None,
        "number": None,
        "outcome": None,
        "errors": [dict(e.as_dict()) for e in entry.errors],
    }
    if not entry.accepted:
        return out
    doc = entry.document
    w.execute("SAVEPOINT edi_set")
    try:
        if isinstance(doc, ShippingOrder):
            applied = _apply_940(w, site, sid, client, ix_id, doc)
        elif isinstance(doc, Asn):
            applied = _apply_856(w, site, sid, client["code"], doc)
        else:
            raise _SetRejected(
                _rejection(
                    ErrorCode.EDI_SET_UNSUPPORTED,
                    f"a {tx.set_id} is not taken inbound here: send 940s and 856s.",
                    {"set_id": tx.set_id},
                ),
                segment="ST",
            )
    except _SetRejected as rejected:
        w.execute("ROLLBACK TO edi_set")
        w.execute("RELEASE edi_set")
        position = _segment_position(entry, rejected.segment, rejected.nth)
        # our refusal also goes into the 997: AK5 R, AK3 at the segment concerned
        entry.errors.append(
            X12Error(
                rejected.error["code"],
                rejected.error["message"],
                position=tx.start + position - 1 if tx.start else None,
                set_position=position,
                segment_id=rejected.segment,
                ak3="8",
            )
        )
        out["errors"] = [rejected.error]
        return out
    w.execute("RELEASE edi_set")
    out.update(applied, status="accepted")
    return out


# -- the interchange ----------------------------------------------------------------------------
def receive(
    w: SUDatabase,
    site: str,
    data: bytes,
    *,
    source: str,
    file_name: str = "",
    submitted_by: str = "",
    client: str | None = None,
) -> Received:
    """Take one interchange (see the module docstring). `client`: the caller is that client's
    own key, so the sender must be its EDI identity."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        result = read_interchange(data)
    except X12Error as err:
        raise AislewayError(ErrorCode.EDI_ENVELOPE_INVALID, details=err.as_dict()) from None
    ix = result.interchange
    partner = clients.client_by_edi_sender(w, ix.sender_qualifier, ix.sender_id)
    sender = {"qualifier": ix.sender_qualifier, "id": ix.sender_id.strip()}
    if client is not None and (partner is None or partner["code"] != client):
        raise AislewayError(ErrorCode.EDI_SENDER_MISMATCH, details={"sender": sender})
    if partner is None:
        raise AislewayError(ErrorCode.EDI_SENDER_UNKNOWN, details={"sender": sender})
    client_id = clients.client_id_of(w, partner["code"])  # CLIENT_INACTIVE when switched off
    key = ix.key
    found = fetch_rows(w, "SELECT id, sha256 FROM edi_interchanges WHERE key = ?", [key])
    if found:
        if found[0]["sha256"] != digest:
            raise AislewayError(ErrorCode.EDI_INTERCHANGE_REUSED, details={"key": key})
        return Received(False, get_interchange(w, int(found[0]["id"])))
    if not result.sets:
        raise AislewayError(
            ErrorCode.EDI_ENVELOPE_INVALID,
            details={"code": "NO_SETS", "message": "the interchange holds no transaction set."},
        )
    sid = site_id(w, site)
    now = iso()
    cur = w.execute(
        "INSERT INTO edi_interchanges (key, client_id, receiver_qualifier, receiver_id, "
        "received_at, source, file_name, submitted_by, sha256, status, sets_json, ack_997) "
        "VALUES (?,?,?,?,?,?,?,?,?,'rejected','[]','')",
        [
            key,
            client_id,
            ix.receiver_qualifier,
            ix.receiver_id.strip(),
            now,
            source,
            file_name,
            submitted_by,
            digest,
        ],
    )
    ix_id = int(cur.lastrowid or 0)
    sets = [_apply_set(w, site, sid, partner, ix_id, entry) for entry in result.sets]
    accepted = sum(1 for s in sets if s["status"] == "accepted")
    status = "accepted" if accepted == len(sets) else ("rejected" if accepted == 0 else "partial")
    acks = [write_997(a, f"{n:04d}") for n, a in enumerate(acknowledge(result), start=1)]
    ack = edi_outbound.record(
        w,
        client_id=client_id,
        kind="997",
        transactions=acks,
        sender=(ix.receiver_qualifier, ix.receiver_id.strip()),
        receiver=(ix.sender_qualifier, ix.sender_id.strip()),
        reference=key,
        interchange_id=ix_id,
    )
    w.execute(
        "UPDATE edi_interchanges SET status = ?, sets_json = ?, ack_997 = ? WHERE id = ?",
        [status, json.dumps(sets), ack["text"], ix_id],
    )
    emit(
        w,
        EDI_RECEIVED,
        {
            "site": site,
            "client": partner["code"],
            "key": key,
            "status": status,
            "documents": [
                {"document": s["document"], "number": s["number"], "outcome": s["outcome"]}
                for s in sets
                if s["status"] == "accepted"
            ],
        },
    )
    return Received(True, get_interchange(w, ix_id))


_SELECT = (
    "SELECT i.id, i.key, c.code AS client, i.received_at, i.source, i.file_name, i.sha256, "
    "i.status, i.sets_json, i.ack_997, (SELECT o.id FROM edi_outbound o "
    "WHERE o.interchange_id = i.id AND o.kind = '997') AS ack_id "
    "FROM edi_interchanges i JOIN clients c ON c.id = i.client_id"
)


def _view(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in row if k != "sets_json"}
    out["sets"] = json.loads(row["sets_json"])
    return out


def get_interchange(
    source: Source, interchange_id: int, *, client: str | None = None
) -> dict[str, Any]:
    """One interchange; EDI_INTERCHANGE_NOT_FOUND when missing or (with `client`) another's."""
    rows = fetch_rows(source, f"{_SELECT} WHERE i.id = ?", [interchange_id])
    if not rows or (client is not None and rows[0]["client"] != client):
        raise AislewayError(ErrorCode.EDI_INTERCHANGE_NOT_FOUND, details={"id": interchange_id})
    return _view(rows[0])


def list_interchanges(
    source: Source,
    *,
    client: str | None = None,
    status: str | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    """Interchanges in id order after `after_id` (without the 997 text: fetch one for it)."""
    where: list[str] = ["i.id > ?"]
    params: list[object] = [after_id]
    if client is not None:
        where.append("c.code = ?")
        params.append(client)
    if status is not None:
        where.append("i.status = ?")
        params.append(status)
    rows = fetch_rows(
        source, f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY i.id LIMIT ?", [*params, limit + 1]
    )
    page = []
    for r in rows[:limit]:
        view = _view(r)
        view.pop("ack_997")
        page.append(view)
    return {"interchanges": page, "next_after": page[-1]["id"] if len(rows) > limit else None}
