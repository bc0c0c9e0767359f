"""The outbox relay against a real HTTP receiver on 127.0.0.1: signed delivery, retries with
backoff, ordering, failure and manual retry, the SSRF guard, and the webhooks API."""

import json
import statistics
import time
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from webhook_receiver import Receiver, wait_until

from edge_server.app import create_app
from edge_server.errors import AislewayError
from edge_server.integration import subscriptions
from edge_server.integration.outbox import emit
from edge_server.integration.url_guard import check_webhook_url
from edge_server.integration.webhooks import WebhookRelay, backoff_delay
from edge_server.services import open_services

from conftest import assert_response, login_as, make_settings


@pytest.fixture
def settings(tmp_path):
    # Fast retries so the retry tests take well under a second each.
    return make_settings(
        tmp_path,
        webhook_backoff_base_seconds=0.05,
        webhook_backoff_max_seconds=0.2,
        webhook_max_attempts=4,
        webhook_timeout_seconds=5.0,
    )


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def relay(services):
    r = WebhookRelay(services.db, services.settings)
    yield r
    r.close()


def subscribe(services, url, event_types=("*",)):
    checked = check_webhook_url(url, allow_private=True)
    with services.db.write() as w:
        sub = subscriptions.create_subscriber(w, checked, list(event_types))
    return sub["id"], sub["secret"]


def emit_one(db, event_type="inventory.changed", **payload):
    with db.write() as w:
        return emit(w, event_type, payload)


def deliveries(db, **where):
    sql = (
        "SELECT d.*, o.event_id FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id"
        + (" WHERE " + " AND ".join(f"d.{k} = ?" for k in where) if where else "")
        + " ORDER BY d.id"
    )
    return db.query(sql, list(where.values()))


def run_until(relay, predicate, timeout=10.0, what=""):
    """Call run_once (retries become due by themselves) until `predicate()` holds."""

    def step():
        relay.run_once()
        return predicate()

    return wait_until(step, timeout, what)


# -- delivery ------------------------------------------------------------------------------
def test_events_emitted_in_a_transaction_are_delivered_signed_and_in_order(
    services, receiver, relay
):
    _, secret = subscribe(services, receiver.url("/hook"))
    receiver.expect("/hook", secret)
    with services.db.write() as w:
        first = emit(w, "inventory.changed", {"sku": "A", "qty": 1})
        second = emit(w, "inventory.changed", {"sku": "A", "qty": 2})
    third = emit_one(services.db, "shipment.created", order="SO-1")

    assert relay.run_once() == 3
    assert receiver.ids() == [first, second, third]
    assert not receiver.rejected
    body = receiver.received[0].body
    assert body["type"] == "inventory.changed" and body["id"] == first
    assert body["data"] == {"sku": "A", "qty": 1}
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None
    assert receiver.received[0].headers["content-type"] == "application/json"
    rows = deliveries(services.db)
    assert [r["status"] for r in rows] == ["delivered"] * 3
    assert all(r["attempts"] == 1 and r["last_status_code"] == 200 for r in rows)
    assert all(r["delivered_at"] and r["last_error"] is None for r in rows)
    assert relay.run_once() == 0  # nothing is sent twice


def test_a_rolled_back_transaction_emits_nothing(services, receiver, relay):
    _, secret = subscribe(services, receiver.url())
    receiver.expect("/hook", secret)
    with pytest.raises(RuntimeError), services.db.write() as w:
        emit(w, "inventory.changed", {"sku": "A"})
        raise RuntimeError("the change failed")
    assert services.db.query("SELECT * FROM outbox") == []
    assert deliveries(services.db) == []
    assert relay.run_once() == 0
    assert receiver.requests == 0


