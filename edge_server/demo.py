"""`aisleway demo` / `make demo`: a demo site with layout, items, stock and users, served on
127.0.0.1 and advertised with zeroconf on 127.0.0.1 only."""

from __future__ import annotations

import json
import logging
import random
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import uvicorn
from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.services import Services, open_services
from edge_server.settings import Settings
from edge_server.shipping.services import load_services, parse_services_file
from edge_server.timeutil import utcnow
from edge_server.wms import inventory
from edge_server.wms.clients import put_client
from edge_server.wms.item_import import ImportReport, import_items
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import Layout
from edge_server.wms.layout_store import load_layout
from edge_server.wms.ledger import Actor
from edge_server.wms.outbound import orders
from edge_server.wms.outbound.allocation import allocate_order
from edge_server.wms.outbound.packing import put_carton_type
from edge_server.wms.outbound.waves import WaveConfig, plan_waves
from edge_server.wms.purchase_orders import PoHeader, put_po, site_id
from protocols.clients import ClientIn
from protocols.inbound import PoLineIn
from protocols.inventory import ReceiptIn
from protocols.outbound import FulfillmentOrderIn
from protocols.packing import CartonTypeIn

SITE = "CHI"
DEMO_PO = "4500100"
DEMO_ORDERS = 12  # SO-DEMO-001..: allocated and planned into waves
CARTON_TYPES = [  # code, description, L, W, H cm, tare kg, max kg
    ("BOX-S", "Small box", 30, 20, 15, 0.2, 10.0),
    ("BOX-M", "Medium box", 40, 30, 25, 0.4, 20.0),
    ("BOX-L", "Large box", 60, 40, 40, 0.8, 30.0),
]
SHIP_TO = [  # (carrier service, ship-to)
    (
        "UPS-GROUND",
        {
            "name": "Grace Hopper",
            "address_lines": ["101 Main St"],
            "city": "Arlington",
            "postal_code": "22201",
            "country": "US",
        },
    ),
    (
        "UPS-NDA",
        {
            "name": "Ada Lovelace",
            "address_lines": ["5 Lake Shore Dr"],
            "city": "Chicago",
            "postal_code": "60611",
            "country": "US",
        },
    ),
    (
        "DHL-EXPRESS-WW",
        {
            "name": "Alan Turing",
            "address_lines": ["1 Poultry"],
            "city": "London",
            "postal_code": "EC2R 8EJ",
            "country": "GB",
        },
    ),
]
USERS = [  # badge, PIN, role, name
    ("ADMIN01", "1111", "admin", "Avery Admin"),
    ("SUP01", "2222", "supervisor", "Sam Supervisor"),
    ("PICK01", "1234", "picker", "Pat Picker"),
    ("PICK02", "1234", "picker", "Jordan Picker"),
    ("REC01", "1234", "receiver", "Riley Receiver"),
    ("CNT01", "1234", "counter", "Casey Counter"),
    ("CNT02", "1234", "counter", "Morgan Counter"),
    ("PACK01", "1234", "packer", "Parker Packer"),
]


@dataclass
class DemoInfo:
    created: bool
    items: ImportReport | None = None
    stocked_bins: int = 0
    api_key: str | None = None
    client_key: str | None = None  # the 3PL client ACME's own key (docs/clients.md)
    users: list[tuple[str, str, str, str]] = field(default_factory=lambda: list(USERS))


def _data(name: str) -> bytes:
    return resources.files("edge_server.demo_data").joinpath(name).read_bytes()


def demo_settings(directory: Path, port: int = 8000, site: str = SITE) -> Settings:
    """Site CHI keeps `aisleway.db`; another demo site has `<code>.db` in the same folder."""
    name = "aisleway.db" if site == SITE else f"{site.lower()}.db"
    return Settings(
        db_path=directory / name,
        site=site,
        host="127.0.0.1",
        port=port,
        advertise=True,
        webhook_allow_private=True,  # a local OMS or test receiver on this machine
        site_timezone="America/Chicago",
        log_json=False,
    )


