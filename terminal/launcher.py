"""`aisleway terminal`: start the handheld app on Linux (Android starts `terminal/main.py`).

    aisleway terminal [--server URL] [--data-dir DIR] [--profile NAME] [--simulate FILE]

Arguments are checked before Kivy is imported, so a wrong profile name or a missing script
file is refused (exit 2, reason on stderr) even where no display exists.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from terminal.net.discovery import ALL_INTERFACES, Interfaces

__all__ = ["Launch", "add_arguments", "android_main", "main", "prepare_launch", "run"]

DATA_DIR_ENV = "AISLEWAY_TERMINAL_DATA"


class LaunchError(Exception):
    """A refused launch: the sentence for stderr."""


def default_data_dir() -> Path:
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "aisleway-terminal"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        metavar="URL",
        help="edge server address (e.g. http://127.0.0.1:8000); skips the zeroconf site list",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"where the pairing and the offline queue live (default ${DATA_DIR_ENV}, "
        "else ~/.local/share/aisleway-terminal)",
    )
    p.add_argument(
        "--profile",
        metavar="NAME",
        help="scanner profile from firmware_configs/ (default: keyboard-wedge); "
        "`aisleway terminal profiles` lists them",
    )
    p.add_argument(
        "--simulate",
        metavar="FILE",
        help="also play the scans in FILE (one per line, # comments) as a simulated scanner",
    )
    p.add_argument("--no-sound", action="store_true", help="no beeps (the colours stay)")


@dataclass
class Launch:
    """Everything the app needs, checked, before Kivy is imported."""

    data_dir: Path
    server: str | None
    drivers: list[Any] = field(default_factory=list)  # ScannerDrivers other than the wedge
    wedge: Any = None  # the KeyboardWedge configured from the profile
    profile: str = ""
    sound: bool = True


def _profile_drivers(name: str | None, launch: Launch) -> None:
    from terminal.profiles.load import load_dir
    from terminal.profiles.match import driver_settings
    from terminal.scanners import ScannerConfigError, ScannerUnavailableError, make_driver
    from terminal.scanners.config import WedgeSettings
    from terminal.scanners.wedge import KeyboardWedge

    result = load_dir()
    wanted = name or "keyboard-wedge"
    profile = result.profiles.get(wanted)
    if profile is None:
        if name is None:  # no profiles shipped (a trimmed install): plain wedge defaults
            launch.wedge = KeyboardWedge()
            return
        known = ", ".join(sorted(result.profiles)) or "none"
        raise LaunchError(f"no scanner profile named {name!r} (known: {known})")
    try:
        ds = driver_settings(profile)
        launch.profile = ds.profile
        if isinstance(ds.settings, WedgeSettings):
            launch.wedge = KeyboardWedge(ds.settings, ds.framing)
        else:
            launch.drivers.append(make_driver(ds.kind, ds.settings, ds.framing))
            launch.wedge = KeyboardWedge()  # a person's typing (and a wedge scanner) still work
    except (ScannerConfigError, ScannerUnavailableError) as exc:
        raise LaunchError(f"scanner profile {wanted!r} cannot be used here: {exc}") from None


def _simulated(path: str) -> Any:
    from terminal.scanners.config import SimulatedSettings
    from terminal.scanners.simulated import SimulatedScanner, load_script

    try:
        script = load_script(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise LaunchError(f"cannot read the scan script {path!r}: {exc}") from None
    if not script:
        raise LaunchError(f"the scan script {path!r} has no scans (one per line, # comments)")
    return SimulatedScanner(SimulatedSettings(script=script, interval=2.0))


def prepare_launch(args: argparse.Namespace) -> Launch:
    """Check the arguments and build the scanner drivers (raises LaunchError)."""
    server = args.server.strip() if args.server else None
    if server is not None:
        _check_url_form(server)  # whether it answers is the app's job (it may be down now)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if data_dir.exists() and not data_dir.is_dir():
        raise LaunchError(f"--data-dir {str(data_dir)!r} is a file, not a directory")
    launch = Launch(data_dir=data_dir, server=server, sound=not args.no_sound)
    _profile_drivers(args.profile, launch)
    if args.simulate:
        launch.drivers.append(_simulated(args.simulate))
    return launch


def _check_url_form(url: str) -> None:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    try:
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        raise LaunchError(f"--server {url!r} has a bad port number") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise LaunchError(f"--server {url!r} is not a server address (example: 127.0.0.1:8000)")


def run(args: argparse.Namespace) -> int:
    try:
        launch = prepare_launch(args)
    except LaunchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from terminal.ui import env

    if not env.has_display():
        print(
            "error: no display (DISPLAY or WAYLAND_DISPLAY is not set); "
            "the terminal app needs a desktop session",
            file=sys.stderr,
        )
        return 2
    env.prepare()
    launch.data_dir.mkdir(parents=True, exist_ok=True)

    from kivy.config import Config

    Config.set("graphics", "width", "540")  # a handheld's portrait shape on a desktop
    Config.set("graphics", "height", "960")

    from terminal.ui.app import TerminalApp
    from terminal.ui.backend import EdgeBackend

    app = TerminalApp(
        EdgeBackend(launch.data_dir, interfaces=browse_interfaces(launch.server)),
        drivers=launch.drivers,
        wedge_driver=launch.wedge,
        cache_dir=launch.data_dir / "cache",
        sound=launch.sound,
        server_url=launch.server,
    )
    app.run()
    return 0


def browse_interfaces(server: str | None) -> Interfaces:
    """Where the site list looks for servers: only loopback when the app was pointed at a
    server on this machine (the demo: nothing is sent to the LAN), else every interface."""
    if server is not None:
        host = urlsplit(server if "://" in server else f"http://{server}").hostname or ""
        if host in {"127.0.0.1", "localhost"}:
            return ["127.0.0.1"]
    return ALL_INTERFACES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aisleway terminal", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def android_main() -> None:
    """The Android app (buildozer.spec): Kivy's own window, data in the app's private storage,
    scanners from the intent profile matching the device (else the keyboard wedge)."""
    from terminal.ui import env

    env.prepare()
    from kivy.app import App  # noqa: F401  # Kivy first, so android's paths are set up

    from terminal.ui.app import TerminalApp
    from terminal.ui.backend import EdgeBackend

    data_dir = Path(os.environ.get("ANDROID_PRIVATE", str(default_data_dir())))
    launch = Launch(data_dir=data_dir, server=None)
    try:
        _profile_drivers(os.environ.get("AISLEWAY_SCANNER_PROFILE"), launch)
    except LaunchError as exc:
        print(f"scanner profile: {exc}; using the keyboard wedge", file=sys.stderr)
        launch = Launch(data_dir=data_dir, server=None)
        _profile_drivers(None, launch)
    TerminalApp(
        EdgeBackend(data_dir),
        drivers=launch.drivers,
        wedge_driver=launch.wedge,
        cache_dir=data_dir / "cache",
    ).run()
