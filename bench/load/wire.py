"""A lean HTTP/1.1 keep-alive client for the timed windows of the load run.

httpx costs the load generator more CPU per request than the server's no-op route costs the
server; on a 2-core machine that turns the generator into the bottleneck and the "framework
ceiling" into a measure of the client. This client writes each request as one `bytes` and
reads the answer by its Content-Length (FastAPI's JSON answers always carry one) — enough for
the handhelds' scan loop, nothing more. Sign-on still goes through httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit


class WireError(Exception):
    """The connection broke or the answer was not HTTP/1.1 with a Content-Length."""


class Wire:
    """One keep-alive connection, one request at a time (as one handheld sends)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        fixed = {"Host": f"{self.host}:{self.port}", "Content-Type": "application/json"}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in {**fixed, **headers}.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, bytes]:
        payload = json.dumps(body, separators=(",", ":")).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = f"POST {path} HTTP/1.1\r\n{self._fixed}{extra}Content-Length: {len(payload)}\r\n\r\n"
        try:
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None
            self._writer.write(head.encode() + payload)
            status_line = await self._reader.readuntil(b"\r\n")
            length = None
            keep = True
            while True:
                line = await self._reader.readuntil(b"\r\n")
                if line == b"\r\n":
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    keep = False
            if length is None:
                raise WireError("answer without Content-Length")
            data = await self._reader.readexactly(length)
            if not keep:
                await self.close()
            return int(status_line.split(b" ", 2)[1]), data
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            await self.close()
            raise WireError(str(e)) from e

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
