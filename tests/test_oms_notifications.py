"""Customer e-mails: templates, queueing with a dedupe key, and the mailer against a real SMTP
server (aiosmtpd on 127.0.0.1) — delivery, retries while the server is down, permanent and
repeated refusals, login and STARTTLS, the admin API, and exactly once across a crash of the
mailer process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi.testclient import TestClient
from pydantic import ValidationError
from test_oms_foundation import oms_settings
from webhook_receiver import free_port, wait_until

from edge_server.oms.app import create_oms_app
from edge_server.oms.mailer import Mailer
from edge_server.oms.notifications import EMAIL_KINDS, notify, queue_email, render_email
from edge_server.oms.services import OmsServices, open_oms_services

from conftest import assert_response

ROOT = Path(__file__).resolve().parent.parent

CONTEXTS: dict[str, dict[str, Any]] = {
    "order_confirmation": {
        "order_number": "1001",
        "customer_name": "Ada <b>Lovelace</b>",
        "store_name": "Mugs & Co",
        "currency": "EUR",
        "total": "1234.5",
        "lines": [
            {"sku": "MUG-1", "description": "Blue mug", "quantity": 2, "unit_price": "7.25"},
            {"sku": "TEA-9", "description": "Green tea", "quantity": 1},
        ],
    },
    "shipment": {
        "order_number": "1001",
        "carrier": "UPS",
        "service": "Ground",
        "tracking_number": "1Z999AA10123456784",
        "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784&loc=en",
        "package": "2",
        "lines": [{"sku": "MUG-1", "description": "Blue mug", "quantity": 2}],
    },
    "backorder": {
        "order_number": "1001",
        "expected_date": "2026-12-15",
        "lines": [
            {
                "sku": "TEA-9",
                "description": "Green tea",
                "quantity_ordered": 5,
                "quantity_backordered": 3,
            },
        ],
    },
    "backorder_filled": {
        "order_number": "1001",
        "lines": [{"sku": "TEA-9", "description": "Green tea", "quantity": 3}],
    },
    "return_received": {
        "order_number": "1001",
        "rma_number": "RMA-000042",
        "lines": [{"sku": "MUG-1", "description": "Blue mug", "quantity": 1}],
    },
    "refund": {
        "order_number": "1001",
        "amount": "14.5",
        "currency": "EUR",
        "rma_number": "RMA-000042",
        "reason": "Damaged in transit",
    },
}


# -- a real SMTP server on loopback ------------------------------------------------------------
@dataclass
class Mailbox:
    """An aiosmtpd handler. `transmissions` is every message the server accepted (DATA), in
    order; `messages` is the customer's mailbox, keyed by Message-ID as mail stores and
    e-mail services de-duplicate."""

    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> reply to RCPT
    data_replies: list[str] = field(default_factory=list)  # replies to DATA, consumed first
    hold: threading.Event | None = None  # when set up: accept, then wait for it to reply
    received: threading.Event = field(default_factory=threading.Event)
    transmissions: list[EmailMessage] = field(default_factory=list)
    messages: dict[str, EmailMessage] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.transmissions.append(msg)
        self.messages.setdefault(str(msg["Message-ID"]), msg)
        self.received.set()
        if self.hold is not None:
            hold = self.hold
            await asyncio.get_running_loop().run_in_executor(None, hold.wait)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"oms",
            b"s3cret",
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


class LoopbackController(Controller):
    """aiosmtpd's Controller on 127.0.0.1, on a port the OS picks when given 0."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, LoopbackController]]:
    box = Mailbox()
    controller = LoopbackController(box, hostname="127.0.0.1", port=0)
    controller.start()
    yield box, controller
    if box.hold is not None:
        box.hold.set()
    controller.stop()


def services_for(tmp_path: Path, port: int, **overrides: Any) -> OmsServices:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "mail_from": "Mugs & Co <orders@mugs.example>",
        "mail_backoff_base_seconds": 60.0,
    }
    values.update(overrides)
    return open_oms_services(oms_settings(tmp_path, **values))