def test_background_relay_is_woken_by_the_commit_not_the_poll(services, receiver):
    _, secret = subscribe(services, receiver.url())
    receiver.expect("/hook", secret)
    # A one-minute poll: anything delivered within the deadlines below was woken by commit.
    relay = WebhookRelay(services.db, services.settings, poll_interval=60)
    relay.start()
    try:
        latencies = []
        for n in range(20):
            committed = time.perf_counter()
            event_id = emit_one(services.db, qty=n)
            receiver.wait_for(n + 1, timeout=10)
            assert receiver.ids()[-1] == event_id
            latencies.append(receiver.received[-1].at - committed)
        print(
            f"commit→receiver latency: median {statistics.median(latencies) * 1000:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms"
        )
        wait_until(
            lambda: all(r["status"] == "delivered" for r in deliveries(services.db)),
            what="all deliveries recorded",
        )
    finally:
        relay.stop()
    assert not relay.running


def test_receiver_down_retries_with_backoff_then_delivers_each_event_once(services, relay):
    down = Receiver()  # its port is closed until start()
    up = Receiver().start()
    try:
        down_id, down_secret = subscribe(services, down.url())
        _, up_secret = subscribe(services, up.url())
        down.expect("/hook", down_secret)
        up.expect("/hook", up_secret)
        events = [emit_one(services.db, qty=n) for n in range(3)]

        # The live subscriber gets all three; the dead one is probed with its oldest event
        # only (per-subscriber order: nothing overtakes the head of the queue).
        assert relay.run_once() == 4
        assert up.ids() == events
        head, *rest = deliveries(services.db, subscriber_id=down_id)
        assert head["event_id"] == events[0]
        assert head["status"] == "pending" and head["attempts"] == 1
        assert "ConnectError" in head["last_error"] and head["last_status_code"] is None
        assert datetime.fromisoformat(head["next_attempt_at"]) > datetime.fromisoformat(
            head["last_attempt_at"]
        )
        assert all(r["attempts"] == 0 for r in rest)

        # More failed attempts are scheduled further apart, never sooner than now.
        run_until(
            relay,
            lambda: deliveries(services.db, subscriber_id=down_id)[0]["attempts"] >= 3,
            what="three attempts",
        )
        down.start()
        run_until(
            relay,
            lambda: all(
                r["status"] == "delivered" for r in deliveries(services.db, subscriber_id=down_id)
            ),
            what="delivery after the receiver came up",
        )
        assert down.ids() == events  # each once, in order
        assert relay.run_once() == 0
        assert down.ids() == events and up.ids() == events
    finally:
        down.stop()
        up.stop()


def test_receiver_error_then_success_is_retried(services, receiver, relay):
    _, secret = subscribe(services, receiver.url())
    receiver.expect("/hook", secret)
    receiver.replies = [500]
    event_id = emit_one(services.db)

    assert relay.run_once() == 1
    (row,) = deliveries(services.db)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_status_code"] == 500
    assert row["last_error"] == "HTTP 500: receiver says no"

    run_until(relay, lambda: deliveries(services.db)[0]["status"] == "delivered")
    (row,) = deliveries(services.db)
    assert row["attempts"] == 2 and row["last_status_code"] == 200 and row["last_error"] is None
    assert receiver.requests == 2 and receiver.ids() == [event_id]


def test_attempts_exhausted_marks_failed_then_manual_retry_delivers(
    services, receiver, relay, edge, as_role
):
    admin = as_role("admin")
    _, secret = subscribe(services, receiver.url())
    receiver.expect("/hook", secret)
    receiver.status = 503
    lost = emit_one(services.db, qty=1)

    run_until(relay, lambda: deliveries(services.db)[0]["status"] == "failed", what="failed")
    (row,) = deliveries(services.db)
    assert row["attempts"] == services.settings.webhook_max_attempts == 4
    assert row["last_status_code"] == 503 and receiver.requests == 4

    # A failed delivery no longer holds the subscriber's queue.
    receiver.status = 200
    later = emit_one(services.db, qty=2)
    assert relay.run_once() == 1
    assert receiver.ids() == [later]

    # Visible through the API, and requeued by hand.
    failed = assert_response(
        edge.get("/api/v1/webhooks/deliveries?status=failed", headers=admin.headers), 200
    )
    assert [(d["event_id"], d["attempts"]) for d in failed] == [(lost, 4)]
    assert failed[0]["last_error"].startswith("HTTP 503") and failed[0]["next_attempt_at"] is None
    retried = assert_response(
        edge.post(f"/api/v1/webhooks/deliveries/{row['id']}/retry", headers=admin.with_key()),
        200,
    )
    assert retried["status"] == "pending" and retried["attempts"] == 0
    # The retry commit woke no one here (no background relay), so deliver by hand.
    assert relay.run_once() == 1
    assert receiver.ids() == [later, lost]
    assert deliveries(services.db)[0]["status"] == "delivered"
    # A delivered delivery cannot be "retried".
    assert_response(
        edge.post(f"/api/v1/webhooks/deliveries/{row['id']}/retry", headers=admin.with_key()),
        409,
        code="WEBHOOK_DELIVERY_NOT_FAILED",
    )


