"""The warehouse layout: the layout file, its validation, and the geometry computed from it.

A site's storage is generated from one JSON file (docs/layout.md). Rectangular blocks of
parallel aisles generate rack bins `{block}{aisle:02}-{bay:02}-{level}{side}`; explicit areas
list the odd places (docks, staging, packing, returns, quarantine, odd racks) bin by bin.

Geometry, in metres, on a plane with y growing from the front of the warehouse to the back:
- aisle i of a block is the centre line x = block.x + (i − 1) · aisle_pitch, running from the
  block's front cross aisle (y = block.y) to its back cross aisle (y = block.y + length);
- a cross aisle runs along every y where a block's front or back lies and joins every aisle
  end on it; stacked blocks share the cross aisle between them;
- the depot (pack station, where pick tours start and end) is on the first block's front
  cross aisle, which is extended to reach it;
- a rack bin's pick point is on its aisle's centre line at y = block.y + (bay − 0.5) · length /
  bays; both sides and all levels of a bay share it.

Everything here is pure (no database) so the router, the terminal and outside tools can use it.
Writing a layout into a site's database lives in `edge_server.wms.layout_store`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from edge_server.db.migrations import LOCATION_TYPES
from edge_server.errors import AislewayError
from protocols.barcodes.labels import format_bin, is_bin_shape, parse_bin
from protocols.barcodes.model import BinCode
from protocols.errors import ErrorCode

if TYPE_CHECKING:
    from edge_server.wms.travel_graph import TravelGraph

__all__ = [
    "MAX_BINS",
    "AisleEnd",
    "Area",
    "Bin",
    "BinAddress",
    "Block",
    "BlockSpec",
    "CrossAisle",
    "Depot",
    "ExplicitBin",
    "Layout",
    "LayoutFile",
    "LocationType",
    "format_bin_code",
    "is_rack_bin_code",
    "layout_from_json",
    "parse_bin_code",
    "parse_layout_file",
    "read_layout",
]

LocationType = Literal[
    "pick_face",
    "reserve",
    "receiving_dock",
    "staging",
    "packing",
    "shipping_dock",
    "returns",
    "quarantine",
]
# The file format and the locations table's CHECK constraint must name the same types.
assert set(get_args(LocationType)) == set(LOCATION_TYPES)

Side = Literal["L", "R"]
SIDES: tuple[Side, Side] = ("L", "R")

# A generous ceiling so a typo (bays: 9999) is refused instead of filling the database.
MAX_BINS = 250_000
# Coordinates are kept to the micrometre: stacked blocks (0.1 + 0.2 == 0.3) must meet exactly.
_DIGITS = 6
_EPS = 1e-6

BLOCK_ID_RE = re.compile(r"[A-Z]{1,2}")
_ZONE_RE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,19}")
_SITE_RE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,15}")
_EXPLICIT_CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
_TEMPERATURE_RE = re.compile(r"[a-z][a-z0-9_]{0,23}")


def _r(value: float) -> float:
    return round(value, _DIGITS) + 0.0  # + 0.0 turns -0.0 into 0.0


# -- bin codes -------------------------------------------------------------------------------
# The grammar lives in protocols/barcodes (terminals scan what the layout generates); these
# names keep the layout's vocabulary.
BinAddress = BinCode
format_bin_code = format_bin
parse_bin_code = parse_bin
is_rack_bin_code = is_bin_shape


# -- the file --------------------------------------------------------------------------------
def _matching(pattern: re.Pattern[str], explain: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(explain)
        return value

    return AfterValidator(check)


BlockId = Annotated[
    str,
    _matching(BLOCK_ID_RE, "must be one or two capital letters (A to ZZ) so bin codes read back"),
]
ZoneCode = Annotated[
    str, _matching(_ZONE_RE, "must be 1 to 20 capital letters, digits, '-' or '_'")
]
SiteCode = Annotated[
    str, _matching(_SITE_RE, "must be 1 to 16 capital letters, digits, '-' or '_'")
]
ExplicitCode = Annotated[
    str, _matching(_EXPLICIT_CODE_RE, "must be 1 to 32 capital letters, digits, '-' or '_'")
]
TemperatureClass = Annotated[
    str,
    _matching(_TEMPERATURE_RE, "must be a lower-case word such as ambient, chilled or frozen"),
]


class _Strict(BaseModel):
    # Strict: "10" is not a number and true is not 1; unknown keys are typos, not extensions.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Depot(_Strict):
    """Where pick tours start and end (the pack station), on the first block's front cross
    aisle. `y` may be left out; when given it must be that cross aisle's y."""

    x: float
    y: float | None = None


