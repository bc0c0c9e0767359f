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
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
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
    STOCK_ALLOCATED = "STOCK_ALLOCATED"
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
    # purchase orders and ASNs
    PO_INVALID = "PO_INVALID"
    PO_NOT_FOUND = "PO_NOT_FOUND"
    PO_CLOSED = "PO_CLOSED"
    PO_LINE_RECEIVED = "PO_LINE_RECEIVED"
    PO_RECEIVING_STARTED = "PO_RECEIVING_STARTED"
    ASN_INVALID = "ASN_INVALID"
    ASN_NOT_FOUND = "ASN_NOT_FOUND"
    ASN_CLOSED = "ASN_CLOSED"
    ASN_LINE_RECEIVED = "ASN_LINE_RECEIVED"
    SSCC_ON_OTHER_ASN = "SSCC_ON_OTHER_ASN"
    SSCC_NOT_EXPECTED = "SSCC_NOT_EXPECTED"
    # fulfillment orders and allocation
    FO_INVALID = "FO_INVALID"
    FO_NOT_FOUND = "FO_NOT_FOUND"
    FO_CLOSED = "FO_CLOSED"
    FO_PICKING_STARTED = "FO_PICKING_STARTED"
    # putaway and replenishment
    TASK_NOT_FOUND = "TASK_NOT_FOUND"
    TASK_CLOSED = "TASK_CLOSED"
    PUTAWAY_OVERRIDE_REASON_REQUIRED = "PUTAWAY_OVERRIDE_REASON_REQUIRED"
    PUTAWAY_BIN_NOT_ALLOWED = "PUTAWAY_BIN_NOT_ALLOWED"
    PUTAWAY_BIN_NO_ROOM = "PUTAWAY_BIN_NO_ROOM"
    PUTAWAY_NO_BIN = "PUTAWAY_NO_BIN"
    REPLENISHMENT_WRONG_BIN = "REPLENISHMENT_WRONG_BIN"
    REPLENISHMENT_NOT_PICK_FACE = "REPLENISHMENT_NOT_PICK_FACE"
    # webhooks
    WEBHOOK_URL_INVALID = "WEBHOOK_URL_INVALID"
    WEBHOOK_SUBSCRIBER_INACTIVE = "WEBHOOK_SUBSCRIBER_INACTIVE"
    WEBHOOK_DELIVERY_NOT_FAILED = "WEBHOOK_DELIVERY_NOT_FAILED"
    # receiving scenario
    RECEIVING_DOCUMENT_UNKNOWN = "RECEIVING_DOCUMENT_UNKNOWN"
    RECEIVING_DOCUMENT_CLOSED = "RECEIVING_DOCUMENT_CLOSED"
    RECEIVING_ASN_WITHOUT_PO = "RECEIVING_ASN_WITHOUT_PO"
    RECEIVING_SSCC_NOT_EXPECTED = "RECEIVING_SSCC_NOT_EXPECTED"
    RECEIVING_SSCC_ALREADY_RECEIVED = "RECEIVING_SSCC_ALREADY_RECEIVED"
    RECEIVING_NO_DOCK = "RECEIVING_NO_DOCK"
    RECEIVING_DOCK_INVALID = "RECEIVING_DOCK_INVALID"
    RECEIVING_SESSION_UNKNOWN = "RECEIVING_SESSION_UNKNOWN"
    RECEIVING_SESSION_CLOSED = "RECEIVING_SESSION_CLOSED"
    RECEIVING_SESSION_OTHER_USER = "RECEIVING_SESSION_OTHER_USER"
    RECEIVING_WRONG_STEP = "RECEIVING_WRONG_STEP"
    RECEIVING_ITEM_NOT_ON_ORDER = "RECEIVING_ITEM_NOT_ON_ORDER"
    RECEIVING_OVER_TOLERANCE = "RECEIVING_OVER_TOLERANCE"
    RECEIVING_OVERRIDE_NOT_ALLOWED = "RECEIVING_OVERRIDE_NOT_ALLOWED"
    RECEIVING_SUPERVISOR_PIN_WRONG = "RECEIVING_SUPERVISOR_PIN_WRONG"
    RECEIVING_NOTHING_TO_APPROVE = "RECEIVING_NOTHING_TO_APPROVE"
    RECEIVING_EXPIRY_REQUIRED = "RECEIVING_EXPIRY_REQUIRED"
    RECEIVING_EXPIRY_PAST = "RECEIVING_EXPIRY_PAST"
    RECEIVING_LPN_IN_USE = "RECEIVING_LPN_IN_USE"
    RECEIVING_RECEIVED = "RECEIVING_RECEIVED"
    RECEIVING_LOT_MISMATCH = "RECEIVING_LOT_MISMATCH"
    RECEIVING_APPROVED = "RECEIVING_APPROVED"
    RECEIVING_SHORT_LINES = "RECEIVING_SHORT_LINES"
    RECEIVING_CLOSED = "RECEIVING_CLOSED"
    # labels and printers
    PRINTER_UNKNOWN = "PRINTER_UNKNOWN"
    PRINTER_HOST_INVALID = "PRINTER_HOST_INVALID"
    PRINTER_UNREACHABLE = "PRINTER_UNREACHABLE"
    PRINT_JOB_UNKNOWN = "PRINT_JOB_UNKNOWN"
    PRINT_JOB_DONE = "PRINT_JOB_DONE"
    LABEL_DATA_INVALID = "LABEL_DATA_INVALID"
    # waves
    WAVE_NOT_FOUND = "WAVE_NOT_FOUND"
    WAVE_NOT_PLANNED = "WAVE_NOT_PLANNED"
    CARRIER_SERVICE_UNKNOWN = "CARRIER_SERVICE_UNKNOWN"
    # picking
    PICK_ORDER_NOT_READY = "PICK_ORDER_NOT_READY"
    PICK_NOTHING_TO_PICK = "PICK_NOTHING_TO_PICK"
    PICK_NO_PACKING_LOCATION = "PICK_NO_PACKING_LOCATION"
    PICK_NO_TASK = "PICK_NO_TASK"
    PICK_TASK_NOT_FOUND = "PICK_TASK_NOT_FOUND"
    PICK_TASK_CLOSED = "PICK_TASK_CLOSED"
    PICK_TASK_NOT_YOURS = "PICK_TASK_NOT_YOURS"
    PICK_WRONG_STEP = "PICK_WRONG_STEP"
    PICK_WRONG_BIN = "PICK_WRONG_BIN"
    PICK_WRONG_ITEM = "PICK_WRONG_ITEM"
    PICK_WRONG_LOT = "PICK_WRONG_LOT"
    PICK_WRONG_TOTE = "PICK_WRONG_TOTE"
    PICK_OVER_PICK = "PICK_OVER_PICK"
    PICK_TOTE_IN_USE = "PICK_TOTE_IN_USE"
    PICK_SHORT_QTY_INVALID = "PICK_SHORT_QTY_INVALID"
    PICK_TOTE_BOUND = "PICK_TOTE_BOUND"
    PICK_PICKED = "PICK_PICKED"
    PICK_LOT_SUBSTITUTED = "PICK_LOT_SUBSTITUTED"
    PICK_SHORT_RECORDED = "PICK_SHORT_RECORDED"
    PICK_TASK_DONE = "PICK_TASK_DONE"
    # packing and shipping
    PACK_TOTE_UNKNOWN = "PACK_TOTE_UNKNOWN"
    PACK_ORDER_NOT_READY = "PACK_ORDER_NOT_READY"
    PACK_ORDER_CLOSED = "PACK_ORDER_CLOSED"
    PACK_STATION_INVALID = "PACK_STATION_INVALID"
    PACK_SESSION_UNKNOWN = "PACK_SESSION_UNKNOWN"
    PACK_SESSION_CLOSED = "PACK_SESSION_CLOSED"
    PACK_SESSION_OTHER_USER = "PACK_SESSION_OTHER_USER"
    PACK_TOTE_OTHER_ORDER = "PACK_TOTE_OTHER_ORDER"
    PACK_ITEM_NOT_IN_ORDER = "PACK_ITEM_NOT_IN_ORDER"
    PACK_OVER_SCANNED = "PACK_OVER_SCANNED"
    PACK_CARTON_EMPTY = "PACK_CARTON_EMPTY"
    PACK_CARTON_TYPE_UNKNOWN = "PACK_CARTON_TYPE_UNKNOWN"
    PACK_WEIGHT_OUT_OF_RANGE = "PACK_WEIGHT_OUT_OF_RANGE"
    PACK_VERIFIED = "PACK_VERIFIED"
    PACK_TOTE_ADDED = "PACK_TOTE_ADDED"
    PACK_CARTON_SEALED = "PACK_CARTON_SEALED"
    PACK_ORDER_PACKED = "PACK_ORDER_PACKED"
    SHIP_NOT_PACKED = "SHIP_NOT_PACKED"
    SHIP_ALREADY_SHIPPED = "SHIP_ALREADY_SHIPPED"
    SHIP_ORDER_CANCELLED = "SHIP_ORDER_CANCELLED"
    SHIP_NOT_SHIPPED = "SHIP_NOT_SHIPPED"
    # returns (RMAs) and the returns scenario
    RETURNS_RMA_UNKNOWN = "RETURNS_RMA_UNKNOWN"
    RETURNS_RMA_CLOSED = "RETURNS_RMA_CLOSED"
    RETURNS_RMA_RECEIVED = "RETURNS_RMA_RECEIVED"
    RETURNS_LINE_BELOW_RECEIVED = "RETURNS_LINE_BELOW_RECEIVED"
    RETURNS_TRACKING_IN_USE = "RETURNS_TRACKING_IN_USE"
    RETURNS_NO_LOCATION = "RETURNS_NO_LOCATION"
    RETURNS_LOCATION_INVALID = "RETURNS_LOCATION_INVALID"
    RETURNS_SESSION_UNKNOWN = "RETURNS_SESSION_UNKNOWN"
    RETURNS_SESSION_CLOSED = "RETURNS_SESSION_CLOSED"
    RETURNS_SESSION_OTHER_USER = "RETURNS_SESSION_OTHER_USER"
    RETURNS_WRONG_STEP = "RETURNS_WRONG_STEP"
    RETURNS_ITEM_NOT_ON_RMA = "RETURNS_ITEM_NOT_ON_RMA"
    RETURNS_OVER_QTY = "RETURNS_OVER_QTY"
    RETURNS_RECEIVED = "RETURNS_RECEIVED"
    RETURNS_SHORT_LINES = "RETURNS_SHORT_LINES"
    RETURNS_CLOSED = "RETURNS_CLOSED"
    # carrier services and rate cards
    CARRIER_SERVICE_NOT_FOUND = "CARRIER_SERVICE_NOT_FOUND"
    CARRIER_SERVICES_INVALID = "CARRIER_SERVICES_INVALID"
    RATE_NO_ZONE = "RATE_NO_ZONE"
    RATE_WEIGHT_OUT_OF_RANGE = "RATE_WEIGHT_OUT_OF_RANGE"
    # handheld command queue and its reports
    QUEUE_DEPENDS_ON_REJECTED = "QUEUE_DEPENDS_ON_REJECTED"
    QUEUE_REF_MISSING = "QUEUE_REF_MISSING"
    TERMINAL_REJECTION_NOT_FOUND = "TERMINAL_REJECTION_NOT_FOUND"
    # handheld workflows (terminal/workflows: decided on the handheld, never sent)
    TERMINAL_OFFLINE = "TERMINAL_OFFLINE"
    TERMINAL_SENDING = "TERMINAL_SENDING"
    TERMINAL_WRONG_STEP = "TERMINAL_WRONG_STEP"
    TERMINAL_INPUT_UNKNOWN = "TERMINAL_INPUT_UNKNOWN"
    TERMINAL_NOT_AVAILABLE = "TERMINAL_NOT_AVAILABLE"
    TERMINAL_REJECTED_ON_REPLAY = "TERMINAL_REJECTED_ON_REPLAY"
    TERMINAL_RESYNCED = "TERMINAL_RESYNCED"
    # handheld app: choosing a site (terminal/ui)
    TERMINAL_SERVER_NOT_FOUND = "TERMINAL_SERVER_NOT_FOUND"
    TERMINAL_SERVER_INCOMPATIBLE = "TERMINAL_SERVER_INCOMPATIBLE"
    TERMINAL_SERVER_UNTRUSTED = "TERMINAL_SERVER_UNTRUSTED"
    # OMS orders, channels, sites
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_RELEASED = "ORDER_RELEASED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    EXCHANGE_ORDER_UNKNOWN = "EXCHANGE_ORDER_UNKNOWN"
    UNKNOWN_CHANNEL = "UNKNOWN_CHANNEL"
    CHANNEL_KEY_UNBOUND = "CHANNEL_KEY_UNBOUND"
    CHANNEL_NOT_YOURS = "CHANNEL_NOT_YOURS"
    SITE_URL_INVALID = "SITE_URL_INVALID"
    CHANNEL_NO_ENDPOINT = "CHANNEL_NO_ENDPOINT"
    CHANNEL_INACTIVE = "CHANNEL_INACTIVE"
    CHANNEL_SKU_TAKEN = "CHANNEL_SKU_TAKEN"
    # OMS customer e-mails
    NOTIFICATION_UNKNOWN = "NOTIFICATION_UNKNOWN"
    NOTIFICATION_SENT = "NOTIFICATION_SENT"
    # OMS site integration: signed site events, release to the sites
    SITE_EVENT_SIGNATURE_INVALID = "SITE_EVENT_SIGNATURE_INVALID"
    SITE_EVENT_STALE = "SITE_EVENT_STALE"
    SITE_EVENT_REPLAYED = "SITE_EVENT_REPLAYED"
    SITE_EVENT_INVALID = "SITE_EVENT_INVALID"
    SITE_NOT_SUBSCRIBED = "SITE_NOT_SUBSCRIBED"
    SITE_UNREACHABLE = "SITE_UNREACHABLE"
    SITE_REFUSED = "SITE_REFUSED"
    ORDER_NOT_RELEASABLE = "ORDER_NOT_RELEASABLE"
    # OMS returns (RMAs)
    RETURN_NOT_SHIPPED = "RETURN_NOT_SHIPPED"
    RETURN_QTY_EXCEEDED = "RETURN_QTY_EXCEEDED"
    RETURN_UNKNOWN = "RETURN_UNKNOWN"
    # cycle counting
    COUNT_TASK_NOT_FOUND = "COUNT_TASK_NOT_FOUND"
    COUNT_TASK_CLOSED = "COUNT_TASK_CLOSED"
    COUNT_TASK_NOT_YOURS = "COUNT_TASK_NOT_YOURS"
    COUNT_RECOUNT_SAME_USER = "COUNT_RECOUNT_SAME_USER"
    COUNT_BIN_NOT_IN_TASK = "COUNT_BIN_NOT_IN_TASK"
    COUNT_ITEM_NOT_IN_TASK = "COUNT_ITEM_NOT_IN_TASK"
    COUNT_LPN_NOT_IN_TASK = "COUNT_LPN_NOT_IN_TASK"
    COUNT_SCOPE_INVALID = "COUNT_SCOPE_INVALID"
    COUNT_NOTHING_TO_COUNT = "COUNT_NOTHING_TO_COUNT"
    COUNT_VARIANCE_NOT_FOUND = "COUNT_VARIANCE_NOT_FOUND"
    COUNT_VARIANCE_DECIDED = "COUNT_VARIANCE_DECIDED"
    COUNT_VARIANCE_NOT_POSTABLE = "COUNT_VARIANCE_NOT_POSTABLE"
    # labor tracking
    LABOR_GROUP_BY_UNKNOWN = "LABOR_GROUP_BY_UNKNOWN"
    LABOR_PERIOD_INVALID = "LABOR_PERIOD_INVALID"
    LABOR_TASK_TYPE_UNKNOWN = "LABOR_TASK_TYPE_UNKNOWN"
    LABOR_STANDARD_INVALID = "LABOR_STANDARD_INVALID"
    LABOR_WORKER_UNKNOWN = "LABOR_WORKER_UNKNOWN"
    # operations report and handing tasks to another worker
    REPORT_PERIOD_INVALID = "REPORT_PERIOD_INVALID"
    ASSIGN_KIND_UNKNOWN = "ASSIGN_KIND_UNKNOWN"
    ASSIGN_TASK_NOT_FOUND = "ASSIGN_TASK_NOT_FOUND"
    ASSIGN_TASK_CLOSED = "ASSIGN_TASK_CLOSED"
    ASSIGN_TASK_NOT_RELEASED = "ASSIGN_TASK_NOT_RELEASED"
    ASSIGN_BADGE_UNKNOWN = "ASSIGN_BADGE_UNKNOWN"
    ASSIGN_WORKER_INACTIVE = "ASSIGN_WORKER_INACTIVE"
    ASSIGN_ROLE_NOT_ALLOWED = "ASSIGN_ROLE_NOT_ALLOWED"
    ASSIGN_SAME_WORKER = "ASSIGN_SAME_WORKER"
    # fallback
    # 3PL clients (docs/clients.md)
    CLIENT_NOT_FOUND = "CLIENT_NOT_FOUND"
    CLIENT_INACTIVE = "CLIENT_INACTIVE"
    CLIENT_UNKNOWN = "CLIENT_UNKNOWN"
    CLIENT_EDI_TAKEN = "CLIENT_EDI_TAKEN"
    CLIENT_ITEMS_MIXED = "CLIENT_ITEMS_MIXED"
    CLIENT_OWNER_MISMATCH = "CLIENT_OWNER_MISMATCH"
    CLIENT_KEY_NEEDS_CLIENT = "CLIENT_KEY_NEEDS_CLIENT"
    CLIENT_NUMBER_TAKEN = "CLIENT_NUMBER_TAKEN"
    # EDI interchanges (docs/edi.md)
    EDI_ENVELOPE_INVALID = "EDI_ENVELOPE_INVALID"
    EDI_BODY_INVALID = "EDI_BODY_INVALID"
    EDI_SENDER_UNKNOWN = "EDI_SENDER_UNKNOWN"
    EDI_SENDER_MISMATCH = "EDI_SENDER_MISMATCH"
    EDI_INTERCHANGE_REUSED = "EDI_INTERCHANGE_REUSED"
    EDI_INTERCHANGE_NOT_FOUND = "EDI_INTERCHANGE_NOT_FOUND"
    EDI_OUTBOUND_NOT_FOUND = "EDI_OUTBOUND_NOT_FOUND"
    EDI_DOCUMENT_INVALID = "EDI_DOCUMENT_INVALID"
    EDI_CARRIER_UNKNOWN = "EDI_CARRIER_UNKNOWN"
    EDI_SET_UNSUPPORTED = "EDI_SET_UNSUPPORTED"
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
    ErrorCode.TOO_MANY_ATTEMPTS: ErrorDef(
        429, "Too many failed attempts from here. Wait a little, then try again."
    ),
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
    ErrorCode.STOCK_ALLOCATED: ErrorDef(
        409,
        "That stock is reserved for orders being picked. Take unreserved stock, or ask a "
        "supervisor to release the orders first.",
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
    ErrorCode.PO_INVALID: ErrorDef(
        422, "The purchase order has lines that cannot be used. Nothing was changed."
    ),
    ErrorCode.PO_NOT_FOUND: ErrorDef(404, "That purchase order is not known here."),
    ErrorCode.PO_CLOSED: ErrorDef(
        409, "That purchase order is closed or cancelled, so it cannot be changed."
    ),
    ErrorCode.PO_LINE_RECEIVED: ErrorDef(
        409,
        "Goods for this order line were already received: it cannot be removed, changed to "
        "another item, or lowered below what arrived.",
    ),
    ErrorCode.PO_RECEIVING_STARTED: ErrorDef(
        409, "Goods for this purchase order were already received, so it cannot be cancelled."
    ),
    ErrorCode.ASN_INVALID: ErrorDef(
        422, "The delivery notice (ASN) has lines that cannot be used. Nothing was changed."
    ),
    ErrorCode.ASN_NOT_FOUND: ErrorDef(404, "That delivery notice (ASN) is not known here."),
    ErrorCode.ASN_CLOSED: ErrorDef(
        409, "That delivery notice (ASN) is received or cancelled, so it cannot be changed."
    ),
    ErrorCode.ASN_LINE_RECEIVED: ErrorDef(
        409, "That delivery notice line was already received, so it cannot be changed or removed."
    ),
    ErrorCode.SSCC_ON_OTHER_ASN: ErrorDef(
        409, "That pallet label (SSCC) is already on another open delivery notice (ASN)."
    ),
    ErrorCode.SSCC_NOT_EXPECTED: ErrorDef(
        404, "No delivery notice (ASN) lists this pallet label (SSCC). Receive it against the PO."
    ),
    ErrorCode.TASK_NOT_FOUND: ErrorDef(404, "That task does not exist. Ask for the next task."),
    ErrorCode.TASK_CLOSED: ErrorDef(
        409, "This task is already done or cancelled. Nothing was moved; ask for the next task."
    ),
    ErrorCode.PUTAWAY_OVERRIDE_REASON_REQUIRED: ErrorDef(
        422,
        "That is not the suggested bin. Go to the suggested bin, or choose a reason for "
        "putting it here instead.",
    ),
    ErrorCode.PUTAWAY_BIN_NOT_ALLOWED: ErrorDef(
        422,
        "This stock may not go in that bin (wrong kind of area, temperature or hazard "
        "class). Scan another bin.",
    ),
    ErrorCode.PUTAWAY_BIN_NO_ROOM: ErrorDef(
        409, "That bin has no room for this by the books. Scan another bin or report it full."
    ),
    ErrorCode.PUTAWAY_NO_BIN: ErrorDef(
        409, "No bin has room for this stock right now. Leave it where it is and call a supervisor."
    ),
    ErrorCode.REPLENISHMENT_WRONG_BIN: ErrorDef(
        422, "Replenishment goes to the pick face shown on the screen. Scan that bin."
    ),
    ErrorCode.REPLENISHMENT_NOT_PICK_FACE: ErrorDef(
        422, "Replenishment rules are only for pick-face bins."
    ),
    ErrorCode.WEBHOOK_URL_INVALID: ErrorDef(422, "That webhook address is not allowed."),
    ErrorCode.WEBHOOK_SUBSCRIBER_INACTIVE: ErrorDef(
        409, "That webhook subscriber is deactivated. Create a new subscriber instead."
    ),
    ErrorCode.WEBHOOK_DELIVERY_NOT_FAILED: ErrorDef(
        409, "Only a failed webhook delivery can be retried; this one is still pending or done."
    ),
    ErrorCode.RECEIVING_DOCUMENT_UNKNOWN: ErrorDef(
        404, "That order or delivery is not expected here. Check the paperwork or ask a supervisor."
    ),
    ErrorCode.RECEIVING_DOCUMENT_CLOSED: ErrorDef(
        409, "That order or delivery is already closed or cancelled. Ask a supervisor."
    ),
    ErrorCode.RECEIVING_ASN_WITHOUT_PO: ErrorDef(
        409,
        "This delivery notice is not linked to a purchase order, so it cannot be received "
        "yet. Ask a supervisor.",
    ),
    ErrorCode.RECEIVING_SSCC_NOT_EXPECTED: ErrorDef(
        404,
        "This pallet label is not on any expected delivery for this order. Put the pallet "
        "aside and ask a supervisor, or scan the products one by one.",
    ),
    ErrorCode.RECEIVING_SSCC_ALREADY_RECEIVED: ErrorDef(
        409, "This pallet was already received. Do not receive it twice."
    ),
    ErrorCode.RECEIVING_NO_DOCK: ErrorDef(
        409, "This site has no receiving dock in its layout. A supervisor must add one."
    ),
    ErrorCode.RECEIVING_DOCK_INVALID: ErrorDef(
        422, "That is not a receiving dock. Scan or choose a dock door."
    ),
    ErrorCode.RECEIVING_SESSION_UNKNOWN: ErrorDef(
        404, "This receiving job was not found. Start again by scanning the order."
    ),
    ErrorCode.RECEIVING_SESSION_CLOSED: ErrorDef(
        409, "This receiving job is already closed. Start a new one to receive more."
    ),
    ErrorCode.RECEIVING_SESSION_OTHER_USER: ErrorDef(
        409, "This receiving job belongs to another receiver. Start your own job."
    ),
    ErrorCode.RECEIVING_WRONG_STEP: ErrorDef(
        409, "That does not fit this step. Follow what the screen asks for."
    ),
    ErrorCode.RECEIVING_ITEM_NOT_ON_ORDER: ErrorDef(
        409,
        "This item is not on the order. Put it aside, or ask a supervisor to approve receiving it.",
    ),
    ErrorCode.RECEIVING_OVER_TOLERANCE: ErrorDef(
        409,
        "That is more than was ordered. Count again, or ask a supervisor to approve the extra.",
    ),
    ErrorCode.RECEIVING_OVERRIDE_NOT_ALLOWED: ErrorDef(
        403, "Only a supervisor can approve this. Ask a supervisor to scan their badge."
    ),
    ErrorCode.RECEIVING_SUPERVISOR_PIN_WRONG: ErrorDef(
        422, "That supervisor badge or PIN was not recognised. Try again."
    ),
    ErrorCode.RECEIVING_NOTHING_TO_APPROVE: ErrorDef(
        409, "Nothing in this receiving job is waiting for a supervisor."
    ),
    ErrorCode.RECEIVING_EXPIRY_REQUIRED: ErrorDef(
        422, "This item needs its expiry date: scan the label or enter the date."
    ),
    ErrorCode.RECEIVING_EXPIRY_PAST: ErrorDef(
        422,
        "This product is past its expiry date. Do not receive it: put it aside and tell a "
        "supervisor.",
    ),
    ErrorCode.RECEIVING_LPN_IN_USE: ErrorDef(
        409, "That pallet label is already used on other stock. Use a new label."
    ),
    ErrorCode.RECEIVING_RECEIVED: ErrorDef(
        200, "Received. Scan the next item, or close when the delivery is done."
    ),
    ErrorCode.RECEIVING_LOT_MISMATCH: ErrorDef(
        200, "Received, but this lot was not expected on the order. A supervisor will check it."
    ),
    ErrorCode.RECEIVING_APPROVED: ErrorDef(200, "A supervisor approved it. Carry on."),
    ErrorCode.RECEIVING_SHORT_LINES: ErrorDef(
        200,
        "Some order lines have fewer items than ordered. Scan what is left, or confirm to "
        "close them short.",
    ),
    ErrorCode.RECEIVING_CLOSED: ErrorDef(200, "Receiving is closed. Take the pallets to putaway."),
    ErrorCode.PRINTER_UNKNOWN: ErrorDef(
        404, "That printer is not set up here. Pick another printer or ask a supervisor."
    ),
    ErrorCode.PRINTER_HOST_INVALID: ErrorDef(
        422,
        "That printer address cannot be used. Give the printer's IP address or name on "
        "the warehouse network.",
    ),
    ErrorCode.PRINTER_UNREACHABLE: ErrorDef(
        503,
        "The printer did not answer. Check it is on and connected; the label is kept and "
        "prints when the printer is back.",
    ),
    ErrorCode.PRINT_JOB_UNKNOWN: ErrorDef(404, "That print job was not found."),
    ErrorCode.PRINT_JOB_DONE: ErrorDef(
        409, "That print job is already finished. Print the label again if you need another."
    ),
    ErrorCode.LABEL_DATA_INVALID: ErrorDef(
        422, "That label cannot be printed: some of its data is not valid."
    ),
    ErrorCode.FO_INVALID: ErrorDef(
        422, "The fulfillment order has lines that cannot be used. Nothing was changed."
    ),
    ErrorCode.FO_NOT_FOUND: ErrorDef(404, "That fulfillment order is not known here."),
    ErrorCode.FO_CLOSED: ErrorDef(
        409, "That fulfillment order is cancelled or shipped, so it cannot be changed."
    ),
    ErrorCode.FO_PICKING_STARTED: ErrorDef(
        409,
        "Picking has started on this fulfillment order, so it cannot be changed, cancelled "
        "or allocated again.",
    ),
    ErrorCode.WAVE_NOT_FOUND: ErrorDef(404, "That wave is not known here."),
    ErrorCode.WAVE_NOT_PLANNED: ErrorDef(
        409,
        "That wave is no longer planned (already released, done or cancelled), so it cannot "
        "be released or cancelled. Nothing was changed.",
    ),
    ErrorCode.CARRIER_SERVICE_UNKNOWN: ErrorDef(
        422,
        "That carrier service is not set up at this site, or is inactive, so orders for it "
        "cannot be waved or shipped.",
    ),
    ErrorCode.PICK_ORDER_NOT_READY: ErrorDef(
        409,
        "That order cannot be picked now: it must be allocated (or backordered with stock "
        "allocated). Nothing was created.",
    ),
    ErrorCode.PICK_NOTHING_TO_PICK: ErrorDef(
        409,
        "That order has nothing left to pick here: its allocated stock is already in open pick "
        "tasks, or none is in that zone. Nothing was created.",
    ),
    ErrorCode.PICK_NO_PACKING_LOCATION: ErrorDef(
        409, "The site has no active packing location to take picked totes to. Add one first."
    ),
    ErrorCode.PICK_NO_TASK: ErrorDef(
        404, "There is no pick task for you right now. Try again in a moment."
    ),
    ErrorCode.PICK_TASK_NOT_FOUND: ErrorDef(
        404, "That pick task does not exist. Ask for the next task."
    ),
    ErrorCode.PICK_TASK_CLOSED: ErrorDef(
        409, "This pick task is already finished or cancelled. Nothing was changed."
    ),
    ErrorCode.PICK_TASK_NOT_YOURS: ErrorDef(
        409, "This pick task belongs to another picker. Ask a supervisor to hand it over."
    ),
    ErrorCode.PICK_WRONG_STEP: ErrorDef(
        409, "That scan is not expected at this step. Follow the instruction on the screen."
    ),
    ErrorCode.PICK_WRONG_BIN: ErrorDef(
        409, "Wrong bin. Nothing was picked. Go to the bin shown on the screen and scan its label."
    ),
    ErrorCode.PICK_WRONG_ITEM: ErrorDef(
        409, "Wrong product. Nothing was picked. Put it back; scan the product on the screen."
    ),
    ErrorCode.PICK_WRONG_LOT: ErrorDef(
        409,
        "Wrong lot, and it cannot replace the lot shown. Nothing was picked. Pick the lot shown "
        "on the screen.",
    ),
    ErrorCode.PICK_WRONG_TOTE: ErrorDef(
        409, "Wrong tote. Nothing was picked. Put the goods in the tote shown on the screen."
    ),
    ErrorCode.PICK_OVER_PICK: ErrorDef(
        409, "That is more than this line needs. Nothing was picked. Put the extra back."
    ),
    ErrorCode.PICK_TOTE_IN_USE: ErrorDef(
        409, "That tote is in use for another order or task. Take an empty tote and scan it."
    ),
    ErrorCode.PICK_SHORT_QTY_INVALID: ErrorDef(
        422,
        "A short pick reports what was found: from 0 up to one less than the quantity asked "
        "for. Scan the tote when you found some.",
    ),
    ErrorCode.PICK_TOTE_BOUND: ErrorDef(200, "Tote linked to the cart position."),
    ErrorCode.PICK_PICKED: ErrorDef(200, "Picked. Go on to the next bin."),
    ErrorCode.PICK_LOT_SUBSTITUTED: ErrorDef(
        200, "A different lot from the one shown was accepted as a replacement."
    ),
    ErrorCode.PICK_SHORT_RECORDED: ErrorDef(
        200, "Short pick recorded. The bin will be counted. Go on to the next bin."
    ),
    ErrorCode.PICK_TASK_DONE: ErrorDef(
        200, "Pick task finished. Take the totes to the packing station shown."
    ),
    ErrorCode.PACK_TOTE_UNKNOWN: ErrorDef(
        404,
        "This tote holds nothing to pack. Check the tote label, or type the order number.",
    ),
    ErrorCode.PACK_ORDER_NOT_READY: ErrorDef(
        409,
        "This order is not completely picked yet. Wait for the missing items listed, or ask "
        "a supervisor.",
    ),
    ErrorCode.PACK_ORDER_CLOSED: ErrorDef(
        409, "This order is already packed, shipped or cancelled. Do not pack it again."
    ),
    ErrorCode.PACK_STATION_INVALID: ErrorDef(
        422, "That is not a packing station. Scan or choose a packing location."
    ),
    ErrorCode.PACK_SESSION_UNKNOWN: ErrorDef(
        404, "This packing job was not found. Start again by scanning a tote."
    ),
    ErrorCode.PACK_SESSION_CLOSED: ErrorDef(
        409, "This packing job is already finished. Start a new one for another order."
    ),
    ErrorCode.PACK_SESSION_OTHER_USER: ErrorDef(
        409, "Another packer is packing this order. Ask them or a supervisor."
    ),
    ErrorCode.PACK_TOTE_OTHER_ORDER: ErrorDef(
        409, "This tote belongs to another order. Put it aside and pack it separately."
    ),
    ErrorCode.PACK_ITEM_NOT_IN_ORDER: ErrorDef(
        409, "This item is not in this order. Put it aside and do not pack it."
    ),
    ErrorCode.PACK_OVER_SCANNED: ErrorDef(
        409,
        "All of this item that was picked is already packed. Put the extra aside and do not "
        "pack it.",
    ),
    ErrorCode.PACK_CARTON_EMPTY: ErrorDef(
        409, "Nothing has been scanned into this carton. Scan the items before sealing it."
    ),
    ErrorCode.PACK_CARTON_TYPE_UNKNOWN: ErrorDef(
        422, "That carton type is not set up here. Choose one from the list."
    ),
    ErrorCode.PACK_WEIGHT_OUT_OF_RANGE: ErrorDef(
        422, "That weight is not possible for this carton. Weigh it again or choose another box."
    ),
    ErrorCode.PACK_VERIFIED: ErrorDef(200, "Checked. Scan the next item, or seal the carton."),
    ErrorCode.PACK_TOTE_ADDED: ErrorDef(200, "Tote added. Scan its items."),
    ErrorCode.PACK_CARTON_SEALED: ErrorDef(
        200, "Carton sealed. Put the shipping label on it, then pack the rest."
    ),
    ErrorCode.PACK_ORDER_PACKED: ErrorDef(
        200, "The order is packed. Label the carton and take the cartons to shipping."
    ),
    ErrorCode.SHIP_NOT_PACKED: ErrorDef(
        409, "This order is not packed yet, so it cannot be shipped. Nothing was changed."
    ),
    ErrorCode.SHIP_ALREADY_SHIPPED: ErrorDef(
        409, "This order has already shipped. Nothing was changed."
    ),
    ErrorCode.SHIP_ORDER_CANCELLED: ErrorDef(
        409, "This order was cancelled. Do not ship it; ask a supervisor. Nothing was changed."
    ),
    ErrorCode.SHIP_NOT_SHIPPED: ErrorDef(
        409, "This order has not shipped, so nothing can be reported as shipped wrongly."
    ),
    ErrorCode.RETURNS_RMA_UNKNOWN: ErrorDef(
        404,
        "This return (RMA) is not expected here. Put the parcel aside for a supervisor; "
        "nothing was received.",
    ),
    ErrorCode.RETURNS_RMA_CLOSED: ErrorDef(
        409,
        "This return (RMA) is already closed or cancelled. Put the parcel aside for a "
        "supervisor. Nothing was changed.",
    ),
    ErrorCode.RETURNS_RMA_RECEIVED: ErrorDef(
        409, "Goods of this return have been received already, so it cannot be cancelled."
    ),
    ErrorCode.RETURNS_LINE_BELOW_RECEIVED: ErrorDef(
        409,
        "That change would expect fewer units on a return line than were already received, "
        "or drop a line that was received. Nothing was changed.",
    ),
    ErrorCode.RETURNS_TRACKING_IN_USE: ErrorDef(
        409,
        "That return label tracking number already belongs to another open return. Nothing "
        "was changed.",
    ),
    ErrorCode.RETURNS_NO_LOCATION: ErrorDef(
        409, "This site has no returns area in its layout. A supervisor must add one."
    ),
    ErrorCode.RETURNS_LOCATION_INVALID: ErrorDef(
        422, "That is not a returns area. Scan or choose the returns bench."
    ),
    ErrorCode.RETURNS_SESSION_UNKNOWN: ErrorDef(
        404, "This returns job was not found. Start again by scanning the RMA label."
    ),
    ErrorCode.RETURNS_SESSION_CLOSED: ErrorDef(
        409, "This returns job is already closed. Scan the RMA label to start a new one."
    ),
    ErrorCode.RETURNS_SESSION_OTHER_USER: ErrorDef(
        409, "This returns job belongs to another receiver. Start your own job."
    ),
    ErrorCode.RETURNS_WRONG_STEP: ErrorDef(
        409, "That does not fit this step. Follow what the screen asks for."
    ),
    ErrorCode.RETURNS_ITEM_NOT_ON_RMA: ErrorDef(
        409,
        "This item is not on the return. Put it aside for a supervisor; nothing was received.",
    ),
    ErrorCode.RETURNS_OVER_QTY: ErrorDef(
        409,
        "That is more of this item than the return allows. Count again, or put the extra "
        "aside for a supervisor; nothing was received.",
    ),
    ErrorCode.RETURNS_RECEIVED: ErrorDef(
        200, "Received. Take it where the screen says, then scan the next item or close."
    ),
    ErrorCode.RETURNS_SHORT_LINES: ErrorDef(
        200,
        "Fewer items came back than the return lists. Scan what is left, or confirm to "
        "close the return with what arrived.",
    ),
    ErrorCode.RETURNS_CLOSED: ErrorDef(
        200, "Return closed. The customer's refund follows from what was received."
    ),
    ErrorCode.CARRIER_SERVICE_NOT_FOUND: ErrorDef(
        404, "That carrier service is not set up at this site."
    ),
    ErrorCode.CARRIER_SERVICES_INVALID: ErrorDef(
        422, "The carrier services file is not valid. Nothing was changed."
    ),
    ErrorCode.RATE_NO_ZONE: ErrorDef(
        422,
        "This carrier service does not deliver to that address (no zone of its rate card "
        "covers the country and postal code). Check the address or choose another service.",
    ),
    ErrorCode.RATE_WEIGHT_OUT_OF_RANGE: ErrorDef(
        422,
        "That weight cannot be shipped with this carrier service: it must be above zero and "
        "within the rate card's heaviest weight break. Split the shipment or choose another "
        "service.",
    ),
    ErrorCode.QUEUE_DEPENDS_ON_REJECTED: ErrorDef(
        409,
        "Not sent: an earlier scan this one depends on was refused by the server. "
        "Show both to a supervisor.",
    ),
    ErrorCode.QUEUE_REF_MISSING: ErrorDef(
        409,
        "Not sent: the server's answer to an earlier scan did not contain what this scan "
        "needs. Show it to a supervisor.",
    ),
    ErrorCode.TERMINAL_REJECTION_NOT_FOUND: ErrorDef(
        404, "That refused handheld command was not found."
    ),
    ErrorCode.TERMINAL_OFFLINE: ErrorDef(
        503,
        "The server cannot be reached and no work is downloaded for this. Go where the Wi-Fi "
        "reaches and try again; scans already confirmed are kept and sent later.",
    ),
    ErrorCode.TERMINAL_SENDING: ErrorDef(
        409, "Earlier scans are still being sent to the server. Wait a moment and try again."
    ),
    ErrorCode.TERMINAL_WRONG_STEP: ErrorDef(
        409, "That does not fit this step. Follow the prompt on the screen."
    ),
    ErrorCode.TERMINAL_INPUT_UNKNOWN: ErrorDef(422, "That key does nothing on this screen."),
    ErrorCode.TERMINAL_NOT_AVAILABLE: ErrorDef(
        501, "This server does not offer this work yet. Ask a supervisor."
    ),
    ErrorCode.TERMINAL_REJECTED_ON_REPLAY: ErrorDef(
        409,
        "The server refused a scan this handheld confirmed earlier. Read why, then acknowledge; "
        "a supervisor has been told.",
    ),
    ErrorCode.TERMINAL_RESYNCED: ErrorDef(
        200, "The server saw it differently: the screen now shows where the server is."
    ),
    ErrorCode.TERMINAL_SERVER_NOT_FOUND: ErrorDef(
        503,
        "No Aisleway server answers at that address. Check the address and that this handheld "
        "is on the warehouse Wi-Fi.",
    ),
    ErrorCode.TERMINAL_SERVER_INCOMPATIBLE: ErrorDef(
        409, "This site's server runs another version of Aisleway. Update the app on this handheld."
    ),
    ErrorCode.TERMINAL_SERVER_UNTRUSTED: ErrorDef(
        503,
        "The server's certificate has changed since this handheld was paired, so nothing was "
        "sent. Tell a supervisor. If the site's certificate was replaced on purpose, pair again "
        "with a new code; otherwise tap Change site.",
    ),
    ErrorCode.ORDER_NOT_FOUND: ErrorDef(404, "That order is not known here."),
    ErrorCode.ORDER_RELEASED: ErrorDef(
        409,
        "This order has been released to a warehouse; only its payment status can change here. "
        "Ask the warehouse, or return the goods.",
    ),
    ErrorCode.ORDER_CANCELLED: ErrorDef(
        409, "This order was cancelled; only its payment status can change. Send a new order."
    ),
    ErrorCode.EXCHANGE_ORDER_UNKNOWN: ErrorDef(
        422, "The original order named for this exchange is not known here."
    ),
    ErrorCode.UNKNOWN_CHANNEL: ErrorDef(404, "That sales channel is not known here."),
    ErrorCode.CHANNEL_KEY_UNBOUND: ErrorDef(
        403,
        "This API key is not bound to a sales channel. Bind it (aisleway oms add-key "
        "--channel), or name the channel with an admin key.",
    ),
    ErrorCode.CHANNEL_NOT_YOURS: ErrorDef(
        403, "This API key speaks for another sales channel than the one named."
    ),
    ErrorCode.SITE_URL_INVALID: ErrorDef(422, "That site address cannot be used."),
    ErrorCode.CHANNEL_NO_ENDPOINT: ErrorDef(
        409, "This sales channel has no endpoint to push to. Set its endpoint_url first."
    ),
    ErrorCode.CHANNEL_INACTIVE: ErrorDef(
        409, "This sales channel is switched off. PUT it with active true to push to it again."
    ),
    ErrorCode.CHANNEL_SKU_TAKEN: ErrorDef(
        409, "Another of our SKUs is already listed under that channel SKU on this channel."
    ),
    ErrorCode.NOTIFICATION_UNKNOWN: ErrorDef(404, "That customer e-mail was not found."),
    ErrorCode.NOTIFICATION_SENT: ErrorDef(
        409, "That e-mail was already sent; it is not sent again."
    ),
    ErrorCode.SITE_EVENT_SIGNATURE_INVALID: ErrorDef(
        401, "This site event is not signed with the site's webhook secret; it was refused."
    ),
    ErrorCode.SITE_EVENT_STALE: ErrorDef(
        401,
        "This site event's signature time is more than 5 minutes from the OMS's clock; it was "
        "refused. Check both clocks.",
    ),
    ErrorCode.SITE_EVENT_REPLAYED: ErrorDef(
        409, "This webhook id was already used for another event from this site; refused."
    ),
    ErrorCode.SITE_EVENT_INVALID: ErrorDef(
        422, "This site event cannot be read (not JSON, no type, or another site's event)."
    ),
    ErrorCode.SITE_NOT_SUBSCRIBED: ErrorDef(
        409,
        "The OMS has no webhook secret for this site yet: subscribe it (aisleway oms "
        "subscribe) or store the secret (aisleway oms add-site --webhook-secret).",
    ),
    ErrorCode.SITE_UNREACHABLE: ErrorDef(
        503, "The site's edge server did not answer. The OMS retries on its own."
    ),
    ErrorCode.SITE_REFUSED: ErrorDef(
        502, "The site's edge server refused the request; details say what it answered."
    ),
    ErrorCode.ORDER_NOT_RELEASABLE: ErrorDef(
        409, "Nothing of this order is reserved and waiting for release to a site."
    ),
    ErrorCode.RETURN_NOT_SHIPPED: ErrorDef(
        409, "Nothing of this order has shipped yet, so nothing can be returned."
    ),
    ErrorCode.RETURN_QTY_EXCEEDED: ErrorDef(
        422,
        "More units of an item are to be returned than one shipment of this order holds (less "
        "what earlier returns already cover); details list what can be returned.",
    ),
    ErrorCode.RETURN_UNKNOWN: ErrorDef(404, "That return (RMA) is not known here."),
    ErrorCode.COUNT_TASK_NOT_FOUND: ErrorDef(404, "That count task does not exist."),
    ErrorCode.COUNT_TASK_CLOSED: ErrorDef(
        409, "This count is already finished or cancelled. Nothing was changed."
    ),
    ErrorCode.COUNT_TASK_NOT_YOURS: ErrorDef(
        409,
        "This count is not yours: claim it first, or ask a supervisor to give it to you. "
        "Nothing was changed.",
    ),
    ErrorCode.COUNT_RECOUNT_SAME_USER: ErrorDef(
        403,
        "This is a recount of your own count: another worker must do it. Nothing was changed.",
    ),
    ErrorCode.COUNT_BIN_NOT_IN_TASK: ErrorDef(
        422, "That bin is not part of this count. Count only the bins on the list."
    ),
    ErrorCode.COUNT_ITEM_NOT_IN_TASK: ErrorDef(
        422, "This count is for another item. Count only the item on the task."
    ),
    ErrorCode.COUNT_LPN_NOT_IN_TASK: ErrorDef(
        422, "This count is for another LPN. Count only the LPN on the task."
    ),
    ErrorCode.COUNT_SCOPE_INVALID: ErrorDef(
        422,
        "Say what to count: a bin for a bin count, a SKU for an item count, an LPN for an "
        "LPN count.",
    ),
    ErrorCode.COUNT_NOTHING_TO_COUNT: ErrorDef(
        409, "No bin holds that item or LPN on the books, so there is nothing to count."
    ),
    ErrorCode.COUNT_VARIANCE_NOT_FOUND: ErrorDef(404, "That count difference does not exist."),
    ErrorCode.COUNT_VARIANCE_DECIDED: ErrorDef(
        409, "This count difference was already decided (posted, approved or rejected)."
    ),
    ErrorCode.COUNT_VARIANCE_NOT_POSTABLE: ErrorDef(
        409,
        "This adjustment cannot be posted now: the stock is reserved for orders or is no "
        "longer in the bin. Details say why; nothing was changed.",
    ),
    ErrorCode.LABOR_GROUP_BY_UNKNOWN: ErrorDef(
        422,
        "Labor rates can be grouped by worker, task_type, hour, shift and day only; details "
        "name what was not understood.",
    ),
    ErrorCode.LABOR_PERIOD_INVALID: ErrorDef(
        422, "The period is not valid: 'since' must be before 'until' (ISO 8601 times)."
    ),
    ErrorCode.LABOR_TASK_TYPE_UNKNOWN: ErrorDef(
        404,
        "That is not a labor task type (receive, putaway, replenish, pick, pack, count, return).",
    ),
    ErrorCode.LABOR_STANDARD_INVALID: ErrorDef(
        422,
        "A labor standard must be a positive number per hour, in units, lines or tasks. "
        "Nothing was changed.",
    ),
    ErrorCode.LABOR_WORKER_UNKNOWN: ErrorDef(404, "No worker has that badge."),
    ErrorCode.REPORT_PERIOD_INVALID: ErrorDef(
        422, "That report period cannot be used: until must not be before since, 366 days at most."
    ),
    ErrorCode.ASSIGN_KIND_UNKNOWN: ErrorDef(
        404, "Only pick, putaway and count tasks can be handed to another worker."
    ),
    ErrorCode.ASSIGN_TASK_NOT_FOUND: ErrorDef(404, "There is no such task at this site."),
    ErrorCode.ASSIGN_TASK_CLOSED: ErrorDef(
        409, "That task is already finished or cancelled, so it cannot be handed over."
    ),
    ErrorCode.ASSIGN_TASK_NOT_RELEASED: ErrorDef(
        409, "That pick task's wave is not released yet. Release the wave first."
    ),
    ErrorCode.ASSIGN_BADGE_UNKNOWN: ErrorDef(404, "No worker has that badge."),
    ErrorCode.ASSIGN_WORKER_INACTIVE: ErrorDef(
        409, "That worker's badge is switched off, so they cannot be given work."
    ),
    ErrorCode.ASSIGN_ROLE_NOT_ALLOWED: ErrorDef(
        422, "That worker's role cannot do this kind of task. Choose someone who can."
    ),
    ErrorCode.ASSIGN_SAME_WORKER: ErrorDef(409, "That worker already has this task."),
    ErrorCode.CLIENT_NOT_FOUND: ErrorDef(404, "There is no client with that code."),
    ErrorCode.CLIENT_INACTIVE: ErrorDef(
        409, "That client is switched off. An administrator can switch it back on."
    ),
    ErrorCode.CLIENT_UNKNOWN: ErrorDef(
        422, "The owner named is not a client of this site. Add the client first."
    ),
    ErrorCode.CLIENT_EDI_TAKEN: ErrorDef(
        409, "Another client already sends EDI with that qualifier and ID."
    ),
    ErrorCode.CLIENT_ITEMS_MIXED: ErrorDef(
        422, "A document may hold one client's items only. Split it by owner."
    ),
    ErrorCode.CLIENT_OWNER_MISMATCH: ErrorDef(
        422, "The owner named does not own the items on this document."
    ),
    ErrorCode.CLIENT_NUMBER_TAKEN: ErrorDef(
        409, "That document number is already used at this site. Send it under another number."
    ),
    ErrorCode.CLIENT_KEY_NEEDS_CLIENT: ErrorDef(
        422, "A client API key must name the client it belongs to (and only a client key may)."
    ),
    ErrorCode.EDI_ENVELOPE_INVALID: ErrorDef(
        422,
        "The X12 interchange's envelope is wrong (details name the code, segment and position). "
        "Nothing was taken.",
    ),
    ErrorCode.EDI_BODY_INVALID: ErrorDef(
        415, "Send the interchange as the raw request body (Content-Type application/edi-x12)."
    ),
    ErrorCode.EDI_SENDER_UNKNOWN: ErrorDef(
        422, "The interchange's sender (ISA05/ISA06) is not the EDI identity of any client."
    ),
    ErrorCode.EDI_SENDER_MISMATCH: ErrorDef(
        403, "The interchange's sender (ISA05/ISA06) is not your EDI identity."
    ),
    ErrorCode.EDI_INTERCHANGE_REUSED: ErrorDef(
        409,
        "This interchange control number was already used by the sender for a different file. "
        "Send new content under a new ISA13.",
    ),
    ErrorCode.EDI_INTERCHANGE_NOT_FOUND: ErrorDef(404, "There is no such EDI interchange."),
    ErrorCode.EDI_OUTBOUND_NOT_FOUND: ErrorDef(404, "There is no such outbound EDI document."),
    ErrorCode.EDI_DOCUMENT_INVALID: ErrorDef(
        422, "The transaction set reads as X12 but cannot become one of our documents."
    ),
    ErrorCode.EDI_CARRIER_UNKNOWN: ErrorDef(
        422,
        "The 940's carrier (W66) matches none of our carrier services and the client has no "
        "default EDI carrier service.",
    ),
    ErrorCode.EDI_SET_UNSUPPORTED: ErrorDef(
        422, "We do not take this transaction set (or this status of it) inbound."
    ),
    ErrorCode.INTERNAL: ErrorDef(500, "Something went wrong on the server. Nothing was changed."),
}


def message_for(code: ErrorCode) -> ErrorDef:
    """The catalogue entry for `code`."""
    return CATALOGUE[code]
