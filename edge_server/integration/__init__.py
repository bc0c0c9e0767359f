"""Talking to other systems: idempotent commands in, signed webhooks out."""
