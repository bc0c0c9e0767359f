"""`aisleway oms …`: create the OMS database, serve the OMS, add API keys (a channel key is
bound to its sales channel) and sites. Documented in docs/cli.md."""

from __future__ import annotations

import argparse
import logging
import re
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

from edge_server.errors import AislewayError
from edge_server.oms import orders, sites
from edge_server.oms.migrations import CHANNEL_KINDS, OMS_ROLES
from edge_server.oms.services import OmsServices, open_oms_services
from edge_server.oms.settings import OmsSettings
from protocols.orders import CHANNEL_CODE_PATTERN, SITE_CODE_PATTERN

__all__ = ["add_oms_commands"]

log = logging.getLogger("aisleway.oms.server")


def _settings(args: argparse.Namespace) -> OmsSettings:
    overrides: dict[str, Any] = {}
    if getattr(args, "db", None):
        overrides["db_path"] = Path(args.db)
    return OmsSettings(**overrides)


def _refuse(text: str) -> int:
    print(f"error: {text}", file=sys.stderr)
    return 2


def cmd_init(args: argparse.Namespace) -> int:
    services = open_oms_services(_settings(args))
    print(f"OMS database ready: {services.settings.db_path}")
    services.db.close()
    return 0


def cmd_add_key(args: argparse.Namespace) -> int:
    channel = args.channel
    if args.role == "channel" and channel is None:
        return _refuse("a channel key needs --channel CODE (e.g. WEB, AMAZON, B2B)")
    if channel is not None and args.role != "channel":
        return _refuse("--channel is for --role channel only")
    if channel is not None and not re.fullmatch(CHANNEL_CODE_PATTERN, channel):
        return _refuse(f"{channel!r} is not a channel code (capitals and digits, e.g. WEB)")
    services = open_oms_services(_settings(args))
    try:
        key, secret = services.api_keys.create(args.name, role=args.role)
        if channel is not None:
            with services.db.write() as w:
                created = orders.add_channel(
                    w, channel, kind=args.channel_kind, name=args.channel_name
                )
                orders.bind_key(w, key.id, channel)
            if created == "created":
                print(f"channel {channel} ({args.channel_kind}) created")
    finally:
        services.db.close()
    bound = f", channel {channel}" if channel else ""
    print(f"OMS API key {key.id} for {key.name} (role {key.role}{bound}): {secret}")
    print("Shown once. Send it as 'Authorization: Bearer <key>'.")
    return 0


def cmd_add_site(args: argparse.Namespace) -> int:
    if not re.fullmatch(SITE_CODE_PATTERN, args.code):
        return _refuse(f"{args.code!r} is not a site code (capitals, digits, - _; e.g. CHI)")
    settings = _settings(args)
    try:
        body = sites.SiteIn(
            name=args.name or args.code,
            base_url=args.url,
            api_key=args.api_key,
            webhook_secret=args.webhook_secret,
        )
    except ValueError as exc:
        print("error: some of the values are not valid", file=sys.stderr)
        for problem in getattr(exc, "errors", lambda: [])():
            field = ".".join(str(p) for p in problem["loc"])
            print(f"  --{field.replace('_', '-')}: {problem['msg']}", file=sys.stderr)
        return 2
    try:
        base_url = sites.check_site_url(body.base_url, allow_private=settings.webhook_allow_private)
        services = open_oms_services(settings)
        try:
            with services.db.write() as w:
                outcome = sites.put_site(w, args.code, body, base_url=base_url)
        finally:
            services.db.close()
    except AislewayError as exc:
        reason = exc.details.get("reason") or exc.details.get("errors") or ""
        return _refuse(f"{exc.text} {reason}".strip())
    print(f"site {args.code} {outcome}: {base_url}")
    return 0


def cmd_subscribe(args: argparse.Namespace) -> int:
    from edge_server.oms.site_events import subscribe_site

    settings = _settings(args)
    public_url = args.oms_url or settings.public_url
    if not public_url:
        return _refuse(
            "give --oms-url (or set AISLEWAY_OMS_PUBLIC_URL): where the site reaches the OMS"
        )
    services = open_oms_services(settings)
    try:
        done = subscribe_site(
            services.db,
            args.code,
            public_url,
            admin_key=args.admin_key,
            timeout=settings.site_timeout_seconds,
        )
    except AislewayError as exc:
        reason = exc.details.get("text") or exc.details.get("reason") or ""
        return _refuse(f"{exc.text} {reason}".strip())
    finally:
        services.db.close()
    where, sub = done["intake_url"], done["subscriber_id"]
    print(f"site {args.code} sends its events to {where} (subscriber {sub})")
    return 0


def _site_keys(pairs: list[str]) -> dict[str, str] | str:
    """`--key SITE=ak_…` pairs as {site: key}, or the text of what is wrong."""
    keys: dict[str, str] = {}
    for pair in pairs:
        code, sep, key = pair.partition("=")
        if not sep or not re.fullmatch(SITE_CODE_PATTERN, code) or not key.strip():
            return f"--key {pair!r} is not SITE=KEY (e.g. --key CHI=ak_…)"
        keys[code] = key.strip()
    return keys


