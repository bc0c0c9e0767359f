"""Building X12 test interchanges by hand: segments as lists, envelopes with correct counts
unless a test breaks them on purpose."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from edge_server.edi import Interchange, Segment

DATA = Path(__file__).parent / "data" / "edi"
SAMPLES = sorted(DATA.glob("*.edi"))


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def isa(
    control: int = 1,
    *,
    e: str = "*",
    rep: str = "U",
    comp: str = ">",
    version: str = "00401",
    sender: str = "ACMEBRANDS",
    receiver: str = "NORTHWIND3PL",
    usage: str = "P",
) -> str:
    fields = [
        "00", " " * 10, "00", " " * 10, "ZZ", sender.ljust(15), "ZZ", receiver.ljust(15),
        "261127", "0930", rep, version, f"{control:09d}", "0", usage, comp,
    ]  # fmt: skip
    return e.join(["ISA", *fields])


def x12(
    sets: list[tuple[str, list[list[str]]]],
    *,
    fid: str = "OW",
    control: int = 1,
    e: str = "*",
    term: str = "~",
    suffix: str = "\n",
    se_counts: dict[int, str] | None = None,
) -> str:
    """One interchange, one group; set n gets control number 000n. `se_counts` overrides SE01."""
    segs = [
        isa(control, e=e),
        e.join(["GS", fid, "ACME", "NW3PL", "20261127", "0930", "7", "X", "004010"]),
    ]
    for n, (set_id, body) in enumerate(sets, start=1):
        cn = f"{n:04d}"
        count = (se_counts or {}).get(n, str(len(body) + 2))
        segs += [e.join(["ST", set_id, cn]), *(e.join(s) for s in body), e.join(["SE", count, cn])]
    segs += [e.join(["GE", str(len(sets)), "7"]), e.join(["IEA", "1", f"{control:09d}"])]
    return "".join(s + term + suffix for s in segs)


ORDER = [
    ["W05", "N", "SO-1", "PO-1"],
    ["N1", "ST", "Jane Doe"],
    ["N3", "1 Main St"],
    ["N4", "Reno", "NV", "89502", "US"],
    ["G62", "10", "20261128"],
    ["W66", "PP", "M", "", "", "GROUND", "", "", "", "", "UPSN"],
    ["LX", "1"],
    ["W01", "2", "EA", "", "VN", "SKU-A"],
    ["LX", "2"],
    ["W01", "5", "EA", "", "VN", "SKU-B"],
    ["W76", "7"],
]


def order(*changes: tuple[int, list[str] | None]) -> list[list[str]]:
    """ORDER with segment i replaced (or removed when None)."""
    body = [list(s) for s in ORDER]
    for i, seg in sorted(changes, key=lambda c: -c[0]):
        if seg is None:
            del body[i]
        else:
            body[i] = seg
    return body


def normalised(ix: Interchange) -> Interchange:
    """The interchange without reading artefacts (positions, separators), for equality."""
    groups = []
    for g in ix.groups:
        txs = [
            replace(
                tx,
                start=0,
                errors=[],
                segments=[Segment(s.id, s.elements) for s in tx.segments],
            )
            for tx in g.transactions
        ]
        groups.append(replace(g, start=0, transactions=txs))
    return replace(ix, groups=groups, separators=replace(ix.separators, suffix=""))