@pytest.fixture
def oms(tmp_path: Path, smtp: tuple[Mailbox, LoopbackController]) -> Iterator[OmsServices]:
    services = services_for(tmp_path, smtp[1].port)
    yield services
    services.db.close()


def queue(oms: OmsServices, kind: str = "shipment", to: str = "ada@example.com", **kw: Any) -> int:
    key = kw.pop("dedupe_key", f"order:1001:{kind}")
    with oms.db.write() as w:
        return queue_email(w, kind, to, kw or CONTEXTS[kind], dedupe_key=key)  # type: ignore[arg-type]


def email(oms: OmsServices, email_id: int) -> dict[str, Any]:
    row = oms.db.query_one("SELECT * FROM emails WHERE id = ?", [email_id])
    assert row is not None
    return row


def admin(client: TestClient, oms: OmsServices, role: str = "admin") -> dict[str, str]:
    _, secret = oms.api_keys.create(f"{role} key", role=role)
    return {"Authorization": f"Bearer {secret}"}


# -- templates ------------------------------------------------------------------------------------
def test_every_kind_renders_subject_text_and_html_with_its_content() -> None:
    assert set(EMAIL_KINDS) == set(CONTEXTS)
    r = render_email("order_confirmation", CONTEXTS["order_confirmation"])
    assert r.subject == "Your order 1001 is confirmed"
    assert "2 x Blue mug (MUG-1) at 7.25 EUR" in r.text
    assert "1 x Green tea (TEA-9)" in r.text and "Total: 1,234.50 EUR" in r.text
    assert "Hello Ada <b>Lovelace</b>," in r.text  # plain text is not escaped
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in r.html and "<b>Lovelace" not in r.html
    assert "Mugs &amp; Co" in r.html and "1,234.50 EUR" in r.html

    r = render_email("shipment", CONTEXTS["shipment"])
    assert r.subject == "Your order 1001 has shipped"
    assert "Package 2 of your order 1001 is on its way with UPS (Ground)." in r.text
    url = CONTEXTS["shipment"]["tracking_url"]
    assert f"Track it: {url}" in r.text
    assert f'<a href="{url.replace("&", "&amp;")}">1Z999AA10123456784</a>' in r.html

    r = render_email("backorder", CONTEXTS["backorder"])
    assert r.subject == "Part of your order 1001 is on backorder"
    assert "Green tea (TEA-9): 3 of 5 on backorder" in r.text and "2026-12-15" in r.text
    assert '<td align="right">3</td><td align="right">5</td>' in r.html

    r = render_email("backorder_filled", CONTEXTS["backorder_filled"])
    assert r.subject == "Good news: the rest of your order 1001 is on its way"
    assert "Green tea (TEA-9): 3" in r.text and '<td align="right">3</td>' in r.html

    r = render_email("return_received", CONTEXTS["return_received"])
    assert r.subject == "We have received your return RMA-000042"
    assert "for order 1001 has arrived" in r.text and "1 x Blue mug (MUG-1)" in r.text

    r = render_email("refund", CONTEXTS["refund"])
    assert r.subject == "Your refund of 14.50 EUR for order 1001"
    assert "We have refunded 14.50 EUR for order 1001 (return RMA-000042)." in r.text
    assert "Reason: Damaged in transit" in r.text and "<strong>14.50 EUR</strong>" in r.html


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("shipment", {"order_number": "1001\r\nBcc: all@example.com"}),
        ("shipment", {"tracking_url": "javascript:alert(1)"}),
        ("shipment", {"lines": []}),
        ("shipment", {"carrier": None}),
        ("backorder", {"lines": [{"sku": "A", "quantity_ordered": 1, "quantity_backordered": 2}]}),
        ("refund", {"amount": "0"}),
        ("refund", {"currency": "euro"}),
        ("order_confirmation", {"unexpected": 1}),
    ],
)
def test_a_context_that_does_not_fit_its_kind_is_refused_and_nothing_is_queued(
    oms: OmsServices, kind: str, change: dict[str, Any]
) -> None:
    context = {**CONTEXTS[kind], **change}
    with pytest.raises(ValidationError), oms.db.write() as w:
        queue_email(w, kind, "ada@example.com", context, dedupe_key="k")  # type: ignore[arg-type]
    assert oms.db.query("SELECT id FROM emails") == []


