"""Customer e-mails: queued in the caller's OMS write transaction, sent later by the mailer.

Call it from an order event, inside the same `with oms.db.write() as w:` that records the
event, so the e-mail exists if and only if the event does:

    from edge_server.oms.notifications import notify

    with oms.db.write() as w:
        ...  # record the shipment
        notify(
            w, "shipment", "ada@example.com",
            {"order_number": "1001", "carrier": "UPS", "tracking_number": "1Z999",
             "tracking_url": "https://www.ups.com/track?tracknum=1Z999",
             "lines": [{"sku": "MUG-1", "description": "Mug", "quantity": 2}]},
            dedupe_key="order:1001:shipped:carton-2",
        )

- `dedupe_key` names the message, not the call: queueing the same key again (an event
  delivered twice, a replayed request) is a no-op that returns the first row's id. Choose
  keys such as `order:<number>:confirmed`, `order:<number>:shipped:<package>`,
  `order:<number>:backordered:<n>`, `rma:<number>:received`, `refund:<id>`.
- the context is checked against the kind's model below (a bad context raises
  `pydantic.ValidationError`, which rolls the caller's transaction back: fix the caller) and
  rendered at once (subject, plain text, HTML from `templates/<locale>/`), so every retry
  sends exactly the same message.
- every message gets a stable `Message-ID` derived from its dedupe key; the mailer sends it
  at least once to the SMTP server and receivers de-duplicate on it (docs/oms-notifications.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import jinja2
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from protocols.errors import ErrorCode

__all__ = [
    "EMAIL_KINDS",
    "EMAIL_STATUSES",
    "EmailKind",
    "RenderedEmail",
    "get_email",
    "list_emails",
    "notify",
    "queue_email",
    "render_email",
    "requeue_email",
]

EmailKind = Literal[
    "order_confirmation", "shipment", "backorder", "backorder_filled", "return_received", "refund"
]
EMAIL_KINDS: tuple[str, ...] = get_args(EmailKind)
EMAIL_STATUSES = ("pending", "sent", "failed")
TEMPLATES = Path(__file__).parent / "templates"
LOCALES = ("en",)

# One line of printable text: no CR/LF or other control characters (they would end up in
# headers and subjects).
Line1 = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
]
Name = Annotated[Line1, StringConstraints(min_length=1, max_length=64)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# A simple, strict address: local@domain, no display name, no spaces or brackets.
ADDRESS_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"
)
HttpLink = Annotated[str, StringConstraints(pattern=r"^https?://[^\s<>\"]{1,2000}$")]
DEDUPE_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


# -- what each kind needs ------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemLine(_Model):
    sku: Name
    description: Line1 = ""
    quantity: int = Field(ge=1)
    unit_price: Decimal | None = Field(default=None, ge=0)


class BackorderLine(_Model):
    sku: Name
    description: Line1 = ""
    quantity_ordered: int = Field(ge=1)
    quantity_backordered: int = Field(ge=1)

    @model_validator(mode="after")
    def _not_more_than_ordered(self) -> BackorderLine:
        if self.quantity_backordered > self.quantity_ordered:
            raise ValueError("quantity_backordered is more than quantity_ordered")
        return self


class _OrderMail(_Model):
    order_number: Name
    customer_name: Line1 = ""
    store_name: Line1 = ""


class OrderConfirmation(_OrderMail):
    lines: list[ItemLine] = Field(min_length=1)
    currency: Currency | None = None
    total: Decimal | None = Field(default=None, ge=0)


class Shipment(_OrderMail):
    carrier: Name
    service: Line1 = ""
    tracking_number: Name
    tracking_url: HttpLink | None = None
    package: Line1 = ""
    lines: list[ItemLine] = Field(min_length=1)


class Backorder(_OrderMail):
    lines: list[BackorderLine] = Field(min_length=1)
    expected_date: date | None = None


class BackorderFilled(_OrderMail):
    """Items that were on backorder are in stock and reserved for the order again."""

    lines: list[ItemLine] = Field(min_length=1)


class ReturnReceived(_OrderMail):
    rma_number: Name
    lines: list[ItemLine] = Field(min_length=1)


class Refund(_OrderMail):
    amount: Decimal = Field(gt=0)
    currency: Currency
    rma_number: Line1 = ""
    reason: Line1 = ""


CONTEXT_MODELS: dict[str, type[_OrderMail]] = {
    "order_confirmation": OrderConfirmation,
    "shipment": Shipment,
    "backorder": Backorder,
    "backorder_filled": BackorderFilled,
    "return_received": ReturnReceived,
    "refund": Refund,
}


# -- rendering -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _money(value: Decimal | None, currency: str | None = None) -> str:
    if value is None:
        return ""
    amount = f"{value.quantize(Decimal('0.01')):,}"
    return f"{amount} {currency}" if currency else amount


@cache
def _environment(locale: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / locale),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money
    return env


def render_email(kind: str, context: dict[str, Any], *, locale: str = "en") -> RenderedEmail:
    """Check `context` against the kind's model and render subject, text and HTML."""
    if kind not in CONTEXT_MODELS:
        raise ValueError(f"unknown e-mail kind {kind!r}; one of {', '.join(EMAIL_KINDS)}")
    if locale not in LOCALES:
        raise ValueError(f"no e-mail templates for locale {locale!r}; one of {LOCALES}")
    return _render(kind, CONTEXT_MODELS[kind].model_validate(context), locale)


