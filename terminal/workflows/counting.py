"""Cycle counting on the handheld (no Kivy): blind counts of bins, items and LPNs.

Opening the workflow downloads the count tasks this worker may do (`GET /counts/tasks?status=
open&mine=true`, plus the ones already in progress for them, which resume). "Next" takes the
first (a count a pick just asked for comes first: `suggest_count`), `task` takes one by id, and
scanning a bin takes the task that visits it. Choosing an open task queues its claim
(`POST /counts/tasks/{id}/claim`); from then on the count works out of Wi-Fi reach.

For each bin in walk order: scan the bin (a bin not on the task is refused here,
`COUNT_BIN_NOT_IN_TASK`), then each product — a GTIN, a GS1 label with lot, expiry and count,
or an LPN first for stock on a license plate — then the quantity on the number pad (a GS1 count
pre-fills it: `confirm` accepts it). Each line is queued as `POST /counts/tasks/{id}/lines`
before the screen says good. "Bin done" moves to the next bin; "Submit" queues `/submit`, and
the server's verdict (accurate, adjusted, a recount by another worker, awaiting a supervisor)
is shown when its answer arrives.

The count is blind: the server never sends an expected quantity and this workflow never shows
one — what the screen lists is what this worker counted. What only the server can judge (a
GTIN unknown while offline, a recount of the worker's own count, stock moved meanwhile) is
judged on replay: a refusal is shown as every workflow shows one, and never dropped.
"""

from __future__ import annotations

import contextlib
import weakref
from datetime import date
from typing import Any

from protocols.barcodes import PLACE_KINDS, Scan, ScanKind
from protocols.errors import ErrorCode
from terminal.client.connection import Connection
from terminal.client.edge import EdgeError, Offline
from terminal.scanners.base import DecodedScan
from terminal.workflows.base import Feedback, Tone, View
from terminal.workflows.session import (
    QueuedWorkflow,
    Tracked,
    Work,
    bad,
    good,
    info,
    parse,
    refused,
)

__all__ = ["MAX_COUNT", "OUTCOMES", "CountingWorkflow", "suggest_count", "suggested_counts"]

PREFIX = "/counts/tasks"
MAX_COUNT = 10_000_000

CHOOSE = "choose_task"  # the list of counts: Next, a task id, or scan a bin of one
NO_TASK = "no_task"  # nothing to count for this worker
SCAN_BIN = "scan_bin"  # walk to the bin and scan it
SCAN_ITEM = "scan_item"  # scan each product (or an LPN, then its product); Bin done
SET_LOT = "set_lot"  # a lot-tracked product scanned without its lot
SET_QUANTITY = "set_quantity"  # key the count (a GS1 count pre-fills it)
REVIEW = "review"  # every bin visited: Submit
SUBMITTED = "submitted"  # submit queued; the server's verdict shows when it answers

#: What the server's submit answer means, as the counter reads it.
OUTCOMES = {
    "accurate": "Count accurate: nothing to adjust.",
    "adjusted": "Count accepted: the stock was adjusted to your count.",
    "recount": "The count differs: another worker will recount it.",
    "awaiting_approval": "The count differs: a supervisor will approve the adjustment.",
}

#: Count tasks a pick asked for (`confirm_remaining`), per connection: listed first.
_SUGGESTED: weakref.WeakKeyDictionary[Connection, list[int]] = weakref.WeakKeyDictionary()


def suggest_count(conn: Connection, task_id: int) -> None:
    """A workflow (picking) asks the worker to do count task `task_id` next."""
    ids = _SUGGESTED.setdefault(conn, [])
    if task_id in ids:
        ids.remove(task_id)
    ids.insert(0, task_id)


def suggested_counts(conn: Connection) -> list[int]:
    return list(_SUGGESTED.get(conn, []))


