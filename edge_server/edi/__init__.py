"""EDI X12 (version 004010 transaction sets) for 3PL trading partners: pure reader and writer.

- `x12`: tokenizer, envelopes (ISA/IEA, GS/GE, ST/SE), `X12Error`, `write_interchange`, `wrap`;
- `reader.read_interchange(data)` → `ParseResult` (accepted documents, rejected sets);
- `ts940` (`ShippingOrder`), `ts856` (`Asn`), `ts945` (`ShippingAdvice`), `ts997`
  (`acknowledge`, `GroupAck`): one module per transaction set, each with a reader and a writer;
- `mapping`: EDI documents → `FulfillmentOrderIn` / `AsnIn`.

No database, no files, no clock: callers pass dates and control numbers. See docs/edi.md.
"""

from edge_server.edi.reader import read_interchange
from edge_server.edi.results import ParseResult, SetResult
from edge_server.edi.x12 import (
    FUNCTIONAL_IDS,
    FunctionalGroup,
    Interchange,
    Segment,
    Separators,
    Transaction,
    X12Error,
    parse_interchange,
    wrap,
    write_interchange,
)

__all__ = [
    "FUNCTIONAL_IDS",
    "FunctionalGroup",
    "Interchange",
    "ParseResult",
    "Segment",
    "Separators",
    "SetResult",
    "Transaction",
    "X12Error",
    "parse_interchange",
    "read_interchange",
    "wrap",
    "write_interchange",
]
