"""The operations report over HTTP, as JSON and as CSV (docs/reports.md)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from edge_server.deps import DbDep, Principal, Requires, ServicesDep
from edge_server.wms.reports import operations
from protocols.envelope import Envelope

router = APIRouter(tags=["reports"])

Reader = Annotated[Principal, Depends(Requires("reports.read"))]
Since = Annotated[
    date | None, Query(description="First site day (YYYY-MM-DD); default: 6 days before until.")
]
Until = Annotated[
    date | None, Query(description="Last site day, included (YYYY-MM-DD); default: today.")
]


@router.get("/reports/operations", response_model=Envelope[dict[str, Any]])
def operations_report(
    db: DbDep,
    s: ServicesDep,
    who: Reader,
    since: Since = None,
    until: Until = None,
    flows: Annotated[
        bool, Query(description="Also list every shipped order with its hands.")
    ] = False,
) -> dict[str, Any]:
    """Per site day and in total: orders received and shipped, SKUs ordered and shipped,
    units, shipments, wrong items and the error rate, labor hours, handoffs; the payback
    estimate; and an `explain` sentence for every figure."""
    when = operations.period(s.settings, since, until)
    return {"data": operations.operations_report(db, s.settings, when, with_flows=flows)}


@router.get(
    "/reports/operations.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def operations_report_csv(
    db: DbDep, s: ServicesDep, who: Reader, since: Since = None, until: Until = None
) -> Response:
    """The same figures, one row per site day and a last `total` row."""
    when = operations.period(s.settings, since, until)
    report = operations.operations_report(db, s.settings, when)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(operations.csv_rows(report))
    name = f"operations-{s.settings.site}-{report['since']}-{report['until']}.csv"
    return Response(
        content=out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