def _count(value: Any) -> int | None:
    """A count keyed on the pad: a whole number, 0 or more."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 0 <= number <= MAX_COUNT else None


def _bad_count(value: Any) -> Feedback:
    return Feedback(
        Tone.BAD,
        ErrorCode.QUANTITY_INVALID.value,
        "The count must be a whole number, 0 or more.",
        {"qty": value, "max": MAX_COUNT},
    )


class CountingWorkflow(QueuedWorkflow):
    name = "counting"
    title = "Cycle counting"

    def __init__(self, work: Work) -> None:
        super().__init__(work)
        self.state = CHOOSE
        self.tasks: list[dict[str, Any]] = []
        self.downloaded = False
        self.task: dict[str, Any] | None = None
        self.bin: str | None = None  # the bin scanned and being counted
        self.visited: list[str] = []  # bins finished ("bin done"), in the order done
        self.lpn: str | None = None  # an LPN scanned in this bin: the next product is on it
        self.pending: dict[str, Any] | None = None  # the product scanned, count not keyed yet
        self.counted: list[dict[str, Any]] = []  # lines queued for the current task
        self.submit_warned = False
        self.outcome: dict[str, Any] | None = None  # the server's answer to submit
        self._applied: set[int] = set()
        with contextlib.suppress(EdgeError):  # offline at opening: Next tries again
            self.download()

    # == the screen's interface ==================================================================
    def view(self) -> View:
        self.reconcile()
        t = self.task or {}
        p = self.pending or {}
        fields: dict[str, Any] = {}
        lines: list[dict[str, Any]] = []
        progress = (0, 0)
        title = self.title
        if t:
            title = f"Cycle counting — task {t['id']}"
            fields = {"task": t["id"], "kind": t.get("kind"), "reason": _reason(t)}
            if t.get("kind") == "item":
                fields["sku"] = t.get("sku")
            if t.get("kind") == "lpn":
                fields["lpn"] = t.get("lpn")
            lines = self._bin_lines()
            progress = (len(self.visited), len(t.get("bins") or []))
        if self.state == CHOOSE:
            first = self._first_task()
            prompt = (
                f"Press Next to count task {first['id']} ({_where(first)}), or scan a bin."
                if first
                else "Press Next to download your counts."
            )
            lines = [self._task_line(x) for x in self._ordered()]
        elif self.state == NO_TASK:
            prompt = "Nothing to count for you. Press Next to look again."
        elif self.state == SCAN_BIN:
            prompt = f"Go to {self._next_bin()} and scan the bin."
            fields["bin"] = self._next_bin()
        elif self.state == SCAN_ITEM:
            what = "the LPN's product" if self.lpn else "each product (or an LPN)"
            prompt = f"Count {self.bin}: scan {what}, then Bin done."
            fields |= {"bin": self.bin, "on_lpn": self.lpn}
            mine = [c for c in self.counted if c["location"] == self.bin]
            if mine:
                fields["last"] = _line_text(mine[-1])
        elif self.state == SET_LOT:
            prompt = f"Scan or key the lot of {p.get('sku')}."
            fields |= {"bin": self.bin, **_shown(p)}
        elif self.state == SET_QUANTITY:
            unit = f" (cases of {p['units']})" if p.get("units", 1) > 1 else ""
            what = f"{p.get('sku') or p.get('gtin')}{unit}"
            prompt = f"How many {what} are in {self.bin} in all?"
            if p.get("label_qty") is not None:
                prompt += f" The label says {p['label_qty']}: Accept, or key the count."
            fields |= {"bin": self.bin, **_shown(p), "label_qty": p.get("label_qty")}
        elif self.state == REVIEW:
            prompt = "Every bin is counted. Press Submit."
        else:  # SUBMITTED
            if self.outcome is not None:
                prompt = OUTCOMES.get(str(self.outcome.get("outcome")), "Count submitted.")
                if self.outcome.get("recount_task_id"):
                    fields["recount_task"] = self.outcome["recount_task_id"]
                prompt += " Press Next for the next count."
            else:
                prompt = "Submitted. The server's answer shows here when it arrives."
            fields["outcome"] = (self.outcome or {}).get("outcome")
        return self.make_view(
            prompt, self.state, title=title, fields=fields, lines=lines, progress=progress
        )

    def on_scan(self, scan: DecodedScan) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if self.state in (CHOOSE, NO_TASK, SUBMITTED):
            return self._bin_of_a_task(scan)
        if self.state in (SCAN_BIN, REVIEW):
            return self._scan_bin(scan)
        if self.state == SET_LOT:
            return self._lot_scan(scan)
        return self._scan_item(scan)  # SCAN_ITEM, SET_QUANTITY (a new scan replaces)

    def on_input(self, name: str, value: Any) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if name == "next":
            return self.next_task()
        if name == "task":
            return self.choose_id(value)
        if name == "qty":
            return self._quantity(value)
        if name == "confirm":
            return self._accept()
        if name == "lot":
            return self._lot(value)
        if name == "bin_done":
            return self._bin_done()
        if name == "submit":
            return self._submit()
        if name == "cancel":
            return self._cancel()
        return self.unknown_input(name)

    # == downloading and choosing ================================================================
    def download(self) -> None:
        """The counts this worker may do (raises Offline / Refused): those in progress for
        them first (they resume), then the open ones."""
        found: list[dict[str, Any]] = []
        for status in ("in_progress", "open"):
            page = self.work.get(PREFIX, {"status": status, "mine": "true"})["data"]
            found += page["items"] if isinstance(page, dict) else page
        me = self._me()
        self.tasks = [
            t for t in found if t["status"] == "open" or t.get("assigned_to") in (None, me)
        ]
        skus = {t["sku"] for t in self.tasks if t.get("kind") == "item" and t.get("sku")}
        self.work.load_items(skus)
        self.downloaded = True

    def _me(self) -> int | None:
        session = self.work.conn.session
        return session.user_id if session is not None else None

    def _ordered(self) -> list[dict[str, Any]]:
        """Suggested counts first (a pick asked for them), then the worker's own, then the
        rest in the server's order."""
        suggested = suggested_counts(self.work.conn)
        me = self._me()

        def rank(t: dict[str, Any]) -> tuple[int, int]:
            if t["id"] in suggested:
                return (0, suggested.index(t["id"]))
            return (1 if t.get("assigned_to") == me else 2, 0)

        return sorted(self.tasks, key=rank)

    def _first_task(self) -> dict[str, Any] | None:
        ordered = self._ordered()
        return ordered[0] if ordered else None

    def next_task(self) -> Feedback:
        """Download again (when nothing is waiting to be sent) and take the first count."""
        if self.state not in (CHOOSE, NO_TASK, SUBMITTED):
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        try:
            if self.work.pending == 0:
                self.download()
        except Offline:
            if not self.downloaded:
                return bad(ErrorCode.TERMINAL_OFFLINE)
        except EdgeError as exc:
            return refused(exc)
        if self.task is not None and self.task["status"] == "counted":  # just submitted
            self.tasks = [t for t in self.tasks if t["id"] != self.task["id"]]
        first = self._first_task()
        if first is None:
            self._reset(None)
            self.state = NO_TASK
            return info(text="Nothing to count for you.")
        return self._choose(first)

    def choose_id(self, value: Any) -> Feedback:
        if self.state not in (CHOOSE, NO_TASK, SUBMITTED):
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        task_id = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and value.strip().isdigit():
            task_id = int(value.strip())
        task = next((t for t in self.tasks if t["id"] == task_id), None)
        if task is None:
            return bad(ErrorCode.COUNT_TASK_NOT_FOUND, task_id=value)
        return self._choose(task)

    def _bin_of_a_task(self, scan: DecodedScan) -> Feedback:
        """A bin scanned at the list: the count that visits it (then that bin is counted)."""
        parsed = parse(scan, PLACE_KINDS)
        if isinstance(parsed, Feedback):
            return parsed
        task = next((t for t in self._ordered() if parsed.value in (t.get("bins") or [])), None)
        if task is None:
            return bad(ErrorCode.COUNT_BIN_NOT_IN_TASK, scanned=parsed.value)
        self._choose(task)
        return self._scan_bin(scan)

    def _choose(self, task: dict[str, Any]) -> Feedback:
        if not task.get("bins"):
            return bad(ErrorCode.COUNT_NOTHING_TO_COUNT, task_id=task["id"])
        self._reset(task)
        if task["status"] == "open":
            command = self.work.enqueue(f"{PREFIX}/{task['id']}/claim", {}, workflow=self.name)
            self.track(command, None, step="claim", task=task["id"])
            task["status"], task["assigned_to"] = "in_progress", self._me()
        self.state = SCAN_BIN
        bins = task["bins"]
        where = f"{len(bins)} bins" if len(bins) > 1 else bins[0]
        return good(text=f"Count {task['id']}: {where}. Go to {bins[0]}.", task=task["id"])

    def _reset(self, task: dict[str, Any] | None) -> None:
        self.task, self.bin, self.lpn, self.pending = task, None, None, None
        self.visited, self.counted = [], []
        self.submit_warned, self.outcome = False, None

    # == counting ================================================================================
    def _next_bin(self) -> str | None:
        bins = (self.task or {}).get("bins") or []
        return next((b for b in bins if b not in self.visited), None)

    def _scan_bin(self, scan: DecodedScan) -> Feedback:
        task = self.task
        assert task is not None
        parsed = parse(scan, PLACE_KINDS)
        if isinstance(parsed, Feedback):
            return parsed
        if parsed.value not in task["bins"]:
            return bad(
                ErrorCode.COUNT_BIN_NOT_IN_TASK,
                scanned=parsed.value,
                bins=list(task["bins"]),
                task_id=task["id"],
            )
        if self.bin is not None and self.bin != parsed.value and self.bin not in self.visited:
            self.visited.append(self.bin)  # walked on to another bin of the count
        if parsed.value in self.visited:
            self.visited.remove(parsed.value)  # counted again: more lines for it
        self.bin, self.lpn, self.pending = parsed.value, None, None
        self.state, self.submit_warned = SCAN_ITEM, False
        what = task.get("sku") or task.get("lpn") or "each product"
        return good(text=f"{parsed.value}: scan {what}.", bin=parsed.value)

    def _scan_item(self, scan: DecodedScan) -> Feedback:
        task = self.task
        assert task is not None
        parsed = parse(scan, {*PLACE_KINDS, ScanKind.ITEM, ScanKind.LPN})
        if isinstance(parsed, Feedback):
            return parsed
        if parsed.kind in PLACE_KINDS:
            if parsed.value == self.bin:
                self.pending, self.lpn, self.state = None, None, SCAN_ITEM
                return info(text=f"Still counting {self.bin}.")
            return self._scan_bin(scan)
        if parsed.kind is ScanKind.LPN:
            if task.get("kind") == "lpn" and parsed.value != task.get("lpn"):
                return bad(
                    ErrorCode.COUNT_LPN_NOT_IN_TASK, scanned=parsed.value, lpn=task.get("lpn")
                )
            self.lpn, self.pending, self.state = parsed.value, None, SCAN_ITEM
            return good(text=f"LPN {parsed.value}: scan its product.", lpn=parsed.value)
        return self._product(parsed, scan)

    def _product(self, parsed: Scan, scan: DecodedScan) -> Feedback:
        task = self.task
        assert task is not None and parsed.gtin is not None
        try:
            match = self.work.lookup_gtin(parsed.gtin)
        except Offline:
            match = None  # not downloaded and the server is out of reach: it judges on replay
        except EdgeError as exc:
            return refused(exc)
        else:
            if match is None:
                return bad(ErrorCode.UNKNOWN_ITEM, gtin=parsed.gtin)
        if task.get("kind") == "item" and (match is None or match[0].sku != task.get("sku")):
            return bad(  # the task's item was downloaded: anything else is another item
                ErrorCode.COUNT_ITEM_NOT_IN_TASK,
                scanned_gtin=parsed.gtin,
                scanned_sku=match[0].sku if match else None,
                sku=task.get("sku"),
            )
        if task.get("kind") == "lpn" and not self.lpn:
            return bad(
                ErrorCode.TERMINAL_WRONG_STEP,
                state=self.state,
                reason="scan the LPN first",
                lpn=task.get("lpn"),
            )
        item, units = match if match is not None else (None, 1)
        label_qty = parsed.count * units if parsed.count else None
        self.pending = {
            "sku": item.sku if item else None,
            "description": item.description if item else "",
            "gtin": parsed.gtin,
            "scan": scan.text,
            "units": units,
            "lot": parsed.lot,
            "expiry": parsed.expiry,
            "lpn": self.lpn,
            "label_qty": label_qty,
            "lot_tracked": bool(item and item.lot_tracked),
        }
        if self.pending["lot_tracked"] and not parsed.lot:
            self.state = SET_LOT
            return info(ErrorCode.LOT_REQUIRED, sku=self.pending["sku"])
        self.state = SET_QUANTITY
        name = self.pending["sku"] or parsed.gtin
        return good(text=f"{name}: key the count.", sku=self.pending["sku"])

    def _lot_scan(self, scan: DecodedScan) -> Feedback:
        p = self.pending
        assert p is not None
        parsed = parse(scan, {ScanKind.ITEM, ScanKind.ITEM_DATA, *PLACE_KINDS, ScanKind.LPN})
        if isinstance(parsed, Feedback):
            return parsed
        if parsed.kind is ScanKind.ITEM and parsed.gtin != p["gtin"]:
            return self._scan_item(scan)  # another product: it replaces this one
        if parsed.kind is not ScanKind.ITEM_DATA and parsed.kind is not ScanKind.ITEM:
            return self._scan_item(scan)
        if not parsed.lot:
            return bad(ErrorCode.LOT_REQUIRED, sku=p["sku"])
        p["lot"], p["expiry"] = parsed.lot, parsed.expiry or p["expiry"]
        if parsed.count:
            p["label_qty"] = parsed.count * int(p["units"])
        self.state = SET_QUANTITY
        return good(text=f"Lot {parsed.lot}: key the count.", lot=parsed.lot)

    def _lot(self, value: Any) -> Feedback:
        if self.state != SET_LOT or self.pending is None:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        lot, expiry = value, None
        if isinstance(value, dict):
            lot, expiry = value.get("lot"), value.get("expiry")
        if not isinstance(lot, str) or not lot.strip() or len(lot.strip()) > 20:
            return bad(ErrorCode.LOT_REQUIRED, sku=self.pending["sku"], lot=lot)
        if expiry is not None:
            try:
                expiry = date.fromisoformat(str(expiry))
            except ValueError:
                return bad(ErrorCode.VALIDATION_FAILED, fields={"expiry": "YYYY-MM-DD"})
        self.pending["lot"] = lot.strip()
        self.pending["expiry"] = expiry or self.pending["expiry"]
        self.state = SET_QUANTITY
        return good(text=f"Lot {lot.strip()}: key the count.", lot=lot.strip())

    def _quantity(self, value: Any) -> Feedback:
        if self.state != SET_QUANTITY or self.pending is None:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        n = _count(value)
        if n is None or n * int(self.pending["units"]) > MAX_COUNT:
            return _bad_count(value)
        return self._record(n * int(self.pending["units"]))

    def _accept(self) -> Feedback:
        """Accept the count the GS1 label carried."""
        p = self.pending
        if self.state != SET_QUANTITY or p is None or p.get("label_qty") is None:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        return self._record(int(p["label_qty"]))

    def _record(self, qty: int) -> Feedback:
        task, p, where = self.task, self.pending, self.bin
        assert task is not None and p is not None and where is not None
        body: dict[str, Any] = {"location": where, "qty": qty}
        if p["sku"]:
            body["sku"] = p["sku"]
        else:  # not known here (offline): the server resolves the scan, case GTINs included
            body["scan"], body["qty"] = p["scan"], qty // int(p["units"])
        if p["lot"]:
            body["lot"] = p["lot"]
        if p["expiry"]:
            body["expiry"] = p["expiry"].isoformat()
        if p["lpn"]:
            body["lpn"] = p["lpn"]
        command = self.work.enqueue(
            f"{PREFIX}/{task['id']}/lines", body, workflow=self.name, scanned_at=None
        )
        self.track(command, None, step="line", task=task["id"])
        line = {
            "seq": command.seq,
            "location": where,
            "sku": p["sku"] or p["gtin"],
            "lot": p["lot"],
            "lpn": p["lpn"],
            "qty": qty,
            "refused": False,
        }
        # The server keeps the latest count of a key (bin, item, lot, LPN): so does the list.
        key = ("location", "sku", "lot", "lpn")
        earlier = next((c for c in self.counted if all(c[k] == line[k] for k in key)), None)
        text = f"Counted {_line_text(line)}."
        if earlier is not None:
            self.counted.remove(earlier)
            text = f"Counted {_line_text(line)} (instead of {earlier['qty']})."
        self.counted.append(line)
        self.pending, self.state = None, SCAN_ITEM
        if task.get("kind") != "lpn":
            self.lpn = None
        return good(text=text, qty=qty, sku=line["sku"])

    def _cancel(self) -> Feedback:
        if self.state in (SET_LOT, SET_QUANTITY):
            self.pending, self.state = None, SCAN_ITEM
            return info(text="Not counted: scan the product again.")
        if self.state == SCAN_ITEM and self.lpn:
            self.lpn = None
            return info(text="LPN dropped: scan a product or an LPN.")
        return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)

    def _bin_done(self) -> Feedback:
        if self.state != SCAN_ITEM or self.bin is None:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        done = self.bin
        if done not in self.visited:
            self.visited.append(done)
        self.bin, self.lpn, self.pending = None, None, None
        nxt = self._next_bin()
        if nxt is None:
            self.state = REVIEW
            return good(text=f"{done} done. Every bin is counted: press Submit.")
        self.state = SCAN_BIN
        return good(text=f"{done} done. Go to {nxt}.", next_bin=nxt)

    def _submit(self) -> Feedback:
        task = self.task
        if task is None or self.state not in (SCAN_BIN, SCAN_ITEM, REVIEW):
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        if self.state == SCAN_ITEM and self.bin is not None and self.bin not in self.visited:
            self.visited.append(self.bin)
        left = [b for b in task["bins"] if b not in self.visited]
        if left and not self.submit_warned:
            self.submit_warned = True
            return info(
                text=f"Not counted yet: {', '.join(left)}. They count as empty: press Submit "
                "again to submit.",
                bins=left,
            )
        command = self.work.enqueue(f"{PREFIX}/{task['id']}/submit", {}, workflow=self.name)
        self.track(command, None, step="submit", task=task["id"])
        self.bin, self.lpn, self.pending = None, None, None
        self.state, self.outcome = SUBMITTED, None
        task["status"] = "counted"
        self.tasks = [t for t in self.tasks if t["id"] != task["id"]]  # not offered again
        return Feedback(Tone.DONE, None, "Count submitted.", {"task": task["id"]})

    # == what the server answered ===============================================================
    def applied(self, tracked: Tracked, envelope: dict[str, Any]) -> None:
        self._applied.add(tracked.seq)
        data = envelope.get("data") or {}
        step = tracked.note.get("step")
        same = self.task is not None and self.task["id"] == tracked.note.get("task")
        if step == "submit" and same and isinstance(data, dict):
            self.outcome = {
                "outcome": data.get("outcome"),
                "recount_task_id": data.get("recount_task_id"),
            }
        elif step == "claim" and same and isinstance(data, dict):
            fresh = data.get("task", data)
            if isinstance(fresh, dict) and fresh.get("id") == tracked.note.get("task"):
                assert self.task is not None
                self.task.update({k: v for k, v in fresh.items() if k != "bins"})

    def reconcile(self) -> Feedback | None:
        before = [t for t in self._tracked if t.note.get("step") == "line"]
        news = super().reconcile()
        still = {t.seq for t in self._tracked}
        refused_now = {t.seq for t in before if t.seq not in still and t.seq not in self._applied}
        for line in self.counted:
            if line["seq"] in refused_now:
                line["refused"] = True
        return news

    def resync(self) -> None:
        """After a refusal: the counts as the server has them now. A count that is no longer
        this worker's (a recount of their own count, given to someone else) is left."""
        self.download()
        if self.task is None:
            return
        fresh = next((t for t in self.tasks if t["id"] == self.task["id"]), None)
        if fresh is None:
            if self.state != SUBMITTED:
                self._reset(None)
                self.state = CHOOSE
            return
        self.task.update({k: v for k, v in fresh.items() if k != "bins"})
        if self.state == SUBMITTED and self.outcome is None:
            self.state = REVIEW if self._next_bin() is None else SCAN_BIN  # submit again

    # -- rows -----------------------------------------------------------------------------------
    def _bin_lines(self) -> list[dict[str, Any]]:
        """One row per bin of the count, in walk order, with what this worker counted in it
        (never what the books say)."""
        rows = []
        for b in (self.task or {}).get("bins") or []:
            mine = [c for c in self.counted if c["location"] == b]
            text = b
            if mine:
                text += "  ·  " + ",  ".join(_line_text(c) for c in mine)
            elif b in self.visited:
                text += "  ·  empty"
            rows.append(
                {
                    "text": text,
                    "done": b in self.visited and b != self.bin,
                    "current": b == (self.bin or self._next_bin()),
                    "short": any(c["refused"] for c in mine),
                }
            )
        return rows

    def _task_line(self, t: dict[str, Any]) -> dict[str, Any]:
        first = suggested_counts(self.work.conn)[:1] == [t["id"]]
        text = f"Task {t['id']}  ·  {_where(t)}  ·  {_reason(t)}"
        if t.get("status") == "in_progress":
            text += "  ·  yours, in progress"
        return {"text": text, "current": first, "id": t["id"]}


def _reason(task: dict[str, Any]) -> str:
    return {
        "schedule": "scheduled",
        "nth_putaway": "after putaway",
        "bin_full": "bin full",
        "short_pick": "short pick",
        "low_after_pick": "left after your pick",
        "recount": "recount",
        "manual": "supervisor",
    }.get(str(task.get("reason")), str(task.get("reason") or ""))


def _where(task: dict[str, Any]) -> str:
    bins = task.get("bins") or []
    what = task.get("sku") or task.get("lpn")
    place = bins[0] if len(bins) == 1 else f"{len(bins)} bins"
    return f"{what} in {place}" if what and task.get("kind") != "bin" else place


def _shown(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "sku": p.get("sku") or p.get("gtin"),
        "description": p.get("description"),
        "lot": p.get("lot"),
        "expiry": p["expiry"].isoformat() if p.get("expiry") else None,
        "on_lpn": p.get("lpn"),
    }


def _line_text(line: dict[str, Any]) -> str:
    lot = f" lot {line['lot']}" if line.get("lot") else ""
    lpn = f" on {line['lpn']}" if line.get("lpn") else ""
    refused_ = " (refused)" if line.get("refused") else ""
    return f"{line['qty']} × {line['sku']}{lot}{lpn}{refused_}"
