"""The edge server for a load run, in its own process: `python -m bench.load.server DB PORT_FILE`.

The production app (`create_app`) under uvicorn configured as `aisleway edge serve` does it
(httptools and uvloop, which uvicorn picks when installed; no access log), plus one route
mounted on THIS app instance only: `POST /api/v1/_bench/noop`, a sync FastAPI endpoint that
parses a JSON body and answers an envelope without touching the database — the framework's
ceiling on the same stack.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import Body

from edge_server.app import create_app
from edge_server.settings import Settings
from protocols.version import API_BASE_PATH

NOOP_PATH = f"{API_BASE_PATH}/_bench/noop"


def load_settings(db_path: Path) -> Settings:
    """Settings of the load site: production defaults except cheap PIN hashing and no mDNS."""
    return Settings(
        db_path=db_path,
        site="CHI",
        advertise=False,
        pin_hash_memory_kib=1024,
        pin_hash_time_cost=1,
        wave_auto_release=False,
        count_schedule_enabled=False,
        log_level="WARNING",
    )


def main(argv: list[str]) -> int:
    db_path, port_file = Path(argv[0]), Path(argv[1])
    app = create_app(load_settings(db_path))

    @app.post(NOOP_PATH, include_in_schema=False)
    def noop(body: dict[str, Any] = Body()) -> dict[str, Any]:
        return {"next_state": None, "data": {"ok": True}, "message": None}

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        serving = asyncio.create_task(server.serve())  # SIGTERM/SIGINT stop it gracefully
        while not server.started:
            if serving.done():
                await serving  # start-up failed: raise its error
                return
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(str(port))
        tmp.replace(port_file)
        await serving

    # the event loop uvicorn itself would choose (uvloop when installed), as `edge serve` has
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
