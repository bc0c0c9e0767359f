"""The item master: what an item is, how each field is normalised, how items are stored.

One model (`Item`) checks and normalises an item whether it comes from a JSON request or a CSV
cell: refusals are raised as pydantic errors whose *type* is an `Issue` code, warnings are
appended to `context["warnings"]` as `Note`s. The import (`item_import.py`) and the API use the
same model, so a rule lives in one place. docs/items.md lists every code and decision.

GTINs are stored as GTIN-14 (the 8/12/13-digit forms left-padded with zeros): a scanned
EAN-13, the UPC-A printed on the same pack and its GTIN-14 all find the same item.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from biip.checksums import gs1_standard_check_digit
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from protocols.errors import ErrorCode

__all__ = [
    "BASE_UOMS",
    "CASE_UOM",
    "GtinMatch",
    "Issue",
    "Item",
    "ItemPage",
    "Loaded",
    "Note",
    "Outcome",
    "Record",
    "StoredItem",
    "canonical_gtin",
    "find_by_gtin",
    "get_item",
    "gtin_owners",
    "list_items",
    "load_items",
    "load_records",
    "merge_record",
    "problems_from",
    "record_gtins",
    "upsert_item",
    "upsert_items",
    "validate_item",
]

#: The event `PUT /items/{sku}` writes when it creates or changes an item.
ITEM_CHANGED = "item.changed"

MAX_SKU = 64
MAX_DESCRIPTION = 200
MAX_SHORT_TEXT = 64
MAX_WEIGHT_KG = 30_000.0  # a loaded 40' container; anything above is a typo
MAX_DIMENSION_CM = 5_000.0
MAX_CASE_QTY = 100_000
MAX_UNIT_COST = 10_000_000.0
MAX_ATTRIBUTES = 30
SQL_CHUNK = 500  # parameters per IN (...) query, well below SQLite's limit

#: Units an item can be counted in (its base unit). The case level is `case_qty`, not a base unit.
BASE_UOMS = ("EA", "PR", "PK", "BX")
CASE_UOM = "CS"
_UOM_SPELLINGS = {
    "EA": ("ea", "each", "eac", "pc", "pcs", "piece", "pieces", "unit", "units", "un", "st", "stk"),
    "PR": ("pr", "pair", "pairs", "par"),
    "PK": ("pk", "pack", "packs", "pkt", "packet"),
    "BX": ("bx", "box", "boxes"),
}
UOM_ALIASES: dict[str, str] = {
    spelling: code for code, spellings in _UOM_SPELLINGS.items() for spelling in spellings
}
_CASE_SPELLINGS = frozenset({"cs", "case", "cases", "ctn", "carton", "cartons"})

TRUE_SPELLINGS = frozenset({"y", "yes", "true", "t", "1", "x"})
FALSE_SPELLINGS = frozenset({"n", "no", "false", "f", "0", ""})

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_ATTRIBUTE_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_TEMPERATURE_RE = re.compile(r"[a-z][a-z0-9_]{0,23}")  # the layout file's rule for bins


class Issue(StrEnum):
    """Codes for what is wrong with (or was changed in) an item. See docs/items.md."""

    # refused: the item (or CSV row) is not stored
    SKU_MISSING = "SKU_MISSING"
    SKU_INVALID = "SKU_INVALID"
    SKU_MISMATCH = "SKU_MISMATCH"
    DESCRIPTION_MISSING = "DESCRIPTION_MISSING"
    TEXT_INVALID = "TEXT_INVALID"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    GTIN_NOT_NUMERIC = "GTIN_NOT_NUMERIC"
    GTIN_LENGTH = "GTIN_LENGTH"
    GTIN_CHECK_DIGIT = "GTIN_CHECK_DIGIT"
    GTIN_PLACEHOLDER = "GTIN_PLACEHOLDER"
    GTIN_REPEATED = "GTIN_REPEATED"
    GTIN_DUPLICATE = "GTIN_DUPLICATE"
    GTIN_TAKEN = "GTIN_TAKEN"
    OWNER_UNKNOWN = "OWNER_UNKNOWN"
    UOM_UNKNOWN = "UOM_UNKNOWN"
    NUMBER_INVALID = "NUMBER_INVALID"
    NUMBER_AMBIGUOUS = "NUMBER_AMBIGUOUS"
    VALUE_NOT_POSITIVE = "VALUE_NOT_POSITIVE"
    VALUE_TOO_LARGE = "VALUE_TOO_LARGE"
    CASE_QTY_INVALID = "CASE_QTY_INVALID"
    BOOLEAN_INVALID = "BOOLEAN_INVALID"
    VELOCITY_UNKNOWN = "VELOCITY_UNKNOWN"
    ATTRIBUTES_INVALID = "ATTRIBUTES_INVALID"
    FIELD_UNKNOWN = "FIELD_UNKNOWN"
    VALUE_INVALID = "VALUE_INVALID"
    DUPLICATE_SKU = "DUPLICATE_SKU"
    ROW_SHAPE = "ROW_SHAPE"
    # normalised: stored, with a warning saying what was changed or assumed
    WHITESPACE = "WHITESPACE"
    DESCRIPTION_ALL_CAPS = "DESCRIPTION_ALL_CAPS"
    UOM_NORMALISED = "UOM_NORMALISED"
    UOM_DEFAULTED = "UOM_DEFAULTED"
    DECIMAL_COMMA = "DECIMAL_COMMA"
    WEIGHT_MISSING = "WEIGHT_MISSING"
    DIMENSION_MISSING = "DIMENSION_MISSING"
    CASE_QTY_DEFAULTED = "CASE_QTY_DEFAULTED"
    VELOCITY_DEFAULTED = "VELOCITY_DEFAULTED"
    GTIN_MISSING = "GTIN_MISSING"
    LOT_TRACKING_IMPLIED = "LOT_TRACKING_IMPLIED"
    DUPLICATE_ROW = "DUPLICATE_ROW"
    COLUMN_IGNORED = "COLUMN_IGNORED"
    ENCODING_CP1252 = "ENCODING_CP1252"


@dataclass(frozen=True, slots=True)
class Note:
    """One finding about one field: a refusal or a warning, depending on where it is listed."""

    field: str
    code: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "reason": self.reason}


class FieldProblem(ValueError):
    """A value that cannot be accepted; `code` is an `Issue`."""

    def __init__(self, code: Issue, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# -- field parsers (usable on their own) ------------------------------------------------------
def canonical_gtin(value: str) -> str:
    """The GTIN-14 form of a GTIN-8/12/13/14, check digit verified (with biip).

    Raises `FieldProblem` (GTIN_NOT_NUMERIC, GTIN_LENGTH, GTIN_CHECK_DIGIT, GTIN_PLACEHOLDER).
    """
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()):
        hint = " (a spreadsheet may have turned it into a number)" if "E+" in digits else ""
        raise FieldProblem(Issue.GTIN_NOT_NUMERIC, f"GTIN {value!r} must be digits only{hint}.")
    if len(digits) not in (8, 12, 13, 14):
        raise FieldProblem(
            Issue.GTIN_LENGTH, f"GTIN {digits} has {len(digits)} digits; it needs 8, 12, 13 or 14."
        )
    expected = gs1_standard_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise FieldProblem(
            Issue.GTIN_CHECK_DIGIT,
            f"GTIN {digits} has check digit {digits[-1]}; it should be {expected}.",
        )
    if digits.strip("0") == "":
        raise FieldProblem(Issue.GTIN_PLACEHOLDER, f"GTIN {digits} is all zeros (a placeholder).")
    return digits.zfill(14)


def gtin_forms(gtin14: str) -> list[str]:
    """Every shorter form a GTIN-14 may have been stored in (leading zeros dropped)."""
    forms = [gtin14]
    for length in (13, 12, 8):
        if gtin14[: 14 - length].strip("0") == "":
            forms.append(gtin14[14 - length :])
    return forms


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _clean_text(value: Any, field: str, max_length: int, notes: list[Note] | None) -> str:
    """Trim and collapse whitespace (with a WHITESPACE warning); refuse control characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldProblem(Issue.TEXT_INVALID, f"{field} must be text.")
    cleaned = " ".join(value.split())
    if not cleaned.isprintable():
        raise FieldProblem(Issue.TEXT_INVALID, f"{field} contains control characters.")
    if len(cleaned) > max_length:
        raise FieldProblem(
            Issue.TEXT_TOO_LONG, f"{field} is {len(cleaned)} characters; at most {max_length}."
        )
    if cleaned != value and notes is not None:
        notes.append(Note(field, Issue.WHITESPACE, "extra spaces were removed."))
    return cleaned


