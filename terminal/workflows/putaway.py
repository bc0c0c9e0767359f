"""Directed putaway (and replenishment) on the handheld (no Kivy).

While online the workflow downloads the open tasks (`GET /putaway/tasks`): LPN, SKU, lot,
quantity, where the goods wait and the bin the server chose (its room already reserved).
The worker scans the LPN at the dock (or presses Next for the task nearest them), walks to the
bin and scans it. The scan is checked here: the suggested bin confirms at once; another bin
needs an override reason first (`PUTAWAY_OVERRIDE_REASON_REQUIRED`, as the server says), and
whether that bin is allowed and has room is the server's to judge on replay (a refusal is shown
and reported). The confirm (`POST /putaway/tasks/{id}/confirm`) is queued before "good".

"Bin full" asks the server for a new suggestion, so it needs the server at once.
Replenishment works the same from `/replenishment/tasks`, with no overrides: the scan must be
the pick face (`REPLENISHMENT_WRONG_BIN`).
"""

from __future__ import annotations

from typing import Any

from protocols.barcodes import PLACE_KINDS, ScanKind
from protocols.errors import ErrorCode
from terminal.client.edge import EdgeError, Offline
from terminal.scanners.base import DecodedScan
from terminal.workflows.base import Feedback, Tone, View
from terminal.workflows.session import QueuedWorkflow, Work, bad, good, info, parse, refused

__all__ = ["OVERRIDE_REASONS", "PutawayWorkflow", "ReplenishmentWorkflow"]

#: Why a worker puts stock elsewhere than suggested; the server's list
#: (edge_server/wms/putaway/tasks.py, checked equal by tests/test_terminal_workflows_putaway.py).
OVERRIDE_REASONS = (
    "bin_full",
    "bin_damaged",
    "item_does_not_fit",
    "bin_blocked",
    "supervisor_instruction",
    "other",
)

SCAN_LPN = "scan_lpn"  # choose a task: scan the LPN at the dock, or press Next
SCAN_BIN = "scan_bin"  # the server's state name: walk to the bin and scan it
NO_TASK = "no_task"  # the server's state name: nothing to put away


