"""Returns (RMAs): the expected return the OMS sends, the disposition rules, and the returns
scenario's states and request bodies.

The handheld and the edge server both import this; the server's rules live in
`edge_server/wms/returns.py` and `edge_server/scenarios/returns.py` (docs/returns.md,
docs/scenarios/returns.md).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from protocols.inbound import DOC_NUMBER_PATTERN, MAX_QTY

__all__ = [
    "DEFAULT_RULES",
    "DOC_NUMBER_PATTERN",
    "MAX_RETURN_LINES",
    "MAX_RETURN_QTY",
    "CloseIn",
    "Condition",
    "ConditionIn",
    "Disposition",
    "DispositionRuleIn",
    "DispositionRulesIn",
    "LotIn",
    "QuantityIn",
    "ReturnIn",
    "ReturnLineIn",
    "ReturnReason",
    "ReturnsState",
    "ScanIn",
    "SessionIn",
    "StartIn",
]

MAX_RETURN_LINES = 500
MAX_RETURN_QTY = MAX_QTY


class ReturnReason(StrEnum):
    """Why the customer sends it back (given by the OMS on each RMA line)."""

    DAMAGED = "damaged"  # arrived damaged
    WRONG_ITEM = "wrong_item"  # not what was ordered: counts against pick accuracy
    NOT_WANTED = "not_wanted"  # changed their mind
    DEFECTIVE = "defective"  # does not work


class Condition(StrEnum):
    """The receiver's grading of what came back."""

    NEW = "new"  # unopened, as sold
    OPENED = "opened"  # opened or used, undamaged
    DAMAGED = "damaged"


class Disposition(StrEnum):
    """What becomes of a returned unit (docs/returns.md#disposition-rules)."""

    RESTOCK = "restock"  # sellable: stock `available`, put away to storage
    REFURBISH = "refurbish"  # `quarantine` in the returns area, to be worked later
    QUARANTINE = "quarantine"  # `quarantine`, put away to a quarantine bin
    SCRAP = "scrap"  # received, then written off (movement `disposition`)


#: The rules a site starts with: (reason, condition) → disposition.
DEFAULT_RULES: dict[tuple[ReturnReason, Condition], Disposition] = {
    (ReturnReason.NOT_WANTED, Condition.NEW): Disposition.RESTOCK,
    (ReturnReason.NOT_WANTED, Condition.OPENED): Disposition.REFURBISH,
    (ReturnReason.NOT_WANTED, Condition.DAMAGED): Disposition.QUARANTINE,
    (ReturnReason.WRONG_ITEM, Condition.NEW): Disposition.RESTOCK,
    (ReturnReason.WRONG_ITEM, Condition.OPENED): Disposition.REFURBISH,
    (ReturnReason.WRONG_ITEM, Condition.DAMAGED): Disposition.QUARANTINE,
    (ReturnReason.DAMAGED, Condition.NEW): Disposition.QUARANTINE,
    (ReturnReason.DAMAGED, Condition.OPENED): Disposition.REFURBISH,
    (ReturnReason.DAMAGED, Condition.DAMAGED): Disposition.SCRAP,
    (ReturnReason.DEFECTIVE, Condition.NEW): Disposition.REFURBISH,
    (ReturnReason.DEFECTIVE, Condition.OPENED): Disposition.REFURBISH,
    (ReturnReason.DEFECTIVE, Condition.DAMAGED): Disposition.SCRAP,
}


class ReturnsState(StrEnum):
    """What the handheld shows next (the envelope's `next_state`)."""

    START = "start"  # scan the RMA label or the return label's tracking number
    SCAN_ITEM = "scan_item"  # scan a returned product, or close
    SET_QUANTITY = "set_quantity"  # how many of what was scanned
    SET_LOT = "set_lot"  # the lot of a lot-tracked item
    SET_CONDITION = "set_condition"  # new / opened / damaged: posts the units
    CONFIRM_CLOSE = "confirm_close"  # lines not fully returned: confirm or scan more
    DONE = "done"  # the RMA is closed


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- the expected return (OMS → edge) -----------------------------------------------------------
class ReturnLineIn(_Body):
    line_no: int = Field(ge=1, le=100_000)
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=MAX_RETURN_QTY, description="Units the customer sends back.")
    reason: ReturnReason


class ReturnIn(_Body):
    """`PUT /returns/{rma}`: an RMA the OMS issued, with its prepaid return label."""

    order: str | None = Field(
        default=None,
        pattern=DOC_NUMBER_PATTERN,
        description="The fulfillment order the goods shipped with (must be known here).",
    )
    customer: str = Field(min_length=1, max_length=200)
    tracking: str | None = Field(
        default=None,
        min_length=4,
        max_length=40,
        pattern=r"^[A-Za-z0-9-]+$",
        description="Tracking number of the prepaid return label: scanning it opens the RMA.",
    )
    carrier: str | None = Field(default=None, min_length=1, max_length=40)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=MAX_RETURN_LINES)

    @model_validator(mode="after")
    def _unique_lines(self) -> ReturnIn:
        seen: set[int] = set()
        for line in self.lines:
            if line.line_no in seen:
                raise PydanticCustomError(
                    "line_no_repeated",
                    "line_no {line_no} appears more than once.",
                    {"line_no": line.line_no},
                )
            seen.add(line.line_no)
        return self


class DispositionRuleIn(_Body):
    reason: ReturnReason
    condition: Condition
    disposition: Disposition


class DispositionRulesIn(_Body):
    """`PUT /returns/disposition-rules`: the rules given replace those cells of the table;
    `reset` first puts every cell back to the defaults."""

    rules: list[DispositionRuleIn] = Field(default_factory=list, max_length=100)
    reset: bool = False


# -- the returns scenario (handheld → edge) ------------------------------------------------------
class StartIn(_Body):
    """The RMA label (`RMA-…`), the return label's tracking number, or an RMA number."""

    barcode: str | None = Field(default=None, min_length=1, max_length=3000)
    symbology: str | None = Field(default=None, max_length=3)
    rma: str | None = Field(default=None, min_length=1, max_length=64)
    location: str | None = Field(
        default=None, max_length=64, description="Returns area code; default: the first one."
    )


class SessionIn(_Body):
    session_id: int = Field(ge=1)


class ScanIn(SessionIn):
    barcode: str = Field(min_length=1, max_length=3000, description="The scan as received.")
    symbology: str | None = Field(default=None, max_length=3)
    gs_substitute: str | None = Field(default=None, max_length=5)


class QuantityIn(SessionIn):
    qty: int = Field(gt=0, le=MAX_RETURN_QTY, description="How many of the scanned unit.")


class LotIn(SessionIn):
    lot: str = Field(min_length=1, max_length=20)


class ConditionIn(SessionIn):
    condition: Condition


class CloseIn(SessionIn):
    confirm: bool = Field(default=False, description="Close even though lines are short.")
