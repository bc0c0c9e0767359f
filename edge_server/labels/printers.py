"""Label printers and the print queue.

A printer is a ZPL printer on the LAN that takes raw TCP on port 9100. Every label is a row
in `print_jobs` before a byte leaves the server, so a printer that is off or out of paper
loses nothing:

- one job per TCP connection (connect, send all, half-close, close), never inside a write
  transaction;
- one job at a time per printer: a process-wide lock per printer, so two jobs never
  interleave on one printer, whoever sends them (a request or the spooler's thread);
- before sending, the job is read again under that lock: a job already sent or cancelled, or
  attempted by someone else since the caller looked, is not sent again;
- a failed attempt (refused, timeout, no route, DNS) keeps the job `queued` with a backoff
  time; after `print_max_attempts` it becomes `failed` and waits for a person
  (`POST /print-jobs/{id}/retry`);
- the spooler thread tries the oldest queued job of each printer when it is due, so while a
  printer is down one probe per backoff step reaches it, and its queue prints in order when
  it is back; any successful send to a printer makes its other queued jobs due at once.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.background import BackgroundLoop
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.webhooks import backoff_delay
from edge_server.labels.zpl import LpnLabel, bin_label_zpl, lpn_label_zpl, normalise_lpn
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso, utcnow
from protocols.errors import ErrorCode

__all__ = [
    "DEFAULT_PORT",
    "PrintSpooler",
    "check_printer_host",
    "enqueue_job",
    "get_job",
    "get_printer",
    "item_for_label",
    "list_jobs",
    "list_printers",
    "lpn_label_for",
    "print_lpn_label",
    "printer_address_problem",
    "upsert_printer",
]

log = logging.getLogger("aisleway.printing")

DEFAULT_PORT = 9100
PRINTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
MAX_ERROR_TEXT = 300

_JOB_COLUMNS = (
    "j.id, p.name AS printer, j.label, j.ref, j.status, j.attempts, j.last_error, "
    "j.next_attempt_at, j.created_at, j.last_attempt_at, j.sent_at"
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# -- printers ---------------------------------------------------------------------------
def printer_address_problem(ip: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why the server may not send a print job to `ip`, or None when it may.

    Printers live on the warehouse LAN, so private addresses are the normal case; public
    addresses are allowed too (a printer across a VPN). Never: the unspecified address,
    multicast, link-local (cloud metadata lives there) and reserved ranges; loopback only
    with `printer_allow_loopback` (tests, a printer emulator on the same host)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return printer_address_problem(ip.ipv4_mapped, allow_loopback=allow_loopback)
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_reserved:
        return "a reserved address"
    return None


def check_printer_host(host: str, *, allow_loopback: bool) -> str:
    """The host as stored: an IP address (checked now) or a host name (checked when each job
    is sent, against every address it resolves to). PRINTER_HOST_INVALID otherwise."""
    host = host.strip()
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        problem = printer_address_problem(ip, allow_loopback=allow_loopback)
        if problem:
            raise AislewayError(
                ErrorCode.PRINTER_HOST_INVALID, details={"host": host, "reason": problem}
            )
        return str(ip)
    name = host.rstrip(".")
    if not name or len(name) > 253 or not all(_HOST_LABEL.fullmatch(p) for p in name.split(".")):
        raise AislewayError(
            ErrorCode.PRINTER_HOST_INVALID,
            details={"host": host, "reason": "not an IP address or host name"},
        )
    if name.lower() == "localhost" and not allow_loopback:
        raise AislewayError(
            ErrorCode.PRINTER_HOST_INVALID, details={"host": host, "reason": "a loopback address"}
        )
    return name.lower()


def _printer_view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("name", "host", "port", "kind", "description", "updated_at")}


def upsert_printer(
    w: SUDatabase,
    site: str,
    name: str,
    *,
    host: str,
    port: int = DEFAULT_PORT,
    description: str = "",
) -> dict[str, Any]:
    """Create or replace printer `name` of `site` (host already checked)."""
    if not PRINTER_NAME.fullmatch(name):
        raise AislewayError(ErrorCode.VALIDATION_FAILED, details={"name": name})
    now = iso()
    w.execute(
        "INSERT INTO printers (site, name, host, port, kind, description, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 'zpl', ?, ?, ?) "
        "ON CONFLICT (site, name) DO UPDATE SET host = excluded.host, port = excluded.port, "
        "description = excluded.description, updated_at = excluded.updated_at",
        [site, name, host, port, description, now, now],
    )
    row = w.execute("SELECT * FROM printers WHERE site = ? AND name = ?", [site, name]).fetchone()
    return _printer_view(dict(row))


def list_printers(db: Database, site: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT * FROM printers WHERE site = ? ORDER BY name", [site])
    return [_printer_view(r) for r in rows]


def printer_row(conn: SUDatabase, site: str, name: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT * FROM printers WHERE site = ? AND name = ?", [site, name]
    ).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.PRINTER_UNKNOWN, details={"printer": name})
    return dict(row)


def get_printer(db: Database, site: str, name: str) -> dict[str, Any]:
    return _printer_view(printer_row(db.read, site, name))


# -- jobs ---------------------------------------------------------------------------------
def enqueue_job(
    w: SUDatabase,
    site: str,
    printer_name: str,
    *,
    label: str,
    ref: str,
    zpl: str,
    hold_seconds: float = 0.0,
) -> int:
    """Keep a print job (status `queued`) in the caller's transaction; its id. It is due now,
    or — for a request that sends it itself right after its commit (`dispatch`) —
    `hold_seconds` later, so the spooler thread does not race the request for the first try."""
    printer = printer_row(w, site, printer_name)
    now = utcnow()
    cur = w.execute(
        "INSERT INTO print_jobs (printer_id, label, ref, zpl, status, next_attempt_at, "
        "created_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)",
        [printer["id"], label, ref, zpl, iso(now + timedelta(seconds=hold_seconds)), iso(now)],
    )
    return int(cur.lastrowid or 0)


def _job_row(conn: SUDatabase, site: str, job_id: int) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {_JOB_COLUMNS}, j.zpl, j.printer_id, p.host, p.port FROM print_jobs j "
        "JOIN printers p ON p.id = j.printer_id WHERE j.id = ? AND p.site = ?",
        [job_id, site],
    ).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.PRINT_JOB_UNKNOWN, details={"job_id": job_id})
    return dict(row)


def _job_view(row: dict[str, Any], *, with_zpl: bool = False) -> dict[str, Any]:
    keys = [
        "id",
        "printer",
        "label",
        "ref",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "last_attempt_at",
        "sent_at",
    ]
    view = {k: row[k] for k in keys}
    if with_zpl:
        view["zpl"] = row["zpl"]
    return view


def get_job(db: Database, site: str, job_id: int, *, with_zpl: bool = True) -> dict[str, Any]:
    return _job_view(_job_row(db.read, site, job_id), with_zpl=with_zpl)


def list_jobs(
    db: Database,
    site: str,
    *,
    status: str | None = None,
    printer: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first; page back with `before` (the last id seen)."""
    where = ["p.site = ?"]
    params: list[Any] = [site]
    if status is not None:
        where.append("j.status = ?")
        params.append(status)
    if printer is not None:
        where.append("p.name = ?")
        params.append(printer)
    if before is not None:
        where.append("j.id < ?")
        params.append(before)
    rows = db.query(
        f"SELECT {_JOB_COLUMNS} FROM print_jobs j JOIN printers p ON p.id = j.printer_id "
        f"WHERE {' AND '.join(where)} ORDER BY j.id DESC LIMIT ?",
        [*params, limit],
    )
    return [_job_view(r) for r in rows]


