"""Run every benchmark: `python -m bench` (or `make bench`)."""

from __future__ import annotations

import importlib
import sys

BENCHES = [
    "bench.batching_bench",
    "bench.channel_sync_bench",
    "bench.dashboard_bench",
    "bench.ledger_bench",
    "bench.load_bench",
    "bench.putaway_bench",
    "bench.routing_bench",
    "bench.scan_feedback_bench",
    "bench.screen_feedback_bench",
    "bench.sourcing_bench",
]


def main(argv: list[str]) -> int:
    selected = [b for b in BENCHES if not argv or any(a in b for a in argv)]
    for name in selected:
        print(f"== {name}")
        importlib.import_module(name).main()
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
