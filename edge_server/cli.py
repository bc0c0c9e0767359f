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
from datetime import date
from pathlib import Path
from typing import Any

from edge_server.db.migrations import ROLES
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
    if args.port is not None:
        settings.port = args.port
    if args.no_advertise:
        settings.advertise = False
    if args.advertise_interface:
        settings.advertise_interface = args.advertise_interface
    if args.tls_cert:
        settings.tls_cert_file = Path(args.tls_cert)
    if args.tls_key:
        settings.tls_key_file = Path(args.tls_key)
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
    from edge_server.access.tls import pairing_trust, show_fingerprint

    trust = pairing_trust(services.settings)
    if trust is not None:
        print(f"site CA fingerprint (SHA-256): {show_fingerprint(trust[1])}")
        print("The handheld shows the fingerprint it was given: they must match.")
    return 0


def cmd_edge_tls_init(args: argparse.Namespace) -> int:
    from edge_server.access.tls import fingerprint, init_tls, show_fingerprint

    try:
        files = init_tls(Path(args.dir), args.host, _settings(args).site, force=args.force)
    except (FileExistsError, ValueError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"site CA:            {files.ca_cert}  (key {files.ca_key}: keep it off the server)")
    print(f"server certificate: {files.server_cert}  for {', '.join(args.host)}")
    print(f"server key:         {files.server_key}")
    print(f"CA fingerprint (SHA-256): {show_fingerprint(fingerprint(files.ca_cert.read_bytes()))}")
    print(
        f"Serve with AISLEWAY_TLS_CERT_FILE={files.server_cert} "
        f"AISLEWAY_TLS_KEY_FILE={files.server_key}"
    )
    return 0


def cmd_edge_tls_renew(args: argparse.Namespace) -> int:
    from edge_server.access.tls import TlsFiles, fingerprint, issue_server_cert, show_fingerprint

    files = TlsFiles.in_dir(Path(args.dir))
    missing = [str(p) for p in (files.ca_cert, files.ca_key) if not p.exists()]
    if missing:
        print(f"refused: no site CA here ({', '.join(missing)}): run `tls init`", file=sys.stderr)
        return 2
    try:
        issue_server_cert(files, args.host, _settings(args).site)
    except ValueError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"server certificate: {files.server_cert}  for {', '.join(args.host)} (renewed)")
    print(f"server key:         {files.server_key}")
    print(
        "same site CA, fingerprint (SHA-256): "
        f"{show_fingerprint(fingerprint(files.ca_cert.read_bytes()))} — handhelds keep working; "
        "restart the server to serve the new certificate"
    )
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
        if args.client:
            key, secret = services.api_keys.create(args.name, "client", client=args.client)
        else:
            key, secret = services.api_keys.create(args.name)
    except AislewayError as exc:
        _print_refusal(exc)
        return 2
    finally:
        services.db.close()
    whose = f" (client {key.client}: the client API only)" if key.client else ""
    print(f"API key {key.id} for {key.name}{whose}: {secret}")
    print("Shown once. Send it as 'Authorization: Bearer <key>'.")
    return 0


def _print_refusal(exc: AislewayError) -> None:
    """A refusal on stderr, one line per problem where the details list them."""
    print(f"error: {exc.text}", file=sys.stderr)
    for problem in exc.details.get("errors", []):
        print(f"  {problem['field']}: {problem['reason']}", file=sys.stderr)
    for loc in exc.details.get("locations", []):
        print(f"  {loc['code']} holds {loc['qty']}", file=sys.stderr)
    if exc.details.get("count", 0) > len(exc.details.get("locations", [])):
        print(f"  ... {exc.details['count']} bins in all", file=sys.stderr)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def cmd_edge_load_layout(args: argparse.Namespace) -> int:
    from edge_server.wms.layout import read_layout
    from edge_server.wms.layout_store import load_layout

    settings = _settings(args)
    try:
        layout = read_layout(args.file)  # a bad file is refused before the database is opened
        services = open_services(settings)
        try:
            summary = load_layout(services.db, layout, site=settings.site, dry_run=args.dry_run)
        finally:
            services.db.close()
    except AislewayError as exc:
        _print_refusal(exc)
        if exc.details.get("errors", [{}])[0].get("field") == "site":
            print("  (choose the site with --site or AISLEWAY_SITE)", file=sys.stderr)
        return 2
    blocks, cross = len(layout.blocks), len(layout.cross_aisles)
    print(
        f"site {summary.site}: {summary.bins} bins "
        f"({blocks} block{'s' * (blocks != 1)}, {cross} cross aisles, "
        f"{len(layout.file.areas)} explicit areas)"
    )
    print(
        f"  added {summary.added}, updated {summary.updated}, reactivated {summary.reactivated}, "
        f"deactivated {summary.deactivated}, unchanged {summary.unchanged}"
    )
    print(f"  by type: {_counts(summary.by_type)}")
    print(f"  by zone: {_counts(summary.by_zone)}")
    if args.dry_run:
        print("dry run: nothing was written")
    elif summary.changed:
        print(f"layout loaded into {settings.db_path}")
    else:
        print("nothing changed: the site already has this layout")
    return 0


