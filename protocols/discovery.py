"""Discovery constants: how terminals find edge servers on the LAN (zeroconf / mDNS)."""

__all__ = ["SERVICE_TYPE", "TXT_API", "TXT_PROTOCOL", "TXT_SITE"]

SERVICE_TYPE = "_aisleway._tcp.local."
TXT_SITE = "site"
TXT_PROTOCOL = "protocol"
TXT_API = "api"