def parse_number(
    value: Any, field: str, *, decimal_comma: bool, notes: list[Note] | None
) -> float | None:
    """A number from a JSON number or a cell; `None` when blank.

    In a `,` file a decimal comma ("1,25") is a slip, read with a DECIMAL_COMMA warning; in a
    `;` file it is the convention (silent). Either separator is refused when it could be a
    thousands separator ("1,250" in a `,` file, "1.250" in a `;` file)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise FieldProblem(Issue.NUMBER_INVALID, f"{field} must be a number, not true/false.")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # a JSON integer with hundreds of digits
            raise FieldProblem(Issue.VALUE_TOO_LARGE, f"{field} is far too large.") from None
        if not math.isfinite(number):
            raise FieldProblem(Issue.NUMBER_INVALID, f"{field} must be a finite number.")
        return number
    if not isinstance(value, str):
        raise FieldProblem(Issue.NUMBER_INVALID, f"{field} must be a number.")
    text = value.strip()
    if not text:
        return None
    if ("," in text and "." in text) or text.count(",") > 1 or text.count(".") > 1:
        raise FieldProblem(
            Issue.NUMBER_INVALID, f"{field} {text!r}: write it without thousands separators."
        )
    separator = "," if "," in text else "." if "." in text else ""
    if separator:
        whole, _, decimals = text.partition(separator)
        digits = whole.lstrip("+-")
        unusual = (separator == ",") != decimal_comma
        if (
            unusual
            and len(decimals) == 3
            and digits.isdigit()
            and len(digits) <= 3
            and not digits.startswith("0")
        ):
            raise FieldProblem(
                Issue.NUMBER_AMBIGUOUS,
                f"{field} {text!r} could mean {digits}.{decimals} or {digits}{decimals}; "
                "write it without thousands separators.",
            )
        if separator == ",":
            if unusual and notes is not None:
                notes.append(
                    Note(field, Issue.DECIMAL_COMMA, f"{text!r} was read as {whole}.{decimals}.")
                )
            text = f"{whole}.{decimals}"
    if not _NUMBER_RE.fullmatch(text):
        raise FieldProblem(Issue.NUMBER_INVALID, f"{field} {value.strip()!r} is not a number.")
    number = float(text)
    if not math.isfinite(number):  # hundreds of digits overflow to inf
        raise FieldProblem(Issue.VALUE_TOO_LARGE, f"{field} {text[:20]}… is far too large.")
    return number


def _positive(number: float, field: str, maximum: float) -> float:
    if number <= 0:
        raise FieldProblem(
            Issue.VALUE_NOT_POSITIVE,
            f"{field} is {number:g}; it must be above zero (leave it empty if unknown).",
        )
    if number > maximum:
        raise FieldProblem(Issue.VALUE_TOO_LARGE, f"{field} {number:g} is above {maximum:g}.")
    return number


def parse_bool(value: Any, field: str) -> bool:
    """Y/N, yes/no, true/false, 1/0, x/blank (any case)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        key = value.strip().lower()
        if key in TRUE_SPELLINGS:
            return True
        if key in FALSE_SPELLINGS:
            return False
    raise FieldProblem(
        Issue.BOOLEAN_INVALID, f"{field} {value!r} is not yes or no (use Y/N, yes/no, 1/0, x)."
    )


