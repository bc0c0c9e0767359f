"""Handheld load on the edge server (confirmed scans/s, p50/p99) beside a no-op endpoint on the
same stack: `python -m bench load_bench`. The full run with options is `python -m bench.load`
(docs/load.md)."""

from __future__ import annotations

from bench.load.__main__ import main as run_load


def main() -> None:
    run_load(["--levels", "50,200,500", "--seconds", "10"])
