"""Discovery constants: how terminals find edge servers on the LAN (zeroconf / mDNS)."""

__all__ = ["SERVICE_TYPE", "TXT_API", "TXT_PROTOCOL", "TXT_SCHEME", "TXT_SITE"]

SERVICE_TYPE = "_aisleway._tcp.local."
TXT_SITE = "site"
TXT_PROTOCOL = "protocol"
TXT_API = "api"
TXT_SCHEME = "scheme"  # "https" when the server has TLS on; absent or "http" otherwise
