"""Load generator for the edge server: simulated handhelds over real HTTP on loopback.

`python -m bench.load` (docs/load.md). The server runs in its own process
(`bench.load.server`), the handhelds are asyncio tasks sharing one httpx client pool.
"""
