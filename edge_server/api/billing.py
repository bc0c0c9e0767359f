"""A client's billing data over HTTP, as JSON and as CSV (docs/billing.md).

The client's own key reads its billing through the client API (`/client/billing`,
edge_server/api/client_portal.py), which uses the helpers below."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from edge_server.db import Database
from edge_server.deps import DbDep, Principal, Requires, ServicesDep
from edge_server.services import Services
from edge_server.wms import billing
from protocols.clients import CLIENT_CODE_PATTERN
from protocols.envelope import Envelope

router = APIRouter(prefix="/clients", tags=["billing"])

Reader = Annotated[Principal, Depends(Requires("billing.read"))]
Code = Annotated[str, Path(pattern=CLIENT_CODE_PATTERN, description="The client's code.")]
From = Annotated[date, Query(alias="from", description="First site day (YYYY-MM-DD).")]
To = Annotated[
    date, Query(alias="to", description="Last site day, included (YYYY-MM-DD); not after today.")
]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


def report(db: Database, s: Services, code: str, first: date, last: date) -> dict[str, Any]:
    when = billing.period(s.settings, first, last)
    return billing.billing_report(db, s.settings, code, when)


def csv_response(data: dict[str, Any]) -> Response:
    """One row per site day and a last `total` row (columns: billing.CSV_COLUMNS)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(billing.csv_rows(data))
    name = f"billing-{data['client']}-{data['from']}-{data['to']}.csv"
    return Response(
        content=out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{code}/billing", response_model=Envelope[dict[str, Any]])
def client_billing(
    code: Code, db: DbDep, s: ServicesDep, who: Reader, first: From, last: To
) -> dict[str, Any]:
    """Per site day and for the period: bin-days, pallet-days, receipts, units received,
    lines and units picked, orders packed and shipped, units shipped, and their amounts at
    the client's rates; an `explain` sentence for every figure."""
    return {"data": report(db, s, code, first, last)}


@router.get("/{code}/billing.csv", response_class=Response, responses=CSV_RESPONSE)
def client_billing_csv(
    code: Code, db: DbDep, s: ServicesDep, who: Reader, first: From, last: To
) -> Response:
    """The same figures, one row per site day and a last `total` row."""
    return csv_response(report(db, s, code, first, last))
