"""Read and validate profiles: one file, or every `*.toml` in a directory.

Each problem is reported as `key.path: reason` (e.g. `framing.suffix: must be 1-4
characters (got 5: ...)`), collected per file, so one run shows every mistake at once.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from terminal.profiles.model import TRANSPORT_TYPES, Profile, _KeyError

__all__ = [
    "PROFILES_DIR_ENV",
    "LoadResult",
    "Problem",
    "ProfileError",
    "default_profiles_dir",
    "load_dir",
    "load_file",
    "parse_profile",
]

#: Environment variable that points the terminal at another profiles directory.
PROFILES_DIR_ENV = "AISLEWAY_FIRMWARE_CONFIGS"


def default_profiles_dir() -> Path:
    """`$AISLEWAY_FIRMWARE_CONFIGS`, else the checkout's `firmware_configs/`."""
    env = os.environ.get(PROFILES_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "firmware_configs"


@dataclass(frozen=True, slots=True)
class Problem:
    key: str  # dotted key path inside the file; "" for the file as a whole
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}" if self.key else self.reason


class ProfileError(Exception):
    """A profile file was refused; `problems` says which keys and why."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


@dataclass
class LoadResult:
    """Every profile of a directory that validated, and every file that did not."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # profile name -> its file
    errors: list[ProfileError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _type_name(value: Any) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


_EXPECTED = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be an array",
    "dict_type": "must be a table",
    "model_type": "must be a table",
}


def _fields_at(loc: Sequence[str]) -> list[str]:
    """Field names of the table at `loc`, for 'did you mean' hints."""
    model: type[BaseModel] | None = Profile
    for part in loc:
        if model is None:
            return []
        if part in TRANSPORT_TYPES and model is Profile:
            continue
        info = model.model_fields.get(part)
        if info is None:
            return []
        model = _model_of(info.annotation)
    return list(model.model_fields) if model is not None else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _problem(error: Mapping[str, Any], data: Mapping[str, Any]) -> Problem:
    loc = [str(p) for p in error["loc"]]
    # The discriminated union puts the transport type into the path
    # (`transport.serial.port`); the file has no such table, so drop it.
    if len(loc) >= 2 and loc[0] == "transport" and loc[1] in TRANSPORT_TYPES:
        del loc[1]
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    exc = ctx.get("error")
    if isinstance(exc, _KeyError):
        return Problem(".".join([*loc, exc.key]), exc.reason)
    key = ".".join(loc)
    if kind == "missing":
        return Problem(key, "is required")
    if kind == "extra_forbidden":
        known = _fields_at(loc[:-1])
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        where = ".".join(loc[:-1]) or "the top level"
        return Problem(key, f"unknown key in {where}{hint}")
    if kind in _EXPECTED:
        return Problem(key, f"{_EXPECTED[kind]} (got {_type_name(value)} {value!r})")
    if kind == "literal_error":
        return Problem(key, f"must be one of {ctx.get('expected', '')} (got {value!r})")
    if kind == "union_tag_invalid":
        return Problem(
            f"{key}.type",
            f"unknown transport type {ctx.get('tag')!r}; known: {', '.join(TRANSPORT_TYPES)}",
        )
    if kind == "union_tag_not_found":
        return Problem(f"{key}.type", f"is required ({', '.join(TRANSPORT_TYPES)})")
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return Problem(key, message)


def parse_profile(data: Mapping[str, Any], source: str = "<profile>") -> Profile:
    """Validate an already-parsed TOML document; raise `ProfileError` naming every key."""
    try:
        return Profile.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            problem = _problem(err, data)
            if problem not in problems:
                problems.append(problem)
        raise ProfileError(source, problems) from None


def load_file(path: str | Path) -> Profile:
    """Read one profile file; raise `ProfileError` if it is missing, not TOML, or invalid."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ProfileError(str(path), [Problem("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(str(path), [Problem("", f"cannot read: {exc}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), [Problem("", f"not valid TOML: {exc}")]) from None
    return parse_profile(data, str(path))


def load_files(paths: Iterable[str | Path]) -> LoadResult:
    """Load several files; names must be unique across them."""
    result = LoadResult()
    for path in sorted(Path(p) for p in paths):
        try:
            profile = load_file(path)
        except ProfileError as exc:
            result.errors.append(exc)
            continue
        first = result.files.get(profile.name)
        if first is not None:
            result.errors.append(
                ProfileError(
                    str(path),
                    [Problem("device.name", f"{profile.name!r} is already used by {first}")],
                )
            )
            continue
        result.profiles[profile.name] = profile
        result.files[profile.name] = path
    _check_fallbacks(result)
    return result


def load_dir(directory: str | Path | None = None) -> LoadResult:
    """Every `*.toml` in `directory` (default: `default_profiles_dir()`)."""
    directory = Path(directory) if directory is not None else default_profiles_dir()
    if not directory.is_dir():
        result = LoadResult()
        result.errors.append(ProfileError(str(directory), [Problem("", "no such directory")]))
        return result
    return load_files(directory.glob("*.toml"))


def _check_fallbacks(result: LoadResult) -> None:
    seen: dict[str, str] = {}
    for name, profile in list(result.profiles.items()):
        if not profile.match.fallback:
            continue
        kind = profile.transport.type
        other = seen.get(kind)
        if other is None:
            seen[kind] = name
            continue
        result.errors.append(
            ProfileError(
                str(result.files[name]),
                [
                    Problem(
                        "match.fallback",
                        f"{other!r} is already the fallback for {kind} devices; "
                        "only one profile per transport may be",
                    )
                ],
            )
        )
        del result.profiles[name]
        del result.files[name]
