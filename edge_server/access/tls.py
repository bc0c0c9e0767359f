"""A site's own small CA for HTTPS on the edge server (docs/security.md#tls-and-pinning).

`aisleway edge tls init --dir D --host H…` writes, in D:
  ca.pem / ca-key.pem          the site CA (10 years; its key signs server certificates only)
  server.pem / server-key.pem  the edge server's certificate for the names/IPs given (2 years)
Keys are ECDSA P-256, written 0600. Handhelds pin the CA at pairing (its SHA-256 fingerprint is
shown by `aisleway edge pair` and returned by `POST /devices/pair`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edge_server.settings import Settings

__all__ = [
    "CA_VALID_DAYS",
    "SERVER_VALID_DAYS",
    "TlsFiles",
    "ca_file_for",
    "fingerprint",
    "init_tls",
    "issue_server_cert",
    "pairing_trust",
    "show_fingerprint",
]

CA_VALID_DAYS = 3650
SERVER_VALID_DAYS = 730


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path

    @classmethod
    def in_dir(cls, directory: Path) -> TlsFiles:
        return cls(
            directory / "ca.pem",
            directory / "ca-key.pem",
            directory / "server.pem",
            directory / "server-key.pem",
        )


def _write(path: Path, data: bytes, *, secret: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    if secret:
        os.chmod(path, 0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    """The certificate's names: IP addresses as such, anything else must be a DNS name."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
            continue
        except ValueError:
            pass
        if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
            raise ValueError(f"{host!r} is neither an IP address nor a host name")
        names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def fingerprint(cert_pem: bytes | str) -> str:
    """SHA-256 of the certificate's DER, lowercase hex (64 characters)."""
    data = cert_pem.encode() if isinstance(cert_pem, str) else cert_pem
    cert = x509.load_pem_x509_certificate(data)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def show_fingerprint(hex_digest: str) -> str:
    """For eyes: `AB12 CD34 …` in groups of four."""
    upper = hex_digest.upper()
    return " ".join(upper[i : i + 4] for i in range(0, len(upper), 4))


def init_tls(directory: Path, hosts: list[str], site: str, *, force: bool = False) -> TlsFiles:
    """Make a new CA and a server certificate for `hosts` in `directory`."""
    if not hosts:
        raise ValueError("give at least one host name or IP address")
    _san(hosts)  # a bad name fails before anything is written
    files = TlsFiles.in_dir(directory)
    if not force and files.ca_key.exists():
        raise FileExistsError(f"{files.ca_key} exists (use --force to replace the site CA)")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Aisleway"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Aisleway site {site} CA"),
        ]
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.ca_key, _key_pem(ca_key), secret=True)
    _write(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM), secret=False)
    issue_server_cert(files, hosts, site)
    return files


def issue_server_cert(files: TlsFiles, hosts: list[str], site: str) -> None:
    """A new server certificate for `hosts`, signed by the CA in `files` (renewal: handhelds
    keep trusting it because they pin the CA, not the server certificate)."""
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{files.ca_key} is not an EC private key")
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"aisleway-edge-{site}")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_san(hosts), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.server_key, _key_pem(key), secret=True)
    _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM), secret=False)


def ca_file_for(settings: Settings) -> Path | None:
    """The CA certificate handhelds pin, or None when TLS is off."""
    if settings.tls_cert_file is None:
        return None
    return settings.tls_ca_file or settings.tls_cert_file.parent / "ca.pem"


@lru_cache(maxsize=8)
def _read_trust(path: Path, mtime_ns: int) -> tuple[str, str]:
    pem = path.read_text(encoding="ascii")
    return pem, fingerprint(pem)


def pairing_trust(settings: Settings) -> tuple[str, str] | None:
    """(CA PEM, its SHA-256 fingerprint) for the pairing answer, or None without TLS."""
    path = ca_file_for(settings)
    if path is None:
        return None
    return _read_trust(path, path.stat().st_mtime_ns)