def test_each_subscriber_gets_only_the_event_types_it_asked_for(services, receiver, relay):
    for path, patterns in {
        "/inventory": ["inventory.*"],
        "/shipments": ["shipment.created"],
        "/all": ["*"],
        "/two": ["inventory.changed", "return.*"],
    }.items():
        _, secret = subscribe(services, receiver.url(path), patterns)
        receiver.expect(path, secret)
    for event_type in ("inventory.changed", "shipment.created", "return.received", "order.x"):
        emit_one(services.db, event_type)
    relay.run_once()
    assert receiver.types("/inventory") == ["inventory.changed"]
    assert receiver.types("/shipments") == ["shipment.created"]
    assert receiver.types("/all") == [
        "inventory.changed",
        "shipment.created",
        "return.received",
        "order.x",
    ]
    assert receiver.types("/two") == ["inventory.changed", "return.received"]
    assert not receiver.rejected


def test_a_hanging_receiver_does_not_hold_up_other_subscribers(services):
    receiver = Receiver(held_paths={"/slow"}).start()
    relay = WebhookRelay(services.db, services.settings, poll_interval=60)
    try:
        for path in ("/slow", "/fast"):
            _, secret = subscribe(services, receiver.url(path))
            receiver.expect(path, secret)
        relay.start()
        event_id = emit_one(services.db)
        # /fast is answered while /slow's request is still being held open.
        assert receiver.wait_for(1, "/fast") == [event_id]
        assert receiver.ids("/slow") == []
        receiver.gate.set()
        assert receiver.wait_for(1, "/slow") == [event_id]
    finally:
        relay.close()
        receiver.stop()


def test_rotated_secret_signs_with_both_secrets_during_the_grace(services, receiver, relay):
    sub_id, old = subscribe(services, receiver.url())
    with services.db.write() as w:
        new = subscriptions.rotate_secret(w, sub_id)["secret"]
    assert new != old
    receiver.expect("/hook", old, new)  # the receiver checks the message with each one
    emit_one(services.db)
    assert relay.run_once() == 1
    assert len(receiver.received[0].headers["webhook-signature"].split(" ")) == 2
    assert not receiver.rejected

    with services.db.write() as w:  # grace over: only the new secret signs
        w.execute(
            "UPDATE webhook_subscribers SET previous_secret_until = '2000-01-01T00:00:00+00:00'"
        )
    receiver.expect("/hook", new)
    emit_one(services.db)
    relay.run_once()
    assert len(receiver.received[1].headers["webhook-signature"].split(" ")) == 1
    assert not receiver.rejected


def test_backoff_doubles_with_jitter_and_is_capped():
    assert backoff_delay(1, 1.0, 900, rand=lambda: 0.5) == pytest.approx(1.0)
    assert backoff_delay(4, 1.0, 900, rand=lambda: 0.5) == pytest.approx(8.0)
    assert backoff_delay(4, 1.0, 900, rand=lambda: 0.0) == pytest.approx(6.4)
    assert backoff_delay(4, 1.0, 900, rand=lambda: 1.0) == pytest.approx(9.6)
    assert backoff_delay(12, 1.0, 900, rand=lambda: 1.0) == 900
    assert backoff_delay(10_000, 1.0, 900) == 900


def test_stop_is_quick_and_run_once_still_works_after(services, receiver, relay):
    _, secret = subscribe(services, receiver.url())
    receiver.expect("/hook", secret)
    relay.start()
    started = time.monotonic()
    relay.stop()
    assert not relay.running
    assert time.monotonic() - started < 5
    emit_one(services.db)
    assert relay.run_once() == 1


