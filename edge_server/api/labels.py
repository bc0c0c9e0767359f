"""Label printing: printers, LPN and bin labels, the print queue, and previews."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, model_validator

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from edge_server.labels import preview
from edge_server.labels.printers import (
    DEFAULT_PORT,
    PRINTER_NAME,
    PrintSpooler,
    bin_zpl,
    cancel_job,
    check_printer_host,
    enqueue_job,
    get_job,
    list_jobs,
    list_printers,
    lpn_label_for,
    lpn_zpl,
    requeue_job,
    upsert_printer,
)
from edge_server.wms.locations import get_location, list_locations
from protocols.envelope import Envelope
from protocols.errors import ErrorCode

router = APIRouter(tags=["labels"])

Print = Annotated[Mutation, Depends(Mutates("labels.print"))]
ManagePrinters = Annotated[Mutation, Depends(Mutates("printers.manage"))]
MAX_BIN_LABELS = 500


def _spooler(request: Request) -> PrintSpooler:
    spooler: PrintSpooler = request.app.state.spooler
    return spooler


# Routes that print answer 503 PRINTER_UNREACHABLE (declared by edge_server/openapi_errors.py).
_spooler.error_statuses = (503,)  # type: ignore[attr-defined]
SpoolerDep = Annotated[PrintSpooler, Depends(_spooler)]


def _hold(services: Any) -> float:
    """How long a job a request sends itself is left alone by the spooler thread: one backoff
    step, so the request's own attempt is the first (and answers with its outcome)."""
    return float(services.settings.print_backoff_base_seconds)


def _sent_or_refused(status: int, body: dict[str, Any], spooler: PrintSpooler) -> JSONResponse:
    """Send the request's jobs now (a replay sends what is still unsent); answer with them,
    or PRINTER_UNREACHABLE naming the jobs that are kept for retry."""
    ids = [job["id"] for job in body["data"]["jobs"]]
    jobs = spooler.dispatch(ids)
    unsent = [j for j in jobs if j["status"] != "sent"]
    if unsent:
        raise AislewayError(
            ErrorCode.PRINTER_UNREACHABLE,
            details={
                "printer": unsent[0]["printer"],
                "error": unsent[0]["last_error"],
                "jobs": jobs,
            },
        )
    return reply(status, ok({"jobs": jobs}))


# -- printers ---------------------------------------------------------------------------------
class PrinterIn(BaseModel):
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    description: str = Field(default="", max_length=200)


@router.put("/printers/{name}", response_model=Envelope[dict[str, Any]])
def put_printer(
    name: str, body: PrinterIn, services: ServicesDep, m: ManagePrinters
) -> JSONResponse:
    if not PRINTER_NAME.fullmatch(name):
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            details={"errors": [{"field": "name", "reason": "1-40 letters, digits, . _ -"}]},
        )
    host = check_printer_host(body.host, allow_loopback=services.settings.printer_allow_loopback)
    site = services.settings.site

    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        view = upsert_printer(
            w, site, name, host=host, port=body.port, description=body.description
        )
        return 200, ok(view)

    return reply(*m.run({"name": name, **body.model_dump()}, effect))


@router.get("/printers", response_model=Envelope[list[dict[str, Any]]])
def get_printers(
    services: ServicesDep, who: Annotated[Principal, Depends(Requires("labels.print"))]
) -> dict[str, Any]:
    return {"data": list_printers(services.db, services.settings.site)}


# -- printing -------------------------------------------------------------------------------
class LpnLabelIn(BaseModel):
    printer: str = Field(min_length=1, max_length=40)
    lpn: str | None = Field(default=None, max_length=40)
    sscc: str | None = Field(default=None, max_length=40)
    sku: str = Field(min_length=1, max_length=100)
    lot: str | None = Field(default=None, max_length=40)
    expiry: date | None = None
    qty: int = Field(ge=1, le=99_999_999)

    @model_validator(mode="after")
    def _one_id(self) -> LpnLabelIn:
        if (self.lpn is None) == (self.sscc is None):
            raise ValueError("give exactly one of lpn and sscc")
        return self


@router.post("/labels/lpn", status_code=201, response_model=Envelope[dict[str, Any]])
def print_lpn(
    body: LpnLabelIn, services: ServicesDep, spooler: SpoolerDep, m: Print
) -> JSONResponse:
    site, hold = services.settings.site, _hold(services)

    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        label = lpn_label_for(
            w,
            lpn=body.lpn,
            sscc=body.sscc,
            sku=body.sku,
            lot=body.lot,
            expiry=body.expiry,
            qty=body.qty,
        )
        job_id = enqueue_job(
            w, site, body.printer, label="lpn", ref=label.ref, zpl=lpn_zpl(label), hold_seconds=hold
        )
        return 201, ok({"jobs": [{"id": job_id}]})

    return _sent_or_refused(*m.run(body.model_dump(mode="json"), effect), spooler)


class BinLabelsIn(BaseModel):
    printer: str = Field(min_length=1, max_length=40)
    codes: list[str] | None = Field(default=None, min_length=1, max_length=MAX_BIN_LABELS)
    zone: str | None = None
    block: str | None = None
    aisle: int | None = None

    @model_validator(mode="after")
    def _codes_or_filter(self) -> BinLabelsIn:
        has_filter = any(v is not None for v in (self.zone, self.block, self.aisle))
        if (self.codes is None) == (not has_filter):
            raise ValueError("give either codes or a filter (zone, block, aisle)")
        return self


