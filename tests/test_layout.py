"""The layout file, the geometry computed from it, its travel graph, and loading it."""

from __future__ import annotations

import copy
import itertools
import json
import math
import string
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_server.cli import main as cli_main
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms.layout import (
    MAX_BINS,
    Layout,
    format_bin_code,
    is_rack_bin_code,
    parse_bin_code,
    read_layout,
)
from edge_server.wms.layout_store import load_layout, stored_layout
from edge_server.wms.locations import get_location, list_locations

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"

# The sample from the issue, exactly as written.
SAMPLE_TEXT = """{"site": "CHI", "depot": {"x": 0.0},
 "blocks": [{"id": "A", "x": 1.5, "y": 0.0, "aisles": 10, "aisle_pitch": 3.0,
             "length": 30.0, "bays": 15, "levels": 4}]}"""


def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE_TEXT)
    return data


def stacked(n: int = 3, **block: Any) -> dict[str, Any]:
    """n blocks A, B, C... stacked front to back, 30 m long each."""
    base = {"x": 1.5, "aisles": 10, "aisle_pitch": 3.0, "length": 30.0, "bays": 15, "levels": 4}
    base.update(block)
    return {
        "site": "CHI",
        "depot": {"x": 0.0},
        "blocks": [
            {**base, "id": string.ascii_uppercase[i], "y": i * base["length"]} for i in range(n)
        ],
    }


def errors_of(data: Any) -> list[dict[str, Any]]:
    with pytest.raises(AislewayError) as info:
        Layout.parse(data)
    assert info.value.code == "LAYOUT_INVALID"
    errors: list[dict[str, Any]] = info.value.details["errors"]
    assert errors
    return errors


# -- bin codes and pick points ---------------------------------------------------------------
def test_sample_generates_every_bin_with_its_code():
    layout = Layout.parse(SAMPLE_TEXT)
    codes = [b.code for b in layout.bins]
    assert len(codes) == len(set(codes)) == 10 * 15 * 4 * 2
    expected = {
        f"A{a:02}-{b:02}-{lv}{s}"
        for a, b, lv, s in itertools.product(range(1, 11), range(1, 16), range(1, 5), "LR")
    }
    assert set(codes) == expected
    assert {b.type for b in layout.bins} == {"pick_face"}
    assert {b.zone for b in layout.bins} == {"A"}


@pytest.mark.parametrize(
    ("code", "x", "y"),
    [
        ("A01-01-1L", 1.5, 1.0),  # first aisle, first bay: half a bay (2 m) from the front
        ("A01-15-4R", 1.5, 29.0),  # last bay: half a bay from the back
        ("A03-07-2L", 7.5, 13.0),  # the example in the issue
        ("A10-01-1R", 28.5, 1.0),  # last aisle
        ("A10-15-4L", 28.5, 29.0),
        ("A05-08-3R", 13.5, 15.0),  # the middle bay sits in the middle of the aisle
    ],
)
def test_pick_points_of_the_sample(code, x, y):
    layout = Layout.parse(SAMPLE_TEXT)
    assert layout.pick_point(code) == (x, y)
    b = layout.bin(code)
    address = parse_bin_code(code)
    assert (b.block, b.aisle, b.bay, b.level, b.side) == (
        address.block,
        address.aisle,
        address.bay,
        address.level,
        address.side,
    )


def test_both_sides_and_all_levels_of_a_bay_share_the_pick_point():
    layout = Layout.parse(SAMPLE_TEXT)
    points = {layout.pick_point(f"A04-09-{lv}{s}") for lv in range(1, 5) for s in "LR"}
    assert points == {(10.5, 17.0)}


def test_aisle_x_and_unknown_aisles():
    layout = Layout.parse(SAMPLE_TEXT)
    assert [layout.aisle_x("A", i) for i in (1, 2, 10)] == [1.5, 4.5, 28.5]
    for block, aisle in (("A", 0), ("A", 11), ("B", 1)):
        with pytest.raises(AislewayError) as info:
            layout.aisle_x(block, aisle)
        assert info.value.code == "UNKNOWN_LOCATION"
    with pytest.raises(AislewayError):
        layout.pick_point("A11-01-1L")


def test_pick_point_of_a_non_integral_bay_length():
    data = sample()
    data["blocks"][0].update(length=10.0, bays=3)
    layout = Layout.parse(data)
    assert layout.pick_point("A01-02-1L") == (1.5, 5.0)
    assert layout.pick_point("A01-01-1L")[1] == pytest.approx(10 / 6)