@pytest.mark.parametrize(
    ("kind", "to", "key"),
    [
        ("postcard", "ada@example.com", "k"),
        ("refund", "not an address", "k"),
        ("refund", "ada@example.com\r\nBcc: x@example.com", "k"),
        ("refund", "Ada <ada@example.com>", "k"),
        ("refund", "ada@example.com", ""),
        ("refund", "ada@example.com", "has space"),
    ],
)
def test_a_bad_kind_address_or_dedupe_key_is_refused_and_nothing_is_queued(
    oms: OmsServices, kind: str, to: str, key: str
) -> None:
    with pytest.raises(ValueError), oms.db.write() as w:
        queue_email(w, kind, to, CONTEXTS["refund"], dedupe_key=key)  # type: ignore[arg-type]
    assert oms.db.query("SELECT id FROM emails") == []


def test_the_same_dedupe_key_queues_one_email_in_the_callers_transaction(
    oms: OmsServices,
) -> None:
    first = queue(oms, "shipment", dedupe_key="order:1001:shipped:carton-2")
    again = queue(oms, "shipment", dedupe_key="order:1001:shipped:carton-2")
    assert again == first
    other = queue(oms, "shipment", dedupe_key="order:1001:shipped:carton-3")
    assert other != first
    rows = oms.db.query("SELECT id, message_id FROM emails ORDER BY id")
    assert len(rows) == 2 and rows[0]["message_id"] != rows[1]["message_id"]
    # Another kind or recipient under a used key is a caller's bug.
    with pytest.raises(ValueError), oms.db.write() as w:
        notify(
            w,
            "refund",
            "ada@example.com",
            CONTEXTS["refund"],
            dedupe_key="order:1001:shipped:carton-2",
        )
    # Rolled back with the caller's transaction: no event, no e-mail.
    with pytest.raises(RuntimeError), oms.db.write() as w:
        notify(w, "refund", "ada@example.com", CONTEXTS["refund"], dedupe_key="refund:7")
        raise RuntimeError("the order event failed")
    assert len(oms.db.query("SELECT id FROM emails")) == 2


# -- the mailer ----------------------------------------------------------------------------------
def test_the_mailer_sends_each_email_once_with_a_stable_message_id(
    oms: OmsServices, smtp: tuple[Mailbox, LoopbackController]
) -> None:
    box, _ = smtp
    shipped = queue(oms, "shipment")
    refunded = queue(oms, "refund")
    mailer = Mailer(oms.db, oms.settings)
    result = mailer.run_once()
    assert (result.attempted, result.sent, result.next_due_seconds) == (2, 2, None)
    assert mailer.run_once().attempted == 0
    assert len(box.transmissions) == 2
    row = email(oms, shipped)
    assert row["status"] == "sent" and row["attempts"] == 1 and row["attempt_started_at"] is None
    msg = box.messages[row["message_id"]]
    assert msg["To"] == "ada@example.com"
    assert msg["From"] == "Mugs & Co <orders@mugs.example>"
    assert msg["Subject"] == "Your order 1001 has shipped"
    assert msg["Auto-Submitted"] == "auto-generated"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert "1Z999AA10123456784" in text.get_content()
    assert '<a href="https://www.ups.com/track?' in html.get_content()
    assert email(oms, refunded)["status"] == "sent"


