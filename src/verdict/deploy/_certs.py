"""A self-signed TLS certificate for gateways and replicas that run locally.

HAProxy's ``crt`` wants one PEM holding the certificate and its private key; the same file is
the trust anchor a client verifies the gateway with (``ssl.create_default_context(cafile=...)``,
or HAProxy's ``ca-file`` when it re-encrypts to replicas), because a self-signed certificate is
its own certificate authority. Production gateways present a certificate from a real authority
(``gateway.tls.cert``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path

from verdict.errors import ConfigurationError

__all__ = ["self_signed_certificate"]

FILENAME = "verdict-self-signed.pem"
VALID_DAYS = 30
_RENEW_BEFORE = dt.timedelta(days=1)


def self_signed_certificate(
    folder: Path, hosts: Sequence[str] = ("localhost", "127.0.0.1")
) -> Path:
    """Write (or reuse) a self-signed certificate and key for ``hosts`` as one PEM file.

    Parameters
    ----------
    folder : Path
        Where the file goes (created 0700 if missing); the file is ``verdict-self-signed.pem``.
    hosts : sequence of str
        DNS names and IP addresses the certificate is valid for (its subject alternative
        names); the first names the subject.

    Returns
    -------
    Path
        The PEM (certificate, then an unencrypted private key), mode 0600. An existing file
        that is still valid for more than a day and covers every host is reused, so repeated
        local runs keep one trust anchor.

    Raises
    ------
    ConfigurationError
        When ``hosts`` is empty or the folder cannot be written.
    """
    if not hosts:
        raise ConfigurationError(
            "a certificate needs at least one host name or IP address. "
            "To fix: pass hosts, e.g. ('localhost', '127.0.0.1')."
        )
    folder = Path(folder)
    path = folder / FILENAME
    if _reusable(path, hosts):
        return path
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # an existing one is kept as is
        _write_private(path, _generate(list(hosts)))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the certificate {path}: {exc.strerror or exc}. "
            "To fix: choose a folder you can write to."
        ) from None
    return path


def _generate(hosts: list[str]) -> bytes:
    """A fresh EC P-256 key and a certificate for ``hosts``, both PEM-encoded."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), critical=False)
        # Its own CA: clients and HAProxy trust it directly as the anchor.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM) + key_pem


def _alt_names(hosts: Sequence[str]) -> list:
    """Subject alternative names: an IP address entry where the host parses as one."""
    from cryptography import x509

    names: list = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _reusable(path: Path, hosts: Sequence[str]) -> bool:
    """Whether ``path`` holds a certificate and key valid for a day more, covering ``hosts``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        data = path.read_bytes()
        cert = x509.load_pem_x509_certificate(data)
        key = serialization.load_pem_private_key(data, password=None)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    if key.public_key() != cert.public_key():
        return False
    if cert.not_valid_after_utc - dt.datetime.now(dt.UTC) < _RENEW_BEFORE:
        return False
    covered = {str(n.value) for n in sans}
    return {str(_normal(h)) for h in hosts} <= covered


def _normal(host: str) -> object:
    """An IP address in its canonical form, or the name unchanged."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return host


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only, replacing any old file atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