def seed_demo(services: Services, *, seed: int = 7, stock_every: int = 1) -> DemoInfo:
    """Fill an empty site database; a database that has users already is left alone.
    `stock_every=2` stocks every other SKU only (a second site with another stock mix)."""
    db = services.db
    site = services.settings.site
    if db.query_one("SELECT 1 FROM users LIMIT 1"):
        return DemoInfo(created=False)
    layout = {**json.loads(_data("layout.json")), "site": site}  # one layout, any site
    load_layout(db, Layout.parse(layout), site=site)
    # Carrier services with rate cards (docs/shipping.md): UPS Ground, UPS Next Day Air, DHL.
    load_services(db, services.settings.site, parse_services_file(_data("carriers.json")))
    report = import_items(db, _data("items.csv"), source="demo items.csv")
    for badge, pin, role, name in USERS:
        services.users.create(badge=badge, pin=pin, role=role, name=name)
    _, api_key = services.api_keys.create("demo OMS")

    rng = random.Random(seed)
    faces = [
        r["code"]
        for r in db.query("SELECT code FROM locations WHERE type = 'pick_face' ORDER BY code")
    ]
    items = db.query("SELECT sku, lot_tracked FROM items ORDER BY sku")[::stock_every]
    bins = rng.sample(faces, len(items))
    with db.write() as w:
        for item, bin_code in zip(items, bins, strict=True):
            receipt = ReceiptIn(
                location=bin_code,
                sku=item["sku"],
                qty=rng.randint(5, 60),
                lot=f"L{rng.randint(1000, 9999)}" if item["lot_tracked"] else "",
                ref="DEMO-OPENING-STOCK",
            )
            inventory.receive(w, site, receipt, Actor())
        # An open purchase order to try receiving on (PO-4500100 scans as the PO barcode).
        demo_lines = [
            PoLineIn(line_no=n, sku=item["sku"], qty=rng.randint(6, 24))
            for n, item in enumerate([i for i in items if not i["lot_tracked"]][:3], start=1)
        ]
        put_po(w, site, DEMO_PO, PoHeader(supplier="Demo Supplier Co."), demo_lines)
        _seed_outbound(w, services.settings, rng, [i["sku"] for i in items])
        _seed_client(w, site, [f for f in faces if f not in bins])
    _, client_key = services.api_keys.create("demo ACME portal", "client", client=DEMO_CLIENT)
    return DemoInfo(
        created=True,
        items=report,
        stocked_bins=len(bins),
        api_key=api_key,
        client_key=client_key,
    )


#: The demo's 3PL client: its items match docs/examples/edi-940-acme.edi.
DEMO_CLIENT = "ACME"
_CLIENT_ITEMS = (
    ("ACME-TEE-BLK-M", "Acme tee, black, M", "012345678905", 0.2),
    ("ACME-TEE-WHT-L", "Acme tee, white, L", "", 0.22),
    ("ACME-MUG-01", "Acme mug", "", 0.35),
)


def _seed_client(w: SUDatabase, site: str, free_faces: list[str]) -> None:
    """A 3PL client with its EDI identity, rules, branding and rates, three items in stock."""
    client = ClientIn.model_validate(
        {
            "name": "Acme Brands Inc",
            "edi": {"qualifier": "ZZ", "id": "ACMEBRANDS", "carrier_service": "UPS-GROUND"},
            "picking": {"min_shelf_life_days": 30},
            "branding": {
                "display_name": "ACME",
                "return_address": ["Acme Returns", "55 Market St", "San Francisco CA 94105"],
                "slip_message": "Thank you for shopping with Acme!",
                "accent_colour": "#b5121b",
            },
            "billing": {
                "storage_basis": "bin_days",
                "storage": "0.40",
                "receipt": "10.00",
                "line_picked": "0.25",
                "order_packed": "1.10",
            },
        }
    )
    put_client(w, DEMO_CLIENT, client)
    for (sku, description, gtin, kg), bin_code in zip(_CLIENT_ITEMS, free_faces, strict=False):
        item, _ = validate_item(
            {
                "sku": sku,
                "description": description,
                "gtin": gtin,
                "weight_kg": kg,
                "owner": DEMO_CLIENT,
            }
        )
        upsert_item(w, item)
        receipt = ReceiptIn(location=bin_code, sku=sku, qty=40, ref="DEMO-ACME-STOCK")
        inventory.receive(w, site, receipt, Actor())