def requeue_job(
    w: SUDatabase, site: str, job_id: int, *, hold_seconds: float = 0.0
) -> dict[str, Any]:
    """A person's retry: a queued or failed job becomes due (one more attempt) now, or
    `hold_seconds` later when the request sends it itself (see `enqueue_job`)."""
    row = _job_row(w, site, job_id)
    if row["status"] not in ("queued", "failed"):
        raise AislewayError(
            ErrorCode.PRINT_JOB_DONE, details={"job_id": job_id, "status": row["status"]}
        )
    w.execute(
        "UPDATE print_jobs SET status = 'queued', next_attempt_at = ? WHERE id = ?",
        [iso(utcnow() + timedelta(seconds=hold_seconds)), job_id],
    )
    return _job_view(_job_row(w, site, job_id))


def cancel_job(w: SUDatabase, site: str, job_id: int) -> dict[str, Any]:
    row = _job_row(w, site, job_id)
    if row["status"] not in ("queued", "failed"):
        raise AislewayError(
            ErrorCode.PRINT_JOB_DONE, details={"job_id": job_id, "status": row["status"]}
        )
    w.execute("UPDATE print_jobs SET status = 'cancelled' WHERE id = ?", [job_id])
    return _job_view(_job_row(w, site, job_id))


# -- LPN labels for other modules -----------------------------------------------------------
def item_for_label(db: Database | SUDatabase, sku: str) -> tuple[str, str | None]:
    """(description, GTIN-14 of one unit or None) of the item `sku`; UNKNOWN_ITEM if none."""
    conn = db.read if isinstance(db, Database) else db
    item = conn.execute("SELECT id, description FROM items WHERE sku = ?", [sku]).fetchone()
    if item is None:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"sku": sku})
    gtin = conn.execute(
        "SELECT gtin FROM item_gtins WHERE item_id = ? AND qty = 1 ORDER BY gtin LIMIT 1",
        [item["id"]],
    ).fetchone()
    return str(item["description"]), (str(gtin["gtin"]) if gtin is not None else None)