class StorageDefaults(_Strict):
    """Capacities and attributes of the bins a block or an area generates."""

    max_volume_cm3: float | None = Field(default=None, gt=0)
    max_weight_kg: float | None = Field(default=None, gt=0)
    max_skus: int | None = Field(default=None, ge=1)
    temperature_class: TemperatureClass = "ambient"
    hazmat_allowed: bool = False


class BlockSpec(StorageDefaults):
    """A rectangular block of parallel aisles, each with bays on both sides."""

    id: BlockId
    x: float = Field(description="x of the block's first aisle centre line")
    y: float = Field(description="y of the block's front cross aisle")
    aisles: int = Field(ge=1, le=99)
    aisle_pitch: float = Field(gt=0, description="distance between two aisle centre lines")
    length: float = Field(gt=0, description="aisle length, front to back cross aisle")
    bays: int = Field(ge=1, le=99, description="bays along each side of an aisle")
    levels: int = Field(ge=1, le=99)
    zone: ZoneCode | None = Field(default=None, description="default: the block id")
    location_type: LocationType = "pick_face"
    reserve_from_level: int | None = Field(
        default=None, ge=1, description="levels at or above this one are reserve"
    )
    name: str = Field(default="", max_length=80)


class ExplicitBin(_Strict):
    """One listed bin; attributes left out come from its area."""

    code: ExplicitCode
    x: float
    y: float
    type: LocationType | None = None
    max_volume_cm3: float | None = Field(default=None, gt=0)
    max_weight_kg: float | None = Field(default=None, gt=0)
    max_skus: int | None = Field(default=None, ge=1)
    temperature_class: TemperatureClass | None = None
    hazmat_allowed: bool | None = None


class Area(StorageDefaults):
    """An irregular area (dock, staging, packing, shipping, returns, quarantine, odd rack)."""

    zone: ZoneCode
    type: LocationType
    name: str = Field(default="", max_length=80)
    bins: list[ExplicitBin] = Field(min_length=1)


class LayoutFile(_Strict):
    """The layout file as written (docs/layout.md)."""

    site: SiteCode
    name: str = Field(default="", max_length=80)
    depot: Depot
    blocks: list[BlockSpec] = Field(min_length=1)
    areas: list[Area] = Field(default_factory=list)