# -- SSRF guard ----------------------------------------------------------------------------
def fake_dns(table):
    def resolve(host, port, *_args):
        if host not in table:
            raise OSError("Name or service not known")
        return [(2 if ":" not in ip else 10, 1, 6, "", (ip, port)) for ip in table[host]]

    return resolve


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://127.8.9.10:8080/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://10.0.0.1/", "private"),
        ("https://192.168.1.20/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://100.64.0.1/", "not a public address"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://localhost:9000/hook", "loopback"),
        ("http://internal.example/", "10.1.2.3, a private address"),
        ("http://mixed.example/", "127.0.0.1, a loopback address"),
        ("http://nowhere.example/", "does not resolve"),
        ("ftp://files.example/", "only http:// and https://"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("http:///no-host", "no host"),
        ("https://user:pw@public.example/", "user name or password"),
        ("http://public.example/a b", "spaces"),
        ("http://public.example:99999/", "not a valid URL"),
    ],
)
def test_ssrf_guard_refuses_and_says_why(url, why):
    dns = fake_dns(
        {
            "internal.example": ["10.1.2.3"],
            "mixed.example": ["93.184.216.34", "127.0.0.1"],
            "public.example": ["93.184.216.34"],
        }
    )
    resolver = None if "localhost" in url else dns  # localhost: the real resolver, no network
    kwargs = {"resolver": resolver} if resolver else {}
    with pytest.raises(AislewayError) as caught:
        check_webhook_url(url, allow_private=False, **kwargs)
    assert caught.value.code == "WEBHOOK_URL_INVALID"
    assert why in caught.value.text, caught.value.text


def test_ssrf_guard_lets_public_and_allowed_private_addresses_through():
    dns = fake_dns({"public.example": ["93.184.216.34", "2606:2800:220:1::1"]})
    assert check_webhook_url("https://public.example/hooks", allow_private=False, resolver=dns)
    assert check_webhook_url("http://8.8.8.8:8080/x", allow_private=False)
    assert check_webhook_url("http://127.0.0.1:9000/", allow_private=True)
    assert check_webhook_url("http://10.0.0.1/", allow_private=True)
    # never useful, even in a demo
    for url in ("http://0.0.0.0/", "http://224.0.0.1/"):
        with pytest.raises(AislewayError):
            check_webhook_url(url, allow_private=True)


def test_relay_refuses_a_private_address_before_connecting(services, receiver, tmp_path):
    # The subscriber was accepted when private addresses were allowed; the relay now runs
    # with them refused, so it must not open a connection to the (live) receiver.
    _, secret = subscribe(services, receiver.url())
    receiver.expect("/hook", secret)
    strict = make_settings(tmp_path, webhook_allow_private=False)
    relay = WebhookRelay(services.db, strict)
    try:
        emit_one(services.db)
        assert relay.run_once() == 1
    finally:
        relay.close()
    (row,) = deliveries(services.db)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "SSRF guard" in row["last_error"] and "loopback" in row["last_error"]
    assert receiver.requests == 0


def test_relay_dials_the_address_it_checked_even_when_dns_changes(services, receiver, tmp_path):
    url = f"http://hooks.example:{receiver.port}/hook"
    public = fake_dns({"hooks.example": ["93.184.216.34"]})
    with services.db.write() as w:
        checked = check_webhook_url(url, allow_private=False, resolver=public)
        secret = subscriptions.create_subscriber(w, checked, ["*"])["secret"]
    receiver.expect("/hook", secret)
    emit_one(services.db)

    # The name now points at loopback (DNS rebinding): the strict relay refuses to dial it.
    rebound = fake_dns({"hooks.example": ["127.0.0.1"]})
    strict_settings = make_settings(
        tmp_path, webhook_allow_private=False, webhook_backoff_base_seconds=0.05
    )
    strict = WebhookRelay(services.db, strict_settings, resolver=rebound)
    try:
        assert strict.run_once() == 1
    finally:
        strict.close()
    (row,) = deliveries(services.db)
    assert "hooks.example resolves to 127.0.0.1, a loopback address" in row["last_error"]
    assert receiver.requests == 0

    # A relay allowed private addresses dials the resolved address, naming the host as Host.
    lenient = WebhookRelay(services.db, services.settings, resolver=rebound)
    try:
        run_until(lenient, lambda: deliveries(services.db)[0]["status"] == "delivered")
    finally:
        lenient.close()
    assert receiver.received[0].headers["host"] == f"hooks.example:{receiver.port}"


