"""Outbound: fulfillment orders and stock allocation (docs/outbound.md)."""
