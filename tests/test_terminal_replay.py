"""The handheld's queue replayed to a live edge server: exactly once, in order, refusals
reported and kept (real uvicorn on 127.0.0.1 over a real SQLite file)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from terminal_sync_support import DroppingProxy, RestartableEdge, pair_and_login

from edge_server.wms.ledger import check_ledger
from terminal.client.edge import EdgeClient
from terminal.client.queue import Ref, Status
from terminal.client.replay import Replayer, SyncStatus

from conftest import make_settings
from factories import make_item, make_site

A, B = "A01-01-1L", "A01-02-1L"


@pytest.fixture
def edge_server(tmp_path: Path):
    edge = RestartableEdge(make_settings(tmp_path))
    edge.start()
    make_site(edge.svc.db)
    make_item(edge.svc.db, "SKU-1")
    yield edge
    edge.stop()


def receive_one(edge: RestartableEdge, client: EdgeClient) -> None:
    """One unit into bin A (sent directly, not through the queue)."""
    client.send(
        "POST",
        "/inventory/receipts",
        {"location": A, "sku": "SKU-1", "qty": 1, "ref": "setup"},
        "setup-receipt",
    )


def move(i: int) -> dict[str, object]:
    """The i-th move of one unit between A and B: odd moves go A→B, even ones B→A, so a move
    sent out of order or twice finds no stock (or leaves the unit in the wrong bin)."""
    src, dst = (A, B) if i % 2 else (B, A)
    return {"from_location": src, "to_location": dst, "sku": "SKU-1", "qty": 1, "ref": f"hh-{i}"}


def hh_movements(edge: RestartableEdge) -> list[dict[str, object]]:
    return edge.svc.db.query(
        "SELECT id, ref, from_location_id, to_location_id FROM movements "
        "WHERE ref LIKE 'hh-%' ORDER BY id"
    )


def stock_of(edge: RestartableEdge) -> dict[str, int]:
    rows = edge.svc.db.query(
        "SELECT l.code, s.qty FROM stock s JOIN locations l ON l.id = s.location_id WHERE s.qty > 0"
    )
    return {str(r["code"]): int(r["qty"]) for r in rows}


def test_server_stopped_mid_shift_200_scans_apply_exactly_once_in_order(edge_server, tmp_path):
    hh = pair_and_login(edge_server.svc, edge_server.api_url, tmp_path / "queue.db")
    receive_one(edge_server, hh.client)
    seen: list[SyncStatus] = []
    hh.replayer.add_listener(seen.append)
    hh.replayer.start()
    try:
        # Online part of the shift: ten moves go through at once.
        for i in range(1, 11):
            hh.queue.enqueue("POST", "/inventory/moves", move(i), workflow="move")
        assert hh.replayer.flush(30)
        assert hh.replayer.online

        edge_server.stop()
        # Offline: 200 scans confirmed on the handheld, each durable before "good".
        for i in range(11, 211):
            cmd = hh.queue.enqueue("POST", "/inventory/moves", move(i), workflow="move")
            assert hh.queue.get(cmd.seq) is not None
        assert hh.queue.pending_count() >= 199
        assert not hh.replayer.flush(0.5)  # nothing can go while the edge is down
        assert not hh.replayer.online
        assert any(not s.online and s.pending >= 199 for s in seen)

        edge_server.start()
        assert hh.replayer.flush(120)
        assert hh.replayer.online
        assert hh.queue.pending_count() == 0
    finally:
        hh.close()

    commands = hh.queue.commands()
    assert [c.status for c in commands] == [Status.APPLIED] * 210
    assert [c.seq for c in commands] == list(range(1, 211))
    # Exactly once and in order: one movement per command, in seq order, and each command
    # kept the movement the edge answered with.
    moves = hh_movements(edge_server)
    assert [m["ref"] for m in moves] == [f"hh-{i}" for i in range(1, 211)]
    assert [c.response["data"]["movement_id"] for c in commands] == [m["id"] for m in moves]
    assert stock_of(edge_server) == {A: 1}  # 210 moves: back where it started
    report = check_ledger(edge_server.svc.db)
    assert report.ok, (report.differences, report.integrity_errors)
    # the last status the UI heard: online, nothing pending
    assert seen[-1].online and seen[-1].pending == 0


def test_reply_lost_after_commit_is_resent_with_the_same_key_and_applied_once(
    edge_server, tmp_path
):
    hh = pair_and_login(edge_server.svc, edge_server.api_url, tmp_path / "queue.db")
    receive_one(edge_server, hh.client)
    hh.close()
    # The same handheld and queue, now reaching the edge through a proxy that loses one reply.
    queue = hh.queue
    cmds = [queue.enqueue("POST", "/inventory/moves", move(i), workflow="move") for i in (1, 2, 3)]
    first = cmds[1]
    proxy = DroppingProxy(edge_server.port, drop_key=first.key)
    client = EdgeClient(proxy.api_url, device=hh.client.device, timeout=5.0)
    replayer = Replayer(queue, client, backoff_min=0.02, backoff_max=0.1)
    try:
        assert replayer.flush(30)
    finally:
        proxy.close()
        client.close()

    # The second command reached the edge twice (the first reply was dropped after commit)...
    assert proxy.dropped == [first.key]
    assert proxy.forwarded.count(first.key) == 2
    # ...and was applied once: three commands, three movements, in order.
    moves = hh_movements(edge_server)
    assert [m["ref"] for m in moves] == ["hh-1", "hh-2", "hh-3"]
    second = queue.get(first.seq)
    assert second is not None and second.status is Status.APPLIED
    assert second.attempts == 2
    assert second.response["data"]["movement_id"] == moves[1]["id"]
    assert stock_of(edge_server) == {B: 1}
    assert check_ledger(edge_server.svc.db).ok
    queue.close()


def test_refused_replay_is_kept_reported_and_replay_goes_on(edge_server, tmp_path, as_role):
    hh = pair_and_login(edge_server.svc, edge_server.api_url, tmp_path / "queue.db")
    receive_one(edge_server, hh.client)
    q = hh.queue
    ok1 = q.enqueue("POST", "/inventory/moves", move(1), workflow="move")
    # decided offline, refused online: there is only one unit
    too_many = q.enqueue(
        "POST",
        "/inventory/moves",
        {"from_location": B, "to_location": A, "sku": "SKU-1", "qty": 5, "ref": "hh-x"},
        workflow="move",
    )
    # depends on the refused command's answer → refused too, with its own reason
    dependent = q.enqueue(
        "POST",
        "/inventory/moves",
        {**move(2), "from_location": Ref(too_many.seq, "data.to.location")},
        workflow="move",
    )
    # depends on an applied command's answer → resolved at replay time
    chained = q.enqueue(
        "POST",
        "/inventory/moves",
        {**move(2), "from_location": Ref(ok1.seq, "data.to.location")},
        workflow="move",
    )
    assert hh.replayer.flush(30)
    hh.close()

    assert q.get(ok1.seq).status is Status.APPLIED
    refused = q.get(too_many.seq)
    assert refused.status is Status.REJECTED
    assert refused.error_code == "INSUFFICIENT_STOCK" and refused.http_status == 409
    assert refused.error_text and refused.reported and not refused.acknowledged
    dep = q.get(dependent.seq)
    assert dep.status is Status.REJECTED and dep.error_code == "QUEUE_DEPENDS_ON_REJECTED"
    assert dep.error_details["ref_seq"] == too_many.seq
    assert q.get(chained.seq).status is Status.APPLIED
    assert [m["ref"] for m in hh_movements(edge_server)] == ["hh-1", "hh-2"]
    assert stock_of(edge_server) == {A: 1}
    # never dropped: the handheld keeps both until a user acknowledges them
    assert [c.seq for c in q.rejected()] == [too_many.seq, dependent.seq]
    q.acknowledge(too_many.seq)
    assert [c.seq for c in q.rejected()] == [dependent.seq]
    assert len(q.rejected(include_acknowledged=True)) == 2

    # the supervisor sees both, with who scanned, what and why
    supervisor = as_role("supervisor")
    import httpx

    with httpx.Client(base_url=edge_server.api_url, headers=supervisor.headers) as web:
        listed = web.get("/devices/rejections").json()["data"]
    assert listed["total"] == 2
    first, second = listed["items"]
    assert first["key"] == too_many.key and first["code"] == "INSUFFICIENT_STOCK"
    assert first["scanned_by"] == hh.session.user_id and first["body"]["qty"] == 5
    assert second["code"] == "QUEUE_DEPENDS_ON_REJECTED"
    assert second["body"]["from_location"] == {
        "$ref": {"seq": too_many.seq, "path": "data.to.location"}
    }
    events = edge_server.svc.db.query(
        "SELECT payload_json FROM outbox WHERE type = 'terminal.command_rejected' ORDER BY id"
    )
    assert len(events) == 2
    q.close()


def test_revoked_handheld_keeps_its_commands_pending_until_paired_again(edge_server, tmp_path):
    hh = pair_and_login(edge_server.svc, edge_server.api_url, tmp_path / "queue.db")
    receive_one(edge_server, hh.client)
    edge_server.svc.devices.revoke(hh.queue.device_id)
    cmd = hh.queue.enqueue("POST", "/inventory/moves", move(1), workflow="move")
    assert not hh.replayer.step()
    status = hh.replayer.status()
    assert status.blocked == "DEVICE_UNKNOWN" and status.blocked_user_id == hh.session.user_id
    assert status.online and status.pending == 1
    # never judged, so not rejected
    assert hh.queue.get(cmd.seq).status is Status.PENDING
    assert hh.queue.rejected() == []
    assert hh_movements(edge_server) == []
    hh.close()


def test_commands_replay_as_the_user_who_scanned_them_after_another_logs_in(edge_server, tmp_path):
    hh = pair_and_login(edge_server.svc, edge_server.api_url, tmp_path / "queue.db")
    receive_one(edge_server, hh.client)
    first_user = hh.session.user_id
    edge_server.stop()
    hh.queue.enqueue("POST", "/inventory/moves", move(1), workflow="move")
    edge_server.start()
    # shift change: another receiver logs in on the same handheld
    edge_server.svc.users.create(badge="B-2002", pin="1357", role="receiver")
    second = hh.client.login("B-2002", "1357")
    hh.queue.save_token(second.user_id, second.token, second.expires_at)
    hh.queue.set_user(second.user_id)
    hh.queue.enqueue("POST", "/inventory/moves", move(2), workflow="move")
    assert hh.replayer.flush(30)
    hh.close()
    rows = edge_server.svc.db.query(
        "SELECT ref, user_id, device_id FROM movements WHERE ref LIKE 'hh-%' ORDER BY id"
    )
    assert [(r["ref"], r["user_id"]) for r in rows] == [
        ("hh-1", first_user),
        ("hh-2", second.user_id),
    ]
    assert {r["device_id"] for r in rows} == {hh.queue.device_id}


def test_enqueue_from_several_threads_while_replaying(edge_server, tmp_path):
    hh = pair_and_login(edge_server.svc, edge_server.api_url, tmp_path / "queue.db")
    hh.client.send(
        "POST",
        "/inventory/receipts",
        {"location": A, "sku": "SKU-1", "qty": 80, "ref": "setup"},
        "setup-80",
    )
    hh.replayer.start()

    def worker(n: int) -> None:
        for i in range(20):
            hh.queue.enqueue(
                "POST",
                "/inventory/moves",
                {
                    "from_location": A,
                    "to_location": B,
                    "sku": "SKU-1",
                    "qty": 1,
                    "ref": f"t{n}-{i}",
                },
                workflow="move",
            )

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hh.replayer.flush(60)
    hh.close()
    commands = hh.queue.commands()
    assert [c.seq for c in commands] == list(range(1, 81))
    assert all(c.status is Status.APPLIED for c in commands)
    ids = [c.response["data"]["movement_id"] for c in commands]
    assert ids == sorted(ids)  # applied in seq order
    assert stock_of(edge_server) == {B: 80}
