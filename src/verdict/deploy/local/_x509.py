"""Building blocks of the certificates in ``_certs``: keys, names, extensions, signing.

Imported only when a certificate is made or checked (``cryptography`` takes ~0.1 s to import).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
Extensions = list[tuple[x509.ExtensionType, bool]]  # (extension, critical)
_BACKDATE = dt.timedelta(minutes=5)  # tolerate clients whose clocks run slightly behind


def new_key() -> ec.EllipticCurvePrivateKey:
    """A new ECDSA P-256 key (why P-256: see ``_certs``)."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: Key) -> bytes:
    """The unencrypted PKCS#8 PEM of ``key``."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(*certs: x509.Certificate) -> bytes:
    """The PEM of ``certs``, one after the other."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def load_key(data: bytes) -> Key:
    """An unencrypted EC or RSA private key from PEM; ValueError or TypeError otherwise."""
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Key):
        raise ValueError(f"it holds a {type(key).__name__}; an EC or RSA key is needed")
    return key


def load_certs(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM; ValueError when there is none."""
    return x509.load_pem_x509_certificates(data)


def same_key(key: Key, cert: x509.Certificate) -> bool:
    """Whether ``cert`` certifies the public half of ``key``."""
    encoding, form = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(encoding, form) == cert.public_key().public_bytes(
        encoding, form
    )


def is_ca(cert: x509.Certificate) -> bool:
    """Whether ``cert`` may sign certificates: CA:TRUE and key usage keyCertSign.

    Key usage must be present: strict verifiers (Python 3.13's default) refuse a CA without it.
    """
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca and usage.key_cert_sign


def left(cert: x509.Certificate) -> dt.timedelta:
    """How long ``cert`` stays valid from now."""
    return cert.not_valid_after_utc - dt.datetime.now(dt.UTC)


def new_ca(days: int) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA that signs leaf certificates only (path length 0), and its key."""
    key = new_key()
    name = _name(f"verdict deployment CA {secrets.token_hex(4)}")  # told apart across homes
    extensions = constraints(ca=True) + key_usage(ca=True)
    return sign(name, key, name, key, dt.timedelta(days=days), extensions), key


def new_leaf(
    ca: x509.Certificate, ca_key: Key, hosts: Sequence[str], days: int
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A server certificate for ``hosts`` signed by ``ca`` (never outliving it), and its key."""
    key = new_key()
    lifetime = min(dt.timedelta(days=days), left(ca))
    extensions = constraints(ca=False) + key_usage(ca=False) + server_use(hosts)
    return sign(_name(hosts[0]), key, ca.subject, ca_key, lifetime, extensions), key


def sign(
    subject: x509.Name,
    key: Key,
    issuer: x509.Name,
    issuer_key: Key,
    lifetime: dt.timedelta,
    extensions: Extensions,
) -> x509.Certificate:
    """A certificate of ``key`` for ``subject`` signed by ``issuer_key``, with key identifiers."""
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + lifetime)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def constraints(*, ca: bool) -> Extensions:
    """Basic constraints (critical): a CA that signs leaves only, or not a CA."""
    return [(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True)]


def key_usage(*, ca: bool) -> Extensions:
    """Key usage (critical): a CA signs certificates and CRLs; a server signs handshakes.

    ``keyEncipherment`` is RSA key transport, which RFC 5480 forbids for EC keys.
    """
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    return [(usage, True)]


def server_use(hosts: Sequence[str]) -> Extensions:
    """Extended key usage serverAuth, and ``hosts`` as subject alternative names."""
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        address = ip_address(host)
        names.append(x509.DNSName(host) if address is None else x509.IPAddress(address))
    return [
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectAlternativeName(names), False),
    ]


def covers(cert: x509.Certificate, hosts: Sequence[str]) -> bool:
    """Whether ``cert``'s subject alternative names include every one of ``hosts``."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    covered = {str(n.value) for n in sans}
    return {str(ip_address(h) or h) for h in hosts} <= covered


def ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address, or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "verdict"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def self_signed(hosts: Sequence[str], days: int) -> tuple[x509.Certificate, Key]:
    """A certificate for ``hosts`` that is its own CA (tests only: see ``_certs``)."""
    key = new_key()
    name = _name(hosts[0])
    extensions = constraints(ca=True) + key_usage(ca=True) + server_use(hosts)
    return sign(name, key, name, key, dt.timedelta(days=days), extensions), key