def _seed_outbound(w: SUDatabase, settings: Settings, rng: random.Random, skus: list[str]) -> None:
    """Carton types, a dozen small allocated orders over the three carrier services, and the
    waves they plan into (released by a supervisor, or automatically before each cutoff)."""
    site = settings.site
    sid = site_id(w, site)
    for code, text, length, width, height, tare, max_kg in CARTON_TYPES:
        carton = CartonTypeIn(
            description=text,
            length_cm=length,
            width_cm=width,
            height_cm=height,
            tare_kg=tare,
            max_weight_kg=max_kg,
        )
        put_carton_type(w, sid, code, carton)
    for n in range(1, DEMO_ORDERS + 1):
        service, ship_to = SHIP_TO[n % len(SHIP_TO)]
        lines = [
            {"line_no": k, "sku": sku, "qty": rng.randint(1, 3)}
            for k, sku in enumerate(rng.sample(skus, rng.randint(1, 3)), start=1)
        ]
        body = FulfillmentOrderIn.model_validate(
            {"ship_to": ship_to, "carrier_service": service, "priority": n % 3, "lines": lines}
        )
        number = f"SO-DEMO-{n:03d}"
        orders.put_order(w, site, number, body)
        allocate_order(w, site, number)
    plan_waves(w, site, utcnow(), WaveConfig.from_settings(settings))


#: The demo's second site: its own database, every other SKU in stock, port 8001.
SECOND_SITE = "DAL"