def cmd_discover(args: argparse.Namespace) -> int:
    from edge_server.oms.discovery import ALL_INTERFACES, discover_sites

    keys = _site_keys(args.key or [])
    if isinstance(keys, str):
        return _refuse(keys)
    if keys and not args.add:
        return _refuse("--key is for --add: give --add to add the sites found")
    settings = _settings(args)
    found = discover_sites(args.timeout, interfaces=args.interface or ALL_INTERFACES)
    if not found:
        print(f"no Aisleway edge servers answered within {args.timeout:g} s")
        return 1
    services = open_oms_services(settings) if args.add else None
    try:
        for server in found:
            note = ""
            if services is not None:
                note = _add_found(services, server.site, server.url, keys.get(server.site))
            print(f"{server.site:<8} {server.url:<28} {server.label}{note}")
    finally:
        if services is not None:
            services.db.close()
    missing = sorted(set(keys) - {s.site for s in found})
    if missing:
        print(f"not found: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


def _add_found(services: OmsServices, code: str, url: str, key: str | None) -> str:
    """Add or update a discovered site; returns the note printed after it."""
    known = sites.get_site(services.db, code)
    if key is None and known is None:
        return "  (not added: give --key " + code + "=<its API key>)"
    name = known.name if known is not None else code
    try:
        base_url = sites.check_site_url(url, allow_private=services.settings.webhook_allow_private)
        with services.db.write() as w:
            outcome = sites.put_site(
                w, code, sites.SiteIn(name=name, base_url=base_url, api_key=key), base_url=base_url
            )
    except AislewayError as exc:
        reason = exc.details.get("reason") or ""
        return f"  (not added: {exc.text} {reason})".rstrip()
    return f"  (site {outcome})"


class _OmsUvicorn(uvicorn.Server):
    """uvicorn's server, plus a "listening" line with the port actually bound."""

    def __init__(self, config: uvicorn.Config, host: str) -> None:
        super().__init__(config)
        self._host = host

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        port = self.config.port
        for server in self.servers:
            for sock in server.sockets:
                if sock.family in (socket.AF_INET, socket.AF_INET6):
                    port = int(sock.getsockname()[1])
        shown = f"[{self._host}]" if ":" in self._host else self._host
        log.info(
            f"OMS listening on http://{shown}:{port}", extra={"host": self._host, "port": port}
        )


def serve(settings: OmsSettings) -> int:
    """Run the OMS until Ctrl-C or SIGTERM (the edge's stop rules: open requests finish,
    lifespan stop hooks run, the database closes); return the exit status."""
    from edge_server.logging_setup import configure_logging
    from edge_server.oms.app import create_oms_app
    from edge_server.server import (
        EXIT_START_FAILED,
        GRACEFUL_SHUTDOWN_SECONDS,
        _stop_signals_to,
    )

    configure_logging(settings.log_level, settings.log_json)
    app = create_oms_app(settings)
    services: OmsServices = app.state.oms
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = _OmsUvicorn(config, settings.host)
    try:
        with _stop_signals_to(server):
            server.run()
    except SystemExit:
        log.error("OMS did not start")
        return EXIT_START_FAILED
    finally:
        services.db.close()
    log.info("OMS stopped")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.host:
        settings.host = args.host
    if args.port is not None:
        settings.port = args.port
    return serve(settings)


def add_oms_commands(top: Any) -> None:
    """Register `aisleway oms …` on the top-level subparsers of edge_server/cli.py."""
    oms = top.add_parser("oms", help="run and administer the order management system (OMS)")
    cmds = oms.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = cmds.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--db", help="OMS SQLite file (default: AISLEWAY_OMS_DB_PATH or var/oms.db)")
        p.set_defaults(handler=handler)
        return p

    add("init", cmd_init, "create or upgrade the OMS database (applies migrations)")

    p = add("serve", cmd_serve, "run the OMS (HTTP API, webhook relay)")
    p.add_argument("--host", help="bind address (default AISLEWAY_OMS_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default AISLEWAY_OMS_PORT, 8100; 0: any)")

    p = add("add-key", cmd_add_key, "create an OMS API key (a channel key speaks for a channel)")
    p.add_argument("name", help="who the key is for, e.g. 'web store'")
    p.add_argument("--role", required=True, choices=OMS_ROLES)
    p.add_argument("--channel", metavar="CODE", help="the sales channel of a channel key: WEB")
    p.add_argument(
        "--channel-kind", default="web", choices=CHANNEL_KINDS, help="kind of a new channel"
    )
    p.add_argument("--channel-name", help="display name of a new channel (default: its code)")

    p = add("add-site", cmd_add_site, "add or update a site's edge server")
    p.add_argument("code", help="the site's code, as its edge server calls itself: CHI")
    p.add_argument("--url", required=True, help="the edge server's base URL")
    p.add_argument("--api-key", help="API key for the site's integration API (new site: needed)")
    p.add_argument("--webhook-secret", help="secret of the OMS's webhook subscription (whsec_…)")
    p.add_argument("--name", help="display name (default: the code)")

    p = add("discover", cmd_discover, "find sites' edge servers on the LAN (zeroconf)")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds to listen (default 3)")
    p.add_argument(
        "--interface",
        action="append",
        metavar="ADDRESS",
        help="browse on this interface address only (repeatable; default: all)",
    )
    p.add_argument("--add", action="store_true", help="add (or update the URL of) the sites found")
    p.add_argument(
        "--key",
        action="append",
        metavar="SITE=KEY",
        help="with --add: the API key of a new site, e.g. CHI=ak_… (repeatable)",
    )

    p = add("subscribe", cmd_subscribe, "subscribe the OMS to a site's events (stores the secret)")
    p.add_argument("code", help="a site added with add-site: CHI")
    p.add_argument("--oms-url", help="the OMS's base URL as the site reaches it")
    p.add_argument(
        "--admin-key", help="a key with webhooks.manage on the site (default: the site's key)"
    )
