"""The contract between Aisleway's parts: typed messages with no I/O."""

from protocols.envelope import Envelope, Message, MessageType, error_envelope
from protocols.errors import CATALOGUE, ErrorCode, ErrorDef, message_for
from protocols.version import API_BASE_PATH, PROTOCOL_VERSION

__all__ = [
    "API_BASE_PATH",
    "CATALOGUE",
    "PROTOCOL_VERSION",
    "Envelope",
    "ErrorCode",
    "ErrorDef",
    "Message",
    "MessageType",
    "error_envelope",
    "message_for",
]
