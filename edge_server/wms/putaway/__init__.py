"""Directed putaway, replenishment and the putaway count hook (docs/putaway.md).

`slotting` chooses bins (pure), `tasks` creates and confirms putaway tasks,
`replenishment` keeps pick faces between min and max, `count_hook` asks for counts.
"""
