"""What every handheld workflow shares (no Kivy): the connection to the edge, the item
catalogue downloaded with the work, feedback built from the one message catalogue, and the
bookkeeping that follows queued commands until the server has decided them.

Offline-first, in one paragraph: a workflow downloads its work while online (`Work.get`), checks
each scan locally against it, and for a good scan `Work.enqueue`s the exact request body the
server expects (durable before the screen says "good"); the replayer sends it later, in order.
`QueuedWorkflow.reconcile` then compares what the server answered with what the handheld
predicted: a refusal is shown (BAD feedback, `View.rejected`) and never dropped, and any
difference makes the workflow reload the server's state once its own commands are all decided.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from protocols.barcodes import BarcodeError, Scan, ScanKind, parse_scan
from protocols.errors import ErrorCode, message_for
from terminal.client.connection import Connection
from terminal.client.edge import EdgeError, Offline, Refused
from terminal.client.queue import Command, Status
from terminal.scanners.base import DecodedScan
from terminal.workflows.base import Feedback, Tone, View

__all__ = [
    "Catalogue",
    "ItemInfo",
    "QueuedWorkflow",
    "Tracked",
    "Work",
    "bad",
    "feedback_for",
    "good",
    "info",
    "parse",
]


# -- feedback ------------------------------------------------------------------------------------
def feedback_for(tone: Tone, code: ErrorCode, **details: Any) -> Feedback:
    """Feedback whose sentence comes from the shared catalogue (as the server would say it)."""
    return Feedback(tone, code.value, message_for(code).text, dict(details))


def bad(code: ErrorCode, **details: Any) -> Feedback:
    return feedback_for(Tone.BAD, code, **details)


def good(code: ErrorCode | None = None, text: str = "", **details: Any) -> Feedback:
    if code is not None:
        return Feedback(Tone.GOOD, code.value, text or message_for(code).text, dict(details))
    return Feedback(Tone.GOOD, None, text, dict(details))


def info(code: ErrorCode | None = None, text: str = "", **details: Any) -> Feedback:
    if code is not None:
        return Feedback(Tone.INFO, code.value, text or message_for(code).text, dict(details))
    return Feedback(Tone.INFO, None, text, dict(details))


def refused(exc: EdgeError) -> Feedback:
    """BAD feedback for an answer of the server to a direct (not queued) request."""
    if isinstance(exc, Refused):
        return Feedback(Tone.BAD, exc.code, exc.text, dict(exc.details))
    if isinstance(exc, Offline):
        return bad(ErrorCode.TERMINAL_OFFLINE)
    return Feedback(Tone.BAD, ErrorCode.INTERNAL.value, message_for(ErrorCode.INTERNAL).text)


def parse(scan: DecodedScan, expect: Collection[ScanKind]) -> Scan | Feedback:
    """The scan classified by the shared grammar, or the BAD feedback the server would give."""
    try:
        return parse_scan(scan.text, symbology=scan.symbology, expect=expect)
    except BarcodeError as exc:
        return Feedback(Tone.BAD, exc.code.value, exc.text, dict(exc.details))


def scan_body(scan: DecodedScan) -> dict[str, Any]:
    """`barcode` and `symbology` exactly as the server's scan bodies take them."""
    body: dict[str, Any] = {"barcode": scan.text}
    if scan.symbology:
        body["symbology"] = scan.symbology
    return body


# -- items ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ItemInfo:
    """One item as the handheld needs it to check scans: every GTIN and what one scan counts."""

    sku: str
    description: str
    lot_tracked: bool
    expiry_tracked: bool
    gtins: dict[str, int]  # GTIN-14 → base units one scan of it is (case GTIN: case_qty)

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> ItemInfo:
        gtins: dict[str, int] = {}
        for g in [item.get("gtin"), *(item.get("alt_gtins") or [])]:
            if g:
                gtins[str(g).zfill(14)] = 1
        if item.get("case_gtin"):
            gtins[str(item["case_gtin"]).zfill(14)] = int(item.get("case_qty") or 1)
        return cls(
            sku=str(item["sku"]),
            description=str(item.get("description") or ""),
            lot_tracked=bool(item.get("lot_tracked")),
            expiry_tracked=bool(item.get("expiry_tracked")),
            gtins=gtins,
        )


