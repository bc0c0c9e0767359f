"""Aisleway edge server: one per warehouse site."""