def test_reserve_levels_and_block_attributes():
    data = sample()
    data["blocks"][0].update(
        reserve_from_level=3,
        zone="FAST",
        max_weight_kg=250.0,
        temperature_class="chilled",
        hazmat_allowed=True,
    )
    layout = Layout.parse(data)
    assert layout.bin("A01-01-2R").type == "pick_face"
    assert layout.bin("A01-01-3R").type == "reserve"
    assert layout.bin("A01-01-4L").type == "reserve"
    b = layout.bin("A02-03-1L")
    assert (b.zone, b.max_weight_kg, b.temperature_class, b.hazmat_allowed) == (
        "FAST",
        250.0,
        "chilled",
        True,
    )
    assert layout.summary()["by_type"] == {"pick_face": 600, "reserve": 600}


@pytest.mark.parametrize(
    "bad",
    [
        "A3-07-2L",
        "a03-07-2L",
        "A03-07-02L",
        "A03-7-2L",
        "A03-07-2X",
        "ABC03-07-2L",
        "A00-01-1L",
        "A01-00-1L",
        "A01-01-0L",
        "DOCK-01",
        " A03-07-2L",
        "A03-07-2L\n",
        "",
    ],
)
def test_parse_bin_code_refuses_anything_but_the_canonical_code(bad):
    with pytest.raises(ValueError):
        parse_bin_code(bad)


def test_format_and_parse_round_trip():
    assert format_bin_code("AB", 7, 12, 10, "R") == "AB07-12-10R"
    address = parse_bin_code("AB07-12-10R")
    assert (address.block, address.aisle, address.bay, address.level, address.side) == (
        "AB",
        7,
        12,
        10,
        "R",
    )
    assert address.code == "AB07-12-10R"
    assert is_rack_bin_code("A03-07-2L") and not is_rack_bin_code("DOCK-01")


# -- cross aisles, depot, several blocks -----------------------------------------------------
def test_single_block_has_a_front_and_a_back_cross_aisle():
    layout = Layout.parse(SAMPLE_TEXT)
    front, back = layout.cross_aisles
    assert (front.y, back.y) == (0.0, 30.0)
    assert [(e.block, e.aisle, e.end, e.x) for e in front.ends] == [
        ("A", i, "front", 1.5 + (i - 1) * 3.0) for i in range(1, 11)
    ]
    assert {e.end for e in back.ends} == {"back"} and len(back.ends) == 10
    # The depot at x = 0 is left of the first aisle: the front cross aisle reaches it.
    assert (front.x_min, front.x_max, front.has_depot) == (0.0, 28.5, True)
    assert (back.x_min, back.x_max, back.has_depot) == (1.5, 28.5, False)


def test_depot_is_on_the_first_blocks_front_cross_aisle():
    layout = Layout.parse(SAMPLE_TEXT)
    assert layout.depot == (0.0, 0.0)
    data = stacked(2)
    data["blocks"][0]["y"] = 5.0
    data["blocks"][1]["y"] = 35.0
    data["depot"] = {"x": 12.0, "y": 5.0}
    layout = Layout.parse(data)
    assert layout.depot == (12.0, 5.0)
    g = layout.graph
    depot = g.nodes[g.depot]
    assert (depot.x, depot.y, depot.kind) == (12.0, 5.0, "depot")
    # Between aisles 4 (x 10.5) and 5 (x 13.5) of the front cross aisle.
    front = [g.nodes[n] for n in g.cross_aisles[5.0]]
    i = [n.id for n in front].index(g.depot)
    assert (front[i - 1].x, front[i + 1].x) == (10.5, 13.5)


def test_stacked_blocks_share_the_cross_aisle_between_them():
    layout = Layout.parse(stacked(3))
    assert [c.y for c in layout.cross_aisles] == [0.0, 30.0, 60.0, 90.0]
    shared = layout.cross_aisle(30.0)
    assert shared.blocks == ("A", "B")
    ends = {(e.block, e.end) for e in shared.ends}
    assert ends == {("A", "back"), ("B", "front")}
    assert len(shared.ends) == 20
    assert layout.cross_aisle(90.0).blocks == ("C",)
    assert layout.pick_point("B01-01-1L") == (1.5, 31.0)
    assert layout.pick_point("C10-15-4R") == (28.5, 89.0)
    assert {b.block for b in layout.bins} == {"A", "B", "C"}
    assert sum(1 for b in layout.bins if b.code.startswith("B")) == 1200
    summary = layout.summary()
    assert summary["cross_aisles"][1]["joins"] == [
        {"block": "A", "end": "back"},
        {"block": "B", "end": "front"},
    ]


def test_aligned_aisles_of_stacked_blocks_meet_in_one_junction():
    g = Layout.parse(stacked(2)).graph
    for aisle in range(1, 11):
        assert g.aisles[("A", aisle)][-1] == g.aisles[("B", aisle)][0]
        assert g.nodes[g.aisles[("A", aisle)][-1]].kind == "junction"