def cmd_edge_show_layout(args: argparse.Namespace) -> int:
    from edge_server.wms.layout_store import stored_layout_info

    services = _services(args)
    try:
        info = stored_layout_info(services.db, services.settings.site)
    except AislewayError as exc:
        _print_refusal(exc)
        return 2
    finally:
        services.db.close()
    if args.json:
        _print_json(info["file"])
        return 0
    summary = info["summary"]
    depot = summary["depot"]
    print(f"site {info['site']}: depot at x={depot['x']:g}, y={depot['y']:g}")
    for b in summary["blocks"]:
        print(
            f"  block {b['id']} (zone {b['zone']}): {b['aisles']} aisles x={b['first_aisle_x']:g}"
            f"..{b['last_aisle_x']:g}, y={b['front_y']:g}..{b['back_y']:g}, {b['bays']} bays, "
            f"{b['levels']} levels, {b['bins']} bins"
        )
    for c in summary["cross_aisles"]:
        joins = ", ".join(f"{j['block']} {j['end']}" for j in c["joins"])
        depot_note = ", depot" if c["depot"] else ""
        print(f"  cross aisle y={c['y']:g} x={c['x_min']:g}..{c['x_max']:g}: {joins}{depot_note}")
    print(f"  by type: {_counts(summary['by_type'])}")
    print(f"  by zone: {_counts(summary['by_zone'])}")
    locs = info["locations"]
    print(f"  locations: {locs['active']} active, {locs['inactive']} inactive")
    return 0


