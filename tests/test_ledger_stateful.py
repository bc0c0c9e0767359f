"""Random receipts, moves, picks, status changes, shipments and adjustments against a model:
after every step the database equals the model and `stock == sum(movements)` holds."""

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.wms import ledger
from edge_server.wms.ledger import StockKey, check_ledger

from factories import make_item, make_site

BINS = ["DOCK-01", "A01-01-1L", "A01-02-1L", "A02-01-3R", "PACK-01"]
LOTS = ["", "L1"]
LPNS = ["", "LPN1"]
STATUSES = ["available", "quarantine", "damaged"]

qtys = st.integers(min_value=1, max_value=30)
keys = st.tuples(
    st.sampled_from(BINS),
    st.sampled_from([0, 1]),
    st.sampled_from(LOTS),
    st.sampled_from(LPNS),
    st.sampled_from(STATUSES),
)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.db = Database(Path(self.tmp.name) / "ledger.db")
        self.db.migrate()
        self.bins = make_site(self.db, bins={b: "pick_face" for b in BINS})
        self.items = [make_item(self.db, "SKU-A"), make_item(self.db, "SKU-B")]
        self.model: Counter[tuple] = Counter()
        self.refusals = 0

    def teardown(self) -> None:
        self.db.close()
        self.tmp.cleanup()

    def key(self, k: tuple) -> StockKey:
        b, i, lot, lpn, status = k
        return StockKey(self.bins[b], self.items[i], lot, lpn, status)

    def attempt(self, op, changes: dict[tuple, int]) -> None:
        """Run op in a transaction; apply `changes` to the model only if the model says the
        operation is possible, and check the database agreed."""
        possible = all(self.model[k] + d >= 0 for k, d in changes.items())
        try:
            with self.db.write() as w:
                op(w)
        except AislewayError as exc:
            assert not possible, f"refused a possible operation: {exc}"
            assert exc.code == "INSUFFICIENT_STOCK"
            self.refusals += 1
            return
        assert possible, "accepted an operation that would drive stock negative"
        for k, d in changes.items():
            self.model[k] += d

    @rule(k=keys, qty=qtys)
    def receive(self, k, qty):
        self.attempt(lambda w: ledger.receive(w, self.key(k), qty), {k: qty})

    @rule(k=keys, to=st.sampled_from(BINS), qty=qtys, relabel=st.sampled_from([None, "", "LPN2"]))
    def move(self, k, to, qty, relabel):
        target = (to, k[1], k[2], k[3] if relabel is None else relabel, k[4])
        if target == k:
            return
        self.attempt(
            lambda w: ledger.move(w, self.key(k), self.bins[to], qty, to_lpn=relabel),
            {k: -qty, target: +qty},
        )

    @rule(k=keys, qty=qtys)
    def pick(self, k, qty):
        target = ("PACK-01", k[1], k[2], "TOTE", k[4])
        self.attempt(
            lambda w: ledger.move(
                w, self.key(k), self.bins["PACK-01"], qty, to_lpn="TOTE", movement_type="pick"
            ),
            {k: -qty, target: qty},
        )

    @rule(k=keys, qty=qtys, to_status=st.sampled_from(STATUSES))
    def change_status(self, k, qty, to_status):
        if to_status == k[4]:
            return
        target = (*k[:4], to_status)
        self.attempt(
            lambda w: ledger.change_status(w, self.key(k), to_status, qty, reason="qc"),
            {k: -qty, target: qty},
        )

    @rule(k=keys, qty=qtys)
    def ship(self, k, qty):
        self.attempt(lambda w: ledger.remove(w, self.key(k), qty, movement_type="ship"), {k: -qty})

    @rule(k=keys, delta=st.integers(min_value=-20, max_value=20).filter(bool))
    def adjust(self, k, delta):
        self.attempt(lambda w: ledger.adjust(w, self.key(k), delta, reason="count"), {k: delta})

    @invariant()
    def database_equals_model(self):
        rows = self.db.query("SELECT location_id, item_id, lot, lpn, status, qty FROM stock")
        by_id = {v: k for k, v in self.bins.items()}
        actual = {
            (
                by_id[r["location_id"]],
                self.items.index(r["item_id"]),
                r["lot"],
                r["lpn"],
                r["status"],
            ): r["qty"]
            for r in rows
        }
        expected = {k: v for k, v in self.model.items() if v}
        assert actual == expected
        assert all(r["qty"] > 0 for r in rows), "zero rows are removed"

    @invariant()
    def ledger_checks(self):
        report = check_ledger(self.db)
        assert report.ok, list(report.lines())


LedgerMachine.TestCase.settings = hsettings(max_examples=40, stateful_step_count=30, deadline=None)
TestLedgerStateful = LedgerMachine.TestCase