def test_blocks_side_by_side_share_front_and_back_cross_aisles():
    data = sample()
    data["blocks"].append({**data["blocks"][0], "id": "B", "x": 40.5, "aisles": 4})
    layout = Layout.parse(data)
    assert [c.y for c in layout.cross_aisles] == [0.0, 30.0]
    assert layout.cross_aisles[1].blocks == ("A", "B")
    assert layout.cross_aisles[1].x_max == 49.5
    assert layout.pick_point("B04-15-1L") == (49.5, 29.0)


def test_stacked_blocks_of_different_widths():
    data = stacked(2)
    data["blocks"][1].update(aisles=4, x=10.5, aisle_pitch=4.0)
    layout = Layout.parse(data)
    shared = layout.cross_aisle(30.0)
    assert (shared.x_min, shared.x_max) == (1.5, 28.5)
    assert layout.aisle_x("B", 4) == 22.5


# -- the travel graph ------------------------------------------------------------------------
def _reachable(g: Any, start: int) -> set[int]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt, _ in g.neighbours(queue.popleft()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


@pytest.mark.parametrize("n_blocks", [1, 3])
def test_travel_graph_lengths_follow_the_centre_lines(n_blocks):
    layout = Layout.parse(stacked(n_blocks))
    g = layout.graph
    # Every aisle is one chain front to back: its edges add up to the aisle length.
    for (block, aisle), chain in g.aisles.items():
        x = layout.aisle_x(block, aisle)
        assert all(g.nodes[n].x == x for n in chain)
        ys = [g.nodes[n].y for n in chain]
        assert ys == sorted(ys) and len(chain) == 15 + 2
        assert ys[0] == layout.block(block).front_y and ys[-1] == layout.block(block).back_y
    by_line: dict[str, float] = {}
    for e in g.edges:
        a, b = g.nodes[e.a], g.nodes[e.b]
        if e.kind == "aisle":
            assert a.x == b.x and e.length == pytest.approx(b.y - a.y) and e.length > 0
        elif e.kind == "cross_aisle":
            assert a.y == b.y and e.length == pytest.approx(b.x - a.x) and e.length > 0
        by_line[e.line] = by_line.get(e.line, 0.0) + e.length
    for block in layout.blocks:
        for aisle in range(1, block.aisles + 1):
            assert by_line[f"{block.id}{aisle:02}"] == pytest.approx(30.0)
    for c in layout.cross_aisles:
        assert by_line[f"y={c.y:g}"] == pytest.approx(c.x_max - c.x_min)
    aisle_total = 10 * 30.0 * n_blocks
    cross_total = 28.5 + 27.0 * n_blocks  # the front one reaches the depot at x = 0
    assert g.total_length == pytest.approx(aisle_total + cross_total)
    # One node per aisle and bay, shared by every bin of that bay.
    assert sum(1 for n in g.nodes if n.kind == "pick") == 10 * 15 * n_blocks
    assert set(g.bin_nodes) == {b.code for b in layout.bins}
    for b in layout.bins[:: max(1, len(layout.bins) // 50)]:
        node = g.nodes[g.node_of(b.code)]
        assert (node.x, node.y) == (b.x, b.y)
    # Connected: every node can be walked to from the depot.
    assert _reachable(g, g.depot) == {n.id for n in g.nodes}
    # Adjacency mirrors the edges.
    assert sum(len(g.neighbours(n.id)) for n in g.nodes) == 2 * len(g.edges)


def test_explicit_bins_hang_on_spurs_from_the_nearest_centre_line():
    layout = read_layout(EXAMPLES / "layout-single-block.json")
    g = layout.graph
    spurs = {e.line: e for e in g.edges if e.kind == "spur"}
    # DOCK-01 (6, -6) is 6 m in front of the front cross aisle, between aisles 2 and 3.
    dock = spurs["DOCK-01"]
    access, node = g.nodes[dock.a], g.nodes[dock.b]
    assert (access.x, access.y, access.kind) == (6.0, 0.0, "access")
    assert (node.x, node.y, node.kind) == (6.0, -6.0, "bin")
    assert dock.length == 6.0
    assert access.id in g.cross_aisles[0.0]
    # PACK-01 (0, -1.5) hangs off the depot itself.
    pack = spurs["PACK-01"]
    assert (pack.a, pack.length) == (g.depot, 1.5)
    # RET-01 (31, 2) is beside the last aisle (x 28.5): its spur lands on that aisle.
    ret = spurs["RET-01"]
    assert (g.nodes[ret.a].x, g.nodes[ret.a].y, ret.length) == (28.5, 2.0, 2.5)
    assert ret.a in g.aisles[("A", 10)]
    # The aisle is still one chain of the right length with the access point in it.
    ys = [g.nodes[n].y for n in g.aisles[("A", 10)]]
    assert ys == sorted(ys) and 2.0 in ys
    assert _reachable(g, g.depot) == {n.id for n in g.nodes}
    assert g.total_length == pytest.approx(355.5 + sum(e.length for e in spurs.values()))


def test_an_explicit_bin_on_a_centre_line_needs_no_spur():
    data = sample()
    data["areas"] = [
        {"zone": "STAGE", "type": "staging", "bins": [{"code": "STAGE-01", "x": 9.0, "y": 0.0}]}
    ]
    g = Layout.parse(data).graph
    node = g.nodes[g.node_of("STAGE-01")]
    assert (node.x, node.y, node.kind) == (9.0, 0.0, "bin")
    assert node.id in g.cross_aisles[0.0]
    assert not [e for e in g.edges if e.kind == "spur"]


def test_a_large_layout_generates_every_bin_and_its_travel_node():
    # Timing is not asserted here (a loaded CI machine made it flaky); speed belongs in bench/.
    layout = Layout.parse(stacked(3, aisles=30, bays=15, levels=4))
    assert len(layout.bins) == 30 * 15 * 4 * 2 * 3
    assert len(layout.graph.bin_nodes) == len(layout.bins)


# -- malformed files -------------------------------------------------------------------------
def _set(path: str, value: Any):
    def change(d: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = d
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is _DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()
AREAS = [
    {
        "zone": "DOCK",
        "type": "receiving_dock",
        "bins": [{"code": "DOCK-01", "x": 0.0, "y": -3.0}, {"code": "DOCK-02", "x": 3.0, "y": -3}],
    }
]


def _with_areas(*bins: dict[str, Any]):
    def change(d: dict[str, Any]) -> None:
        d["areas"] = copy.deepcopy(AREAS)
        d["areas"][0]["bins"].extend(bins)

    return change


def _second_block(**fields: Any):
    def change(d: dict[str, Any]) -> None:
        d["blocks"].append({**d["blocks"][0], **fields})

    return change


BAD_FILES = [
    ("missing bays", _set("blocks.0.bays", _DELETE), "blocks[0].bays", "required"),
    ("missing depot", _set("depot", _DELETE), "depot", "required"),
    ("missing site", _set("site", _DELETE), "site", "required"),
    ("negative aisles", _set("blocks.0.aisles", -1), "blocks[0].aisles", "greater than"),
    ("zero bays", _set("blocks.0.bays", 0), "blocks[0].bays", "greater than"),
    ("zero levels", _set("blocks.0.levels", 0), "blocks[0].levels", "greater than"),
    ("zero length", _set("blocks.0.length", 0.0), "blocks[0].length", "greater than 0"),
    ("negative pitch", _set("blocks.0.aisle_pitch", -3.0), "blocks[0].aisle_pitch", "greater"),
    ("100 aisles", _set("blocks.0.aisles", 100), "blocks[0].aisles", "less than"),
    ("aisles as text", _set("blocks.0.aisles", "10"), "blocks[0].aisles", "valid integer"),
    ("aisles as float", _set("blocks.0.aisles", 10.5), "blocks[0].aisles", "valid integer"),
    ("aisles as bool", _set("blocks.0.aisles", True), "blocks[0].aisles", "valid integer"),
    ("x as text", _set("blocks.0.x", "1.5"), "blocks[0].x", "valid number"),
    ("depot x as null", _set("depot.x", None), "depot.x", "valid number"),
    ("blocks not a list", _set("blocks", {"id": "A"}), "blocks", "valid list"),
    ("no blocks", _set("blocks", []), "blocks", "at least 1"),
    ("typo in a key", _set("blocks.0.aisle", 4), "blocks[0].aisle", "Extra inputs"),
    ("lower-case block id", _set("blocks.0.id", "a"), "blocks[0].id", "capital letters"),
    ("block id with digit", _set("blocks.0.id", "A1"), "blocks[0].id", "capital letters"),
    ("three-letter block id", _set("blocks.0.id", "ABC"), "blocks[0].id", "capital letters"),
    ("bad site code", _set("site", "chi"), "site", "capital letters"),
    (
        "unknown type",
        _set("blocks.0.location_type", "shelf"),
        "blocks[0].location_type",
        "pick_face",
    ),
    ("hazmat as text", _set("blocks.0.hazmat_allowed", "yes"), "blocks[0].hazmat_allowed", "bool"),
    ("zero capacity", _set("blocks.0.max_weight_kg", 0), "blocks[0].max_weight_kg", "greater"),
    (
        "reserve above top",
        _set("blocks.0.reserve_from_level", 5),
        "blocks[0].reserve_from_level",
        "above the top level",
    ),
    ("duplicate block id", _second_block(y=30.0), "blocks[1].id", "already used by blocks[0]"),
    ("overlapping blocks", _second_block(id="B", y=10.0), "blocks[1]", "overlaps block A"),
    ("touching racks", _second_block(id="B", x=30.0), "blocks[1]", "overlaps block A"),
    ("block cut off", _second_block(id="B", y=100.0), "blocks[1].y", "cannot be reached"),
    ("depot off to the side", _set("depot.x", 100.0), "depot.x", "front cross aisle"),
    ("depot far left", _set("depot.x", -1.6), "depot.x", "between x = -1.5 and x = 31.5"),
    ("depot at the back", _set("depot.y", 30.0), "depot.y", "front cross aisle, y = 0"),
    ("depot not an object", _set("depot", 0.0), "depot", "valid dictionary"),
    (
        "duplicate explicit code",
        _with_areas({"code": "DOCK-01", "x": 6.0, "y": -3.0}),
        "areas[0].bins[2].code",
        "already used by areas[0].bins[0]",
    ),
    (
        "explicit code of a rack bin",
        _with_areas({"code": "A01-01-1L", "x": 6.0, "y": -3.0}),
        "areas[0].bins[2].code",
        "clashes with block A",
    ),
    (
        "explicit code shaped like a rack bin",
        _with_areas({"code": "Z01-01-1L", "x": 6.0, "y": -3.0}),
        "areas[0].bins[2].code",
        "looks like a rack bin code",
    ),
    (
        "explicit code in lower case",
        _with_areas({"code": "dock-03", "x": 6.0, "y": -3.0}),
        "areas[0].bins[2].code",
        "capital letters",
    ),
    (
        "explicit bin without y",
        _with_areas({"code": "DOCK-03", "x": 6.0}),
        "areas[0].bins[2].y",
        "required",
    ),
    (
        "area without bins",
        lambda d: d.update(areas=[{"zone": "Q", "type": "quarantine", "bins": []}]),
        "areas[0].bins",
        "at least 1",
    ),
    (
        "too many bins",
        lambda d: d.update(stacked(8, aisles=99, bays=99, levels=4)),
        "blocks",
        f"at most {MAX_BINS} are allowed",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_malformed_files_are_refused_with_field_and_reason(change, field, reason):
    data = sample()
    change(data)
    errors = errors_of(data)
    matching = [e for e in errors if e["field"] == field]
    assert matching, errors
    assert any(reason in e["reason"] for e in matching), errors


def test_bad_json_is_refused_with_line_and_column():
    text = '{"site": "CHI",\n "depot": {"x": 0.0}\n "blocks": []}'
    (error,) = errors_of(text)
    assert (error["field"], error["line"], error["column"]) == ("$", 3, 2)
    assert "line 3, column 2" in error["reason"]
    assert errors_of(b"\xff\xfe")[0]["field"] == "$"
    assert errors_of("[]")[0] == {
        "field": "$",
        "reason": "Input should be a valid dictionary or instance of LayoutFile",
    }


def test_nan_is_not_a_coordinate():
    text = SAMPLE_TEXT.replace('"x": 1.5', '"x": NaN')
    assert errors_of(text)[0]["field"] == "blocks[0].x"


def test_a_cross_aisle_may_not_run_through_a_block():
    data = stacked(2)
    # C and D stand left and right of B, starting halfway down it: the cross aisle joining
    # their fronts (y = 45) would cut through B's racks.
    side = {**data["blocks"][0], "y": 45.0, "length": 15.0}
    data["blocks"] += [{**side, "id": "C", "x": -30.0}, {**side, "id": "D", "x": 40.5}]
    errors = errors_of(data)
    assert errors == [
        {
            "field": "blocks[1]",
            "reason": "the cross aisle at y = 45 (joining C, D) would run through block B",
        }
    ]
    # Beside B on one side only, the short cross aisle stays clear of B: that is allowed.
    data["blocks"].pop(2)
    assert Layout.parse(data).cross_aisle(45.0).blocks == ("D",)


def test_every_problem_is_reported_not_just_the_first():
    data = sample()
    data["blocks"][0].update(aisles=0, bays=-2, levels="4")
    fields = {e["field"] for e in errors_of(data)}
    assert fields == {"blocks[0].aisles", "blocks[0].bays", "blocks[0].levels"}


def test_unreadable_file_is_refused(tmp_path):
    with pytest.raises(AislewayError) as info:
        read_layout(tmp_path / "nope.json")
    assert info.value.code == "LAYOUT_INVALID"
    assert "cannot read" in info.value.details["errors"][0]["reason"]


# -- random valid layouts --------------------------------------------------------------------
@st.composite
def rectangular_layouts(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 3))
    ids = draw(
        st.lists(st.from_regex(r"[A-Z]{1,2}", fullmatch=True), min_size=n, max_size=n, unique=True)
    )
    x = draw(st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 2)))
    y = draw(st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 2)))
    blocks = []
    for block_id in ids:
        block = {
            "id": block_id,
            "x": x,
            "y": y,
            "aisles": draw(st.integers(1, 12)),
            "aisle_pitch": draw(st.sampled_from([1.0, 2.5, 3.0, 3.7, 5.0])),
            "length": draw(st.sampled_from([0.3, 5.0, 10.0, 12.6, 30.0, 47.1])),
            "bays": draw(st.integers(1, 20)),
            "levels": draw(st.integers(1, 5)),
        }
        blocks.append(block)
        y = round(y + block["length"], 2)  # the next block stacks on this one's back
    first = blocks[0]
    span = (first["aisles"] - 1) * first["aisle_pitch"]
    depot_x = draw(st.floats(x - first["aisle_pitch"], x + span + first["aisle_pitch"]))
    return {"site": "CHI", "depot": {"x": depot_x}, "blocks": blocks}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rectangular_layouts())
