"""The handheld's pairing with one edge server, kept in a small JSON file readable only by the
app's user (0600): server URL, device id and device token. The device token is a credential
(shown once at pairing); user logins are not stored here (see queue.py `save_token`)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from terminal.client.edge import DeviceCredentials

__all__ = ["CredentialStore", "StoredPairing"]


@dataclass(frozen=True, slots=True)
class StoredPairing:
    api_url: str  # e.g. "http://10.0.0.5:8000/api/v1"
    device_id: int
    device_token: str
    site: str = ""
    name: str = ""  # this handheld's name as given at pairing
    ca_pem: str = ""  # the site CA pinned at pairing over HTTPS (docs/security.md)
    ca_sha256: str = ""  # its fingerprint, shown to compare with the supervisor's

    @property
    def device(self) -> DeviceCredentials:
        return DeviceCredentials(device_id=self.device_id, device_token=self.device_token)


class CredentialStore:
    """`load()` / `save()` / `clear()` of the pairing file at `path`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> StoredPairing | None:
        """The stored pairing, or None if there is none (or the file is unreadable/corrupt:
        the user pairs again)."""
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
            return StoredPairing(
                api_url=str(raw["api_url"]),
                device_id=int(raw["device_id"]),
                device_token=str(raw["device_token"]),
                site=str(raw.get("site", "")),
                name=str(raw.get("name", "")),
                ca_pem=str(raw.get("ca_pem") or ""),
                ca_sha256=str(raw.get("ca_sha256") or ""),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, pairing: StoredPairing) -> None:
        """Write atomically (temp file + rename) with mode 0600 from the first byte."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".pairing-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(asdict(pairing), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(self.path, 0o600)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