@router.post("/labels/bins", status_code=201, response_model=Envelope[dict[str, Any]])
def print_bins(
    body: BinLabelsIn, services: ServicesDep, spooler: SpoolerDep, m: Print
) -> JSONResponse:
    db, site, hold = services.db, services.settings.site, _hold(services)
    # Locations are looked up before the write transaction; the effect only queues.
    if body.codes is not None:
        rows = [get_location(db, site, code) for code in dict.fromkeys(body.codes)]
    else:
        rows, total = list_locations(
            db, site, zone=body.zone, block=body.block, aisle=body.aisle, limit=MAX_BIN_LABELS
        )
        if total > MAX_BIN_LABELS:
            raise AislewayError(
                ErrorCode.LABEL_DATA_INVALID,
                details={"reason": f"{total} locations match; print at most {MAX_BIN_LABELS}"},
            )
        if not rows:
            raise AislewayError(
                ErrorCode.UNKNOWN_LOCATION, details={"filter": body.model_dump(exclude={"codes"})}
            )
    labels = [(row["code"], bin_zpl(row["code"], row["zone"])) for row in rows]

    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        ids = [
            enqueue_job(w, site, body.printer, label="bin", ref=code, zpl=zpl, hold_seconds=hold)
            for code, zpl in labels
        ]
        return 201, ok({"jobs": [{"id": i} for i in ids]})

    return _sent_or_refused(*m.run(body.model_dump(mode="json"), effect), spooler)


# -- the queue ------------------------------------------------------------------------------
@router.get("/print-jobs", response_model=Envelope[list[dict[str, Any]]])
def get_print_jobs(
    services: ServicesDep,
    who: Annotated[Principal, Depends(Requires("labels.print"))],
    status: Literal["queued", "sent", "failed", "cancelled"] | None = None,
    printer: str | None = None,
    before: Annotated[int | None, Query(description="Page back: jobs below this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    rows = list_jobs(
        services.db,
        services.settings.site,
        status=status,
        printer=printer,
        before=before,
        limit=limit,
    )
    return {"data": rows}


@router.get("/print-jobs/{job_id}", response_model=Envelope[dict[str, Any]])
def get_print_job(
    job_id: int,
    services: ServicesDep,
    who: Annotated[Principal, Depends(Requires("labels.print"))],
) -> dict[str, Any]:
    return {"data": get_job(services.db, services.settings.site, job_id)}


@router.post("/print-jobs/{job_id}/retry", response_model=Envelope[dict[str, Any]])
def retry_print_job(
    job_id: int, services: ServicesDep, spooler: SpoolerDep, m: Print
) -> JSONResponse:
    site = services.settings.site

    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        requeue_job(w, site, job_id, hold_seconds=_hold(services))
        return 200, ok({"jobs": [{"id": job_id}]})

    return _sent_or_refused(*m.run({"job_id": job_id}, effect), spooler)


@router.post("/print-jobs/{job_id}/cancel", response_model=Envelope[dict[str, Any]])
def cancel_print_job(job_id: int, services: ServicesDep, m: Print) -> JSONResponse:
    site = services.settings.site

    def effect(w: Any) -> tuple[int, dict[str, Any]]:
        return 200, ok(cancel_job(w, site, job_id))

    return reply(*m.run({"job_id": job_id}, effect))


# -- previews ---------------------------------------------------------------------------------
PreviewFormat = Annotated[Literal["png", "pdf"], Query(alias="format")]


@router.get(
    "/labels/preview/lpn",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "application/pdf": {}}}},
)
def preview_lpn(
    services: ServicesDep,
    who: Annotated[Principal, Depends(Requires("labels.preview"))],
    sku: Annotated[str, Query(min_length=1, max_length=100)],
    qty: Annotated[int, Query(ge=1, le=99_999_999)],
    lpn: Annotated[str | None, Query(max_length=40)] = None,
    sscc: Annotated[str | None, Query(max_length=40)] = None,
    lot: Annotated[str | None, Query(max_length=40)] = None,
    expiry: date | None = None,
    fmt: PreviewFormat = "png",
) -> Response:
    label = lpn_label_for(services.db, lpn=lpn, sscc=sscc, sku=sku, lot=lot, expiry=expiry, qty=qty)
    content, media_type = preview.encode(preview.render_lpn_label(label), fmt)
    return Response(content=content, media_type=media_type)


@router.get(
    "/labels/preview/bin/{code}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "application/pdf": {}}}},
)
def preview_bin(
    code: str,
    services: ServicesDep,
    who: Annotated[Principal, Depends(Requires("labels.preview"))],
    fmt: PreviewFormat = "png",
) -> Response:
    location = get_location(services.db, services.settings.site, code)
    try:
        image = preview.render_bin_label(location["code"], zone=location["zone"])
    except ValueError as exc:
        raise AislewayError(
            ErrorCode.LABEL_DATA_INVALID, details={"code": code, "reason": str(exc)}
        ) from exc
    content, media_type = preview.encode(image, fmt)
    return Response(content=content, media_type=media_type)