class Catalogue:
    """Items downloaded with the work (`GET /items/{sku}`, once per SKU), found by GTIN."""

    def __init__(self) -> None:
        self._by_sku: dict[str, ItemInfo] = {}
        self._by_gtin: dict[str, tuple[ItemInfo, int]] = {}

    def add(self, item: ItemInfo) -> None:
        self._by_sku[item.sku] = item
        for gtin, units in item.gtins.items():
            self._by_gtin[gtin] = (item, units)

    def has(self, sku: str) -> bool:
        return sku in self._by_sku

    def sku(self, sku: str) -> ItemInfo | None:
        return self._by_sku.get(sku)

    def gtin(self, gtin: str) -> tuple[ItemInfo, int] | None:
        """The item a GTIN-14 belongs to and how many base units one scan of it is."""
        return self._by_gtin.get(gtin.zfill(14))


# -- the connection, as workflows use it -------------------------------------------------------
class Work:
    """A workflow's handle on the edge: reads (downloads), direct sends (starting new work)
    and the durable queue (every confirmed scan). One per logged-in handheld; shared by the
    workflows it opens, with one item catalogue."""

    def __init__(self, conn: Connection, *, role: str = "") -> None:
        self.conn = conn
        self.role = role or (conn.session.role if conn.session else "")
        self.items = Catalogue()

    @property
    def online(self) -> bool:
        return self.conn.replayer.online

    @property
    def pending(self) -> int:
        return self.conn.queue.pending_count()

    @property
    def rejected(self) -> int:
        return self.conn.queue.rejected_count()

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A read; raises Offline / Refused / ServerError (terminal.client.edge)."""
        return self.conn.client.get(path, params)

    def send_now(self, path: str, body: Any, *, key: str | None = None) -> dict[str, Any]:
        """A direct POST that starts new work (the screen waits for the answer). Only with an
        empty queue, so it never overtakes a queued scan."""
        return self.conn.client.send("POST", path, body, key or f"now-{uuid.uuid4().hex}")

    def enqueue(
        self, path: str, body: Any, *, workflow: str, scanned_at: datetime | None = None
    ) -> Command:
        """Queue a command durably (on disk when this returns) and nudge the replayer."""
        command = self.conn.queue.enqueue(
            "POST", path, body, workflow=workflow, scanned_at=scanned_at
        )
        self.conn.replayer.wake()
        return command

    def load_items(self, skus: Collection[str]) -> None:
        """Download the items of the work (once per SKU; raises Offline / Refused)."""
        for sku in sorted(set(skus)):
            if not self.items.has(sku):
                data = self.get(f"/items/{sku}")["data"]
                self.items.add(ItemInfo.from_api(data))

    def lookup_gtin(self, gtin: str) -> tuple[ItemInfo, int] | None:
        """A GTIN not in the downloaded work: asked of the server when online, else None.
        Raises Offline when the server cannot be asked."""
        found = self.items.gtin(gtin)
        if found is not None:
            return found
        try:
            data = self.get(f"/items/by-gtin/{gtin}")["data"]
        except Refused as exc:
            if exc.code == ErrorCode.UNKNOWN_ITEM.value:
                return None
            raise
        item = ItemInfo.from_api(data["item"])
        self.items.add(item)
        return item, int(data["qty"])


# -- following queued commands ------------------------------------------------------------------
@dataclass(slots=True)
class Tracked:
    """A queued command this workflow made, and the state it predicted the server answers."""

    seq: int
    expect: str | None  # None: a plain resource answer (no next_state)
    note: dict[str, Any] = field(default_factory=dict)


class QueuedWorkflow:
    """Base of the offline-first workflows: tracks its queued commands, shows refusals, and
    resynchronises with the server when the server answered differently."""

    name = ""
    title = ""

    def __init__(self, work: Work) -> None:
        self.work = work
        self._tracked: list[Tracked] = []
        self._unseen: list[Command] = []  # refusals not shown yet
        self._diverged = False
        self.last_server_message: dict[str, Any] | None = None

    # -- hooks for the subclasses -------------------------------------------------------------
    def resync(self) -> None:
        """Reload the server's state of the current work (online; raises EdgeError)."""

    def applied(self, tracked: Tracked, envelope: dict[str, Any]) -> None:
        """A tracked command was applied: take server-assigned values (LPN, SSCC, …)."""

    # -- the bookkeeping ----------------------------------------------------------------------
    def track(self, command: Command, expect: str | None, **note: Any) -> None:
        self._tracked.append(Tracked(command.seq, expect, note))

    @property
    def waiting(self) -> int:
        """This workflow's commands the server has not decided yet."""
        return len(self._tracked)

    def reconcile(self) -> Feedback | None:
        """Look at what the replayer got back. Returns BAD feedback for a refusal not yet
        shown (one at a time), INFO after a resync, else None."""
        queue = self.work.conn.queue
        still: list[Tracked] = []
        for i, t in enumerate(self._tracked):
            command = queue.get(t.seq)
            if command is None or command.status is Status.PENDING:
                # Replay is strictly in seq order: everything after a pending one is pending
                # too, so a long offline stretch costs one lookup per scan, not one per command.
                still = self._tracked[i:]
                break
            if command.status is Status.REJECTED:
                self._unseen.append(command)
                self._diverged = True
                continue
            envelope = command.response or {}
            self.last_server_message = envelope.get("message")
            self.applied(t, envelope)
            if envelope.get("next_state") != t.expect:
                self._diverged = True
        self._tracked = still
        resynced = False
        if self._diverged and not self._tracked and self.work.pending == 0:
            try:
                self.resync()
            except EdgeError:
                pass  # offline again: try at the next scan
            else:
                self._diverged = False
                resynced = True
        if self._unseen:
            command = self._unseen.pop(0)
            queue.acknowledge(command.seq)
            return Feedback(
                Tone.BAD,
                command.error_code or ErrorCode.TERMINAL_REJECTED_ON_REPLAY.value,
                command.error_text or message_for(ErrorCode.TERMINAL_REJECTED_ON_REPLAY).text,
                {
                    "rejected_on_replay": True,
                    "seq": command.seq,
                    "path": command.path,
                    "scanned_at": command.scanned_at.isoformat(),
                    **command.error_details,
                },
            )
        if resynced:
            return info(ErrorCode.TERMINAL_RESYNCED)
        return None

    def poll(self) -> Feedback | None:
        """For screens on a timer: news from the replayer (a refusal, a resync), if any."""
        return self.reconcile()

    def make_view(
        self,
        prompt: str,
        state: str,
        *,
        title: str = "",
        fields: dict[str, Any] | None = None,
        lines: list[dict[str, Any]] | None = None,
        progress: tuple[int, int] = (0, 0),
    ) -> View:
        return View(
            title=title or self.title,
            prompt=prompt,
            state=state,
            fields=fields or {},
            lines=lines or [],
            progress=progress,
            online=self.work.online,
            pending=self.work.pending,
            rejected=self.work.rejected,
        )

    def unknown_input(self, name: str) -> Feedback:
        return bad(ErrorCode.TERMINAL_INPUT_UNKNOWN, input=name)

    def can_start(self) -> Feedback | None:
        """Starting new work needs the server and an empty queue (nothing may overtake a
        queued scan): BAD feedback when that is not so."""
        if self.work.pending:
            self.work.conn.replayer.wake()
            return bad(ErrorCode.TERMINAL_SENDING, pending=self.work.pending)
        return None
