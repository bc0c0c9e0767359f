"""Carriers, rate cards and shipping labels."""
