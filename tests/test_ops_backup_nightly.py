"""Nightly backups: `aisleway edge backup --to-dir DIR --keep N` (dated names, rotation that
touches nothing else, refusals that change nothing) and the systemd service + timer in
deploy/systemd/ that run it (docs/operations.md#nightly-backups-with-systemd)."""

from __future__ import annotations

import configparser
import hashlib
import os
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge_server.cli import build_parser, cmd_edge_backup, main
from edge_server.db import Database
from edge_server.ops.backup import BackupError, backup_to_dir, rotating_backups
from edge_server.wms.ledger import StockKey, check_ledger, receive

from factories import make_item, make_site

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "systemd"
NAME = re.compile(r"^CHI-(\d{8}-\d{6})\.db$")


def _stocked(services) -> int:
    bins = make_site(services.db)
    item = make_item(services.db, "SKU-1")
    with services.db.write() as w:
        receive(w, StockKey(bins["A01-01-1L"], item), 500)
    row = services.db.query_one("SELECT MAX(id) AS id FROM movements")
    assert row is not None
    return int(row["id"])


def _listing(folder: Path) -> dict[str, str]:
    """Every file in the folder (hidden ones too) → its SHA-256."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _other_files(folder: Path) -> dict[str, str]:
    """Files that look like backups but are not this site's dated ones: never touched."""
    others = {
        "NYC-20250101-000000.db": "another site's backup",
        "CHI-before-upgrade.db": "a hand-made copy",
        "CHI-20250101-000000.db.bak": "not .db",
        "CHI-2025010-000000.db": "a stamp of the wrong length",
        "CHI-20251399-000000.db": "not a date",
        "notes.txt": "hello",
    }
    for name, text in others.items():
        (folder / name).write_text(text)
    (folder / "CHI-20250102-000000.db").mkdir()  # a folder with a backup's name
    return _listing(folder)


def _backup(services, tmp_path: Path, *args: str) -> int:
    db = str(services.settings.db_path)
    return main(["edge", "backup", "--db", db, "--site", "CHI", *args])


def test_to_dir_writes_a_dated_checked_backup_and_keeps_the_newest_n(services, tmp_path, capsys):
    last = _stocked(services)
    folder = tmp_path / "backups"
    folder.mkdir()
    others = _other_files(folder)
    old_days = [datetime(2026, 1, d, 3, 0, 0, tzinfo=UTC) for d in (1, 2, 3, 4)]
    for day in old_days:  # earlier nights, written by the same code with their own dates
        backup_to_dir(services.settings.db_path, folder, "CHI", now=day)
    assert [p.name for p in rotating_backups(folder, "CHI")] == [
        f"CHI-2026010{d}-030000.db" for d in (1, 2, 3, 4)
    ]

    before = datetime.now(UTC).replace(microsecond=0)
    assert _backup(services, tmp_path, "--to-dir", str(folder), "--keep", "2") == 0
    after = datetime.now(UTC)
    out = capsys.readouterr().out

    kept = rotating_backups(folder, "CHI")
    assert kept[0].name == "CHI-20260104-030000.db"
    assert len(kept) == 2
    match = NAME.match(kept[1].name)
    assert match is not None
    stamp = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
    assert before <= stamp <= after  # the name is the time of the backup, in UTC
    assert f"backup written: {kept[1]}" in out
    for day in (1, 2, 3):
        assert f"old backup removed: {folder / f'CHI-2026010{day}-030000.db'}" in out
    with Database(kept[1]) as copy:
        assert check_ledger(copy).ok
        row = copy.query_one("SELECT MAX(id) AS id FROM movements")
        assert row is not None and row["id"] == last

    # Nothing else in the folder was touched, nothing left half-written.
    listing = _listing(folder)
    assert {k: v for k, v in listing.items() if k in others} == others
    assert set(listing) == set(others) | {p.name for p in kept}

    # A later night with --keep 1 leaves only itself; restore takes it back.
    later = datetime.now(UTC) + timedelta(days=1)
    rotated = backup_to_dir(services.settings.db_path, folder, "CHI", keep=1, now=later)
    assert rotating_backups(folder, "CHI") == [rotated.info.path]
    assert sorted(p.name for p in rotated.removed) == [p.name for p in kept]
    assert {k: v for k, v in _listing(folder).items() if k in others} == others
    restored = tmp_path / "restored.db"
    assert main(["edge", "restore", "--from", str(rotated.info.path), "--db", str(restored)]) == 0
    assert main(["edge", "check", "--db", str(restored)]) == 0


def test_without_keep_nothing_is_pruned(services, tmp_path):
    _stocked(services)
    folder = tmp_path / "backups"
    folder.mkdir()
    backup_to_dir(services.settings.db_path, folder, "CHI", now=datetime(2026, 1, 1, tzinfo=UTC))
    assert _backup(services, tmp_path, "--to-dir", str(folder)) == 0
    assert len(rotating_backups(folder, "CHI")) == 2