def parse_uom(value: Any, notes: list[Note] | None) -> str:
    """A base unit code (EA, PR, PK, BX) from any usual spelling."""
    if _is_blank(value):
        if notes is not None:
            notes.append(Note("uom", Issue.UOM_DEFAULTED, "no unit given; EA (each) assumed."))
        return "EA"
    if not isinstance(value, str):
        raise FieldProblem(Issue.UOM_UNKNOWN, "uom must be text such as EA.")
    text = value.strip()
    if text in BASE_UOMS:
        return text
    key = text.lower().rstrip(".")
    code = UOM_ALIASES.get(key)
    if code is None:
        if key in _CASE_SPELLINGS:
            raise FieldProblem(
                Issue.UOM_UNKNOWN,
                f"unit {text!r} is a case; give the unit inside it (EA) and case_qty.",
            )
        raise FieldProblem(
            Issue.UOM_UNKNOWN, f"unit {text!r} is not known; use one of {', '.join(BASE_UOMS)}."
        )
    if notes is not None:
        notes.append(Note("uom", Issue.UOM_NORMALISED, f"unit {text!r} was read as {code}."))
    return code


# -- the model --------------------------------------------------------------------------------
def _notes(info: ValidationInfo) -> list[Note] | None:
    context = info.context
    if isinstance(context, dict):
        found = context.get("warnings")
        if isinstance(found, list):
            return found
    return None


def _decimal_comma(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get("decimal_comma"))


def _refuse(problem: FieldProblem) -> PydanticCustomError:
    return PydanticCustomError(problem.code.value, problem.reason)