def test_random_layouts_make_unique_codes_that_read_back_inside_their_block(data):
    layout = Layout.parse(data)
    codes = [b.code for b in layout.bins]
    assert len(codes) == len(set(codes))
    assert len(codes) == sum(2 * b["aisles"] * b["bays"] * b["levels"] for b in data["blocks"])
    specs = {b["id"]: b for b in data["blocks"]}
    for b in layout.bins:
        address = parse_bin_code(b.code)
        assert (address.block, address.aisle, address.bay, address.level, address.side) == (
            b.block,
            b.aisle,
            b.bay,
            b.level,
            b.side,
        )
        spec = specs[address.block]
        assert 1 <= address.aisle <= spec["aisles"] and 1 <= address.bay <= spec["bays"]
        assert 1 <= address.level <= spec["levels"]
        x, y = layout.pick_point(b.code)
        assert x == pytest.approx(spec["x"] + (address.aisle - 1) * spec["aisle_pitch"])
        assert spec["y"] < y < spec["y"] + spec["length"]
        expected_y = spec["y"] + (address.bay - 0.5) * spec["length"] / spec["bays"]
        assert y == pytest.approx(expected_y, abs=1e-6)
    g = layout.graph
    assert len({c.y for c in layout.cross_aisles}) == len(data["blocks"]) + 1
    assert _reachable(g, g.depot) == {n.id for n in g.nodes}
    for e in g.edges:
        a, b = g.nodes[e.a], g.nodes[e.b]
        assert e.length == pytest.approx(math.dist((a.x, a.y), (b.x, b.y)), abs=1e-5)


