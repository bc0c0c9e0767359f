"""The `aisleway` command line.

`aisleway edge …` runs and administers one site's edge server. Later parts add
`aisleway oms …`, `aisleway terminal …` and `aisleway route …`. Every command is documented in
docs/cli.md (a test keeps the two in step).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edge_server.errors import AislewayError
from edge_server.services import Services, open_services
from edge_server.settings import Settings

Handler = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "db", None):
        overrides["db_path"] = Path(args.db)
    if getattr(args, "site", None):
        overrides["site"] = args.site
    return Settings(**overrides)


def _services(args: argparse.Namespace) -> Services:
    return open_services(_settings(args))


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


# -- edge commands ---------------------------------------------------------------------------
def cmd_edge_init(args: argparse.Namespace) -> int:
    services = _services(args)
    print(f"database ready: {services.settings.db_path}")
    services.db.close()
    return 0


def cmd_edge_serve(args: argparse.Namespace) -> int:
    from edge_server.server import serve

    settings = _settings(args)
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    if args.no_advertise:
        settings.advertise = False
    return serve(settings)


def cmd_edge_check(args: argparse.Namespace) -> int:
    from edge_server.wms.ledger import check_ledger

    services = _services(args)
    try:
        report = check_ledger(services.db)
    finally:
        services.db.close()
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def cmd_edge_pair(args: argparse.Namespace) -> int:
    services = _services(args)
    code = services.devices.create_pairing_code()
    services.db.close()
    print(f"pairing code: {code.code}  (valid until {code.expires_at})")
    print("Enter it on the handheld's pairing screen; it works once.")
    return 0


def cmd_edge_add_user(args: argparse.Namespace) -> int:
    services = _services(args)
    try:
        user = services.users.create(badge=args.badge, pin=args.pin, role=args.role, name=args.name)
    finally:
        services.db.close()
    print(f"user {user.badge} ({user.role}) created with id {user.id}")
    return 0


def cmd_edge_add_api_key(args: argparse.Namespace) -> int:
    services = _services(args)
    try:
        key, secret = services.api_keys.create(args.name)
    finally:
        services.db.close()
    print(f"API key {key.id} for {key.name}: {secret}")
    print("Shown once. Send it as 'Authorization: Bearer <key>'.")
    return 0


def _add_db_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="site SQLite file (default: AISLEWAY_DB_PATH or var/aisleway.db)")
    p.add_argument("--site", help="site code (default: AISLEWAY_SITE or CHI)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aisleway", description="Aisleway WMS/OMS.")
    top = parser.add_subparsers(dest="area", required=True, metavar="AREA")

    edge = top.add_parser("edge", help="run and administer a site's edge server")
    cmds = edge.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = cmds.add_parser(name, help=help_text, description=help_text)
        _add_db_options(p)
        p.set_defaults(handler=handler)
        return p

    add("init", cmd_edge_init, "create or upgrade the site database (applies migrations)")

    p = add("serve", cmd_edge_serve, "run the edge server (HTTP API, relay, zeroconf)")
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--no-advertise", action="store_true", help="do not advertise with zeroconf")

    add("check", cmd_edge_check, "verify stock == sum of movements and SQLite integrity")
    add("pair", cmd_edge_pair, "create a one-time pairing code for a handheld")

    p = add("add-user", cmd_edge_add_user, "create a user with a badge, PIN and role")
    p.add_argument("badge")
    p.add_argument("--pin", required=True, help="4 to 8 digits")
    p.add_argument("--role", required=True)
    p.add_argument("--name", default="")

    p = add("add-api-key", cmd_edge_add_api_key, "create an API key for an integration")
    p.add_argument("name", help="who the key is for, e.g. 'oms' or 'webstore'")

    demo = top.add_parser("demo", help="create a demo site and run it on 127.0.0.1:8000")
    demo.add_argument("--dir", default="var/demo", help="where the demo database lives")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--reset", action="store_true", help="start from a fresh database")
    demo.set_defaults(handler=_cmd_demo)
    return parser


def _cmd_demo(args: argparse.Namespace) -> int:
    from edge_server.demo import run_demo

    return run_demo(Path(args.dir), port=args.port, reset=args.reset)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except AislewayError as exc:
        print(f"error: {exc.text}", file=sys.stderr)
        if exc.details:
            print(json.dumps(exc.details, indent=2, default=str), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
