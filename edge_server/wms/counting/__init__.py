"""Cycle counting (docs/counting.md): blind count tasks by bin, item or LPN, counted lines
checked against the ledger position at the moment they were counted, tolerances, recounts by
another worker, supervisor approval above a value, ABC schedules and IRA.

`tasks` makes, lists, claims and assigns tasks; `lines` records what a counter counted;
`variances` turns a submitted count into variances and adjustments; `approvals` decides the
ones awaiting a supervisor; `schedule` makes the due counts of the ABC schedule (and
`schedule_loop` runs it in the server); `kpi` computes IRA and the supervisor's summary.
"""