# -- loading into the database ---------------------------------------------------------------
def _snapshot(db: Any) -> tuple[Any, ...]:
    return (
        db.query("SELECT * FROM sites ORDER BY id"),
        db.query("SELECT * FROM zones ORDER BY id"),
        db.query("SELECT * FROM locations ORDER BY id"),
    )


def test_load_writes_site_zones_and_locations(fresh_db):
    layout = read_layout(EXAMPLES / "layout-single-block.json")
    summary = load_layout(fresh_db, layout)
    assert summary.changed and summary.added == len(layout.bins) == 1208
    assert summary.by_zone == {"A": 1200, "DOCK": 2, "PACK": 2, "QA": 1, "RET": 1, "SHIP": 2}
    site = fresh_db.query_one("SELECT * FROM sites WHERE code = 'CHI'")
    assert (site["depot_x"], site["depot_y"]) == (0.0, 0.0)
    assert json.loads(site["layout_json"]) == json.loads(
        (EXAMPLES / "layout-single-block.json").read_text()
    )
    zones = {r["code"]: r["name"] for r in fresh_db.query("SELECT code, name FROM zones")}
    assert zones == {
        "A": "Main racking",
        "DOCK": "Inbound doors",
        "PACK": "Pack stations",
        "SHIP": "Outbound doors",
        "RET": "RET",
        "QA": "Quarantine cage",
    }
    row = get_location(fresh_db, "CHI", "A03-07-3L")
    assert row["type"] == "reserve" and row["zone"] == "A"
    assert (row["x"], row["y"], row["block"], row["aisle"], row["bay"], row["level"]) == (
        7.5,
        13.0,
        "A",
        3,
        7,
        3,
    )
    assert (row["side"], row["max_weight_kg"], row["max_skus"], row["active"]) == (
        "L",
        250.0,
        2,
        True,
    )
    qa = get_location(fresh_db, "CHI", "QA-01")
    assert (qa["type"], qa["zone"], qa["block"], qa["hazmat_allowed"], qa["max_skus"]) == (
        "quarantine",
        "QA",
        None,
        True,
        20,
    )
    assert stored_layout(fresh_db, "CHI") is not None
    assert stored_layout(fresh_db, "CHI").bins == layout.bins  # type: ignore[union-attr]