def test_a_down_server_is_retried_later_and_the_email_then_delivered(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    oms = services_for(tmp_path, port, mail_backoff_base_seconds=0.05, mail_backoff_max_seconds=0.2)
    email_id = queue(oms, "order_confirmation")
    mailer = Mailer(oms.db, oms.settings, poll_seconds=0.1)
    mailer.start()
    box = Mailbox()
    controller = LoopbackController(box, hostname="127.0.0.1", port=port)
    try:
        wait_until(lambda: email(oms, email_id)["attempts"] >= 2, what="two failed attempts")
        row = email(oms, email_id)
        assert row["status"] == "pending" and row["sent_at"] is None
        assert "cannot connect" in row["last_error"]
        controller.start()
        wait_until(lambda: email(oms, email_id)["status"] == "sent", what="delivery")
    finally:
        mailer.close()
        controller.stop()
        oms.db.close()
    assert len(box.transmissions) == 1 and len(box.messages) == 1


def test_a_connection_failure_counts_one_attempt_for_every_due_email_and_backs_off(
    tmp_path: Path,
) -> None:
    oms = services_for(tmp_path, free_port(), mail_backoff_base_seconds=600.0)
    ids = [queue(oms, "refund", dedupe_key=f"refund:{n}") for n in range(3)]
    mailer = Mailer(oms.db, oms.settings)
    result = mailer.run_once()
    assert (result.attempted, result.sent) == (1, 0)  # one probe, not one per e-mail
    assert result.next_due_seconds is not None and result.next_due_seconds > 60
    rows = [email(oms, i) for i in ids]
    assert [r["attempts"] for r in rows] == [1, 1, 1]
    assert all(r["status"] == "pending" and r["next_attempt_at"] > r["created_at"] for r in rows)
    assert mailer.run_once().attempted == 0  # not due again yet
    oms.db.close()


def test_a_permanent_refusal_fails_at_once_and_the_api_shows_it(
    oms: OmsServices, smtp: tuple[Mailbox, LoopbackController]
) -> None:
    box, _ = smtp
    box.refuse["nobody@example.com"] = "550 5.1.1 No such mailbox"
    bad = queue(oms, "refund", to="nobody@example.com", dedupe_key="refund:1")
    good = queue(oms, "refund", to="ada@example.com", dedupe_key="refund:2")
    result = Mailer(oms.db, oms.settings).run_once()
    assert (result.attempted, result.sent) == (2, 1)  # the connection survived the refusal
    row = email(oms, bad)
    assert (row["status"], row["attempts"], row["last_smtp_code"]) == ("failed", 1, 550)
    assert "No such mailbox" in row["last_error"]
    assert email(oms, good)["status"] == "sent"
    with TestClient(create_oms_app(oms.settings, oms)) as client:
        headers = admin(client, oms, role="reader")
        data = assert_response(
            client.get("/api/v1/notifications?status=failed", headers=headers), 200
        )
        assert [(d["id"], d["to"], d["last_smtp_code"]) for d in data] == [
            (bad, "nobody@example.com", 550)
        ]
        one = assert_response(client.get(f"/api/v1/notifications/{bad}", headers=headers), 200)
        assert "14.50 EUR" in one["body_text"] and one["kind"] == "refund"


def test_repeated_temporary_refusals_fail_after_max_attempts_then_an_admin_retries(
    tmp_path: Path, smtp: tuple[Mailbox, LoopbackController]
) -> None:
    box, controller = smtp
    oms = services_for(
        tmp_path, controller.port, mail_max_attempts=3, mail_backoff_base_seconds=0.0
    )
    box.data_replies = ["451 4.3.0 Try again later"] * 3
    email_id = queue(oms, "backorder")
    mailer = Mailer(oms.db, oms.settings)
    result = mailer.run_once()
    assert (result.attempted, result.sent) == (3, 0)
    row = email(oms, email_id)
    assert (row["status"], row["attempts"], row["last_smtp_code"]) == ("failed", 3, 451)
    assert mailer.run_once().attempted == 0 and box.transmissions == []
    with TestClient(create_oms_app(oms.settings, oms)) as client:
        headers = admin(client, oms)
        listed = assert_response(
            client.get("/api/v1/notifications?status=failed", headers=headers), 200
        )
        assert [d["id"] for d in listed] == [email_id]
        retried = assert_response(
            client.post(
                f"/api/v1/notifications/{email_id}/retry",
                headers={**headers, "Idempotency-Key": "retry-1"},
            ),
            200,
        )
        assert retried["status"] == "pending"
        assert mailer.run_once().sent == 1
        assert email(oms, email_id)["status"] == "sent" and email(oms, email_id)["attempts"] == 4
        # A sent e-mail is not sent again: refused, nothing changed.
        resp = client.post(
            f"/api/v1/notifications/{email_id}/retry",
            headers={**headers, "Idempotency-Key": "retry-2"},
        )
        assert_response(resp, 409, code="NOTIFICATION_SENT")
        assert email(oms, email_id)["status"] == "sent"
    assert len(box.transmissions) == 1
    oms.db.close()


def test_the_notifications_api_refuses_bad_requests_and_changes_nothing(
    oms: OmsServices,
) -> None:
    email_id = queue(oms, "refund")
    before = email(oms, email_id)
    with TestClient(create_oms_app(oms.settings, oms)) as client:
        headers = admin(client, oms)
        reader = admin(client, oms, role="reader")
        channel = admin(client, oms, role="channel")
        retry = f"/api/v1/notifications/{email_id}/retry"
        assert_response(client.get("/api/v1/notifications"), 401, code="AUTH_REQUIRED")
        assert_response(
            client.get("/api/v1/notifications", headers=channel), 403, code="FORBIDDEN_ROLE"
        )
        for query in ("status=lost", "kind=postcard", "limit=0", "limit=5000", "before=x"):
            resp = client.get(f"/api/v1/notifications?{query}", headers=headers)
            assert_response(resp, 422, code="VALIDATION_FAILED")
        assert_response(
            client.get("/api/v1/notifications/999", headers=headers),
            404,
            code="NOTIFICATION_UNKNOWN",
        )
        assert_response(
            client.post(retry, headers={**reader, "Idempotency-Key": "r1"}),
            403,
            code="FORBIDDEN_ROLE",
        )
        assert_response(client.post(retry, headers=headers), 400, code="IDEMPOTENCY_KEY_REQUIRED")
        assert_response(
            client.post(
                "/api/v1/notifications/999/retry", headers={**headers, "Idempotency-Key": "r2"}
            ),
            404,
            code="NOTIFICATION_UNKNOWN",
        )
        page = assert_response(
            client.get("/api/v1/notifications?kind=refund&status=pending", headers=reader), 200
        )
        assert [d["id"] for d in page] == [email_id]
    assert email(oms, email_id) == before


def test_login_is_used_when_configured_and_a_wrong_password_is_retried(
    tmp_path: Path,
) -> None:
    box = Mailbox()
    controller = LoopbackController(
        box,
        hostname="127.0.0.1",
        port=0,
        authenticator=box.authenticate,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],  # PLAIN only: one refusal, one 535
    )
    controller.start()
    try:
        wrong = services_for(
            tmp_path,
            controller.port,
            smtp_user="oms",
            smtp_password="nope",
            mail_backoff_base_seconds=0.0,  # due again at once (one attempt per pass)
        )
        email_id = queue(wrong, "shipment")
        assert Mailer(wrong.db, wrong.settings).run_once().sent == 0
        row = email(wrong, email_id)
        assert row["status"] == "pending" and row["last_smtp_code"] == 535, row
        assert "nope" not in row["last_error"]
        wrong.db.close()
        right = services_for(
            tmp_path,
            controller.port,
            smtp_user="oms",
            smtp_password="s3cret",
            mail_backoff_base_seconds=0.0,
        )
        assert Mailer(right.db, right.settings).run_once().sent == 1
        right.db.close()
    finally:
        controller.stop()
    assert box.logins == ["oms"] and len(box.messages) == 1


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_starttls_is_used_when_configured_and_the_certificate_is_checked(
    tmp_path: Path,
) -> None:
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    box = Mailbox()
    controller = LoopbackController(
        box, hostname="127.0.0.1", port=0, tls_context=server_tls, require_starttls=True
    )
    controller.start()
    try:
        oms = services_for(
            tmp_path, controller.port, smtp_starttls=True, mail_backoff_base_seconds=0.0
        )
        email_id = queue(oms, "refund")
        # A certificate nobody vouches for is refused: retried later, nothing sent.
        assert Mailer(oms.db, oms.settings).run_once().sent == 0
        assert "CERTIFICATE_VERIFY_FAILED" in email(oms, email_id)["last_error"]
        trusted = ssl.create_default_context(cafile=str(cert))
        assert Mailer(oms.db, oms.settings, ssl_context=trusted).run_once().sent == 1
        oms.db.close()
    finally:
        controller.stop()
    assert len(box.messages) == 1


