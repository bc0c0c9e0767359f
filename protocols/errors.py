"""Error codes and the one message catalogue.

Every sentence a worker, supervisor or integrator reads comes from here, keyed by code.
The HTTP status is part of the code's definition so routes never pick their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CATALOGUE", "ErrorCode", "ErrorDef", "message_for"]


class ErrorCode(StrEnum):
    # request shape
    VALIDATION_FAILED = "VALIDATION_FAILED"
    NOT_FOUND = "NOT_FOUND"
    # access
    AUTH_REQUIRED = "AUTH_REQUIRED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    BAD_CREDENTIALS = "BAD_CREDENTIALS"
    LOCKED_OUT = "LOCKED_OUT"
    FORBIDDEN_ROLE = "FORBIDDEN_ROLE"
    DEVICE_REQUIRED = "DEVICE_REQUIRED"
    DEVICE_UNKNOWN = "DEVICE_UNKNOWN"
    PAIRING_CODE_INVALID = "PAIRING_CODE_INVALID"
    API_KEY_INVALID = "API_KEY_INVALID"
    USER_EXISTS = "USER_EXISTS"
    # idempotency
    IDEMPOTENCY_KEY_REQUIRED = "IDEMPOTENCY_KEY_REQUIRED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    # warehouse model
    UNKNOWN_SITE = "UNKNOWN_SITE"
    UNKNOWN_LOCATION = "UNKNOWN_LOCATION"
    UNKNOWN_ITEM = "UNKNOWN_ITEM"
    LAYOUT_INVALID = "LAYOUT_INVALID"
    LAYOUT_NOT_LOADED = "LAYOUT_NOT_LOADED"
    LOCATION_HAS_STOCK = "LOCATION_HAS_STOCK"
    ITEM_INVALID = "ITEM_INVALID"
    IMPORT_INVALID = "IMPORT_INVALID"
    GTIN_IN_USE = "GTIN_IN_USE"
    # ledger
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    QUANTITY_INVALID = "QUANTITY_INVALID"
    LOT_REQUIRED = "LOT_REQUIRED"
    SAME_LOCATION = "SAME_LOCATION"
    # barcodes
    BARCODE_UNREADABLE = "BARCODE_UNREADABLE"
    BARCODE_CHECK_DIGIT = "BARCODE_CHECK_DIGIT"
    BARCODE_UNEXPECTED = "BARCODE_UNEXPECTED"
    BARCODE_NOT_RECOGNISED = "BARCODE_NOT_RECOGNISED"
    BARCODE_LABEL_INVALID = "BARCODE_LABEL_INVALID"
    BARCODE_GS1_SEPARATOR_MISSING = "BARCODE_GS1_SEPARATOR_MISSING"
    BARCODE_GS1_UNKNOWN_AI = "BARCODE_GS1_UNKNOWN_AI"
    BARCODE_GS1_FIELD_INVALID = "BARCODE_GS1_FIELD_INVALID"
    BARCODE_GS1_DATE_INVALID = "BARCODE_GS1_DATE_INVALID"
    # webhooks
    WEBHOOK_URL_INVALID = "WEBHOOK_URL_INVALID"
    WEBHOOK_SUBSCRIBER_INACTIVE = "WEBHOOK_SUBSCRIBER_INACTIVE"
    WEBHOOK_DELIVERY_NOT_FAILED = "WEBHOOK_DELIVERY_NOT_FAILED"
    # fallback
    INTERNAL = "INTERNAL"


@dataclass(frozen=True, slots=True)
class ErrorDef:
    status: int
    text: str


CATALOGUE: dict[ErrorCode, ErrorDef] = {
    ErrorCode.VALIDATION_FAILED: ErrorDef(422, "Some of the data sent is not valid."),
    ErrorCode.NOT_FOUND: ErrorDef(404, "That was not found."),
    ErrorCode.AUTH_REQUIRED: ErrorDef(401, "Please log in first."),
    ErrorCode.TOKEN_INVALID: ErrorDef(401, "Your login is not valid. Please log in again."),
    ErrorCode.TOKEN_EXPIRED: ErrorDef(401, "Your login has expired. Please log in again."),
    ErrorCode.BAD_CREDENTIALS: ErrorDef(401, "Badge or PIN not recognised. Try again."),
    ErrorCode.LOCKED_OUT: ErrorDef(
        429, "Too many wrong PINs. This badge is locked for a while; ask a supervisor."
    ),
    ErrorCode.FORBIDDEN_ROLE: ErrorDef(403, "Your role is not allowed to do this."),
    ErrorCode.DEVICE_REQUIRED: ErrorDef(
        401, "This handheld is not paired. Pair it with a code from a supervisor."
    ),
    ErrorCode.DEVICE_UNKNOWN: ErrorDef(
        401, "This handheld is not recognised or was unpaired. Pair it again."
    ),
    ErrorCode.PAIRING_CODE_INVALID: ErrorDef(
        400, "That pairing code is wrong, used or expired. Ask a supervisor for a new one."
    ),
    ErrorCode.API_KEY_INVALID: ErrorDef(401, "The API key is missing, wrong or revoked."),
    ErrorCode.USER_EXISTS: ErrorDef(409, "A user with that badge already exists."),
    ErrorCode.IDEMPOTENCY_KEY_REQUIRED: ErrorDef(
        400, "This request needs an Idempotency-Key header so it can be safely retried."
    ),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: ErrorDef(
        422, "This request key was already used for a different request."
    ),
    ErrorCode.UNKNOWN_SITE: ErrorDef(404, "That site is not known here."),
    ErrorCode.UNKNOWN_LOCATION: ErrorDef(404, "That bin or location does not exist."),
    ErrorCode.UNKNOWN_ITEM: ErrorDef(404, "That item is not in the item master."),
    ErrorCode.LAYOUT_INVALID: ErrorDef(422, "The layout file is not valid."),
    ErrorCode.LAYOUT_NOT_LOADED: ErrorDef(
        404, "No layout has been loaded for this site yet. A supervisor must load one first."
    ),
    ErrorCode.LOCATION_HAS_STOCK: ErrorDef(
        409, "A bin that still holds stock cannot be removed. Move its stock out first."
    ),
    ErrorCode.ITEM_INVALID: ErrorDef(422, "The item data is not valid."),
    ErrorCode.IMPORT_INVALID: ErrorDef(422, "The file could not be imported."),
    ErrorCode.GTIN_IN_USE: ErrorDef(
        409, "That barcode (GTIN) already belongs to another item. Remove it there first."
    ),
    ErrorCode.INSUFFICIENT_STOCK: ErrorDef(
        409, "There is not enough stock there for this. Count the bin or call a supervisor."
    ),
    ErrorCode.QUANTITY_INVALID: ErrorDef(422, "The quantity must be a whole number above zero."),
    ErrorCode.LOT_REQUIRED: ErrorDef(422, "This item is lot tracked: scan or enter the lot."),
    ErrorCode.SAME_LOCATION: ErrorDef(422, "From and to are the same place."),
    ErrorCode.BARCODE_UNREADABLE: ErrorDef(422, "That barcode could not be read. Scan again."),
    ErrorCode.BARCODE_CHECK_DIGIT: ErrorDef(
        422, "That barcode has a wrong check digit. Scan again or key it in."
    ),
    ErrorCode.BARCODE_UNEXPECTED: ErrorDef(422, "That is not the kind of barcode expected here."),
    ErrorCode.BARCODE_NOT_RECOGNISED: ErrorDef(
        422, "That barcode is not one the warehouse uses. Scan the product, bin or pallet label."
    ),
    ErrorCode.BARCODE_LABEL_INVALID: ErrorDef(
        422, "That warehouse label is incomplete or mistyped. Scan it again or key it in."
    ),
    ErrorCode.BARCODE_GS1_SEPARATOR_MISSING: ErrorDef(
        422,
        "The fields on this label ran together, so its lot or serial cannot be trusted. "
        "Key in the lot and date, and tell a supervisor if it keeps happening.",
    ),
    ErrorCode.BARCODE_GS1_UNKNOWN_AI: ErrorDef(
        422, "This label has a field the system does not know. Scan another barcode on it."
    ),
    ErrorCode.BARCODE_GS1_FIELD_INVALID: ErrorDef(
        422, "A field on this label is in the wrong format. Scan again or key it in."
    ),
    ErrorCode.BARCODE_GS1_DATE_INVALID: ErrorDef(
        422, "The date on this label is not a real date. Check the printed date and key it in."
    ),
    ErrorCode.WEBHOOK_URL_INVALID: ErrorDef(422, "That webhook address is not allowed."),
    ErrorCode.WEBHOOK_SUBSCRIBER_INACTIVE: ErrorDef(
        409, "That webhook subscriber is deactivated. Create a new subscriber instead."
    ),
    ErrorCode.WEBHOOK_DELIVERY_NOT_FAILED: ErrorDef(
        409, "Only a failed webhook delivery can be retried; this one is still pending or done."
    ),
    ErrorCode.INTERNAL: ErrorDef(500, "Something went wrong on the server. Nothing was changed."),
}


def message_for(code: ErrorCode) -> ErrorDef:
    """The catalogue entry for `code`."""
    return CATALOGUE[code]