def cmd_edge_import_items(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from edge_server.wms.item_import import import_items, read_items_csv_file

    show = args.progress if args.progress is not None else sys.stderr.isatty()
    bar = tqdm(unit=" lines", file=sys.stderr, desc="checking rows") if show else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    try:
        # The file is read and checked before the database is opened: an unreadable file
        # (exit 2) changes nothing, not even by creating the database.
        parsed = read_items_csv_file(args.file, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    return _import_report(args, lambda svc: import_items(svc.db, parsed, dry_run=args.dry_run))


def cmd_edge_import_pos(args: argparse.Namespace) -> int:
    from edge_server.wms.po_import import import_pos, read_pos_csv_file

    # Read and check the file before opening the database, as import-items does.
    parsed = read_pos_csv_file(args.file)
    return _import_report(
        args, lambda svc: import_pos(svc.db, parsed, svc.settings.site, dry_run=args.dry_run)
    )


def cmd_edge_import_asns(args: argparse.Namespace) -> int:
    from edge_server.wms.asn_import import import_asns, read_asns_csv_file

    # Read and check the file before opening the database, as import-pos does.
    parsed = read_asns_csv_file(args.file)
    return _import_report(
        args, lambda svc: import_asns(svc.db, parsed, svc.settings.site, dry_run=args.dry_run)
    )


def _import_report(args: argparse.Namespace, run: Callable[[Services], Any]) -> int:
    """Run an import against the site database, print its report (and the JSON copy asked
    for); exit 0 when every row was imported, 1 when some were refused."""
    services = _services(args)
    try:
        report = run(services)
    finally:
        services.db.close()
    print(report.table())
    if args.report_json:
        Path(args.report_json).write_text(report.to_json() + "\n", encoding="utf-8")
    return 0 if report.ok else 1


def cmd_edge_load_carriers(args: argparse.Namespace) -> int:
    from edge_server.shipping.services import load_services, read_services_file

    settings = _settings(args)
    try:
        parsed = read_services_file(args.file)  # a bad file is refused before the database
        if args.dry_run:
            print(f"{args.file}: {len(parsed.services)} carrier services, all valid")
            print("dry run: nothing was written")
            return 0
        services = open_services(settings)
        try:
            report = load_services(services.db, settings.site, parsed)
        finally:
            services.db.close()
    except AislewayError as exc:
        _print_refusal(exc)
        return 2
    print(f"site {settings.site}: {len(report.outcomes)} carrier services")
    for line in report.lines():
        print(line)
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_edge_report_operations(args: argparse.Namespace) -> int:
    import csv

    from edge_server.wms.reports import operations

    services = _services(args)
    try:
        when = operations.period(services.settings, args.since, args.until)
        report = operations.operations_report(services.db, services.settings, when)
    finally:
        services.db.close()
    if args.csv:
        csv.writer(sys.stdout, lineterminator="\n").writerows(operations.csv_rows(report))
        return 0
    if args.json:
        _print_json(report)
        return 0
    rows = operations.csv_rows(report)
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    print(f"operations report, site {report['site']}, {report['since']} to {report['until']}")
    for row in rows:
        print("  ".join(str(v).rjust(n) for v, n in zip(row, widths, strict=True)))
    hand = report["handoffs"]
    if hand["typical_flow"]:
        flow = " -> ".join(
            f"{'+'.join(p['steps'])} ({p['party']})" for p in hand["typical_flow"]["parties"]
        )
        print(f"typical flow ({hand['typical_flow']['orders']} orders): {flow}")
    pay = report["payback"]
    print(
        f"savings per month: errors {pay['error_savings_per_month']}, labor "
        f"{pay['labor_savings_per_month']}, net {pay['net_savings_per_month']}"
    )
    if pay["months_to_payback"] is None:
        print(f"payback: none. {pay['why_no_payback']}")
    else:
        print(f"payback: {pay['months_to_payback']} months")
    return 0


def cmd_edge_billing(args: argparse.Namespace) -> int:
    import csv

    from edge_server.wms import billing

    services = _services(args)
    try:
        when = billing.period(services.settings, args.first, args.last)
        report = billing.billing_report(services.db, services.settings, args.code, when)
    finally:
        services.db.close()
    rows = billing.csv_rows(report)
    if args.csv:
        with Path(args.csv).open("w", newline="", encoding="utf-8") as out:
            csv.writer(out, lineterminator="\n").writerows(rows)
        print(f"written: {args.csv} ({len(rows) - 2} days and a total row)")
        return 0
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    print(
        f"billing, client {report['client']} ({report['name']}), site {report['site']}, "
        f"{report['from']} to {report['to']}, storage in {report['rates']['storage_basis']}"
    )
    for row in rows:
        print("  ".join(str(v).rjust(n) for v, n in zip(row, widths, strict=True)))
    return 0


def cmd_edge_backup(args: argparse.Namespace) -> int:
    from edge_server.ops.backup import BackupError, backup, backup_to_dir

    removed: list[Path] = []
    try:
        if args.to_dir is not None:
            if args.force:
                raise BackupError("--force goes with --to; --to-dir never replaces a file")
            settings = _settings(args)
            rotated = backup_to_dir(
                settings.db_path, Path(args.to_dir), settings.site, keep=args.keep
            )
            info, removed = rotated.info, rotated.removed
        else:
            if args.keep is not None:
                raise BackupError("--keep goes with --to-dir")
            info = backup(_settings(args).db_path, Path(args.to), force=args.force)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"backup written: {info.path} ({info.size_bytes} bytes, integrity ok)")
    print(f"last movement id: {info.last_movement_id or 'none'} ({info.movements} movements)")
    for path in removed:
        print(f"old backup removed: {path}")
    return 0


def cmd_edge_restore(args: argparse.Namespace) -> int:
    from edge_server.ops.backup import BackupError, restore

    try:
        info = restore(Path(args.from_file), _settings(args).db_path, force=args.force)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"restored {args.from_file} to {info.path} ({info.size_bytes} bytes)")
    print(f"integrity ok, ledger ok; last movement id: {info.last_movement_id or 'none'}")
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
    p.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--no-advertise", action="store_true", help="do not advertise with zeroconf")
    p.add_argument(
        "--advertise-interface",
        metavar="ADDRESS",
        help="IPv4 address of the interface to advertise on (required with --host 0.0.0.0)",
    )
    p.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate")
    p.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")

    add("check", cmd_edge_check, "verify stock == sum of movements and SQLite integrity")
    add("pair", cmd_edge_pair, "create a one-time pairing code for a handheld")

    tls = cmds.add_parser("tls", help="the site's own CA and the server's TLS certificate")
    tls_cmds = tls.add_subparsers(dest="tls", required=True, metavar="TLS_COMMAND")
    p = tls_cmds.add_parser(
        "init",
        help="make a site CA and a server certificate for the given hosts/IPs",
        description="Make a site CA (ca.pem, ca-key.pem) and a server certificate "
        "(server.pem, server-key.pem) for the given host names and IP addresses "
        "(docs/security.md#tls-and-pinning).",
    )
    _add_db_options(p)
    p.set_defaults(handler=cmd_edge_tls_init)
    p.add_argument("--dir", required=True, help="folder for the four PEM files")
    p.add_argument(
        "--host",
        action="append",
        required=True,
        help="a name or IP handhelds use to reach the server (repeat for more)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing site CA")
    p = tls_cmds.add_parser(
        "renew",
        help="a new server certificate from the existing site CA (handhelds keep working)",
        description="Sign a new server certificate (server.pem, server-key.pem) with the site "
        "CA already in --dir, for the given hosts/IPs (docs/security.md#tls-and-pinning).",
    )
    _add_db_options(p)
    p.set_defaults(handler=cmd_edge_tls_renew)
    p.add_argument("--dir", required=True, help="the folder `tls init` wrote")
    p.add_argument(
        "--host",
        action="append",
        required=True,
        help="a name or IP handhelds use to reach the server (repeat for more)",
    )

    p = add("backup", cmd_edge_backup, "snapshot the site database while it runs (checked copy)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", metavar="FILE", help="the backup file to write")
    where.add_argument(
        "--to-dir",
        metavar="DIR",
        help="write DIR/<site>-YYYYMMDD-HHMMSS.db (UTC) instead (the nightly timer)",
    )
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="with --to-dir: then delete all but the newest N such backups of this site",
    )

    p = add("restore", cmd_edge_restore, "replace the site database with a checked backup")
    p.add_argument(
        "--from", dest="from_file", required=True, metavar="FILE", help="the backup file"
    )
    p.add_argument("--force", action="store_true", help="replace an existing (stopped) database")

    p = add("add-user", cmd_edge_add_user, "create a user with a badge, PIN and role")
    p.add_argument("badge", help="what the badge barcode encodes (3-32 letters, digits, - _)")
    p.add_argument("--pin", required=True, help="4 to 8 digits")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--name", default="", help="the person's name, shown on screens")

    p = add("add-api-key", cmd_edge_add_api_key, "create an API key for an integration")
    p.add_argument("name", help="who the key is for, e.g. 'oms' or 'webstore'")
    p.add_argument("--client", metavar="CODE", help="a 3PL client's own key (docs/clients.md)")

    p = add("import-items", cmd_edge_import_items, "import the item master from a CSV file")
    p.add_argument("file", help="CSV file (columns in docs/items.md)")
    p.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    p.add_argument("--report-json", metavar="PATH", help="also write the report as JSON")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only when stderr is a terminal)",
    )

    p = add("import-pos", cmd_edge_import_pos, "import purchase orders from a CSV file")
    p.add_argument("file", help="CSV file, one row per PO line (docs/receiving.md)")
    p.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    p.add_argument("--report-json", metavar="PATH", help="also write the report as JSON")

    p = add("import-asns", cmd_edge_import_asns, "import advance shipping notices from a CSV file")
    p.add_argument("file", help="CSV file, one row per ASN line (docs/receiving.md)")
    p.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    p.add_argument("--report-json", metavar="PATH", help="also write the report as JSON")

    p = add("load-layout", cmd_edge_load_layout, "load the site's layout file (bins, zones)")
    p.add_argument("file", help="layout JSON file (docs/layout.md)")
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    p = add("load-carriers", cmd_edge_load_carriers, "create or update carrier services")
    p.add_argument("file", help="carrier services JSON file (docs/shipping.md)")
    p.add_argument("--dry-run", action="store_true", help="check the file, write nothing")

    p = add("show-layout", cmd_edge_show_layout, "print the site's loaded layout")
    p.add_argument("--json", action="store_true", help="print the layout file as loaded")

    report = cmds.add_parser("report", help="reports on the site's work")
    report_cmds = report.add_subparsers(dest="report", required=True, metavar="REPORT")
    p = report_cmds.add_parser(
        "operations",
        help="orders, SKUs, handoffs, error rate, labor hours and payback per site day",
        description="The operations report (docs/reports.md); default: the last 7 site days.",
    )
    _add_db_options(p)
    p.set_defaults(handler=cmd_edge_report_operations)
    p.add_argument("--since", type=_day, help="first site day, YYYY-MM-DD")
    p.add_argument("--until", type=_day, help="last site day (included), YYYY-MM-DD")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="print the days as CSV")
    out.add_argument("--json", action="store_true", help="print the whole report as JSON")

    p = add("billing", cmd_edge_billing, "a client's billing data per site day (docs/billing.md)")
    p.add_argument("code", help="the client's code")
    p.add_argument("--from", dest="first", type=_day, required=True, help="first site day")
    p.add_argument("--to", dest="last", type=_day, required=True, help="last site day (included)")
    p.add_argument("--csv", metavar="FILE", help="write the days and a total row to a CSV file")

    demo = top.add_parser("demo", help="create a demo site and run it on 127.0.0.1:8000")
    demo.add_argument("--dir", default="var/demo", help="where the demo database lives")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--reset", action="store_true", help="start from a fresh database")
    demo.set_defaults(handler=_cmd_demo)

    route = top.add_parser(
        "route",
        help="print the shortest pick route through some bins (JSON)",
        description="Print the pick route from the depot through the bins and back as one JSON "
        "object (docs/routing.md).",
    )
    route.add_argument("--layout", required=True, metavar="FILE", help="layout JSON file")
    route.add_argument("bins", nargs="+", metavar="BIN", help="bin codes to visit")
    route.set_defaults(handler=cmd_route)

    # `aisleway terminal` (no subcommand) is the handheld app's launcher; its subcommands are
    # tools around it. The launcher sets the group's default handler.
    terminal = top.add_parser("terminal", help="the handheld terminal and its scanner profiles")
    _add_terminal_launcher_arguments(terminal)
    terminal.set_defaults(handler=cmd_terminal)
    terminal_cmds = terminal.add_subparsers(dest="command", metavar="COMMAND")
    p = terminal_cmds.add_parser(
        "profiles",
        help="list and validate scanner/handheld profiles; render a DataWedge profile",
        description="List and validate the scanner/handheld profiles in firmware_configs/ "
        "(docs/firmware_configs.md); --datawedge renders a Zebra DataWedge profile.",
    )
    _add_terminal_profiles_arguments(p)
    p.set_defaults(handler=cmd_terminal_profiles)

    from edge_server.oms.cli import add_oms_commands

    add_oms_commands(top)  # `aisleway oms …`
    return parser


def _cmd_terminal_help(terminal: argparse.ArgumentParser) -> Handler:
    def show(args: argparse.Namespace) -> int:
        terminal.print_help(sys.stderr)
        return 2

    return show


def _add_terminal_launcher_arguments(p: argparse.ArgumentParser) -> None:
    from terminal.launcher import add_arguments

    add_arguments(p)


def cmd_terminal(args: argparse.Namespace) -> int:
    """`aisleway terminal` with no subcommand: start the handheld app."""
    from terminal.launcher import run

    return run(args)


def _add_terminal_profiles_arguments(p: argparse.ArgumentParser) -> None:
    from terminal.profiles.cli import add_arguments

    add_arguments(p)


def cmd_terminal_profiles(args: argparse.Namespace) -> int:
    from terminal.profiles.cli import run

    return run(args)


def cmd_route(args: argparse.Namespace) -> int:
    from edge_server.wms.layout import read_layout
    from edge_server.wms.routing import route

    try:
        layout = read_layout(args.layout)
        result = route(layout, args.bins)
    except AislewayError as exc:
        _print_refusal(exc)
        if "code" in exc.details:
            print(f"  {exc.details['code']}: {exc.details.get('reason', '')}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_json()))
    return 0


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
