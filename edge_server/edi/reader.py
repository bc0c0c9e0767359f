"""Read a whole interchange into typed documents, set by set.

    result = read_interchange(data)        # X12Error if the envelope is wrong
    for s in result.sets:                  # every ST..SE, in order
        s.accepted, s.document, s.errors   # ShippingOrder / Asn / ShippingAdvice / GroupAck
    acks = ts997.acknowledge(result)       # one GroupAck per GS group → write_997 + wrap

A set whose structure is wrong (SE count/control number, no SE), whose set id is not supported
or does not belong in its group's GS01, or whose content breaks a rule of its reader is
rejected alone, with its errors; the others are accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from edge_server.edi.results import ParseResult, SetResult
from edge_server.edi.ts856 import read_856
from edge_server.edi.ts940 import read_940
from edge_server.edi.ts945 import read_945
from edge_server.edi.ts997 import read_997
from edge_server.edi.x12 import FUNCTIONAL_IDS, Transaction, X12Error, parse_interchange

__all__ = ["READERS", "read_interchange"]

READERS: Mapping[str, Callable[[Transaction], object]] = {
    "940": read_940,
    "856": read_856,
    "945": read_945,
    "997": read_997,
}


def read_interchange(
    data: bytes | str, readers: Mapping[str, Callable[[Transaction], object]] = READERS
) -> ParseResult:
    """Parse the envelope (X12Error when it is wrong) and read every set with `readers`."""
    interchange = parse_interchange(data)
    result = ParseResult(interchange)
    for group in interchange.groups:
        for tx in group.transactions:
            entry = SetResult(group, tx, errors=list(tx.errors))
            result.sets.append(entry)
            if entry.errors:
                continue
            reader = readers.get(tx.set_id)
            expected_group = FUNCTIONAL_IDS.get(tx.set_id)
            if reader is None or expected_group != group.functional_id:
                why = (
                    f"transaction set {tx.set_id} is not supported (supported: "
                    f"{', '.join(sorted(readers))})."
                    if reader is None
                    else f"transaction set {tx.set_id} travels in a GS01 {expected_group} "
                    f"group, not {group.functional_id}."
                )
                entry.errors.append(
                    X12Error(
                        "UNSUPPORTED_SET", why, position=tx.start, set_position=1, segment_id="ST"
                    )
                )
                continue
            try:
                entry.document = reader(tx)
            except X12Error as err:
                entry.errors.append(err)
    return result