def test_api_refuses_a_private_subscriber_url_when_not_allowed(tmp_path):
    services = open_services(make_settings(tmp_path, webhook_allow_private=False))
    try:
        with TestClient(create_app(services.settings, services)) as client:
            admin = login_as(services, "admin")
            for url in ("http://127.0.0.1/", "http://169.254.169.254/", "http://10.0.0.1/"):
                resp = client.post(
                    "/api/v1/webhooks/subscribers", json={"url": url}, headers=admin.with_key()
                )
                assert_response(resp, 422, code="WEBHOOK_URL_INVALID")
                assert "not allowed:" in resp.json()["message"]["text"]
            resp = client.post(
                "/api/v1/webhooks/subscribers",
                json={"url": "ftp://x/"},
                headers=admin.with_key(),
            )
            assert_response(resp, 422, code="WEBHOOK_URL_INVALID")
        assert services.db.query("SELECT * FROM webhook_subscribers") == []
    finally:
        services.db.close()


# -- API -----------------------------------------------------------------------------------
def test_subscriber_management_is_admin_only(edge, as_role):
    body = {"url": "http://127.0.0.1:9/hook"}
    for role in ("picker", "supervisor", "integration"):
        who = as_role(role)
        resp = edge.post("/api/v1/webhooks/subscribers", json=body, headers=who.with_key())
        assert_response(resp, 403, code="FORBIDDEN_ROLE")
        resp = edge.get("/api/v1/webhooks/subscribers", headers=who.headers)
        assert_response(resp, 403, code="FORBIDDEN_ROLE")
    admin = as_role("admin")
    assert_response(
        edge.post("/api/v1/webhooks/subscribers", json=body, headers=admin.with_key()), 201
    )


