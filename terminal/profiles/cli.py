"""`aisleway terminal profiles`: list and validate profiles, render a DataWedge profile.

Exit codes: 0 all good; 2 a profile was refused (every problem on stderr as
`FILE: key: reason`), an unknown profile was asked for, or it cannot be rendered.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from terminal.profiles.datawedge import DataWedgeError, set_config
from terminal.profiles.load import LoadResult, load_dir, load_files

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dir",
        metavar="DIR",
        help="profiles directory (default: AISLEWAY_FIRMWARE_CONFIGS or firmware_configs/)",
    )
    p.add_argument(
        "--validate",
        nargs="+",
        metavar="FILE",
        help="validate these files instead of the directory",
    )
    p.add_argument(
        "--datawedge",
        metavar="NAME",
        help="print the DataWedge SET_CONFIG intent (JSON) for this Zebra profile",
    )
    p.add_argument("--json", action="store_true", help="print the list as JSON")


def _report_errors(result: LoadResult) -> None:
    for error in result.errors:
        for problem in error.problems:
            print(f"error: {error.source}: {problem}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    paths = args.validate
    result = load_files(Path(f) for f in paths) if paths else load_dir(args.dir)
    _report_errors(result)

    if args.datawedge:
        profile = result.profiles.get(args.datawedge)
        if profile is None:
            known = ", ".join(result.profiles) or "none"
            print(
                f"error: no valid profile named {args.datawedge!r} (known: {known})",
                file=sys.stderr,
            )
            return 2
        try:
            intent = set_config(profile)
        except DataWedgeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(intent, indent=2))
        return 0 if result.ok else 2

    if args.json:
        print(
            json.dumps(
                {
                    "profiles": [
                        {**p.summary(), "file": str(result.files[name])}
                        for name, p in result.profiles.items()
                    ],
                    "errors": [
                        {"file": e.source, "key": pr.key, "reason": pr.reason}
                        for e in result.errors
                        for pr in e.problems
                    ],
                },
                indent=2,
            )
        )
    else:
        for name, p in result.profiles.items():
            dw = " datawedge" if p.datawedge is not None else ""
            print(
                f"ok  {name:<26} {p.device.kind:<8} {p.transport.type:<7} "
                f"{p.device.vendor} {p.device.model}{dw}"
            )
        bad = len(result.errors)
        print(
            f"{len(result.profiles)} valid, {bad} refused", file=sys.stderr if bad else sys.stdout
        )
    return 0 if result.ok else 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aisleway terminal profiles")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
