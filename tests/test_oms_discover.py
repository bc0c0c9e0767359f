"""`aisleway oms discover` (edge_server/oms/discovery.py): the OMS finds sites' edge servers
advertised with zeroconf (on 127.0.0.1 only, each test with a site code of its own) and, with
`--add --key`, adds them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from edge_server.cli import main
from edge_server.discovery import Advertiser
from edge_server.oms.services import open_oms_services
from edge_server.oms.settings import OmsSettings
from edge_server.oms.sites import get_site

from conftest import make_settings


def unique_site() -> str:
    return "T" + uuid.uuid4().hex[:6].upper()


@pytest.fixture
def advertised(tmp_path: Path):
    site = unique_site()
    adv = Advertiser(make_settings(tmp_path, site=site, port=18741, advertise=True))
    adv.start()
    yield site
    adv.stop()


def test_discover_add_registers_the_site_with_its_key(
    advertised: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("AISLEWAY_OMS_WEBHOOK_ALLOW_PRIVATE", "true")
    db = tmp_path / "oms.db"
    args = ["oms", "discover", "--db", str(db), "--interface", "127.0.0.1", "--timeout", "2"]
    assert main([*args, "--add", "--key", f"{advertised}=ak_demo_key_123"]) == 0
    out = capsys.readouterr().out
    assert f"{advertised}" in out and "(site created)" in out
    services = open_oms_services(OmsSettings(db_path=db))
    try:
        site = get_site(services.db, advertised)
        assert site is not None
        assert site.base_url == "http://127.0.0.1:18741" and site.api_key == "ak_demo_key_123"
    finally:
        services.db.close()
    # Found again: the stored key stays, nothing changes.
    assert main([*args, "--add"]) == 0
    assert "(site unchanged)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, text",
    [
        (["--key", "CHI"], "is not SITE=KEY"),
        (["--key", "chi=ak_x"], "is not SITE=KEY"),
        (["--key", "CHI="], "is not SITE=KEY"),
    ],
)
def test_bad_keys_are_refused_before_browsing(tmp_path: Path, capsys, extra, text) -> None:
    db = tmp_path / "oms.db"
    assert main(["oms", "discover", "--db", str(db), "--add", *extra]) == 2
    assert text in capsys.readouterr().err
    assert not db.exists()


def test_a_key_without_add_is_refused(tmp_path: Path, capsys) -> None:
    db = tmp_path / "oms.db"
    assert main(["oms", "discover", "--db", str(db), "--key", "CHI=ak_x"]) == 2
    assert "--key is for --add" in capsys.readouterr().err
    assert not db.exists()
