"""Test helpers for labels: read ZPL Code 128 field data back, draw it, and a fake printer."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import zxingcpp
from barcode.codex import Code128
from barcode.writer import ImageWriter
from PIL import Image

# Zebra ZPL II guide, ^BC table of invocation codes (the ones our encoder may emit).
_INVOCATIONS = {";": (105, "C"), ":": (104, "B"), "5": (99, "C"), "6": (100, "B")}


def zpl_symbols(fd: str) -> list[int]:
    """Code 128 symbol values (start code first, no check symbol) of `^BC` mode N data."""
    out: list[int] = []
    subset: str | None = None
    i = 0
    while i < len(fd):
        if fd[i] == ">":
            code = fd[i + 1]
            i += 2
            if code in _INVOCATIONS:
                value, subset = _INVOCATIONS[code]
                out.append(value)
            elif code == "8":
                out.append(102)  # FNC1
            elif code == "<":
                assert subset == "B"
                out.append(ord(">") - 32)
            else:
                raise AssertionError(f"unexpected invocation >{code}")
        elif subset == "C":
            pair = fd[i : i + 2]
            assert re.fullmatch(r"[0-9]{2}", pair), (fd, i)
            out.append(int(pair))
            i += 2
        else:
            assert subset == "B", fd
            out.append(ord(fd[i]) - 32)
            i += 1
    return out


class _Symbols(Code128):
    def __init__(self, symbols: list[int]) -> None:
        self._symbols = symbols
        super().__init__("x", writer=ImageWriter())

    def _build(self) -> list[int]:
        return list(self._symbols)


def scan_zpl_barcode(fd: str) -> Any:
    """Draw the symbols the printer would print for `fd` and read them with zxing-cpp."""
    image = _Symbols(zpl_symbols(fd)).render(
        {"module_width": 0.375, "module_height": 15, "quiet_zone": 5, "write_text": False}
    )
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, found
    return found[0]


def scan_image(image: Image.Image) -> list[Any]:
    return list(zxingcpp.read_barcodes(image))


def barcode_fields(zpl: str) -> list[str]:
    """The ^FD data of every ^BC field, in order."""
    return re.findall(r"\^BCN,[^\^]*\^FD(.*?)\^FS", zpl)


@dataclass
class FakePrinter:
    """A raw-TCP printer on 127.0.0.1: records the bytes of each connection."""

    port: int = 0
    jobs: list[bytes] = field(default_factory=list)
    _sock: socket.socket | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FakePrinter:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(8)
        sock.settimeout(0.2)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        assert self._sock is not None
        while self._sock is not None:
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        chunks = []
        with conn:
            conn.settimeout(5)
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        with self._lock:
            self.jobs.append(b"".join(chunks))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.jobs) >= count:
                    return list(self.jobs)
            time.sleep(0.02)
        with self._lock:
            return list(self.jobs)

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        if self._thread is not None:
            self._thread.join(2)


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