def test_create_subscriber_shows_the_secret_once_and_is_idempotent(edge, as_role, services):
    admin = as_role("admin")
    headers = admin.with_key("create-oms-hook")
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["inventory.*"], "description": "OMS"}
    created = assert_response(
        edge.post("/api/v1/webhooks/subscribers", json=body, headers=headers), 201
    )
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["inventory.*"] and created["active"] is True
    again = assert_response(
        edge.post("/api/v1/webhooks/subscribers", json=body, headers=headers), 201
    )
    assert again == created
    assert len(services.db.query("SELECT * FROM webhook_subscribers")) == 1

    listed = assert_response(edge.get("/api/v1/webhooks/subscribers", headers=admin.headers), 200)
    assert [s["id"] for s in listed] == [created["id"]]
    assert "secret" not in listed[0] and listed[0]["secret_hint"].endswith("…")
    assert created["secret"] not in json.dumps(listed)

    bad = {"url": "http://127.0.0.1:9/hook", "event_types": ["Inventory Changed"]}
    resp = edge.post("/api/v1/webhooks/subscribers", json=bad, headers=admin.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")


def test_deactivated_subscriber_gets_nothing_more(edge, as_role, services, receiver, relay):
    admin = as_role("admin")
    sub_id, secret = subscribe(services, receiver.url())
    receiver.expect("/hook", secret)
    emit_one(services.db)
    data = assert_response(
        edge.post(f"/api/v1/webhooks/subscribers/{sub_id}/deactivate", headers=admin.with_key()),
        200,
    )
    assert data["active"] is False and data["abandoned_deliveries"] == 1
    emit_one(services.db)
    assert relay.run_once() == 0 and receiver.requests == 0
    (row,) = deliveries(services.db)
    assert row["status"] == "failed" and row["last_error"] == "subscriber deactivated"
    assert_response(
        edge.post(f"/api/v1/webhooks/deliveries/{row['id']}/retry", headers=admin.with_key()),
        409,
        code="WEBHOOK_SUBSCRIBER_INACTIVE",
    )
    assert_response(
        edge.post(f"/api/v1/webhooks/subscribers/{sub_id}/test", headers=admin.with_key()),
        409,
        code="WEBHOOK_SUBSCRIBER_INACTIVE",
    )
    assert_response(
        edge.post("/api/v1/webhooks/subscribers/999/deactivate", headers=admin.with_key()),
        404,
        code="NOT_FOUND",
    )


def test_delivery_status_filters(edge, as_role, services, receiver, relay):
    sup = as_role("supervisor")  # events.read: supervisors watch delivery health
    a, secret_a = subscribe(services, receiver.url("/a"))
    b, _ = subscribe(services, receiver.url("/b"))  # no secret registered: receiver says 400
    receiver.expect("/a", secret_a)
    event_id = emit_one(services.db)
    relay.run_once()

    def get(query):
        return assert_response(
            edge.get(f"/api/v1/webhooks/deliveries{query}", headers=sup.headers), 200
        )

    assert {d["subscriber_id"] for d in get("")} == {a, b}
    (ok,) = get("?status=delivered")
    assert (ok["subscriber_id"], ok["event_id"], ok["event_type"]) == (
        a,
        event_id,
        "inventory.changed",
    )
    (pending,) = get(f"?subscriber_id={b}")
    assert pending["status"] == "pending" and pending["attempts"] == 1
    assert pending["last_status_code"] == 400 and pending["next_attempt_at"]
    assert len(get(f"?event_id={event_id}")) == 2
    assert get(f"?before={min(ok['id'], pending['id'])}") == []
    resp = edge.get("/api/v1/webhooks/deliveries?status=lost", headers=sup.headers)
    assert_response(resp, 422, code="VALIDATION_FAILED")
    picker = as_role("picker")
    resp = edge.get("/api/v1/webhooks/deliveries", headers=picker.headers)
    assert_response(resp, 403, code="FORBIDDEN_ROLE")


def test_pull_feed_pages_through_the_outbox(edge, as_role, services):
    oms = as_role("integration")
    ids = [emit_one(services.db, qty=n) for n in range(5)]
    with services.db.write() as w:  # test events are not part of the feed
        w.execute(
            "INSERT INTO outbox (event_id, type, payload_json, created_at) "
            "VALUES ('evt_t', 'webhook.test', '{}', '2026-01-01T00:00:00+00:00')"
        )
    seen, after = [], 0
    while True:
        page = assert_response(
            edge.get(f"/api/v1/events?after={after}&limit=2", headers=oms.headers), 200
        )
        if not page["events"]:
            assert page["next_after"] == after
            break
        seen += page["events"]
        after = page["next_after"]
    assert [e["id"] for e in seen] == ids
    assert [e["data"]["qty"] for e in seen] == [0, 1, 2, 3, 4]
    assert set(seen[0]) == {"seq", "id", "type", "timestamp", "data"}
    resp = edge.get("/api/v1/events", headers=as_role("picker").headers)
    assert_response(resp, 403, code="FORBIDDEN_ROLE")


def test_test_event_reaches_the_subscriber_through_the_running_server(tmp_path, receiver):
    settings = make_settings(tmp_path, relay_enabled=True)
    services = open_services(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            relay = client.app.state.relay
            assert relay.running
            admin = login_as(services, "admin")
            created = assert_response(
                client.post(
                    "/api/v1/webhooks/subscribers",
                    json={"url": receiver.url("/t"), "event_types": ["inventory.*"]},
                    headers=admin.with_key(),
                ),
                201,
            )
            receiver.expect("/t", created["secret"])
            sent = assert_response(
                client.post(
                    f"/api/v1/webhooks/subscribers/{created['id']}/test", headers=admin.with_key()
                ),
                202,
            )
            # delivered by the background relay, woken by the API's commit
            assert receiver.wait_for(1, "/t") == [sent["event_id"]]
            assert receiver.types("/t") == ["webhook.test"]
            wait_until(lambda: deliveries(services.db)[0]["status"] == "delivered", what="recorded")
        assert not relay.running  # the lifespan stopped it
    finally:
        services.db.close()