def _field(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "$"


def _reason(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return "this field is required"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def _invalid(errors: list[dict[str, Any]]) -> AislewayError:
    return AislewayError(ErrorCode.LAYOUT_INVALID, details={"errors": errors})


def parse_layout_file(source: str | bytes | Mapping[str, Any]) -> LayoutFile:
    """Validate a layout file (JSON text or an already parsed object), shape and rules.

    Raises AislewayError(LAYOUT_INVALID) with `details["errors"]`: a list of
    `{"field": "blocks[0].aisles", "reason": "..."}`, every problem found, not just the first.
    """
    data: Any = source
    if isinstance(source, str | bytes):
        try:
            data = json.loads(source)
        except json.JSONDecodeError as exc:
            raise _invalid(
                [
                    {
                        "field": "$",
                        "reason": f"not valid JSON at line {exc.lineno}, column {exc.colno}: "
                        f"{exc.msg}",
                        "line": exc.lineno,
                        "column": exc.colno,
                    }
                ]
            ) from None
        except UnicodeDecodeError:
            raise _invalid([{"field": "$", "reason": "not UTF-8 text"}]) from None
    try:
        model = LayoutFile.model_validate(data)
    except ValidationError as exc:
        raise _invalid(
            [
                {"field": _field(e["loc"]), "reason": _reason(e)}
                for e in exc.errors(include_url=False)
            ]
        ) from None
    errors = _check_rules(model)
    if errors:
        raise _invalid(errors)
    return model


# -- geometry --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Block:
    """A block's geometry, coordinates rounded to the micrometre."""

    id: str
    zone: str
    x: float
    front_y: float
    back_y: float
    aisles: int
    aisle_pitch: float
    length: float
    bays: int
    levels: int

    @property
    def last_aisle_x(self) -> float:
        return self.aisle_x(self.aisles)

    def aisle_x(self, aisle: int) -> float:
        return _r(self.x + (aisle - 1) * self.aisle_pitch)

    def bay_y(self, bay: int) -> float:
        """y of the pick point of `bay` (1-based): the middle of the bay."""
        return _r(self.front_y + (bay - 0.5) * self.length / self.bays)

    def footprint(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1): racks reach half a pitch beyond the outer aisles."""
        half = self.aisle_pitch / 2
        return (self.x - half, self.front_y, self.last_aisle_x + half, self.back_y)

    @classmethod
    def of(cls, spec: BlockSpec) -> Block:
        return cls(
            id=spec.id,
            zone=spec.zone or spec.id,
            x=_r(spec.x),
            front_y=_r(spec.y),
            back_y=_r(spec.y + spec.length),
            aisles=spec.aisles,
            aisle_pitch=spec.aisle_pitch,
            length=spec.length,
            bays=spec.bays,
            levels=spec.levels,
        )


@dataclass(frozen=True, slots=True)
class AisleEnd:
    """The front or back end of one aisle, where it meets a cross aisle."""

    block: str
    aisle: int
    end: Literal["front", "back"]
    x: float


@dataclass(frozen=True, slots=True)
class CrossAisle:
    """A horizontal cross aisle at `y`, from `x_min` to `x_max`, joining `ends`."""

    y: float
    x_min: float
    x_max: float
    ends: tuple[AisleEnd, ...]
    has_depot: bool

    @property
    def blocks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.block for e in self.ends))


@dataclass(frozen=True, slots=True)
class Bin:
    """One location: a rack bin (block..side set) or an explicit bin (those left None).

    `x`, `y` is the pick point, where a worker stands to reach the bin."""

    code: str
    type: str
    zone: str
    x: float
    y: float
    block: str | None = None
    aisle: int | None = None
    bay: int | None = None
    level: int | None = None
    side: str | None = None
    max_volume_cm3: float | None = None
    max_weight_kg: float | None = None
    max_skus: int | None = None
    temperature_class: str = "ambient"
    hazmat_allowed: bool = False


def _cross_lines(blocks: list[Block]) -> dict[float, list[AisleEnd]]:
    lines: dict[float, list[AisleEnd]] = {}
    for b in blocks:
        for end, y in (("front", b.front_y), ("back", b.back_y)):
            lines.setdefault(y, []).extend(
                AisleEnd(b.id, i, end, b.aisle_x(i))  # type: ignore[arg-type]
                for i in range(1, b.aisles + 1)
            )
    return lines


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Open rectangles (x0, y0, x1, y1) overlap: touching edges do not count."""
    return a[0] < b[2] - _EPS and b[0] < a[2] - _EPS and a[1] < b[3] - _EPS and b[1] < a[3] - _EPS


def _check_rules(f: LayoutFile) -> list[dict[str, Any]]:
    """The rules a shape check cannot see; each problem names its field."""
    errors: list[dict[str, Any]] = []

    def err(field: str, reason: str) -> None:
        errors.append({"field": field, "reason": reason})

    first_index: dict[str, int] = {}
    for i, spec in enumerate(f.blocks):
        if spec.id in first_index:
            err(
                f"blocks[{i}].id",
                f"block id {spec.id} is already used by blocks[{first_index[spec.id]}]",
            )
        else:
            first_index[spec.id] = i
        if spec.reserve_from_level is not None and spec.reserve_from_level > spec.levels:
            err(
                f"blocks[{i}].reserve_from_level",
                f"level {spec.reserve_from_level} is above the top level ({spec.levels})",
            )
    total = sum(s.aisles * s.bays * s.levels * 2 for s in f.blocks)
    total += sum(len(a.bins) for a in f.areas)
    if total > MAX_BINS:
        err("blocks", f"the layout would make {total} bins; at most {MAX_BINS} are allowed")
        return errors
    if errors:
        return errors  # the geometry checks below assume distinct blocks

    blocks = [Block.of(s) for s in f.blocks]
    feet = [b.footprint() for b in blocks]
    for j in range(len(blocks)):
        for i in range(j):
            if _overlaps(feet[i], feet[j]):
                err(
                    f"blocks[{j}]",
                    f"block {blocks[j].id} overlaps block {blocks[i].id}; blocks need their "
                    f"own floor space (racks reach half an aisle pitch beyond the outer aisles)",
                )

    lines = _cross_lines(blocks)
    depot_y = blocks[0].front_y
    if f.depot.y is not None and abs(f.depot.y - depot_y) > _EPS:
        err(
            "depot.y",
            f"the depot must be on the first block's front cross aisle, y = {depot_y:g}",
        )
    on_depot_line = [b for b in blocks if depot_y in (b.front_y, b.back_y)]
    reach = max(b.aisle_pitch for b in on_depot_line)
    lo = min(e.x for e in lines[depot_y]) - reach
    hi = max(e.x for e in lines[depot_y]) + reach
    if not lo - _EPS <= f.depot.x <= hi + _EPS:
        err(
            "depot.x",
            f"the depot must be on the first block's front cross aisle, between x = {lo:g} "
            f"and x = {hi:g} (at most one aisle pitch beyond the outermost aisle)",
        )

    # A cross aisle cannot run through another block's racks.
    for y, ends in lines.items():
        x0 = min(e.x for e in ends)
        x1 = max(e.x for e in ends)
        if y == depot_y:
            x0, x1 = min(x0, f.depot.x), max(x1, f.depot.x)
        for j, (b, foot) in enumerate(zip(blocks, feet, strict=True)):
            if foot[1] + _EPS < y < foot[3] - _EPS and x0 < foot[2] - _EPS and foot[0] < x1 - _EPS:
                joined = ", ".join(dict.fromkeys(e.block for e in ends))
                err(
                    f"blocks[{j}]",
                    f"the cross aisle at y = {y:g} (joining {joined}) would run through "
                    f"block {b.id}",
                )

    # Every block must be reachable from the depot along cross aisles and aisles.
    reached = {depot_y}
    grew = True
    while grew:
        grew = False
        for b in blocks:
            if (b.front_y in reached) != (b.back_y in reached):
                reached |= {b.front_y, b.back_y}
                grew = True
    for j, b in enumerate(blocks):
        if b.front_y not in reached:
            err(
                f"blocks[{j}].y",
                f"block {b.id} cannot be reached from the depot: its front (y = {b.front_y:g}) "
                f"and back (y = {b.back_y:g}) cross aisles are not shared with a block that "
                f"can; stack it on one (its y = that block's y + length) or set it beside one",
            )

    generated = {b.id for b in blocks}
    seen: dict[str, str] = {}
    for i, area in enumerate(f.areas):
        for k, spec_bin in enumerate(area.bins):
            field = f"areas[{i}].bins[{k}].code"
            code = spec_bin.code
            if code in seen:
                err(field, f"bin code {code} is already used by {seen[code]}")
                continue
            seen[code] = f"areas[{i}].bins[{k}]"
            if is_rack_bin_code(code):
                block_id = parse_bin(code).block
                clash = f" and clashes with block {block_id}" if block_id in generated else ""
                err(
                    field,
                    f"{code} looks like a rack bin code (block, aisle, bay, level, side){clash}; "
                    f"rack bins come from blocks, explicit bins need another name",
                )
    return errors


class Layout:
    """A validated layout and everything computed from it. Build with `Layout.parse(...)`,
    `Layout.from_file(model)` or `read_layout(path)`; treat as immutable."""

    def __init__(self, file: LayoutFile) -> None:
        self.file = file
        self.site = file.site
        self.blocks: tuple[Block, ...] = tuple(Block.of(s) for s in file.blocks)
        self._blocks = {b.id: b for b in self.blocks}
        first = self.blocks[0]
        self.depot: tuple[float, float] = (_r(file.depot.x), first.front_y)
        self.cross_aisles: tuple[CrossAisle, ...] = self._make_cross_aisles()
        self.bins: tuple[Bin, ...] = self._make_bins()
        self._bins = {b.code: b for b in self.bins}

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_file(cls, file: LayoutFile) -> Layout:
        """A Layout from a LayoutFile built in code; the file's rules are checked here too."""
        errors = _check_rules(file)
        if errors:
            raise _invalid(errors)
        return cls(file)

    @classmethod
    def parse(cls, source: str | bytes | Mapping[str, Any]) -> Layout:
        """Validate JSON text or a parsed object; raises AislewayError(LAYOUT_INVALID)."""
        return cls(parse_layout_file(source))

    def _make_cross_aisles(self) -> tuple[CrossAisle, ...]:
        out = []
        depot_x, depot_y = self.depot
        for y, ends in sorted(_cross_lines(list(self.blocks)).items()):
            xs = [e.x for e in ends] + ([depot_x] if y == depot_y else [])
            out.append(
                CrossAisle(
                    y=y,
                    x_min=min(xs),
                    x_max=max(xs),
                    ends=tuple(sorted(ends, key=lambda e: (e.x, e.block))),
                    has_depot=y == depot_y,
                )
            )
        return tuple(out)

    def _make_bins(self) -> tuple[Bin, ...]:
        bins: list[Bin] = []
        for spec, block in zip(self.file.blocks, self.blocks, strict=True):
            base_type = spec.location_type
            reserve_from = spec.reserve_from_level
            types = [
                "reserve" if reserve_from is not None and level >= reserve_from else base_type
                for level in range(spec.levels + 1)
            ]
            for aisle in range(1, block.aisles + 1):
                x = block.aisle_x(aisle)
                for bay in range(1, block.bays + 1):
                    y = block.bay_y(bay)
                    for level in range(1, block.levels + 1):
                        for side in SIDES:
                            bins.append(
                                Bin(
                                    code=f"{block.id}{aisle:02}-{bay:02}-{level}{side}",
                                    type=types[level],
                                    zone=block.zone,
                                    x=x,
                                    y=y,
                                    block=block.id,
                                    aisle=aisle,
                                    bay=bay,
                                    level=level,
                                    side=side,
                                    max_volume_cm3=spec.max_volume_cm3,
                                    max_weight_kg=spec.max_weight_kg,
                                    max_skus=spec.max_skus,
                                    temperature_class=spec.temperature_class,
                                    hazmat_allowed=spec.hazmat_allowed,
                                )
                            )
        for area in self.file.areas:
            for b in area.bins:
                bins.append(
                    Bin(
                        code=b.code,
                        type=b.type or area.type,
                        zone=area.zone,
                        x=_r(b.x),
                        y=_r(b.y),
                        max_volume_cm3=_pick(b.max_volume_cm3, area.max_volume_cm3),
                        max_weight_kg=_pick(b.max_weight_kg, area.max_weight_kg),
                        max_skus=_pick(b.max_skus, area.max_skus),
                        temperature_class=_pick(b.temperature_class, area.temperature_class),
                        hazmat_allowed=_pick(b.hazmat_allowed, area.hazmat_allowed),
                    )
                )
        return tuple(bins)

    # -- lookups ---------------------------------------------------------------------------
    def block(self, block_id: str) -> Block:
        try:
            return self._blocks[block_id]
        except KeyError:
            raise AislewayError(ErrorCode.UNKNOWN_LOCATION, details={"block": block_id}) from None

    def aisle_x(self, block_id: str, aisle: int) -> float:
        """x of the centre line of `aisle` (1-based) of block `block_id`."""
        block = self.block(block_id)
        if not 1 <= aisle <= block.aisles:
            raise AislewayError(
                ErrorCode.UNKNOWN_LOCATION, details={"block": block_id, "aisle": aisle}
            )
        return block.aisle_x(aisle)

    def bin(self, code: str) -> Bin:
        try:
            return self._bins[code]
        except KeyError:
            raise AislewayError(ErrorCode.UNKNOWN_LOCATION, details={"code": code}) from None

    def __contains__(self, code: object) -> bool:
        return code in self._bins

    def pick_point(self, code: str) -> tuple[float, float]:
        """(x, y) where a worker stands to reach bin `code`."""
        b = self.bin(code)
        return (b.x, b.y)

    def cross_aisle(self, y: float) -> CrossAisle:
        for c in self.cross_aisles:
            if abs(c.y - y) <= _EPS:
                return c
        raise KeyError(y)

    @cached_property
    def graph(self) -> TravelGraph:
        """The travel graph along centre lines (built on first use)."""
        from edge_server.wms.travel_graph import build_travel_graph

        return build_travel_graph(self)

    # -- reporting -------------------------------------------------------------------------
    def file_dict(self) -> dict[str, Any]:
        """The file as given (defaults left out): what is stored and served back."""
        return self.file.model_dump(mode="json", exclude_unset=True)

    def file_json(self) -> str:
        return json.dumps(self.file_dict(), separators=(",", ":"))

    def summary(self) -> dict[str, Any]:
        per_block = Counter(b.block for b in self.bins if b.block is not None)
        return {
            "site": self.site,
            "name": self.file.name,
            "depot": {"x": self.depot[0], "y": self.depot[1]},
            "blocks": [
                {
                    "id": b.id,
                    "zone": b.zone,
                    "aisles": b.aisles,
                    "bays": b.bays,
                    "levels": b.levels,
                    "first_aisle_x": b.x,
                    "last_aisle_x": b.last_aisle_x,
                    "front_y": b.front_y,
                    "back_y": b.back_y,
                    "bins": per_block[b.id],
                }
                for b in self.blocks
            ],
            "cross_aisles": [
                {
                    "y": c.y,
                    "x_min": c.x_min,
                    "x_max": c.x_max,
                    "depot": c.has_depot,
                    "joins": [
                        {"block": block, "end": end}
                        for block, end in dict.fromkeys((e.block, e.end) for e in c.ends)
                    ],
                }
                for c in self.cross_aisles
            ],
            "bins": len(self.bins),
            "by_type": dict(sorted(Counter(b.type for b in self.bins).items())),
            "by_zone": dict(sorted(Counter(b.zone for b in self.bins).items())),
        }


T = TypeVar("T")


def _pick(own: T | None, inherited: T) -> T:
    return inherited if own is None else own


@lru_cache(maxsize=8)
def layout_from_json(text: str) -> Layout:
    """A Layout from stored JSON text, cached: Layouts are immutable and cost to build."""
    return Layout.parse(text)


def read_layout(path: str | Path) -> Layout:
    """Read and validate a layout file; a missing or unreadable file is LAYOUT_INVALID too."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _invalid([{"field": "$", "reason": f"cannot read {path}: {exc.strerror}"}]) from None
    return Layout.parse(raw)
