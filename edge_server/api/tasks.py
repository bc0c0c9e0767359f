"""Open and in-progress tasks with who holds them, and handing a task to another worker
(supervisors; docs/reports.md#reassigning-tasks)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils import Database as SUDatabase

from edge_server.api.responses import ok, reply
from edge_server.deps import DbDep, Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.wms import assignment
from protocols.envelope import Envelope

router = APIRouter(tags=["tasks"])

Data = Envelope[dict[str, Any]]


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    badge: str = Field(min_length=1, max_length=64, description="The worker to give it to.")
    reason: str = Field(default="", max_length=200, description="Why, for the audit trail.")


@router.get("/tasks", response_model=Data)
def list_tasks(
    db: DbDep,
    s: ServicesDep,
    who: Annotated[Principal, Depends(Requires("tasks.assign"))],
    status: Annotated[Literal["open", "in_progress"] | None, Query()] = None,
) -> dict[str, Any]:
    """Pick, putaway and count tasks that are open or in progress (both by default), each with
    who holds it (`assigned_to`: id, badge, name, role, or null)."""
    return {"data": {"items": assignment.open_tasks(db, s.settings.site, status=status)}}


@router.post("/tasks/{kind}/{task_id}/assign", response_model=Data)
def assign_task(
    kind: Annotated[str, Path(max_length=32, description="pick, putaway or count.")],
    task_id: Annotated[int, Path(ge=1)],
    body: AssignIn,
    s: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("tasks.assign"))],
) -> JSONResponse:
    """Give the task to the worker with `badge`. A task in progress moves with what is done;
    the new worker resumes it. Emits `task.reassigned`."""
    site = s.settings.site

    def effect(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        task = assignment.assign(
            w,
            site,
            kind,
            task_id,
            badge=body.badge,
            reason=body.reason,
            assigned_by=m.principal.id,
        )
        return 200, ok({"task": task})

    payload = {"kind": kind, "task_id": task_id, **body.model_dump(mode="json")}
    return reply(*m.run(payload, effect))
