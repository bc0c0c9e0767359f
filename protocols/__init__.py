"""The contract between Aisleway's parts: typed messages with no I/O."""

from protocols.barcodes import PLACE_KINDS, BarcodeError, Scan, ScanKind, parse_scan
from protocols.envelope import Envelope, Message, MessageType, error_envelope
from protocols.errors import CATALOGUE, ErrorCode, ErrorDef, message_for
from protocols.version import API_BASE_PATH, PROTOCOL_VERSION

__all__ = [
    "API_BASE_PATH",
    "CATALOGUE",
    "PLACE_KINDS",
    "PROTOCOL_VERSION",
    "BarcodeError",
    "Envelope",
    "ErrorCode",
    "ErrorDef",
    "Message",
    "MessageType",
    "Scan",
    "ScanKind",
    "error_envelope",
    "message_for",
    "parse_scan",
]
