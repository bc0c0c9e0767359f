"""Labor tracking: what every worker did, when, and how fast (docs/labor.md)."""

from edge_server.wms.labor.recording import (
    STEPS,
    TASK_TYPES,
    Step,
    TaskType,
    finish,
    finish_all,
    record,
)

__all__ = ["STEPS", "TASK_TYPES", "Step", "TaskType", "finish", "finish_all", "record"]