class Item(BaseModel):
    """An item as the warehouse knows it. Every field is normalised on validation."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    sku: str = Field(default="", description="The item's code, as written (case kept).")
    description: str = Field(default="", description="What a worker reads on the handheld.")
    gtin: str | None = Field(default=None, description="GTIN of one base unit, as GTIN-14.")
    case_gtin: str | None = Field(default=None, description="GTIN of a case of case_qty.")
    alt_gtins: list[str] = Field(default_factory=list, description="More base-unit GTINs.")
    uom: str = Field(default="EA", description="Base unit: EA, PR, PK or BX.")
    case_qty: int = Field(default=1, description="Base units in one case (1 = no cases).")
    weight_kg: float | None = None
    length_cm: float | None = None
    width_cm: float | None = None
    height_cm: float | None = None
    lot_tracked: bool = False
    expiry_tracked: bool = False
    serial_tracked: bool = False
    velocity: Literal["A", "B", "C"] = Field(default="C", description="ABC class.")
    temperature_class: str = Field(
        default="ambient", description="Storage temperature class; matches a bin's."
    )
    hazmat: bool = Field(default=False, description="Hazardous: only in hazmat_allowed bins.")
    owner: str = Field(default="", description="The 3PL client who owns the stock; '' = us.")
    size: str = ""
    colour: str = ""
    attributes: dict[str, str] = Field(default_factory=dict, description="Other variant data.")
    unit_cost: str | None = Field(
        default=None,
        description="Value of one base unit, decimal text to the cent ('12.50'); cycle counts "
        "value their differences with it (docs/counting.md). None = unknown.",
    )

    @field_validator("unit_cost", mode="before")
    @classmethod
    def _unit_cost(cls, value: Any, info: ValidationInfo) -> str | None:
        try:
            number = parse_number(
                value, "unit_cost", decimal_comma=_decimal_comma(info), notes=_notes(info)
            )
            if number is None:
                return None
            if number < 0 or number > MAX_UNIT_COST:
                raise FieldProblem(
                    Issue.VALUE_INVALID, f"unit_cost {number:g} must be 0 to {MAX_UNIT_COST:g}."
                )
        except FieldProblem as problem:
            raise _refuse(problem) from None
        return str(Decimal(repr(number)).quantize(Decimal("0.01")))

    @field_validator("sku", mode="before")
    @classmethod
    def _sku(cls, value: Any, info: ValidationInfo) -> str:
        try:
            sku = _clean_text(value, "sku", MAX_SKU, _notes(info))
        except FieldProblem as problem:
            code = Issue.SKU_INVALID if problem.code == Issue.TEXT_INVALID else problem.code
            raise PydanticCustomError(code.value, problem.reason) from None
        if not sku:
            raise PydanticCustomError(Issue.SKU_MISSING.value, "the SKU is empty.")
        if " " in sku:
            raise PydanticCustomError(
                Issue.SKU_INVALID.value, f"SKU {sku!r} contains a space; SKUs are one word."
            )
        return sku

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any, info: ValidationInfo) -> str:
        notes = _notes(info)
        try:
            text = _clean_text(value, "description", MAX_DESCRIPTION, notes)
        except FieldProblem as problem:
            raise _refuse(problem) from None
        if not text:
            raise PydanticCustomError(
                Issue.DESCRIPTION_MISSING.value,
                "the description is empty; workers need it on the handheld.",
            )
        letters = [c for c in text if c.isalpha()]
        # Kept as written: re-casing mangles units and brands ("2000IU", "USB-C"), so it is
        # only flagged for someone to fix at the source.
        if len(letters) >= 4 and text == text.upper() and notes is not None:
            notes.append(
                Note("description", Issue.DESCRIPTION_ALL_CAPS, "description is in capitals.")
            )
        return text

    @field_validator("owner", "size", "colour", mode="before")
    @classmethod
    def _short_text(cls, value: Any, info: ValidationInfo) -> str:
        try:
            return _clean_text(value, str(info.field_name), MAX_SHORT_TEXT, _notes(info))
        except FieldProblem as problem:
            raise _refuse(problem) from None

    @field_validator("gtin", "case_gtin", mode="before")
    @classmethod
    def _gtin(cls, value: Any, info: ValidationInfo) -> str | None:
        if _is_blank(value):
            notes = _notes(info)
            if info.field_name == "gtin" and notes is not None:
                notes.append(
                    Note("gtin", Issue.GTIN_MISSING, "no GTIN: the item cannot be scanned.")
                )
            return None
        if not isinstance(value, str):
            raise PydanticCustomError(Issue.GTIN_NOT_NUMERIC.value, "a GTIN must be given as text.")
        try:
            return canonical_gtin(value)
        except FieldProblem as problem:
            raise _refuse(problem) from None

    @field_validator("alt_gtins", mode="before")
    @classmethod
    def _alt_gtins(cls, value: Any) -> list[str]:
        if _is_blank(value):
            return []
        if isinstance(value, str):  # a CSV cell: "gtin|gtin" or space separated
            value = value.replace("|", " ").split()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PydanticCustomError(Issue.GTIN_NOT_NUMERIC.value, "alt_gtins must be a list.")
        try:
            return [canonical_gtin(v) for v in value]
        except FieldProblem as problem:
            raise _refuse(problem) from None

    @field_validator("uom", mode="before")
    @classmethod
    def _uom(cls, value: Any, info: ValidationInfo) -> str:
        try:
            return parse_uom(value, _notes(info))
        except FieldProblem as problem:
            raise _refuse(problem) from None

    @field_validator("case_qty", mode="before")
    @classmethod
    def _case_qty(cls, value: Any, info: ValidationInfo) -> int:
        notes = _notes(info)
        try:
            number = parse_number(
                value, "case_qty", decimal_comma=_decimal_comma(info), notes=notes
            )
            if number is None:
                if notes is not None:
                    notes.append(
                        Note("case_qty", Issue.CASE_QTY_DEFAULTED, "no case_qty; 1 assumed.")
                    )
                return 1
            if number != int(number):
                raise FieldProblem(
                    Issue.CASE_QTY_INVALID, f"case_qty {number:g} is not a whole number."
                )
            return int(_positive(number, "case_qty", MAX_CASE_QTY))
        except FieldProblem as problem:
            raise _refuse(problem) from None

    @field_validator("weight_kg", "length_cm", "width_cm", "height_cm", mode="before")
    @classmethod
    def _measure(cls, value: Any, info: ValidationInfo) -> float | None:
        field = str(info.field_name)
        notes = _notes(info)
        try:
            number = parse_number(value, field, decimal_comma=_decimal_comma(info), notes=notes)
            if number is None:
                if notes is not None:
                    if field == "weight_kg":
                        notes.append(Note(field, Issue.WEIGHT_MISSING, "no weight given."))
                    else:
                        notes.append(Note(field, Issue.DIMENSION_MISSING, f"no {field} given."))
                return None
            maximum = MAX_WEIGHT_KG if field == "weight_kg" else MAX_DIMENSION_CM
            return _positive(number, field, maximum)
        except FieldProblem as problem:
            raise _refuse(problem) from None

    @field_validator("lot_tracked", "expiry_tracked", "serial_tracked", "hazmat", mode="before")
    @classmethod
    def _flag(cls, value: Any, info: ValidationInfo) -> bool:
        try:
            return parse_bool(value, str(info.field_name))
        except FieldProblem as problem:
            raise _refuse(problem) from None

    @field_validator("velocity", mode="before")
    @classmethod
    def _velocity(cls, value: Any, info: ValidationInfo) -> str:
        if _is_blank(value):
            notes = _notes(info)
            if notes is not None:
                notes.append(Note("velocity", Issue.VELOCITY_DEFAULTED, "no velocity; C assumed."))
            return "C"
        text = value.strip().upper() if isinstance(value, str) else value
        if text not in ("A", "B", "C"):
            raise PydanticCustomError(
                Issue.VELOCITY_UNKNOWN.value, f"velocity {value!r} is not A, B or C."
            )
        return str(text)

    @field_validator("temperature_class", mode="before")
    @classmethod
    def _temperature(cls, value: Any) -> str:
        if _is_blank(value):
            return "ambient"
        text = value.strip().lower() if isinstance(value, str) else None
        if text is None or not _TEMPERATURE_RE.fullmatch(text):
            raise PydanticCustomError(
                Issue.VALUE_INVALID.value,
                f"temperature_class {value!r} is not a word such as ambient, chilled or frozen.",
            )
        return text

    @field_validator("attributes", mode="before")
    @classmethod
    def _attributes(cls, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict) or len(value) > MAX_ATTRIBUTES:
            raise PydanticCustomError(
                Issue.ATTRIBUTES_INVALID.value,
                f"attributes must be an object of at most {MAX_ATTRIBUTES} names and texts.",
            )
        cleaned: dict[str, str] = {}
        for key, raw in value.items():
            name = str(key).strip().lower()
            if not _ATTRIBUTE_KEY_RE.fullmatch(name):
                raise PydanticCustomError(
                    Issue.ATTRIBUTES_INVALID.value,
                    f"attribute name {key!r}: use lower-case letters, digits and _.",
                )
            try:
                text = _clean_text(raw, f"attribute {name}", MAX_DESCRIPTION, None)
            except FieldProblem as problem:
                raise PydanticCustomError(Issue.ATTRIBUTES_INVALID.value, problem.reason) from None
            if text:
                cleaned[name] = text
        return cleaned

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Item:
        seen: set[str] = set()
        for field, gtin in self.gtin_fields():
            if gtin in seen:
                raise PydanticCustomError(
                    Issue.GTIN_REPEATED.value,
                    "{field}: GTIN {gtin} is given twice for this item.",
                    {"field": field, "gtin": gtin},
                )
            seen.add(gtin)
        if self.expiry_tracked and not self.lot_tracked:
            # Expiry dates are kept per lot (the `lots` table), so expiry needs lots.
            self.lot_tracked = True
            notes = _notes(info)
            if notes is not None:
                notes.append(
                    Note(
                        "lot_tracked",
                        Issue.LOT_TRACKING_IMPLIED,
                        "expiry-tracked items are lot-tracked; lot_tracked set to yes.",
                    )
                )
        return self

    def gtin_fields(self) -> list[tuple[str, str]]:
        """(field, GTIN-14) for every GTIN of the item."""
        found = [("gtin", self.gtin)] if self.gtin else []
        found += [("alt_gtins", g) for g in self.alt_gtins]
        if self.case_gtin:
            found.append(("case_gtin", self.case_gtin))
        return found

    def gtin_rows(self) -> list[tuple[str, str, int]]:
        """(gtin, uom, qty) rows for `item_gtins`: base-unit GTINs first, then the case."""
        return _gtin_rows(self.__dict__)

    def all_gtins(self) -> list[str]:
        return [gtin for gtin, _, _ in _gtin_rows(self.__dict__)]


class StoredItem(Item):
    """An item read from the database (built without re-validation: reading never fails)."""

    id: int
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class GtinMatch:
    """What a scanned GTIN stands for: the item, and how many base units one scan is."""

    item: StoredItem
    gtin: str
    uom: str
    qty: int


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: list[StoredItem]
    next_after: str | None


Outcome = Literal["created", "updated", "unchanged"]

# Model fields stored as columns of `items` (GTINs live in `item_gtins`, attributes as JSON).
ITEM_COLUMNS = (
    "sku",
    "description",
    "uom",
    "case_qty",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
    "lot_tracked",
    "expiry_tracked",
    "serial_tracked",
    "velocity",
    "owner",
    "size",
    "colour",
    "temperature_class",
    "hazmat",
    "unit_cost",
)
FIELDS = frozenset(Item.model_fields)


def problems_from(exc: ValidationError) -> list[Note]:
    """Refusals (`Note`s with `Issue` codes) from a validation error of `Item`."""
    notes: list[Note] = []
    for error in exc.errors(include_url=False):
        ctx = error.get("ctx") or {}
        loc = error.get("loc") or ()
        field = str(loc[0]) if loc else str(ctx.get("field", ""))
        kind = str(error.get("type", ""))
        if kind in Issue.__members__:
            code = kind
        elif kind == "extra_forbidden":
            code = Issue.FIELD_UNKNOWN
        else:
            code = Issue.VALUE_INVALID
        reason = str(error.get("msg", ""))
        if kind == "extra_forbidden":
            reason = f"{field} is not a field of an item."
        notes.append(Note(field, str(code), reason))
    return notes


def validate_item(data: Any, *, decimal_comma: bool = False) -> tuple[Item, list[Note]]:
    """Check and normalise one item; returns it with its warnings.

    Raises `AislewayError(ITEM_INVALID)` whose details list every refusal as
    `{"problems": [{"field", "code", "reason"}]}`."""
    warnings: list[Note] = []
    try:
        item = Item.model_validate(
            data, context={"warnings": warnings, "decimal_comma": decimal_comma}
        )
    except ValidationError as exc:
        problems = [n.as_dict() for n in problems_from(exc)]
        raise AislewayError(ErrorCode.ITEM_INVALID, details={"problems": problems}) from None
    return item, warnings


# -- reading ----------------------------------------------------------------------------------
Source = Database | SUDatabase
#: An item's field values as a plain dict (keys: `FIELDS`); bulk work uses these, not models,
#: because building 100,000 pydantic objects costs more than the whole database write.
Record = dict[str, Any]
GtinRow = tuple[str, str, int]  # (gtin, uom, qty)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A stored item as read for an upsert: its row, its fields, its `item_gtins` rows."""

    row: dict[str, Any]
    record: Record
    gtin_rows: list[GtinRow]