def test_reloading_the_same_file_changes_nothing(fresh_db):
    layout = read_layout(EXAMPLES / "layout-three-blocks.json")
    load_layout(fresh_db, layout)
    before = _snapshot(fresh_db)
    again = load_layout(fresh_db, read_layout(EXAMPLES / "layout-three-blocks.json"))
    assert not again.changed
    assert (again.added, again.updated, again.deactivated, again.unchanged) == (
        0,
        0,
        0,
        len(layout.bins),
    )
    assert _snapshot(fresh_db) == before
    n = fresh_db.query_one("SELECT COUNT(*) AS n, COUNT(DISTINCT code) AS d FROM locations")
    assert n == {"n": len(layout.bins), "d": len(layout.bins)}


def test_a_changed_file_adds_updates_and_deactivates(fresh_db):
    load_layout(fresh_db, Layout.parse(SAMPLE_TEXT))
    data = sample()
    data["blocks"][0].update(aisles=9, bays=16, max_weight_kg=100.0)
    summary = load_layout(fresh_db, Layout.parse(data))
    assert summary.deactivated == 15 * 4 * 2  # aisle 10
    assert summary.added == 9 * 4 * 2  # bay 16 of aisles 1..9
    assert summary.updated == 9 * 15 * 4 * 2  # pick points moved, capacity set
    gone = get_location(fresh_db, "CHI", "A10-01-1L")
    assert gone["active"] is False
    moved = get_location(fresh_db, "CHI", "A01-01-1L")
    assert (moved["y"], moved["max_weight_kg"]) == (30 / 32, 100.0)
    page, total = list_locations(fresh_db, "CHI", aisle=10)
    assert (page, total) == ([], 0)
    assert list_locations(fresh_db, "CHI", aisle=10, include_inactive=True)[1] == 120
    # Back to the first file: the dropped aisle comes back under the same ids.
    ids = {r["code"]: r["id"] for r in fresh_db.query("SELECT id, code FROM locations")}
    back = load_layout(fresh_db, Layout.parse(SAMPLE_TEXT))
    assert (back.reactivated, back.deactivated) == (120, 9 * 4 * 2)
    assert {r["code"]: r["id"] for r in fresh_db.query("SELECT id, code FROM locations")} == ids