def lpn_label_for(
    db: Database | SUDatabase,
    *,
    lpn: str | None = None,
    sscc: str | None = None,
    sku: str,
    lot: str | None = None,
    expiry: date | None = None,
    qty: int,
) -> LpnLabel:
    """The label for an LPN or SSCC holding `qty` of `sku`, with the item master's text.
    BarcodeError for an LPN/SSCC that would not scan; LABEL_DATA_INVALID for the rest."""
    try:
        lpn, sscc = normalise_lpn(lpn, sscc)
    except ValueError as exc:
        raise AislewayError(ErrorCode.LABEL_DATA_INVALID, details={"reason": str(exc)}) from exc
    if not 1 <= qty <= 99_999_999:
        raise AislewayError(ErrorCode.LABEL_DATA_INVALID, details={"qty": qty})
    description, gtin = item_for_label(db, sku)
    return LpnLabel(
        lpn=lpn,
        sscc=sscc,
        sku=sku,
        description=description,
        gtin=gtin,
        lot=lot or None,
        expiry=expiry,
        qty=qty,
    )


def lpn_zpl(label: LpnLabel) -> str:
    try:
        return lpn_label_zpl(label)
    except ValueError:
        # A lot outside GS1's character set (a space, say): the content barcode is left
        # out, the lot is still printed as text.
        log.info("lpn label without GS1 content barcode", extra={"ref": label.ref})
        return lpn_label_zpl(
            LpnLabel(
                lpn=label.lpn,
                sscc=label.sscc,
                sku=label.sku,
                description=label.description,
                gtin=None,
                lot=label.lot,
                expiry=label.expiry,
                qty=label.qty,
            )
        )


def bin_zpl(code: str, zone: str | None = None) -> str:
    try:
        return bin_label_zpl(code, zone=zone)
    except ValueError as exc:
        raise AislewayError(
            ErrorCode.LABEL_DATA_INVALID, details={"code": code, "reason": str(exc)}
        ) from exc


