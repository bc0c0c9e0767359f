"""X12 envelopes: separators from the ISA, every envelope check with its code and position,
transaction-level errors that reject only their set, and the writer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from edi_support import ORDER, SAMPLES, isa, normalised, order, sample, x12

from edge_server.edi import (
    Separators,
    Transaction,
    X12Error,
    parse_interchange,
    read_interchange,
    wrap,
    write_interchange,
)


def refused(data: str | bytes) -> X12Error:
    with pytest.raises(X12Error) as info:
        read_interchange(data)
    err = info.value
    assert len(err.message) > 10 and err.message.rstrip(")").endswith((".", "?"))
    assert err.code in str(err)
    return err


# --- separators -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_reads_with_no_error(path: object) -> None:
    result = read_interchange(sample(path.name))  # type: ignore[attr-defined]
    assert result.sets and not result.rejected


def test_separators_come_from_the_isa() -> None:
    crlf = parse_interchange(sample("940_acme_crlf.edi"))
    assert crlf.separators == Separators("*", ">", "~", "", suffix="")
    pipe = parse_interchange(sample("940_beverage_pipe_lf.edi"))
    assert pipe.separators == Separators("|", ":", "\n", "^", suffix="")
    assert pipe.version == "00501"
    one_line = parse_interchange(sample("856_acme_oneline.edi"))
    assert one_line.separators.component == ":"


@pytest.mark.parametrize("suffix", ["", "\n", "\r\n", "\r"])
def test_line_breaks_after_terminators_are_tolerated(suffix: str) -> None:
    result = read_interchange(x12([("940", ORDER)], suffix=suffix))
    assert [s.accepted for s in result.sets] == [True]


def test_same_interchange_with_other_separators_reads_the_same() -> None:
    a = read_interchange(x12([("940", ORDER)]))
    b = read_interchange(x12([("940", ORDER)], e="|", term="'", suffix="\r\n"))
    assert a.sets[0].document == b.sets[0].document


def test_the_interchange_key_is_sender_and_control_number() -> None:
    ix = parse_interchange(sample("940_acme_crlf.edi"))
    assert ix.key == "ZZ:ACMEBRANDS:000004711"
    assert (ix.usage, ix.ack_requested, ix.control_number) == ("P", True, 4711)
    group = ix.groups[0]
    assert (group.functional_id, group.control_number, group.version) == ("OW", 4711, "004010")
    assert [tx.control_number for tx in group.transactions] == ["0001", "0002"]


# --- envelope errors: the whole interchange is refused ------------------------------------


@pytest.mark.parametrize("data", ["", b"", "  \r\n", b"\xef\xbb\xbf"])
def test_empty_input(data: str | bytes) -> None:
    assert refused(data).code == "EMPTY_INPUT"


@pytest.mark.parametrize(
    "data", ["UNA:+.? 'UNB+UNOC:3+SENDER'", '{"order": 1}', "<?xml version='1.0'?>", b"\x00\xff"]
)
def test_not_x12(data: str | bytes) -> None:
    err = refused(data)
    assert err.code == "NOT_X12" and "ISA" in err.message


def test_isa_field_not_padded() -> None:
    text = x12([("940", ORDER)]).replace("ACMEBRANDS     ", "ACMEBRANDS", 1)
    err = refused(text)
    assert (err.code, err.position, err.segment_id, err.element) == ("ISA_INVALID", 1, "ISA", 6)
    assert "exactly 15 characters" in err.message


def test_truncated_isa() -> None:
    err = refused(isa()[:60])
    assert err.code == "ISA_INVALID" and "fixed width" in err.message


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("*000000001*", "*00000000A*", 13),
        ("*0*P*", "*0*X*", 15),
        ("*0*P*", "*7*P*", 14),
        ("*261127*", "*261332*", 9),
        ("*0930*", "*2599*", 10),
        ("*U*00401*", "*^*00401*", 11),
        ("*U*00401*", "*U*0040A*", 12),
    ],
)
def test_isa_bad_element(old: str, new: str, element: int) -> None:
    text = x12([("940", ORDER)])
    assert old in text[:106]
    err = refused(text.replace(old, new, 1))
    assert (err.code, err.position, err.element) == ("ISA_INVALID", 1, element)


def test_separators_must_differ() -> None:
    text = x12([("940", ORDER)])
    err = refused(text[:104] + "*" + text[105:])  # component separator = element separator
    assert err.code == "ISA_INVALID" and "distinct" in err.message


def _segments(text: str) -> list[str]:
    return text.split("~\n")[:-1]


def _join(segs: list[str]) -> str:
    return "".join(s + "~\n" for s in segs)


def test_iea_control_number_mismatch() -> None:
    segs = _segments(x12([("940", ORDER)]))
    segs[-1] = "IEA*1*000000002"
    err = refused(_join(segs))
    assert (err.code, err.position, err.segment_id, err.element) == (
        "IEA_MISMATCH",
        len(segs),
        "IEA",
        2,
    )
    assert "000000001" in err.message


def test_iea_group_count_mismatch() -> None:
    segs = _segments(x12([("940", ORDER)]))
    segs[-1] = "IEA*2*000000001"
    err = refused(_join(segs))
    assert (err.code, err.element) == ("IEA_MISMATCH", 1)
    assert "2" in err.message and "has 1" in err.message


def test_iea_missing() -> None:
    segs = _segments(x12([("940", ORDER)]))
    err = refused(_join(segs[:-1]))
    assert err.code == "IEA_MISSING"


def test_ge_control_number_and_count() -> None:
    segs = _segments(x12([("940", ORDER)]))
    segs[-2] = "GE*1*8"
    err = refused(_join(segs))
    assert (err.code, err.position, err.segment_id, err.element) == (
        "GE_MISMATCH",
        len(segs) - 1,
        "GE",
        2,
    )
    segs[-2] = "GE*3*7"
    err = refused(_join(segs))
    assert (err.code, err.element) == ("GE_MISMATCH", 1) and "has 1" in err.message


def test_ge_missing() -> None:
    segs = _segments(x12([("940", ORDER)]))
    del segs[-2]
    err = refused(_join(segs))
    assert (err.code, err.position, err.segment_id) == ("GE_MISSING", 2, "GS")


@pytest.mark.parametrize(
    ("gs", "element"),
    [
        ("GS*O*ACME*NW3PL*20261127*0930*7*X*004010", 1),
        ("GS*OW*A*NW3PL*20261127*0930*7*X*004010", 2),
        ("GS*OW*ACME*NW3PL*261127*0930*7*X*004010", 4),
        ("GS*OW*ACME*NW3PL*20261127*9930*7*X*004010", 5),
        ("GS*OW*ACME*NW3PL*20261127*0930*A7*X*004010", 6),
        ("GS*OW*ACME*NW3PL*20261127*0930*7*Q*004010", 7),
        ("GS*OW*ACME*NW3PL*20261127*0930*7*X", 8),
    ],
)
def test_gs_invalid(gs: str, element: int) -> None:
    segs = _segments(x12([("940", ORDER)]))
    segs[1] = gs
    err = refused(_join(segs))
    assert (err.code, err.position, err.element) == ("GS_INVALID", 2, element)


def test_unterminated_last_segment() -> None:
    text = x12([("940", ORDER)]).rstrip("~\n")
    err = refused(text)
    assert err.code == "SEGMENT_INVALID" and "IEA" in err.message


def test_bad_segment_id_names_its_position() -> None:
    segs = _segments(x12([("940", ORDER)]))
    segs[5] = "n1*ST*Jane Doe"
    err = refused(_join(segs))
    assert (err.code, err.position) == ("SEGMENT_INVALID", 6)


def test_empty_segment() -> None:
    text = x12([("940", ORDER)]).replace("~\nLX*1~", "~~\nLX*1~")
    err = refused(text)
    assert err.code == "SEGMENT_INVALID" and "empty segment" in err.message


def test_segment_between_groups_or_sets() -> None:
    segs = _segments(x12([("940", ORDER)]))
    err = refused(_join([*segs[:2], "N1*ST*Stray", *segs[2:]]))
    assert (err.code, err.position, err.segment_id) == ("SEGMENT_UNEXPECTED", 3, "N1")
    err = refused(_join([segs[0], "N1*ST*Stray", *segs[1:]]))
    assert (err.code, err.position) == ("SEGMENT_UNEXPECTED", 2)


def test_one_interchange_per_file() -> None:
    text = x12([("940", ORDER)])
    err = refused(text + text)
    assert err.code == "SEGMENT_UNEXPECTED" and "one interchange" in err.message


# --- transaction-level errors: only that set is rejected ------------------------------------


def test_se_count_rejects_only_its_set() -> None:
    result = read_interchange(x12([("940", ORDER), ("940", ORDER)], se_counts={2: "99"}))
    ok, bad = result.sets
    assert ok.accepted and not bad.accepted
    [err] = bad.errors
    assert (err.code, err.segment_id, err.element, err.set_position) == (
        "SE_COUNT",
        "SE",
        1,
        len(ORDER) + 2,
    )
    assert "99" in err.message and str(len(ORDER) + 2) in err.message
    assert err.position == 2 + (len(ORDER) + 2) * 2


def test_se_control_number_mismatch() -> None:
    text = x12([("940", ORDER)]).replace(f"SE*{len(ORDER) + 2}*0001", f"SE*{len(ORDER) + 2}*0009")
    [entry] = read_interchange(text).sets
    assert [e.code for e in entry.errors] == ["SE_MISMATCH"]
    assert "0001" in entry.errors[0].message


def test_se_missing() -> None:
    segs = _segments(x12([("940", ORDER), ("940", ORDER)]))
    first_se = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    del segs[first_se]
    segs[-2] = "GE*2*7"
    result = read_interchange(_join(segs))
    assert [[e.code for e in s.errors] for s in result.sets] == [["SE_MISSING"], []]


def test_bad_st() -> None:
    result = read_interchange(x12([("94", ORDER)]))
    assert [e.code for e in result.sets[0].errors] == ["ST_INVALID"]


@pytest.mark.parametrize(("set_id", "fid"), [("850", "OW"), ("940", "SH")])
def test_unsupported_set_or_wrong_group(set_id: str, fid: str) -> None:
    [entry] = read_interchange(x12([(set_id, ORDER)], fid=fid)).sets
    [err] = entry.errors
    assert err.code == "UNSUPPORTED_SET" and err.set_position == 1
    assert set_id in err.message


def test_set_error_reports_positions_in_interchange_and_set() -> None:
    body = order((7, ["W01", "two", "EA", "", "VN", "SKU-A"]))
    [entry] = read_interchange(x12([("940", body)])).sets
    [err] = entry.errors
    assert (err.code, err.segment_id, err.element, err.set_position, err.position) == (
        "ELEMENT_INVALID",
        "W01",
        1,
        9,
        11,
    )
    assert "'two'" in err.message


# --- writer ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize(
    "seps",
    [
        Separators(),
        Separators("|", ":", "\n", "^", suffix=""),
        Separators("^", "\\", "'", "", "\r\n"),
    ],
)
def test_read_write_read_is_equal(path: object, seps: Separators) -> None:
    ix = parse_interchange(sample(path.name))  # type: ignore[attr-defined]
    if not seps.repetition:
        ix = replace(ix, version="00401")
    elif ix.version < "00402":
        ix = replace(ix, version="00501")
    text = write_interchange(ix, seps)
    again = parse_interchange(text)
    assert normalised(again) == normalised(replace(ix, separators=again.separators))
    assert again.separators.element == seps.element


def test_written_isa_is_fixed_width_and_counts_computed() -> None:
    ix = parse_interchange(x12([("940", ORDER), ("940", order((10, None)))]))
    text = write_interchange(ix)
    assert text.index("~") == 105 and text[104] == ">" and text[106] == "\n"
    assert f"SE*{len(ORDER) + 2}*0001~" in text and f"SE*{len(ORDER) + 1}*0002~" in text
    assert "GE*2*7~" in text and text.endswith("IEA*1*000000001~\n")


def test_wrap_builds_the_right_group() -> None:
    tx = Transaction(
        "940",
        "0001",
        []
        + [s for s in parse_interchange(x12([("940", ORDER)])).groups[0].transactions[0].segments],
    )
    ix = wrap(
        [tx],
        sender=("ZZ", "NORTHWIND3PL"),
        receiver=("01", "123456789"),
        control_number=42,
        at=datetime(2026, 11, 28, 18, 10, 33),
        usage="T",
    )
    text = write_interchange(ix)
    assert text.startswith(
        "ISA*00*          *00*          *ZZ*NORTHWIND3PL   *01*123456789      "
        "*261128*1810*U*00401*000000042*0*T*>~"
    )
    again = read_interchange(text)
    assert again.interchange.usage == "T" and again.interchange.groups[0].functional_id == "OW"
    assert again.sets[0].accepted
    with pytest.raises(ValueError, match="one supported set id"):
        wrap(
            [Transaction("850", "1")],
            sender=("ZZ", "A"),
            receiver=("ZZ", "B"),
            control_number=1,
            at=datetime(2026, 1, 1),
        )


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"sender_id": "A-VERY-LONG-SENDER-ID"}, "longer than 15"),
        ({"sender_id": "ACME*BRANDS"}, "separator"),
        ({"control_number": 10**9}, "control number"),
    ],
)
def test_writer_refuses_values_that_do_not_fit(change: dict[str, object], match: str) -> None:
    ix = parse_interchange(x12([("940", ORDER)]))
    with pytest.raises(ValueError, match=match):
        write_interchange(replace(ix, **change))  # type: ignore[arg-type]


def test_writer_refuses_separator_inside_an_element() -> None:
    ix = parse_interchange(x12([("940", ORDER)]))
    ix.groups[0].transactions[0].segments[1] = (
        ix.groups[0].transactions[0].segments[1].of("N1", "ST", "Jane~Doe")
    )
    with pytest.raises(ValueError, match="N102"):
        write_interchange(ix)
