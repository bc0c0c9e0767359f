"""Protocol version shared by the edge server, the OMS and the terminals."""

__all__ = ["API_BASE_PATH", "PROTOCOL_VERSION"]

#: Bumped on any incompatible change of a message in `protocols/`.
PROTOCOL_VERSION = "1"
#: Where every versioned API route lives on an edge server.
API_BASE_PATH = "/api/v1"