def _put_stock(db: Any, code: str, qty: int) -> None:
    with db.write() as w:
        item = w.execute(
            "INSERT INTO items (sku, created_at, updated_at) VALUES (?, ?, ?)",
            [f"SKU-{code}", iso(), iso()],
        ).lastrowid
        loc = w.execute("SELECT id FROM locations WHERE code = ?", [code]).fetchone()[0]
        w.execute(
            "INSERT INTO stock (location_id, item_id, status, qty, updated_at) "
            "VALUES (?, ?, 'available', ?, ?)",
            [loc, item, qty, iso()],
        )


def test_removing_a_bin_that_holds_stock_is_refused_and_changes_nothing(fresh_db):
    load_layout(fresh_db, Layout.parse(SAMPLE_TEXT))
    _put_stock(fresh_db, "A10-03-2R", 5)
    _put_stock(fresh_db, "A10-04-1L", 0)  # an emptied bin does not hold anything back
    before = _snapshot(fresh_db)
    data = sample()
    data["blocks"][0]["aisles"] = 9
    data["blocks"][0]["max_skus"] = 3  # would also update every other bin
    with pytest.raises(AislewayError) as info:
        load_layout(fresh_db, Layout.parse(data))
    assert info.value.code == "LOCATION_HAS_STOCK"
    assert info.value.details == {"locations": [{"code": "A10-03-2R", "qty": 5}], "count": 1}
    assert _snapshot(fresh_db) == before
    # Once the stock is gone the same file loads.
    with fresh_db.write() as w:
        w.execute("UPDATE stock SET qty = 0")
    assert load_layout(fresh_db, Layout.parse(data)).deactivated == 120


def test_a_file_for_another_site_is_refused(fresh_db):
    with pytest.raises(AislewayError) as info:
        load_layout(fresh_db, Layout.parse(SAMPLE_TEXT), site="DAL")
    assert info.value.details["errors"][0]["field"] == "site"
    assert fresh_db.query("SELECT * FROM sites") == []


def test_dry_run_reports_and_writes_nothing(fresh_db):
    summary = load_layout(fresh_db, Layout.parse(SAMPLE_TEXT), dry_run=True)
    assert summary.dry_run and summary.changed and summary.added == 1200
    assert _snapshot(fresh_db) == ([], [], [])


def test_list_locations_filters_and_pages(fresh_db):
    load_layout(fresh_db, read_layout(EXAMPLES / "layout-three-blocks.json"))
    page, total = list_locations(fresh_db, "CHI", block="B", aisle=3, limit=5, offset=2)
    assert total == 12 * 4 * 2
    assert [r["code"] for r in page] == [
        "B03-01-2L",
        "B03-01-2R",
        "B03-01-3L",
        "B03-01-3R",
        "B03-01-4L",
    ]
    cold, n = list_locations(fresh_db, "CHI", zone="COLD", limit=1000)
    assert n == 324 and {r["temperature_class"] for r in cold} == {"chilled"}
    docks, n = list_locations(fresh_db, "CHI", type="receiving_dock")
    assert [r["code"] for r in docks] == ["DOCK-01", "DOCK-02"] and n == 2
    long_goods, _ = list_locations(fresh_db, "CHI", zone="ODD")
    assert [(r["code"], r["type"], r["max_weight_kg"]) for r in long_goods] == [
        ("LONG-01", "pick_face", 80.0),
        ("LONG-02", "pick_face", 80.0),
        ("LONG-03", "reserve", 80.0),
    ]