def print_lpn_label(
    db: Database,
    site: str,
    printer_name: str,
    *,
    lpn: str | None = None,
    sscc: str | None = None,
    sku: str,
    lot: str | None = None,
    expiry: date | None = None,
    qty: int,
) -> int:
    """Queue an LPN label on `printer_name` and return the print job's id.

    The job is written in a write transaction (the caller's, when called inside one: the job
    then exists only if the caller's transaction commits). It is sent after the commit by
    the spooler thread, within moments; call `PrintSpooler.dispatch([job_id])` after your
    commit to send it now and learn the outcome. Raises PRINTER_UNKNOWN, UNKNOWN_ITEM,
    LABEL_DATA_INVALID or a BarcodeError (bad LPN/SSCC) and then queues nothing."""
    with db.write() as w:
        return queue_lpn_label(
            w, site, printer_name, lpn=lpn, sscc=sscc, sku=sku, lot=lot, expiry=expiry, qty=qty
        )


def queue_lpn_label(
    w: SUDatabase,
    site: str,
    printer_name: str,
    *,
    lpn: str | None = None,
    sscc: str | None = None,
    sku: str,
    lot: str | None = None,
    expiry: date | None = None,
    qty: int,
) -> int:
    """`print_lpn_label` inside the caller's write transaction (receiving uses it)."""
    label = lpn_label_for(w, lpn=lpn, sscc=sscc, sku=sku, lot=lot, expiry=expiry, qty=qty)
    return enqueue_job(w, site, printer_name, label="lpn", ref=label.ref, zpl=lpn_zpl(label))


# -- sending ------------------------------------------------------------------------------
_locks: dict[tuple[str, int], threading.Lock] = {}
_locks_guard = threading.Lock()


def _printer_lock(db: Database, printer_id: int) -> threading.Lock:
    """The process-wide lock of one printer (keyed by database file and printer id)."""
    with _locks_guard:
        return _locks.setdefault((db.path, printer_id), threading.Lock())


class PrinterError(Exception):
    """Sending one job failed; the text says why in a line for `last_error`."""