def test_a_backup_from_the_same_second_is_refused_not_replaced(services, tmp_path):
    _stocked(services)
    folder = tmp_path / "backups"
    folder.mkdir()
    now = datetime(2026, 2, 1, 3, 0, 0, tzinfo=UTC)
    first = backup_to_dir(services.settings.db_path, folder, "CHI", now=now).info.path
    listing = _listing(folder)
    with pytest.raises(BackupError, match="already exists"):
        backup_to_dir(services.settings.db_path, folder, "CHI", keep=1, now=now)
    assert _listing(folder) == listing and first.is_file()


def test_bad_arguments_are_refused_and_change_nothing(services, tmp_path, capsys):
    _stocked(services)
    folder = tmp_path / "backups"
    folder.mkdir()
    backup_to_dir(services.settings.db_path, folder, "CHI", now=datetime(2026, 1, 1, tzinfo=UTC))
    backup_to_dir(services.settings.db_path, folder, "CHI", now=datetime(2026, 1, 2, tzinfo=UTC))
    _other_files(folder)
    listing = _listing(folder)
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    if os.geteuid() == 0:
        read_only = Path("/sys")  # root may write anywhere the mount and the kernel allow
    else:
        read_only = tmp_path / "read-only"
        read_only.mkdir()
        read_only.chmod(0o500)
    cases = [
        (["--to-dir", str(folder), "--keep", "0"], "--keep must be at least 1"),
        (["--to-dir", str(folder), "--keep", "-3"], "--keep must be at least 1"),
        (["--to-dir", str(tmp_path / "missing")], "does not exist"),
        (["--to-dir", str(a_file)], "is not a folder"),
        (["--to-dir", str(read_only), "--keep", "1"], "is not writable"),
        (["--to-dir", str(folder), "--force"], "--force goes with --to"),
        (["--to", str(tmp_path / "one.db"), "--keep", "2"], "--keep goes with --to-dir"),
    ]
    for args, reason in cases:
        assert _backup(services, tmp_path, *args) == 2, args
        err = capsys.readouterr().err
        assert reason in err, (args, err)
        assert _listing(folder) == listing
    assert not (tmp_path / "missing").exists() and not (tmp_path / "one.db").exists()
    assert a_file.read_text() == "x"
    if read_only != Path("/sys"):
        assert list(read_only.iterdir()) == []

    missing_db = ["edge", "backup", "--db", str(tmp_path / "nope.db"), "--to-dir", str(folder)]
    assert main([*missing_db, "--keep", "1"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert _listing(folder) == listing

    for args in (
        ["--to", str(tmp_path / "one.db"), "--to-dir", str(folder)],  # both
        [],  # neither
        ["--to-dir", str(folder), "--keep", "two"],
    ):
        with pytest.raises(SystemExit) as exited:
            _backup(services, tmp_path, *args)
        assert exited.value.code == 2
        assert "usage:" in capsys.readouterr().err
        assert _listing(folder) == listing


def test_a_site_code_that_cannot_be_a_file_name_is_refused(services, tmp_path, capsys):
    _stocked(services)
    folder = tmp_path / "backups"
    folder.mkdir()
    for site in ("../CHI", ".hidden"):
        db = str(services.settings.db_path)
        assert main(["edge", "backup", "--db", db, "--site", site, "--to-dir", str(folder)]) == 2
        assert "cannot be part of a file name" in capsys.readouterr().err
    assert list(folder.iterdir()) == []


# -- deploy/systemd/aisleway-edge-backup.{service,timer} --------------------------------------
def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    unit.read_string((DEPLOY / name).read_text())
    return unit


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)\s*(s|min|h)?", value).groups()  # type: ignore[union-attr]
    return float(number) * {"s": 1, None: 1, "min": 60, "h": 3600}[unit]


def test_the_backup_service_runs_the_real_backup_command_into_its_writable_folder():
    service = _unit("aisleway-edge-backup.service")["Service"]
    server = _unit("aisleway-edge.service")["Service"]
    assert service["Type"] == "oneshot"
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == shlex.split(server["ExecStart"])[0]  # the same installed `aisleway`
    args = build_parser().parse_args(argv[1:])
    assert args.handler is cmd_edge_backup
    assert args.to is None and args.keep is not None and args.keep >= 1
    to_dir = Path(args.to_dir)
    writable = [Path(p) for p in service["ReadWritePaths"].split()]
    assert any(to_dir.is_relative_to(p) for p in writable)
    state = service["StateDirectory"].split()
    assert str(to_dir.relative_to("/var/lib")) in state  # systemd creates it, owned by aisleway
    # As the server: same user, same settings (the database path and the site code).
    for key in ("User", "Group", "EnvironmentFile"):
        assert service[key] == server[key], key
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"


def test_the_timer_starts_the_backup_daily_and_catches_up_after_downtime():
    unit = _unit("aisleway-edge-backup.timer")
    timer = unit["Timer"]
    assert timer["OnCalendar"] == "daily"
    assert timer["Persistent"] == "true"
    assert 0 < _seconds(timer["RandomizedDelaySec"]) <= 3600
    assert timer["Unit"] == "aisleway-edge-backup.service"
    assert (DEPLOY / timer["Unit"]).is_file()
    assert unit["Install"]["WantedBy"] == "timers.target"
    assert "Install" not in _unit("aisleway-edge-backup.service")  # started by the timer only