def _fetch(source: Source, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    if isinstance(source, Database):
        return source.query(sql, params)
    cursor = source.execute(sql, list(params))
    columns = [d[0] for d in cursor.description or ()]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), SQL_CHUNK):
        yield values[start : start + SQL_CHUNK]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _gtin_rows(record: Record) -> list[GtinRow]:
    base = ([record["gtin"]] if record["gtin"] else []) + list(record["alt_gtins"])
    rows = [(g, record["uom"], 1) for g in base]
    if record["case_gtin"]:
        rows.append((record["case_gtin"], CASE_UOM, record["case_qty"]))
    return rows


def _record(row: dict[str, Any], gtin_rows: list[GtinRow]) -> Record:
    base = [g for g, uom, _ in gtin_rows if uom != CASE_UOM]
    cases = [g for g, uom, _ in gtin_rows if uom == CASE_UOM]
    try:
        attributes = json.loads(row["attributes_json"] or "{}")
    except ValueError:
        attributes = {}
    return {
        "sku": row["sku"],
        "description": row["description"],
        "gtin": base[0] if base else None,
        "case_gtin": cases[0] if cases else None,
        "alt_gtins": base[1:],
        "uom": row["uom"],
        "case_qty": row["case_qty"],
        "weight_kg": row["weight_kg"],
        "length_cm": row["length_cm"],
        "width_cm": row["width_cm"],
        "height_cm": row["height_cm"],
        "lot_tracked": bool(row["lot_tracked"]),
        "expiry_tracked": bool(row["expiry_tracked"]),
        "serial_tracked": bool(row["serial_tracked"]),
        "velocity": row["velocity"],
        "owner": row["owner"],
        "size": row["size"],
        "colour": row["colour"],
        "temperature_class": row["temperature_class"],
        "hazmat": bool(row["hazmat"]),
        "attributes": attributes if isinstance(attributes, dict) else {},
        "unit_cost": row.get("unit_cost"),
    }


