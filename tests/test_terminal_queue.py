"""The handheld's durable command queue on a real SQLite file (no network)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime

import pytest

from terminal.client.queue import CommandQueue, Ref, Status, UnresolvedRef


@pytest.fixture
def queue(tmp_path):
    q = CommandQueue(tmp_path / "queue.db", device_id=7)
    yield q
    q.close()


def test_enqueue_is_on_disk_before_it_returns(tmp_path, queue):
    when = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    queue.set_user(42)
    cmd = queue.enqueue("post", "/inventory/moves", {"qty": 1}, workflow="move", scanned_at=when)
    assert (cmd.seq, cmd.method, cmd.status, cmd.user_id) == (1, "POST", Status.PENDING, 42)
    assert cmd.key == f"7-{queue.queue_id}-1" and cmd.device_id == 7
    # another connection (another process after a crash) sees the committed row
    other = sqlite3.connect(tmp_path / "queue.db")
    row = other.execute("SELECT key, scanned_at, status FROM commands").fetchone()
    other.close()
    assert row == (cmd.key, "2025-03-04T05:06:07.000000+00:00", "pending")
    mode = queue._conn.execute("PRAGMA journal_mode").fetchone()[0]
    sync = queue._conn.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL


def test_seq_and_keys_continue_after_reopening(tmp_path):
    q = CommandQueue(tmp_path / "q.db", 3)
    q.enqueue("POST", "/a", {}, workflow="w")
    q.close()
    q = CommandQueue(tmp_path / "q.db", 3)
    second = q.enqueue("POST", "/a", {}, workflow="w")
    assert second.seq == 2 and q.pending_count() == 2
    q.close()
    # a lost and recreated queue file never reuses an old key
    (tmp_path / "q.db").unlink()
    fresh = CommandQueue(tmp_path / "q.db", 3)
    assert fresh.enqueue("POST", "/a", {}, workflow="w").key != f"3-{q.queue_id}-1"
    fresh.close()


def test_seqs_are_unique_and_gapless_from_many_threads(queue):
    def worker() -> None:
        for _ in range(50):
            queue.enqueue("POST", "/a", {"n": 1}, workflow="w")

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [c.seq for c in queue.commands()] == list(range(1, 301))
    assert len({c.key for c in queue.commands()}) == 300


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("GET", "/a", {}), {"workflow": "w"}, "method"),
        (("POST", "a", {}), {"workflow": "w"}, "path"),
        (("POST", "/a b", {}), {"workflow": "w"}, "path"),
        (("POST", "/a", {}), {"workflow": ""}, "workflow"),
        (("POST", "/a", {"x": object()}), {"workflow": "w"}, "JSON"),
        (("POST", "/a", {"x": float("nan")}), {"workflow": "w"}, "JSON"),
        (("POST", "/a", {"$ref": 1}), {"workflow": "w"}, "reserved"),
        (("POST", "/a", {}), {"workflow": "w", "scanned_at": datetime(2025, 1, 1)}, "time zone"),
        (("POST", "/a", {"id": Ref(1, "data.id")}), {"workflow": "w"}, "earlier"),
    ],
)
def test_bad_commands_are_refused_and_nothing_is_queued(queue, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        queue.enqueue(*args, **kwargs)
    assert queue.commands() == []


def test_refs_are_stored_and_resolved_from_the_source_answer(queue):
    first = queue.enqueue("POST", "/scenarios/receiving/start", {"po": "PO-1"}, workflow="recv")
    body = {
        "session_id": Ref(first.seq, "data.scan_item.session_id"),
        "lines": [Ref(1, "data.lines.-1")],
    }
    second = queue.enqueue("POST", "/scenarios/receiving/scan", body, workflow="recv")
    assert queue.get(second.seq).body == body  # Refs survive the round trip through SQLite
    queue.mark_applied(
        first.seq, 200, {"data": {"scan_item": {"session_id": 91}, "lines": [{"id": 1}, {"id": 2}]}}
    )
    assert queue.resolve(queue.get(second.seq)) == {"session_id": 91, "lines": [{"id": 2}]}
    assert queue.result(first.seq)["data"]["scan_item"]["session_id"] == 91
    assert queue.result(second.seq) is None


def test_a_ref_to_a_missing_value_or_a_rejected_command_cannot_resolve(queue):
    a = queue.enqueue("POST", "/a", {}, workflow="w")
    b = queue.enqueue("POST", "/b", {}, workflow="w")
    missing = queue.enqueue("POST", "/c", {"x": Ref(a.seq, "data.nope")}, workflow="w")
    on_rejected = queue.enqueue("POST", "/d", {"x": Ref(b.seq, "data.id")}, workflow="w")
    queue.mark_applied(a.seq, 201, {"data": {"id": 1}})
    queue.mark_rejected(b.seq, code="INSUFFICIENT_STOCK", text="Not enough.", status=409)
    with pytest.raises(UnresolvedRef) as exc:
        queue.resolve(queue.get(missing.seq))
    assert exc.value.code == "QUEUE_REF_MISSING" and exc.value.details["ref_path"] == "data.nope"
    with pytest.raises(UnresolvedRef) as exc:
        queue.resolve(queue.get(on_rejected.seq))
    assert exc.value.code == "QUEUE_DEPENDS_ON_REJECTED"
    assert exc.value.details["ref_code"] == "INSUFFICIENT_STOCK"


def test_decided_commands_stay_decided_and_rejections_wait_for_acknowledgement(queue):
    a = queue.enqueue("POST", "/a", {}, workflow="w")
    queue.mark_rejected(a.seq, code="X", text="no", details={"k": 1}, status=422)
    with pytest.raises(KeyError):
        queue.mark_applied(a.seq, 200, {})  # a decision is final
    with pytest.raises(KeyError):
        queue.acknowledge(999)
    assert queue.pending_count() == 0 and queue.rejected_count() == 1
    assert [c.seq for c in queue.unreported()] == [a.seq]
    queue.mark_reported(a.seq)
    queue.acknowledge(a.seq)
    assert queue.unreported() == [] and queue.rejected_count() == 0
    kept = queue.rejected(include_acknowledged=True)
    assert [(c.error_code, c.error_details, c.acknowledged) for c in kept] == [
        ("X", {"k": 1}, True)
    ]


def test_listeners_hear_every_change(queue):
    heard: list[int] = []
    queue.add_listener(lambda q: heard.append(q.pending_count()))
    a = queue.enqueue("POST", "/a", {}, workflow="w")
    queue.mark_applied(a.seq, 200, {"data": {}})
    assert heard == [1, 0]


def test_a_queue_with_another_devices_unsent_commands_is_not_reused(tmp_path):
    q = CommandQueue(tmp_path / "q.db", 1)
    q.enqueue("POST", "/a", {}, workflow="w")
    q.close()
    with pytest.raises(ValueError, match="another device"):
        CommandQueue(tmp_path / "q.db", 2)


def test_tokens_are_kept_per_user(queue):
    queue.save_token(5, "awt1.a", 1e12)
    queue.save_token(5, "awt1.b", 1e12)
    assert queue.token_for(5) == "awt1.b" and queue.token_for(6) is None
    assert queue.token_for(None) is None
    queue.forget_token(5)
    assert queue.token_for(5) is None
