"""What the screens before the work need from the rest of the terminal (no Kivy).

The site, pairing, login and menu screens call a `Backend`: find edge servers, check a typed
URL, pair with a code, log in with badge + PIN, list the menu for the user's role and open a
workflow. `terminal.ui.backend.EdgeBackend` is the real one (zeroconf, the edge client, the
command queue, the workflows); every call may block on the network, so the app runs it off the
Kivy thread and comes back with the result.

Failures are `BackendError`s carrying a code from the shared catalogue and the sentence to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from protocols.barcodes import BarcodeError, ScanKind, parse_scan
from protocols.errors import ErrorCode, message_for
from terminal.net.discovery import EdgeServer
from terminal.workflows.base import Feedback, Tone, Workflow

__all__ = [
    "Backend",
    "BackendError",
    "MenuEntry",
    "Trust",
    "User",
    "badge_from_scan",
    "badge_from_text",
    "error_feedback",
    "show_fingerprint",
]


@dataclass(frozen=True, slots=True)
class User:
    badge: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class MenuEntry:
    workflow: str  # the name passed to Backend.open_workflow ("picking")
    label: str  # what the button says ("Picking")


def show_fingerprint(hex_digest: str) -> str:
    """For eyes: `AB12 CD34 …` in groups of four, as `aisleway edge tls init` and
    `aisleway edge pair` print it."""
    upper = hex_digest.replace(":", "").replace(" ", "").upper()
    return " ".join(upper[i : i + 4] for i in range(0, len(upper), 4))


@dataclass(frozen=True, slots=True)
class Trust:
    """How this handheld reaches its site after pairing: `ca_sha256` is the SHA-256 (hex) of the
    site CA pinned over HTTPS, "" when paired over plain HTTP (docs/security.md#tls-and-pinning)."""

    api_url: str
    ca_sha256: str = ""

    @property
    def encrypted(self) -> bool:
        return bool(self.ca_sha256)

    @property
    def fingerprint(self) -> str:
        return show_fingerprint(self.ca_sha256)


class BackendError(Exception):
    """A refusal or failure to show: `code` from protocols.errors, `text` from its catalogue."""

    def __init__(self, code: str, text: str | None = None) -> None:
        if text is None:
            try:
                text = message_for(ErrorCode(code)).text
            except ValueError:
                text = code
        super().__init__(text)
        self.code = code
        self.text = text


class Backend(Protocol):
    def discover(self, timeout: float) -> list[EdgeServer]:
        """Edge servers answering on the LAN within `timeout` seconds, compatible first."""
        ...

    def check_url(self, url: str) -> EdgeServer:
        """The server at a typed address, checked through /health (raises BackendError)."""
        ...

    def choose(self, server: EdgeServer) -> bool:
        """Use this server from now on; True when this handheld is already paired with it."""
        ...

    def pair(self, code: str) -> Trust:
        """Pair with the chosen server using a supervisor's pairing code (over HTTPS: pinning
        the site CA whose fingerprint the returned `Trust` carries)."""
        ...

    def unpair(self) -> None:
        """Forget the pairing (the operator found the CA fingerprint is not the site's)."""
        ...

    def login(self, badge: str, pin: str) -> User: ...

    def menu(self, user: User) -> list[MenuEntry]:
        """The workflows this user's role may start, in menu order."""
        ...

    def open_workflow(self, name: str) -> Workflow: ...

    def logout(self) -> None: ...

    def close(self) -> None: ...


def badge_from_scan(text: str, symbology: str | None = None) -> str:
    """The badge id in a scanned badge label (`BADGE-K0042`); any other barcode is refused."""
    try:
        return parse_scan(text, symbology=symbology, expect={ScanKind.BADGE}).value
    except BarcodeError as exc:
        raise BackendError(exc.code.value) from None


def badge_from_text(text: str) -> str:
    """The badge id in a scanned badge label (`BADGE-K0042`) or a typed badge id (`K0042`)."""
    raw = text.strip()
    if not raw:
        raise BackendError(ErrorCode.BAD_CREDENTIALS.value)
    if raw.upper().startswith("BADGE-") or raw[:1] == "]":
        try:
            scan = parse_scan(raw, expect={ScanKind.BADGE})
        except BarcodeError as exc:
            raise BackendError(exc.code.value) from None
        return scan.value
    return raw


def error_feedback(exc: BaseException) -> Feedback:
    """BAD feedback for a failed backend call; unexpected exceptions get the INTERNAL sentence
    (the screen never shows a traceback)."""
    if isinstance(exc, BackendError):
        return Feedback(Tone.BAD, exc.code, exc.text)
    return Feedback(Tone.BAD, ErrorCode.INTERNAL.value, message_for(ErrorCode.INTERNAL).text)