def _render(kind: str, model: _OrderMail, locale: str) -> RenderedEmail:
    env = _environment(locale)
    values = {"m": model}
    subject = env.get_template(f"{kind}.subject.txt").render(values)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=env.get_template(f"{kind}.txt").render(values),
        html=env.get_template(f"{kind}.html").render(values),
    )


# -- queueing --------------------------------------------------------------------------------
def _message_id(w: SUDatabase, dedupe_key: str) -> str:
    """Stable per message: the same dedupe key in this OMS database always gives the same id;
    the database's random instance id keeps two OMS installations apart."""
    row = w.execute("SELECT value FROM meta WHERE key = 'mail.instance'").fetchone()
    instance = row[0] if row else ""
    digest = hashlib.sha256(f"{instance}\0{dedupe_key}".encode()).hexdigest()[:40]
    return f"<{digest}@aisleway-oms.mail>"


def queue_email(
    w: SUDatabase,
    kind: EmailKind,
    to: str,
    context: dict[str, Any],
    *,
    dedupe_key: str,
    locale: str = "en",
) -> int:
    """Queue one customer e-mail inside the caller's OMS write transaction; returns its id.

    A second call with the same `dedupe_key` changes nothing and returns the first id (it must
    name the same kind and recipient: anything else is a caller bug and raises ValueError).
    ValueError for an unknown kind, a bad address or dedupe key; pydantic.ValidationError for
    a context that does not fit the kind."""
    if not DEDUPE_KEY_RE.match(dedupe_key):
        raise ValueError("dedupe_key must be 1-200 printable ASCII characters without spaces")
    if not ADDRESS_RE.match(to) or ".." in to:
        raise ValueError(f"not an e-mail address: {to!r}")
    existing = w.execute(
        "SELECT id, kind, to_addr FROM emails WHERE dedupe_key = ?", [dedupe_key]
    ).fetchone()
    if existing is not None:
        if (existing[1], existing[2]) != (kind, to):
            raise ValueError(
                f"dedupe_key {dedupe_key!r} already names a {existing[1]} e-mail to {existing[2]}"
            )
        return int(existing[0])
    if kind not in CONTEXT_MODELS:
        raise ValueError(f"unknown e-mail kind {kind!r}; one of {', '.join(EMAIL_KINDS)}")
    if locale not in LOCALES:
        raise ValueError(f"no e-mail templates for locale {locale!r}; one of {LOCALES}")
    model = CONTEXT_MODELS[kind].model_validate(context)
    rendered = _render(kind, model, locale)
    now = iso()
    cursor = w.execute(
        "INSERT INTO emails (dedupe_key, message_id, kind, to_addr, locale, subject, body_text, "
        "body_html, context_json, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            dedupe_key,
            _message_id(w, dedupe_key),
            kind,
            to,
            locale,
            rendered.subject,
            rendered.text,
            rendered.html,
            json.dumps(model.model_dump(mode="json"), sort_keys=True),
            now,
            now,
        ],
    )
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


#: The name order events call: the same function as `queue_email`.
notify = queue_email


# -- reading and the admin's retry -------------------------------------------------------------
_COLUMNS = (
    'id, dedupe_key, message_id, kind, to_addr AS "to", locale, subject, status, attempts, '
    "interrupted_attempts, next_attempt_at, attempt_started_at, last_attempt_at, last_error, "
    "last_smtp_code, created_at, sent_at"
)


def _row(conn: SUDatabase, email_id: int, *, bodies: bool = False) -> dict[str, Any]:
    columns = _COLUMNS + (", body_text, body_html" if bodies else "")
    row = conn.execute(f"SELECT {columns} FROM emails WHERE id = ?", [email_id]).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.NOTIFICATION_UNKNOWN, details={"id": email_id})
    return dict(row)


def get_email(db: Database, email_id: int) -> dict[str, Any]:
    """One e-mail with its bodies; NOTIFICATION_UNKNOWN if there is none."""
    return _row(db.read, email_id, bodies=True)


def list_emails(
    db: Database,
    *,
    status: str | None = None,
    kind: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first, without bodies; page back with `before` (the last id seen)."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("status", status), ("kind", kind)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if before is not None:
        where.append("id < ?")
        params.append(before)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return db.query(
        f"SELECT {_COLUMNS} FROM emails {clause} ORDER BY id DESC LIMIT ?", [*params, limit]
    )


def requeue_email(w: SUDatabase, email_id: int) -> dict[str, Any]:
    """An admin's retry: a pending or failed e-mail is due now, for one more attempt (the
    attempt count is kept). NOTIFICATION_SENT for one already sent."""
    row = _row(w, email_id)
    if row["status"] == "sent":
        raise AislewayError(ErrorCode.NOTIFICATION_SENT, details={"id": email_id})
    w.execute(
        "UPDATE emails SET status = 'pending', next_attempt_at = ? WHERE id = ?",
        [iso(), email_id],
    )
    return _row(w, email_id)
