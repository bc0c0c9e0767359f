"""The OMS HTTP API, one router per area (mounted under /api/v1 of the OMS app)."""