def test_a_claimed_email_is_not_sent_by_a_second_mailer_meanwhile(
    oms: OmsServices, smtp: tuple[Mailbox, LoopbackController]
) -> None:
    box, _ = smtp
    box.hold = threading.Event()
    email_id = queue(oms, "return_received")
    first = threading.Thread(target=Mailer(oms.db, oms.settings).run_once)
    first.start()
    try:
        assert box.received.wait(10)
        row = email(oms, email_id)
        assert row["attempt_started_at"] is not None and row["status"] == "pending"
        assert Mailer(oms.db, oms.settings).run_once().attempted == 0
    finally:
        box.hold.set()
        first.join(10)
    assert email(oms, email_id)["status"] == "sent" and len(box.transmissions) == 1


def test_the_app_runs_the_mailer_when_enabled(
    tmp_path: Path, smtp: tuple[Mailbox, LoopbackController]
) -> None:
    box, controller = smtp
    oms = services_for(tmp_path, controller.port, mailer_enabled=True)
    app = create_oms_app(oms.settings, oms)
    with TestClient(app):
        assert app.state.mailer.running
        email_id = queue(oms, "order_confirmation")  # the commit wakes the mailer
        wait_until(lambda: email(oms, email_id)["status"] == "sent", what="delivery")
    assert not app.state.mailer.running
    assert len(box.messages) == 1
    oms.db.close()


