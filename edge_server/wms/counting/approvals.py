"""A supervisor's decision on a count variance awaiting approval: approve posts the
adjustment (a `count` movement against the current stock), reject posts nothing."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms.counting.variances import get_variance, post_variance, variance_view
from edge_server.wms.ledger import Actor
from protocols.errors import ErrorCode

__all__ = ["approve", "reject"]


def _awaiting(w: SUDatabase, site: str, variance_id: int) -> dict[str, Any]:
    v = get_variance(w, site, variance_id)
    if v["status"] != "awaiting_approval":
        raise AislewayError(
            ErrorCode.COUNT_VARIANCE_DECIDED,
            details={"variance_id": variance_id, "status": v["status"]},
        )
    return v


def approve(
    w: SUDatabase, site: str, variance_id: int, actor: Actor, note: str = ""
) -> dict[str, Any]:
    """Post the variance. If it cannot be posted (stock allocated to orders, or gone), the
    refusal says why and nothing changes; the variance keeps waiting."""
    v = _awaiting(w, site, variance_id)
    w.execute(
        "UPDATE count_variances SET decided_by = ?, decided_at = ?, note = ? WHERE id = ?",
        [actor.user_id, iso(), note, variance_id],
    )
    return post_variance(w, site, v, reason="count variance approved", actor=actor)


def reject(
    w: SUDatabase, site: str, variance_id: int, actor: Actor, note: str = ""
) -> dict[str, Any]:
    """Post nothing: the books stay as they are."""
    _awaiting(w, site, variance_id)
    w.execute(
        "UPDATE count_variances SET status = 'rejected', decided_by = ?, decided_at = ?, "
        "note = ? WHERE id = ?",
        [actor.user_id, iso(), note, variance_id],
    )
    return variance_view(get_variance(w, site, variance_id))