# -- the documented examples -----------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("layout-*.json")), ids=lambda p: p.name)
def test_documented_examples_load(path, fresh_db):
    layout = read_layout(path)
    summary = load_layout(fresh_db, layout)
    assert summary.bins == len(layout.bins) > 0
    assert not load_layout(fresh_db, read_layout(path)).changed
    assert _reachable(layout.graph, layout.graph.depot) == {n.id for n in layout.graph.nodes}


def test_the_minimal_example_is_the_issue_sample():
    assert json.loads((EXAMPLES / "layout-minimal.json").read_text()) == sample()


def test_docs_describe_every_field_of_the_file():
    from edge_server.wms.layout import Area, BlockSpec, Depot, ExplicitBin, LayoutFile

    text = (EXAMPLES.parent / "layout.md").read_text()
    for model in (LayoutFile, Depot, BlockSpec, Area, ExplicitBin):
        for name in model.model_fields:
            assert f"| `{name}` |" in text, f"{model.__name__}.{name} missing from layout.md"


# -- the command line ------------------------------------------------------------------------
def test_cli_loads_and_shows_a_layout(tmp_path, capsys):
    db = str(tmp_path / "site.db")
    example = str(EXAMPLES / "layout-three-blocks.json")
    assert cli_main(["edge", "load-layout", example, "--db", db, "--site", "CHI"]) == 0
    out = capsys.readouterr().out
    assert "site CHI: 2637 bins (3 blocks, 4 cross aisles, 5 explicit areas)" in out
    assert "by zone: A 1152, B 1152, COLD 324, DOCK 2" in out
    assert cli_main(["edge", "load-layout", example, "--db", db, "--site", "CHI"]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert cli_main(["edge", "show-layout", "--db", db, "--site", "CHI"]) == 0
    out = capsys.readouterr().out
    assert "cross aisle y=24 x=1.5..34.5: A back, B front" in out
    assert "locations: 2637 active, 0 inactive" in out
    assert cli_main(["edge", "show-layout", "--db", db, "--site", "CHI", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(Path(example).read_text())


def test_cli_refuses_a_bad_file_before_touching_the_database(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    data = sample()
    data["blocks"][0]["aisles"] = -1
    bad.write_text(json.dumps(data))
    db = tmp_path / "site.db"
    assert cli_main(["edge", "load-layout", str(bad), "--db", str(db), "--site", "CHI"]) == 2
    err = capsys.readouterr().err
    assert "error: The layout file is not valid." in err
    assert "blocks[0].aisles: Input should be greater than or equal to 1" in err
    assert not db.exists()
    assert (
        cli_main(
            [
                "edge",
                "load-layout",
                str(EXAMPLES / "layout-minimal.json"),
                "--db",
                str(db),
                "--site",
                "DAL",
            ]
        )
        == 2
    )
    assert "the file is for site CHI but this edge server runs site DAL" in capsys.readouterr().err
    assert cli_main(["edge", "show-layout", "--db", str(db), "--site", "CHI"]) == 2
    assert "No layout has been loaded" in capsys.readouterr().err


def test_every_layout_code_scans_back_as_that_place():
    """The layout's codes and the barcode grammar (protocols.barcodes) must agree: each bin's
    printed label scans back as that bin or location."""
    from protocols.barcodes import PLACE_KINDS, ScanKind, location_label, parse_scan

    for name in ("layout-single-block.json", "layout-three-blocks.json"):
        layout = read_layout(EXAMPLES / name)
        for b in layout.bins:
            scan = parse_scan(location_label(b.code), expect=PLACE_KINDS)
            assert scan.value == b.code
            if b.block is None:
                assert scan.kind == ScanKind.LOCATION
            else:
                assert scan.kind == ScanKind.BIN and scan.bin is not None
                assert (scan.bin.block, scan.bin.aisle, scan.bin.bay) == (b.block, b.aisle, b.bay)
                assert (scan.bin.level, scan.bin.side) == (b.level, b.side)


def test_a_layout_built_in_code_is_checked_too():
    from edge_server.wms.layout import LayoutFile

    data = stacked(2)
    data["blocks"][1]["id"] = "A"
    with pytest.raises(AislewayError) as info:
        Layout.from_file(LayoutFile.model_validate(data))
    assert info.value.details["errors"][0]["field"] == "blocks[1].id"
