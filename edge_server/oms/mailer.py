"""The mailer: sends the OMS's queued customer e-mails (oms/notifications.py) over SMTP.

For each due e-mail: claim it (a write: one more attempt, `attempt_started_at`, a claim that
keeps other mailers off it), send it with `smtplib` outside any transaction, and record the
result in a write right after the server's reply to the message (before QUIT). Delivery is at
least once to the SMTP server with a stable `Message-ID`, which receivers de-duplicate on; an
attempt that never recorded its result (the process died) is resent with the same
`Message-ID` when its claim runs out, and counted in `interrupted_attempts`.

- a 5xx reply to a recipient or the message is permanent: `failed` at once;
- anything else (refused connection, timeout, TLS, login, sender refused, 4xx) is retried
  after a backoff with jitter, `failed` after `mail_max_attempts`. A failure of the
  connection ends the pass and counts one attempt for every e-mail that was due in it, so a
  server that is down gets one probe per backoff step.

`Mailer.start()`/`close()` run it in the background (the OMS app does when
`mailer_enabled`); `run_once()` sends what is due now, synchronously; `python -m
edge_server.oms.mailer` does that from a shell with the `AISLEWAY_OMS_*` settings.
See docs/oms-notifications.md.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from edge_server.background import BackgroundLoop
from edge_server.db import Database
from edge_server.integration.webhooks import backoff_delay
from edge_server.oms.settings import OmsSettings
from edge_server.timeutil import iso, parse_iso, utcnow

__all__ = ["Mailer", "MailerPass", "build_message", "main"]

log = logging.getLogger("aisleway.oms.mailer")

MAX_ERROR_TEXT = 300

_DUE_SQL = (
    "SELECT id FROM emails WHERE status = 'pending' AND next_attempt_at <= :now "
    "AND (claimed_until IS NULL OR claimed_until <= :now) ORDER BY next_attempt_at, id LIMIT :n"
)
_CLAIM_SQL = (
    "UPDATE emails SET attempts = attempts + 1, "
    "interrupted_attempts = interrupted_attempts + (attempt_started_at IS NOT NULL), "
    "attempt_started_at = :now, last_attempt_at = :now, claimed_until = :until "
    "WHERE id = :id AND status = 'pending' AND next_attempt_at <= :now "
    "AND (claimed_until IS NULL OR claimed_until <= :now)"
)


class _ConnectionFailed(Exception):
    """The server could not take any e-mail now (down, TLS, login, sender refused)."""

    def __init__(self, text: str, code: int | None = None) -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True, slots=True)
class _Refused:
    """The server refused this one e-mail: permanent (5xx) or not (4xx)."""

    code: int
    text: str

    @property
    def permanent(self) -> bool:
        return self.code >= 500


@dataclass(frozen=True, slots=True)
class MailerPass:
    """What one `run_once()` did."""

    attempted: int
    sent: int
    #: Seconds until the next pending e-mail is due (None: nothing pending).
    next_due_seconds: float | None


def _reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"[:MAX_ERROR_TEXT]


def build_message(row: dict[str, Any], mail_from: str) -> EmailMessage:
    """The e-mail as sent: the same headers and bodies on every attempt."""
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = row["to_addr"]
    msg["Subject"] = row["subject"]
    msg["Date"] = format_datetime(parse_iso(row["created_at"]))
    msg["Message-ID"] = row["message_id"]
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies back to us
    msg.set_content(row["body_text"])
    msg.add_alternative(row["body_html"], subtype="html")
    return msg


class Mailer(BackgroundLoop):
    thread_name = "oms-mailer"

    def __init__(
        self,
        db: Database,
        settings: OmsSettings,
        *,
        poll_seconds: float = 30.0,
        batch_size: int = 50,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(poll_seconds)
        self.db = db
        self.settings = settings
        self._batch = batch_size
        self._ssl_context = ssl_context
        self._envelope_from = parseaddr(settings.mail_from)[1] or settings.mail_from
        domain = self._envelope_from.rpartition("@")[2]
        self._local_hostname = domain or "localhost"
        self.instance = uuid.uuid4().hex[:12]
        db.on_commit(self.wake)

    # -- SMTP --------------------------------------------------------------------------------
    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = self._ssl_context or ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if s.smtp_ssl:
                smtp = smtplib.SMTP_SSL(
                    s.smtp_host,
                    s.smtp_port,
                    local_hostname=self._local_hostname,
                    timeout=s.smtp_timeout_seconds,
                    context=context,
                )
            else:
                smtp = smtplib.SMTP(
                    s.smtp_host,
                    s.smtp_port,
                    local_hostname=self._local_hostname,
                    timeout=s.smtp_timeout_seconds,
                )
        except smtplib.SMTPConnectError as exc:
            raise _ConnectionFailed(
                _reply_text(exc.smtp_code, exc.smtp_error), exc.smtp_code
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise _ConnectionFailed(
                f"cannot connect to {s.smtp_host}:{s.smtp_port}: {exc}"
            ) from exc
        try:
            smtp.ehlo()
            if s.smtp_starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
        except smtplib.SMTPResponseException as exc:
            smtp.close()
            raise _ConnectionFailed(
                _reply_text(exc.smtp_code, exc.smtp_error), exc.smtp_code
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise _ConnectionFailed(
                f"{s.smtp_host}:{s.smtp_port}: {exc or type(exc).__name__}"
            ) from exc
        return smtp

    def _send(self, smtp: smtplib.SMTP, row: dict[str, Any]) -> _Refused | None:
        """Send one e-mail on an open connection: None when the server accepted it."""
        message = build_message(row, self.settings.mail_from)
        try:
            smtp.send_message(message, from_addr=self._envelope_from, to_addrs=[row["to_addr"]])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return _Refused(code, _reply_text(code, text))
        except smtplib.SMTPSenderRefused as exc:
            # Our From is refused: not this e-mail's fault, every e-mail would be.
            raise _ConnectionFailed(
                _reply_text(exc.smtp_code, exc.smtp_error), exc.smtp_code
            ) from exc
        except smtplib.SMTPDataError as exc:
            return _Refused(exc.smtp_code, _reply_text(exc.smtp_code, exc.smtp_error))
        except smtplib.SMTPResponseException as exc:
            raise _ConnectionFailed(
                _reply_text(exc.smtp_code, exc.smtp_error), exc.smtp_code
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise _ConnectionFailed(
                f"connection lost while sending: {exc or type(exc).__name__}"
            ) from exc
        return None

    # -- the database ------------------------------------------------------------------------
    def _claim(self, email_id: int) -> dict[str, Any] | None:
        now = utcnow()
        until = now + timedelta(seconds=self.settings.mail_claim_seconds)
        with self.db.write() as w:
            cursor = w.execute(_CLAIM_SQL, {"now": iso(now), "until": iso(until), "id": email_id})
            if cursor.rowcount != 1:
                return None
            row = w.execute("SELECT * FROM emails WHERE id = ?", [email_id]).fetchone()
        return dict(row)

    def _record_sent(self, row: dict[str, Any]) -> None:
        now = iso()
        with self.db.write() as w:
            w.execute(
                "UPDATE emails SET status = 'sent', sent_at = ?, attempt_started_at = NULL, "
                "claimed_until = NULL, last_error = NULL, last_smtp_code = 250 WHERE id = ?",
                [now, row["id"]],
            )
        log.info("e-mail sent", extra={"email_id": row["id"], "kind": row["kind"]})

    def _failure(
        self, attempts: int, error: str, code: int | None, *, permanent: bool
    ) -> dict[str, Any]:
        now = utcnow()
        s = self.settings
        delay = backoff_delay(attempts, s.mail_backoff_base_seconds, s.mail_backoff_max_seconds)
        failed = permanent or attempts >= s.mail_max_attempts
        return {
            "status": "failed" if failed else "pending",
            "error": error,
            "code": code,
            "next": iso(now + timedelta(seconds=delay)),
        }

    def _record_failure(
        self, row: dict[str, Any], error: str, code: int | None, *, permanent: bool
    ) -> None:
        f = self._failure(row["attempts"], error, code, permanent=permanent)
        with self.db.write() as w:
            w.execute(
                "UPDATE emails SET status = :status, last_error = :error, last_smtp_code = :code, "
                "next_attempt_at = :next, attempt_started_at = NULL, claimed_until = NULL "
                "WHERE id = :id",
                {**f, "id": row["id"]},
            )
        log.warning(
            "e-mail not sent",
            extra={"email_id": row["id"], "error": error, "status": f["status"]},
        )

    def _record_unreached(self, ids: list[int], error: str, code: int | None) -> None:
        """The server was not reachable: every other e-mail due in this pass counts an
        attempt and backs off like the one that probed it."""
        if not ids:
            return
        now = iso()
        with self.db.write() as w:
            for email_id in ids:
                row = w.execute(
                    "SELECT attempts FROM emails WHERE id = ? AND status = 'pending' "
                    "AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)",
                    [email_id, now, now],
                ).fetchone()
                if row is None:
                    continue
                attempts = int(row[0]) + 1
                f = self._failure(attempts, error, code, permanent=False)
                w.execute(
                    "UPDATE emails SET attempts = :attempts, status = :status, "
                    "last_error = :error, last_smtp_code = :code, next_attempt_at = :next, "
                    "last_attempt_at = :now WHERE id = :id",
                    {**f, "attempts": attempts, "now": now, "id": email_id},
                )

    def _next_due_seconds(self) -> float | None:
        row = self.db.query_one(
            "SELECT MIN(MAX(next_attempt_at, COALESCE(claimed_until, ''))) AS due "
            "FROM emails WHERE status = 'pending'"
        )
        if row is None or row["due"] is None:
            return None
        return max(0.0, (parse_iso(row["due"]) - utcnow()).total_seconds())

    # -- one pass ----------------------------------------------------------------------------
    def run_once(self) -> MailerPass:
        """Send every e-mail due now (batch after batch) on one SMTP connection; stop at the
        first connection failure."""
        if not self.running:
            self._stopping.clear()  # usable again after close()
        attempted = sent = 0
        smtp: smtplib.SMTP | None = None
        try:
            while not self._stopping.is_set():
                due = [
                    int(r["id"]) for r in self.db.query(_DUE_SQL, {"now": iso(), "n": self._batch})
                ]
                progressed = False
                for position, email_id in enumerate(due):
                    if self._stopping.is_set():
                        break
                    row = self._claim(email_id)
                    if row is None:
                        continue  # another mailer has it, or it changed since we looked
                    attempted += 1
                    progressed = True
                    try:
                        if smtp is None:
                            smtp = self._connect()
                        refused = self._send(smtp, row)
                    except _ConnectionFailed as exc:
                        if smtp is not None:
                            smtp.close()
                            smtp = None
                        self._record_failure(row, str(exc), exc.code, permanent=False)
                        self._record_unreached(due[position + 1 :], str(exc), exc.code)
                        return MailerPass(attempted, sent, self._next_due_seconds())
                    if refused is None:
                        self._record_sent(row)
                        sent += 1
                    else:
                        self._record_failure(
                            row, refused.text, refused.code, permanent=refused.permanent
                        )
                if not progressed:
                    break
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (OSError, smtplib.SMTPException):
                    smtp.close()
        return MailerPass(attempted, sent, self._next_due_seconds())

    def tick(self) -> float | None:
        return self.run_once().next_due_seconds


def main(argv: list[str] | None = None) -> int:
    """`python -m edge_server.oms.mailer`: send what is due now, print a JSON summary."""
    from edge_server.oms.services import open_oms_services

    settings = OmsSettings()
    services = open_oms_services(settings)
    try:
        result = Mailer(services.db, settings).run_once()
    finally:
        services.db.close()
    print(
        json.dumps(
            {
                "attempted": result.attempted,
                "sent": result.sent,
                "next_due_seconds": result.next_due_seconds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
