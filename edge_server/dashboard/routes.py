"""The dashboard over HTTP: the summary, its live stream, and the page itself at `/dashboard/`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from edge_server.dashboard.stream import ChangeWatch, summary_events
from edge_server.dashboard.summary import build_summary
from edge_server.deps import Principal, Requires, ServicesDep
from protocols.envelope import Envelope

__all__ = ["STATIC_DIR", "install", "router"]

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
Reader = Annotated[Principal, Depends(Requires("dashboard.read"))]
STATIC_DIR = Path(__file__).resolve().parent / "static"


@router.get("/summary", response_model=Envelope[dict[str, Any]])
def summary(s: ServicesDep, who: Reader) -> dict[str, Any]:
    """Every tile of the supervisors' page in one read (docs/dashboard.md#the-summary)."""
    return {"data": build_summary(s.db, s.settings)}


def _server_cycle(receive: Any, depth: int = 8) -> Any:
    """uvicorn's request cycle behind the ASGI `receive` callable: the bound method's owner,
    found through any middleware that wrapped `receive` in a closure."""
    seen: set[int] = set()
    stack = [(receive, 0)]
    while stack:
        obj, d = stack.pop()
        if id(obj) in seen or d > depth:
            continue
        seen.add(id(obj))
        if hasattr(obj, "keep_alive") and hasattr(obj, "response_complete"):
            return obj
        owner = getattr(obj, "__self__", None)
        if owner is not None:
            stack.append((owner, d + 1))
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                inner = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if callable(inner):
                stack.append((inner, d + 1))
    return None


def _server_shutting_down(request: Request) -> Any:
    """uvicorn asks open connections to finish on shutdown by turning their `keep_alive` off;
    an endless response must notice that itself or the server waits for it forever. The flag
    lives on uvicorn's request cycle; on a server without it this never fires and the lifespan
    event, the client's disconnect or the stream's time limit ends the stream."""
    cycle = _server_cycle(request.receive)
    if getattr(cycle, "keep_alive", None) is not True:
        return lambda: False
    return lambda: getattr(cycle, "keep_alive", True) is False


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def stream(request: Request, s: ServicesDep, who: Reader) -> StreamingResponse:
    """Server-sent events: `summary` at once and after every change; `: keep-alive` comments.
    Read it with fetch() and the Authorization header (EventSource cannot send one)."""
    state = request.app.state
    closing: threading.Event = state.dashboard_closing
    watch: ChangeWatch = state.dashboard_watch
    server_down = _server_shutting_down(request)
    db, settings = s.db, s.settings
    # Only a client that asks for an event stream gets an endless one; any other (a plain
    # HTTP GET, a crawler, a test client reading the whole body) gets the current summary as
    # one event and the response ends.
    live = "text/event-stream" in request.headers.get("accept", "")
    events = summary_events(
        lambda: build_summary(db, settings),
        watch,
        stopping=lambda: not live or closing.is_set() or server_down(),
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def install(app: FastAPI) -> None:
    """Register the API router (under API_BASE_PATH), the page at `/dashboard/`, `/` → the
    page, and the stream's change watch (closed with the app)."""
    from protocols.version import API_BASE_PATH

    services = app.state.services
    watch = ChangeWatch(services.db.path)
    services.db.on_commit(watch.note_commit)
    closing = threading.Event()
    app.state.dashboard_watch = watch
    app.state.dashboard_closing = closing
    app.state.on_stop.append(watch.close)
    app.state.on_stop.append(closing.set)  # stops run in reverse: streams end, then the watch
    app.include_router(router, prefix=API_BASE_PATH)

    # Page redirects, not API routes: plain Starlette routes (no auth, not in the schema).
    async def to_page(request: Request) -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    app.add_route("/", to_page, include_in_schema=False)
    app.add_route("/dashboard", to_page, include_in_schema=False)
    app.mount("/dashboard", StaticFiles(directory=STATIC_DIR, html=True), name="dashboard")