def run_demo(directory: Path, *, port: int = 8000, reset: bool = False) -> int:
    """Sites CHI (`port`) and DAL (`port` + 1) and the OMS (`port` + 100) in one process."""
    import threading

    from edge_server.app import create_app
    from edge_server.demo_floor import simulate_floor
    from edge_server.demo_oms import Network, demo_oms_settings, seed_oms, simulate_channel
    from edge_server.discovery import Advertiser
    from edge_server.logging_setup import configure_logging
    from edge_server.oms.app import create_oms_app
    from edge_server.oms.cli import _OmsUvicorn
    from edge_server.oms.services import open_oms_services
    from edge_server.server import GRACEFUL_SHUTDOWN_SECONDS, _EdgeUvicorn

    if reset and directory.exists():
        shutil.rmtree(directory)
    plan = [(SITE, port, 7, 1), (SECOND_SITE, port + 1, 11, 2)]
    edges: dict[str, tuple[Services, str]] = {}
    oms_settings = demo_oms_settings(directory, port + 100)
    try:
        infos: dict[str, DemoInfo] = {}
        pairing = ""
        for code, site_port, seed, every in plan:
            services = open_services(demo_settings(directory, site_port, code))
            infos[code] = seed_demo(services, seed=seed, stock_every=every)
            if code == SITE:
                pairing = services.devices.create_pairing_code().code
            edges[code] = (services, f"http://127.0.0.1:{site_port}")
        oms = open_oms_services(oms_settings)
        oms_info = seed_oms(oms, edges, _data("carriers.json"))
        skus = [r["sku"] for r in edges[SITE][0].db.query("SELECT sku FROM items ORDER BY sku")]
    except AislewayError as exc:
        print(f"demo setup failed: {exc.text} {exc.details}")
        return 2
    main = edges[SITE][0].settings
    configure_logging(main.log_level, main.log_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the OMS⇄site calls, per request
    _print_welcome(main, infos[SITE], pairing)
    _print_oms_welcome(oms_settings.port, port + 1, oms_info)
    network = Network()
    for code, (services, _url) in edges.items():
        settings = services.settings
        config = uvicorn_config(create_app(settings, services), settings.port)
        config.timeout_graceful_shutdown = GRACEFUL_SHUTDOWN_SECONDS
        network.add(_EdgeUvicorn(config, settings, Advertiser(settings)), f"edge-{code}")
    oms_app = create_oms_app(oms_settings, oms)
    network.add(_OmsUvicorn(uvicorn_config(oms_app, oms_settings.port), "127.0.0.1"), "oms")
    network.start()

    def drive() -> None:
        if not network.wait_started() or network.stopping.is_set():
            return
        assert oms_info.admin_key is not None
        if infos[SITE].created:  # a fresh demo: a morning's work for the supervisors' page
            print("\nA simulated morning at CHI (handhelds over HTTP):", flush=True)
            try:
                simulate_floor(
                    edges[SITE][1], edges[SITE][0].db, lambda line: print(line, flush=True)
                )
            except Exception as exc:  # the servers stay useful without the simulation
                print(f"  simulated floor failed: {exc}", flush=True)
        print("\nSimulated web store orders (sourcing: GET /api/v1/orders/{n}/sourcing):")
        try:
            simulate_channel(
                f"http://127.0.0.1:{oms_settings.port}",
                oms_info.admin_key,
                oms_info.channel_key,
                skus,
                lambda line: print(line, flush=True),
            )
        except Exception as exc:  # the servers stay useful without the simulation
            print(f"  simulated orders failed: {exc}", flush=True)

    threading.Thread(target=drive, name="demo-channel", daemon=True).start()
    try:
        network.run_until_stopped()
    finally:
        for services, _url in edges.values():
            services.db.close()
        oms.db.close()
    return 0 if all(s.started for s in network.servers) else 2


def uvicorn_config(app: Any, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )


def _print_oms_welcome(oms_port: int, dal_port: int, info: Any) -> None:
    base = f"http://127.0.0.1:{oms_port}"
    lines = [
        "Aisleway demo — site DAL and the OMS",
        f"  site DAL   http://127.0.0.1:{dal_port}  (same users and PINs; every other SKU in "
        "stock)",
        f"  OMS        {base}/docs   sites CHI and DAL, subscribed to their events",
        f"  admin key  {getattr(info, 'admin_key', '')}  (OMS admin, this run)",
    ]
    channel = getattr(info, "channel_key", None)
    if channel:
        lines.append(f"  WEB key    {channel}  (channel WEB; shown once)")
        lines.append(f"  order      PUT {base}/api/v1/orders/{{id}} with the WEB key")
    else:
        lines.append("  WEB key    shown the first time (make demo-reset starts over)")
    lines += [f"  sourcing   GET {base}/api/v1/orders/{{number}}/sourcing", ""]
    print("\n".join(lines), flush=True)


def _print_welcome(settings: Settings, info: DemoInfo, pairing_code: str) -> None:
    base = f"http://{settings.host}:{settings.port}"
    lines = ["", "Aisleway demo — site CHI", f"  database   {settings.db_path}"]
    if info.created:
        assert info.items is not None
        lines.append(
            f"  created    layout (2 blocks, docks, packing), {info.items.counts.imported} items "
            f"({info.items.counts.refused} refused rows in the messy item file: see "
            f"`aisleway edge import-items --dry-run`), stock in {info.stocked_bins} bins"
        )
        lines.append(f"  API key    {info.api_key}  (demo OMS; shown once)")
        lines.append(
            f"  client key {info.client_key}  (3PL client ACME: GET /api/v1/client/stock; "
            "send docs/examples/edi-940-acme.edi to POST /api/v1/client/edi)"
        )
    else:
        lines.append("  reusing    the existing demo data (make demo-reset starts over)")
    lines += [
        "",
        f"  supervise  {base}/dashboard/  the supervisors' page (SUP01, PIN 2222)",
        f"  open       {base}/docs       the API, try it in the browser",
        f"             {base}/health",
        "  log in     POST /api/v1/auth/login with a badge and PIN:",
    ]
    for badge, pin, role, _name in USERS:
        note = "" if role in {"admin", "supervisor"} else "  (from a paired handheld)"
        lines.append(f"               {badge:<8} PIN {pin}   {role}{note}")
    lines += [
        f"  pair       handheld pairing code {pairing_code} (POST /api/v1/devices/pair)",
        f"  receive    open purchase order PO-{DEMO_PO}: POST /api/v1/scenarios/receiving/start",
        f"  ship       {DEMO_ORDERS} orders SO-DEMO-001.. in waves (a fresh demo releases them and"
        " picks some: GET /api/v1/waves, /api/v1/picking/next)",
        "  check      .venv/bin/aisleway edge check --db " + str(settings.db_path),
        "",
        "  Ctrl-C stops the servers.",
        "",
    ]
    print("\n".join(lines), flush=True)