def send_raw(host: str, port: int, data: bytes, *, timeout: float, allow_loopback: bool) -> None:
    """One connection, all of `data`, half-close, close. PrinterError on any failure."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise PrinterError(f"cannot resolve {host}: {exc}") from exc
    last: str | None = None
    for family, socktype, proto, _, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        problem = printer_address_problem(ip, allow_loopback=allow_loopback)
        if problem:
            last = f"{host} resolves to {ip}, {problem}"
            continue
        try:
            with socket.socket(family, socktype, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(sockaddr)
                sock.sendall(data)
                # Half-close: the printer reads to end of stream; it never sends back.
                sock.shutdown(socket.SHUT_WR)
            return
        except TimeoutError as exc:
            last = f"{ip}:{port}: timed out after {timeout:g} s ({exc or 'no answer'})"
        except OSError as exc:
            last = f"{ip}:{port}: {exc.strerror or exc}"
    raise PrinterError(last or f"{host} has no address")


class PrintSpooler(BackgroundLoop):
    """Sends queued print jobs: `dispatch()` now, for a request that waits for the outcome;
    `start()`/`close()` a background thread that retries what is due, with backoff."""

    thread_name = "print-spooler"

    def __init__(self, db: Database, settings: Settings, *, poll_seconds: float = 30.0) -> None:
        super().__init__(poll_seconds)
        self.db = db
        self.settings = settings
        self.site = settings.site
        db.on_commit(self.wake)

    # -- one job ---------------------------------------------------------------------------
    def _attempt(self, job_id: int, seen_attempts: int | None) -> dict[str, Any]:
        """Send job `job_id` unless it is done or was attempted since the caller looked."""
        row = _job_row(self.db.read, self.site, job_id)
        with _printer_lock(self.db, row["printer_id"]):
            row = _job_row(self.db.read, self.site, job_id)
            if row["status"] in ("sent", "cancelled"):
                return row
            if seen_attempts is not None and row["attempts"] != seen_attempts:
                return row
            error: str | None = None
            try:
                send_raw(
                    row["host"],
                    row["port"],
                    row["zpl"].encode("utf-8"),
                    timeout=self.settings.printer_timeout_seconds,
                    allow_loopback=self.settings.printer_allow_loopback,
                )
            except PrinterError as exc:
                error = str(exc)[:MAX_ERROR_TEXT]
            self._record(row, error)
        if error is None:
            self._wake.set()  # the printer is back: its other queued jobs are due now
        else:
            log.warning("print job failed", extra={"job_id": job_id, "error": error})
        return _job_row(self.db.read, self.site, job_id)

    def _record(self, row: dict[str, Any], error: str | None) -> None:
        now = utcnow()
        attempts = row["attempts"] + 1
        with self.db.write() as w:
            if error is None:
                w.execute(
                    "UPDATE print_jobs SET status = 'sent', attempts = ?, last_error = NULL, "
                    "last_attempt_at = ?, sent_at = ? WHERE id = ?",
                    [attempts, iso(now), iso(now), row["id"]],
                )
                w.execute(
                    "UPDATE print_jobs SET next_attempt_at = ? "
                    "WHERE printer_id = ? AND status = 'queued'",
                    [iso(now), row["printer_id"]],
                )
                return
            delay = backoff_delay(
                attempts,
                self.settings.print_backoff_base_seconds,
                self.settings.print_backoff_max_seconds,
            )
            status = "failed" if attempts >= self.settings.print_max_attempts else "queued"
            w.execute(
                "UPDATE print_jobs SET status = ?, attempts = ?, last_error = ?, "
                "last_attempt_at = ?, next_attempt_at = ? WHERE id = ?",
                [status, attempts, error, iso(now), iso(now + timedelta(seconds=delay)), row["id"]],
            )

    def dispatch(self, job_ids: list[int]) -> list[dict[str, Any]]:
        """Try each job now, in order; after a failure the same printer's later jobs in this
        call are not tried (they stay queued behind it). Returns the jobs as they are now."""
        seen = {j: _job_row(self.db.read, self.site, j)["attempts"] for j in job_ids}
        down: set[int] = set()
        out: list[dict[str, Any]] = []
        for job_id in job_ids:
            row = _job_row(self.db.read, self.site, job_id)
            if row["printer_id"] not in down:
                row = self._attempt(job_id, seen[job_id])
                if row["status"] != "sent" and row["attempts"] > seen[job_id]:
                    down.add(row["printer_id"])
            out.append(_job_view(row))
        return out

    # -- the background retry ----------------------------------------------------------------
    def _heads(self) -> list[dict[str, Any]]:
        """The oldest queued job of each printer of this site, with when it is due."""
        return self.db.query(
            "SELECT j.id, j.attempts, j.next_attempt_at FROM print_jobs j "
            "JOIN printers p ON p.id = j.printer_id "
            "WHERE p.site = ? AND j.id IN "
            "(SELECT MIN(id) FROM print_jobs WHERE status = 'queued' GROUP BY printer_id)",
            [self.site],
        )

    def run_once(self) -> tuple[int, float | None]:
        """Attempt every printer's due head job until none is due.

        Returns (attempts made, seconds until the next head is due or None)."""
        made = 0
        while True:
            now = iso()
            heads = self._heads()
            due = [h for h in heads if h["next_attempt_at"] <= now]
            if not due or self._stopping.is_set():
                break
            progressed = False
            for head in due:
                row = self._attempt(head["id"], head["attempts"])
                made += 1
                progressed = progressed or row["status"] == "sent"
            if not progressed:
                break
        pending = [parse_iso(h["next_attempt_at"]) for h in self._heads()]
        wait = (min(pending) - utcnow()).total_seconds() if pending else None
        return made, wait

    def tick(self) -> float | None:
        return self.run_once()[1]