class PutawayWorkflow(QueuedWorkflow):
    name = "putaway"
    title = "Putaway"
    kind = "putaway"
    prefix = "/putaway/tasks"

    def __init__(self, work: Work) -> None:
        super().__init__(work)
        self.tasks: list[dict[str, Any]] = []  # downloaded open tasks with a bin
        self.task: dict[str, Any] | None = None
        self.reason: str | None = None
        self.state = SCAN_LPN
        self.downloaded = False

    # == the screen's interface ==================================================================
    def view(self) -> View:
        self.reconcile()
        t = self.task or {}
        fields: dict[str, Any] = {}
        if self.state == SCAN_BIN and t:
            fields = {
                k: t.get(k)
                for k in ("id", "lpn", "sku", "description", "lot", "qty", "from_location")
            } | {
                "to_location": t["to_location"],
                "why": t.get("reason"),
                "alternates": t.get("alternates", []),
                "override_reason": self.reason,
            }
            prompt = f"Take {t['qty']} × {t['sku']} to {t['to_location']} and scan the bin."
        elif self.state == NO_TASK:
            prompt = "Nothing to put away. Press Next to look again."
        else:
            prompt = "Scan the LPN of the pallet, or press Next."
        open_tasks = [x for x in self.tasks if x["status"] == "open"]
        done = sum(1 for x in self.tasks if x["status"] == "done")
        return self.make_view(
            prompt,
            self.state,
            fields=fields,
            lines=[
                {k: x.get(k) for k in ("id", "lpn", "sku", "qty", "from_location", "to_location")}
                for x in open_tasks
            ],
            progress=(done, len(self.tasks)),
        )

    def on_scan(self, scan: DecodedScan) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if self.state == SCAN_BIN:
            return self._bin(scan)
        return self._lpn(scan)

    def on_input(self, name: str, value: Any) -> Feedback:
        news = self.reconcile()
        if news is not None and news.tone is Tone.BAD:
            return news
        if name == "next":
            return self.next_task(str(value) if value else None)
        if name == "reason":
            return self._reason(value)
        if name == "bin_full":
            return self._bin_full()
        if name == "cancel":
            self.task, self.reason, self.state = None, None, SCAN_LPN
            return info(text="Back to the task list.")
        return self.unknown_input(name)

    # == downloading and choosing ================================================================
    def download(self) -> None:
        """The open tasks with a bin (raises Offline / Refused)."""
        items = self.work.get(self.prefix, {"status": "open", "limit": 1000})["data"]["items"]
        self.tasks = [t for t in items if t.get("to_location")]
        self.work.load_items({t["sku"] for t in self.tasks})
        self.downloaded = True

    def next_task(self, position: str | None = None) -> Feedback:
        """The task nearest `position` from the server; offline, the first downloaded one."""
        if self.state == SCAN_BIN:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        try:
            if self.work.pending == 0:
                self.download()
            params = {"position": position} if position else None
            found = self.work.get(f"{self.prefix}/next", params)["data"]["task"]
            chosen = next((t for t in self.tasks if found and t["id"] == found["id"]), found)
        except Offline:
            if not self.downloaded:
                return bad(ErrorCode.TERMINAL_OFFLINE)
            chosen = next((t for t in self.tasks if t["status"] == "open"), None)
        except EdgeError as exc:
            return refused(exc)
        if chosen is None:
            self.state, self.task = NO_TASK, None
            return info(text="Nothing to put away.")
        return self._choose(chosen)

    def _choose(self, task: dict[str, Any]) -> Feedback:
        if task not in self.tasks:
            self.tasks.append(task)
        self.task, self.reason, self.state = task, None, SCAN_BIN
        return good(text=f"Task {task['id']}: to {task['to_location']}.", task=task["id"])

    def _lpn(self, scan: DecodedScan) -> Feedback:
        parsed = parse(scan, {ScanKind.LPN})
        if isinstance(parsed, Feedback):
            return parsed
        task = self._open_for(parsed.value)
        if task is None and self.work.pending == 0:
            try:  # goods received since the download
                self.download()
            except Offline:
                return bad(ErrorCode.TERMINAL_OFFLINE, lpn=parsed.value)
            except EdgeError as exc:
                return refused(exc)
            task = self._open_for(parsed.value)
        if task is None:
            return bad(ErrorCode.TASK_NOT_FOUND, lpn=parsed.value)
        return self._choose(task)

    def _open_for(self, lpn: str) -> dict[str, Any] | None:
        return next((t for t in self.tasks if t["status"] == "open" and t["lpn"] == lpn), None)

    # == confirming ===============================================================================
    def _bin(self, scan: DecodedScan) -> Feedback:
        task = self.task
        assert task is not None
        parsed = parse(scan, PLACE_KINDS)
        if isinstance(parsed, Feedback):
            return parsed
        body: dict[str, Any] = {"scan": scan.text}
        if scan.symbology:
            body["symbology"] = scan.symbology
        overridden = parsed.value != task["to_location"]
        if overridden:
            refusal = self._override_refusal(parsed.value)
            if refusal is not None:
                return refusal
            body["reason_code"] = self.reason
        command = self.work.enqueue(
            f"{self.prefix}/{task['id']}/confirm",
            body,
            workflow=self.name,
            scanned_at=scan.scanned_at,
        )
        self.track(command, None, task=task["id"])
        task.update(status="done", confirmed_location=parsed.value)
        task["override_reason"] = self.reason if overridden else None
        more = self._open_for(task["lpn"]) if task["lpn"] else None
        if more is not None:
            self._choose(more)
        else:
            self.task, self.reason, self.state = None, None, SCAN_LPN
        text = f"{task['qty']} × {task['sku']} into {parsed.value}."
        if more is not None:
            text += f" The rest goes to {more['to_location']}."
        return Feedback(Tone.GOOD, None, text, {"task": task["id"], "bin": parsed.value})

    def _override_refusal(self, scanned: str) -> Feedback | None:
        task = self.task
        assert task is not None
        if not self.reason:
            return bad(
                ErrorCode.PUTAWAY_OVERRIDE_REASON_REQUIRED,
                suggested=task["to_location"],
                scanned=scanned,
                reasons=list(OVERRIDE_REASONS),
            )
        return None

    def _reason(self, value: Any) -> Feedback:
        if self.state != SCAN_BIN:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        if value not in OVERRIDE_REASONS:
            return Feedback(
                Tone.BAD,
                ErrorCode.VALIDATION_FAILED.value,
                "That reason is not one of the override reasons.",
                {"reason_code": value, "reasons": list(OVERRIDE_REASONS)},
            )
        self.reason = str(value)
        return info(text="Reason noted: scan the bin you use.", reason_code=self.reason)

    def _bin_full(self) -> Feedback:
        """The suggested bin is full: the server suggests the next (needs the server)."""
        if self.state != SCAN_BIN or self.task is None:
            return bad(ErrorCode.TERMINAL_WRONG_STEP, state=self.state)
        blocked = self.can_start()
        if blocked is not None:
            return blocked
        task_id = self.task["id"]
        try:
            envelope = self.work.send_now(f"{self.prefix}/{task_id}/bin-full", {})
            self.download()
        except EdgeError as exc:
            return refused(exc)
        new = envelope["data"]["task"]
        if not new.get("to_location"):
            self.task, self.state = None, SCAN_LPN
            return bad(ErrorCode.PUTAWAY_NO_BIN, task=task_id)
        mine = next((t for t in self.tasks if t["id"] == task_id), new)
        return self._choose(mine)

    def resync(self) -> None:
        self.download()
        if self.task is not None:
            fresh = next((t for t in self.tasks if t["id"] == self.task["id"]), None)
            if fresh is None:  # done or gone on the server
                self.task, self.reason, self.state = None, None, SCAN_LPN
            else:
                self.task = fresh


class ReplenishmentWorkflow(PutawayWorkflow):
    """Refill a pick face from reserve: the same flow, no override (the pick face only)."""

    name = "replenishment"
    title = "Replenishment"
    kind = "replenish"
    prefix = "/replenishment/tasks"

    def _override_refusal(self, scanned: str) -> Feedback | None:
        task = self.task
        assert task is not None
        return bad(ErrorCode.REPLENISHMENT_WRONG_BIN, expected=task["to_location"], scanned=scanned)

    def _reason(self, value: Any) -> Feedback:
        return bad(ErrorCode.REPLENISHMENT_WRONG_BIN, reason_code=value)

    def _bin_full(self) -> Feedback:
        return self.unknown_input("bin_full")