# -- exactly once across a crash --------------------------------------------------------------
def _run_mailer_process(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "edge_server.oms.mailer"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_delivered_exactly_once_across_a_crash_of_the_relay(
    tmp_path: Path, smtp: tuple[Mailbox, LoopbackController]
) -> None:
    """The mailer process is SIGKILLed after the SMTP server accepted the message but before
    the mailer recorded it; the restarted mailer sends it again with the same Message-ID, the
    mailbox holds it once, and the database says sent."""
    box, controller = smtp
    oms = services_for(tmp_path, controller.port)
    email_id = queue(oms, "shipment", dedupe_key="order:1001:shipped:carton-2")
    message_id = email(oms, email_id)["message_id"]
    env = {
        **os.environ,
        "AISLEWAY_OMS_DB_PATH": str(oms.settings.db_path),
        "AISLEWAY_OMS_SMTP_HOST": "127.0.0.1",
        "AISLEWAY_OMS_SMTP_PORT": str(controller.port),
        "AISLEWAY_OMS_MAIL_FROM": "orders@mugs.example",
        # The dead process's claim lapses at once, so the restart need not wait for it.
        "AISLEWAY_OMS_MAIL_CLAIM_SECONDS": "0",
    }
    box.hold = threading.Event()  # accept the message, then hold the reply
    crashed = _run_mailer_process(env)
    try:
        assert box.received.wait(30), crashed.communicate()
        os.kill(crashed.pid, signal.SIGKILL)
        assert crashed.wait(10) == -signal.SIGKILL
    finally:
        if crashed.poll() is None:
            crashed.kill()
        crashed.communicate()
        box.hold.set()
    # The server has the message; the database has an attempt without a result.
    assert [str(m["Message-ID"]) for m in box.transmissions] == [message_id]
    row = email(oms, email_id)
    assert row["status"] == "pending" and row["attempt_started_at"] is not None
    assert row["sent_at"] is None

    box.hold = None
    restarted = _run_mailer_process(env)
    out, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["sent"] == 1

    # At least once to the server, with one Message-ID: the customer's mailbox has it once.
    assert [str(m["Message-ID"]) for m in box.transmissions] == [message_id, message_id]
    assert list(box.messages) == [message_id]
    row = email(oms, email_id)
    assert (row["status"], row["attempts"], row["interrupted_attempts"]) == ("sent", 2, 1)
    assert row["attempt_started_at"] is None and row["sent_at"] is not None
    # A third run sends nothing.
    again = _run_mailer_process(env)
    out, _ = again.communicate(timeout=60)
    assert json.loads(out.strip().splitlines()[-1])["attempted"] == 0
    assert len(box.transmissions) == 2
    oms.db.close()