def load_records(source: Source, skus: Collection[str]) -> dict[str, Loaded]:
    """The stored items among `skus`, by SKU, as plain records (queried in chunks)."""
    wanted = list(dict.fromkeys(skus))
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(wanted):
        rows += _fetch(source, f"SELECT * FROM items WHERE sku IN ({_marks(len(chunk))})", chunk)
    ids = [r["id"] for r in rows]
    gtins: dict[int, list[GtinRow]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        # rowid order is insertion order: the first base-unit GTIN written is `gtin`.
        for g in _fetch(
            source,
            "SELECT item_id, gtin, uom, qty FROM item_gtins "
            f"WHERE item_id IN ({_marks(len(chunk))}) ORDER BY rowid",
            chunk,
        ):
            gtins[g["item_id"]].append((g["gtin"], g["uom"], g["qty"]))
    return {r["sku"]: Loaded(r, _record(r, gtins[r["id"]]), gtins[r["id"]]) for r in rows}


def _stored(loaded: Loaded) -> StoredItem:
    return StoredItem.model_construct(
        id=loaded.row["id"],
        created_at=loaded.row["created_at"],
        updated_at=loaded.row["updated_at"],
        **loaded.record,
    )


def load_items(source: Source, skus: Collection[str]) -> dict[str, StoredItem]:
    """The stored items among `skus`, by SKU."""
    return {sku: _stored(loaded) for sku, loaded in load_records(source, skus).items()}


def get_item(source: Source, sku: str) -> StoredItem | None:
    """The item with exactly this SKU (surrounding spaces ignored), or None."""
    return load_items(source, [sku.strip()]).get(sku.strip())


def find_by_gtin(source: Source, gtin: str) -> GtinMatch | None:
    """The item a scanned GTIN-8/12/13/14 belongs to, or None if no item has it.

    Raises `AislewayError` BARCODE_UNREADABLE (not digits / wrong length) or
    BARCODE_CHECK_DIGIT, with the `Issue` code and reason in the details."""
    try:
        gtin14 = canonical_gtin(gtin)
    except FieldProblem as problem:
        error = (
            ErrorCode.BARCODE_CHECK_DIGIT
            if problem.code == Issue.GTIN_CHECK_DIGIT
            else ErrorCode.BARCODE_UNREADABLE
        )
        raise AislewayError(
            error, details={"gtin": gtin, "problem": problem.code.value, "reason": problem.reason}
        ) from None
    forms = gtin_forms(gtin14)
    # Other forms too, in case a row was written by hand without padding to GTIN-14.
    found = _fetch(
        source,
        "SELECT g.uom, g.qty, i.sku FROM item_gtins g JOIN items i ON i.id = g.item_id "
        f"WHERE g.gtin IN ({_marks(len(forms))})",
        forms,
    )
    if not found:
        return None
    hit = found[0]
    item = get_item(source, hit["sku"])
    if item is None:
        return None
    return GtinMatch(item=item, gtin=gtin14, uom=hit["uom"], qty=int(hit["qty"]))


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def list_items(
    source: Source,
    *,
    q: str | None = None,
    owner: str | None = None,
    velocity: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> ItemPage:
    """Items in SKU order, `limit` (at most 500) at a time; continue with
    `after=page.next_after`. `q` matches the start of the SKU (exact case) or of the
    description (any case)."""
    where: list[str] = []
    params: list[Any] = []
    if q:
        # The SKU range keeps the unique index usable; LIKE is case-insensitive for ASCII.
        where.append("((sku >= ? AND sku < ?) OR description LIKE ? ESCAPE '\\')")
        params += [q, q + "\U0010ffff", _like_prefix(q)]
    if owner is not None:
        where.append("owner = ?")
        params.append(owner)
    if velocity is not None:
        where.append("velocity = ?")
        params.append(velocity)
    if after is not None:
        where.append("sku > ?")
        params.append(after)
    limit = max(1, min(limit, 500))
    sql = "SELECT sku FROM items"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY sku LIMIT ?"
    skus = [r["sku"] for r in _fetch(source, sql, [*params, limit + 1])]
    more = len(skus) > limit
    skus = skus[:limit]
    found = load_items(source, skus)
    items = [found[s] for s in skus if s in found]
    return ItemPage(items=items, next_after=skus[-1] if more and skus else None)


def gtin_owners(source: Source, gtins: Collection[str]) -> dict[str, str]:
    """{gtin: sku} for the GTINs (GTIN-14 form) that already belong to an item."""
    wanted = list(dict.fromkeys(gtins))
    owners: dict[str, str] = {}
    for chunk in _chunks(wanted):
        for row in _fetch(
            source,
            "SELECT g.gtin, i.sku FROM item_gtins g JOIN items i ON i.id = g.item_id "
            f"WHERE g.gtin IN ({_marks(len(chunk))})",
            chunk,
        ):
            owners[row["gtin"]] = row["sku"]
    return owners


# -- writing ----------------------------------------------------------------------------------
def merge_record(
    existing: Loaded | None,
    item: Item,
    fields: Collection[str] | None = None,
    attribute_keys: Collection[str] | None = None,
) -> Record:
    """What `item` makes of `existing`: every field replaced (`fields=None`, a PUT), or only
    `fields`; attributes wholly (`attribute_keys=None`) or only the names in `attribute_keys`
    (a blank value removes a name)."""
    new: Record = dict(item.__dict__)
    if existing is None:
        return new
    if fields is None:
        return new
    record = dict(existing.record)
    for name in fields:
        if name != "attributes":
            record[name] = new[name]
    if "attributes" in fields:
        if attribute_keys is None:
            record["attributes"] = new["attributes"]
        else:
            kept = {k: v for k, v in record["attributes"].items() if k not in attribute_keys}
            record["attributes"] = {**kept, **new["attributes"]}
    return record


def record_gtins(record: Record) -> list[str]:
    """Every GTIN a record gives its item."""
    return [g for g, _, _ in _gtin_rows(record)]


def _column_values(record: Record) -> list[Any]:
    values: list[Any] = []
    for name in ITEM_COLUMNS:
        value = record[name]
        values.append(int(value) if isinstance(value, bool) else value)
    values.append(json.dumps(record["attributes"], sort_keys=True, separators=(",", ":")))
    return values


def upsert_items(
    w: SUDatabase,
    items: Sequence[Item],
    *,
    fields: Collection[str] | None = None,
    attribute_keys: Collection[str] | None = None,
    loaded: dict[str, Loaded] | None = None,
) -> list[Outcome]:
    """Create or update many items inside the caller's write transaction, in bulk.

    `items` must have distinct SKUs; `loaded` may pass what `load_records` already read in
    this transaction. Unchanged items are not written (updated_at kept), so repeating an
    upsert is a no-op. A GTIN that stays with another item raises `AislewayError(GTIN_IN_USE)`
    before anything is written. Returns one outcome per item."""
    skus = [item.sku for item in items]
    if len(set(skus)) != len(skus):
        raise ValueError("upsert_items needs distinct SKUs")
    existing = load_records(w, skus) if loaded is None else loaded
    created: list[Record] = []
    updated: list[tuple[Record, Loaded]] = []
    outcomes: list[Outcome] = []
    for item in items:
        before = existing.get(item.sku)
        record = merge_record(before, item, fields, attribute_keys)
        if before is None:
            created.append(record)
            outcomes.append("created")
        elif record == before.record and _gtin_rows(record) == before.gtin_rows:
            outcomes.append("unchanged")
        else:
            updated.append((record, before))
            outcomes.append("updated")
    changed = created + [record for record, _ in updated]
    if not changed:
        return outcomes

    _check_owners(w, changed)
    wanted = {g: r["sku"] for r in changed for g in record_gtins(r)}
    moving = {r["sku"] for r in changed}
    for gtin, owner in gtin_owners(w, list(wanted)).items():
        # A GTIN may move between two items of the same batch; otherwise it is taken.
        if owner != wanted[gtin] and owner not in moving:
            raise AislewayError(
                ErrorCode.GTIN_IN_USE,
                details={"gtin": gtin, "sku": wanted[gtin], "owner_sku": owner},
            )

    now = iso()
    columns = [*ITEM_COLUMNS, "attributes_json"]
    if created:
        w.conn.executemany(
            f"INSERT INTO items ({', '.join(columns)}, created_at, updated_at) "
            f"VALUES ({_marks(len(columns) + 2)})",
            [[*_column_values(r), now, now] for r in created],
        )
    if updated:
        assignments = ", ".join(f"{c} = ?" for c in columns[1:])
        w.conn.executemany(
            f"UPDATE items SET {assignments}, updated_at = ? WHERE id = ?",
            [[*_column_values(r)[1:], now, before.row["id"]] for r, before in updated],
        )
    ids = {r["sku"]: before.row["id"] for r, before in updated}
    for chunk in _chunks([r["sku"] for r in created]):
        for row in _fetch(
            w, f"SELECT id, sku FROM items WHERE sku IN ({_marks(len(chunk))})", chunk
        ):
            ids[row["sku"]] = row["id"]
    regtin = [r for r, before in updated if _gtin_rows(r) != before.gtin_rows]
    # Deletes first, then inserts: a GTIN moving between two items of the batch never
    # meets itself on the primary key.
    for chunk in _chunks([ids[r["sku"]] for r in regtin]):
        w.execute(f"DELETE FROM item_gtins WHERE item_id IN ({_marks(len(chunk))})", chunk)
    w.conn.executemany(
        "INSERT INTO item_gtins (gtin, item_id, uom, qty) VALUES (?, ?, ?, ?)",
        [
            (g, ids[r["sku"]], uom, qty)
            for r in [*created, *regtin]
            for g, uom, qty in _gtin_rows(r)
        ],
    )
    return outcomes


def _check_owners(w: SUDatabase, records: Sequence[Record]) -> None:
    """Every owner named is '' (the house) or a client of the site (docs/clients.md)."""
    named = sorted({r["owner"] for r in records if r["owner"]})
    if not named:
        return
    known = {
        row["code"]
        for chunk in _chunks(named)
        for row in _fetch(
            w, f"SELECT code FROM clients WHERE code IN ({_marks(len(chunk))})", chunk
        )
    }
    unknown = [o for o in named if o not in known]
    if unknown:
        skus = sorted(r["sku"] for r in records if r["owner"] in unknown)
        raise AislewayError(
            ErrorCode.CLIENT_UNKNOWN,
            details={"owner": unknown[0], "owners": unknown, "skus": skus[:20]},
        )


def upsert_item(w: SUDatabase, item: Item) -> Outcome:
    """Create or fully replace one item (PUT semantics) inside the caller's transaction."""
    return upsert_items(w, [item])[0]
