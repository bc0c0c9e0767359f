"""Tracking numbers from a per-carrier-service sequence (docs/shipping.md#tracking-numbers).

Format: `AW` + the site code (letters and digits only) + the service's number (3 digits or
more: its id at the site) + the sequence (9 digits) + a GS1 mod-10 check digit computed over
the service number and sequence digits. Example: `AWCHI0010000000427`.

The sequence is one row per service in `tracking_sequences`, raised in the caller's write
transaction: a label that commits owns its number for good (the row only rises, a trigger
refuses anything else); a label whose transaction rolls back never existed, so nobody ever
saw its number.
"""

from __future__ import annotations

import re

from sqlite_utils import Database as SUDatabase

from protocols.barcodes.labels import gs1_check_digit

__all__ = ["TRACKING_PREFIX", "format_tracking", "next_sequence", "tracking_is_valid"]

TRACKING_PREFIX = "AW"
SEQ_DIGITS = 9
_TRACKING = re.compile(r"^AW([A-Z0-9]+?)([0-9]{3,})([0-9]{9})([0-9])$")


def format_tracking(site: str, service_no: int, seq: int) -> str:
    if service_no < 1 or not 1 <= seq < 10**SEQ_DIGITS:
        raise ValueError(f"tracking number out of range: service {service_no}, seq {seq}")
    digits = f"{service_no:03d}{seq:0{SEQ_DIGITS}d}"
    site_part = re.sub(r"[^A-Z0-9]", "", site.upper())
    return f"{TRACKING_PREFIX}{site_part}{digits}{gs1_check_digit(digits)}"


def tracking_is_valid(tracking: str) -> bool:
    """Whether `tracking` has our form and a right check digit (for any site and service)."""
    found = _TRACKING.match(tracking)
    if found is None:
        return False
    return gs1_check_digit(found.group(2) + found.group(3)) == int(found.group(4))


def next_sequence(w: SUDatabase, service_id: int) -> int:
    """Take the service's next sequence number inside the caller's write transaction."""
    row = w.execute(
        "INSERT INTO tracking_sequences (service_id, last_seq) VALUES (?, 1) "
        "ON CONFLICT (service_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
        [service_id],
    ).fetchone()
    return int(row[0])
