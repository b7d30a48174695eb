"""The local deployment's certificate authority and the gateway certificate it signs.

``verdict deploy up --local`` gives each deployment home a CA of its own, or takes one named in
the spec (``gateway.tls.ca_cert`` and ``gateway.tls.ca_key``), and signs a fresh leaf
certificate for the HAProxy gateway on every run. Clients trust the CA certificate, never the
gateway's own file, so no private key is ever handed out:

- ``<home>/deploy/ca.pem`` (0644): the CA certificate only, what clients pass (``--cacert``);
- ``<home>/deploy/ca.key`` (0600): the CA's private key, which signs gateway certificates and
  stays here;
- ``<home>/deploy/gateway/gateway.pem`` (0600): the gateway's leaf certificate, any intermediate
  CA, then the leaf's private key: HAProxy's ``crt``, read by HAProxy alone.

The deployment folder itself is 0700. A CA made once is reused by every later ``up`` in the same
home, so clients keep trusting it, until it has less than a leaf's lifetime left (then a new
one is made, and clients fetch the new ``ca.pem``). The CA lives 10 years and a leaf 90 days,
capped at its CA's expiry. A CA given in the spec is checked before use (:func:`load_ca`: a
CA certificate with no key in its file, its key matching and 0600, valid a day more) and its
certificate file is then what clients pass; nothing is written beside it.

Keys are ECDSA P-256: 128-bit security (RSA 2048 gives 112), a key made in well under a
millisecond (RSA 2048: tens of milliseconds), smaller certificates and handshakes, and support
in HAProxy/OpenSSL, curl, Python and every browser. As RFC 5480 requires for EC keys, the leaf's
key usage is ``digitalSignature`` alone (``keyEncipherment`` is RSA key transport). A CA given
in the spec may hold an EC or RSA key.

Rendered (multi-cloud) gateways present a certificate from your own authority instead
(``gateway.tls.cert``); :func:`self_signed_certificate` remains for tests and scratch servers
that want one file serving as both the server certificate and its trust anchor.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from verdict.errors import ConfigurationError

__all__ = [
    "Authority",
    "deployment_ca",
    "load_ca",
    "self_signed_certificate",
    "server_certificate",
]

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"
SERVER_FILE = "gateway.pem"
FILENAME = "verdict-self-signed.pem"  # self_signed_certificate's file
CA_VALID_DAYS = 3650
LEAF_VALID_DAYS = 90
VALID_DAYS = 30  # self_signed_certificate
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_RENEW_BEFORE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Authority:
    """A certificate authority on disk.

    Parameters
    ----------
    certificate : Path
        PEM with the CA certificate (then any chain up to a root), no key: what clients trust.
    key : Path
        PEM with the CA's unencrypted private key, readable by its owner only.
    """

    certificate: Path
    key: Path


def deployment_ca(folder: Path, given: tuple[Path, Path] | None = None) -> Authority:
    """The deployment's CA: the one ``given``, else the one kept in ``folder``, else a new one.

    Parameters
    ----------
    folder : Path
        The deployment folder (created 0700 if missing); a CA made here is ``ca.pem`` (0644,
        the certificate only) and ``ca.key`` (0600).
    given : (Path, Path), optional
        A CA certificate and key of your own (``gateway.tls.ca_cert`` and ``ca_key``), checked
        by :func:`load_ca`; nothing is written then.

    Returns
    -------
    Authority
        A CA kept in ``folder`` is reused while it stays valid longer than a leaf certificate
        lives (90 days), so clients keep trusting the same ``ca.pem``.

    Raises
    ------
    ConfigurationError
        When the given CA is unusable or ``folder`` cannot be written.
    """
    if given is not None:
        return load_ca(*given)
    from verdict._files import private_folder
    from verdict.deploy.local import _x509

    folder = Path(folder)
    authority = Authority(folder / CA_CERT_FILE, folder / CA_KEY_FILE)
    if _problem(authority, dt.timedelta(days=LEAF_VALID_DAYS)) is None:
        return authority
    try:
        private_folder(folder)
        cert, key = _x509.new_ca(CA_VALID_DAYS)
        _write(authority.key, _x509.key_pem(key), 0o600)  # the key first: a half pair is remade
        _write(authority.certificate, _x509.cert_pem(cert), 0o644)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the deployment's CA in {folder}: {exc.strerror or exc}. "
            "To fix: make the folder writable, or name a CA in gateway.tls.ca_cert and ca_key."
        ) from None
    return authority


def load_ca(certificate: Path, key: Path) -> Authority:
    """Check a CA given in the spec: readable, a CA, its key matching and private, not expired.

    Parameters
    ----------
    certificate : Path
        PEM of the CA certificate, then any chain up to a root. It is the file clients get, so
        it may hold no private key.
    key : Path
        PEM of the CA's unencrypted EC or RSA private key, readable by its owner only.

    Returns
    -------
    Authority

    Raises
    ------
    ConfigurationError
        Naming the file and what is wrong with it.
    """
    authority = Authority(Path(certificate), Path(key))
    problem = _problem(authority, _RENEW_BEFORE)
    if problem is None and os.name == "posix" and authority.key.stat().st_mode & 0o077:
        problem = f"other users may read {key}. To fix: `chmod 600 {key}`"
    if problem is not None:
        raise ConfigurationError(f"the CA in gateway.tls.ca_cert/ca_key is unusable: {problem}.")
    return authority


def server_certificate(
    authority: Authority, path: Path, hosts: Sequence[str] = LOCAL_HOSTS
) -> Path:
    """Sign a new leaf certificate for ``hosts`` and write it with its key, for HAProxy.

    Parameters
    ----------
    authority : Authority
        The CA that signs it (see :func:`deployment_ca`).
    path : Path
        The PEM to write, mode 0600: the leaf, any intermediate CA of the authority's file,
        then the leaf's private key (HAProxy's ``crt``).
    hosts : sequence of str
        DNS names and IP addresses it is valid for (subject alternative names); the first
        names the subject.

    Returns
    -------
    Path
        ``path``. The leaf is not a CA, is for TLS servers only (``serverAuth``) and lives
        90 days, or less when its CA expires sooner.

    Raises
    ------
    ConfigurationError
        When ``hosts`` is empty, the CA cannot be read, or ``path`` cannot be written.
    """
    from verdict._files import private_folder
    from verdict.deploy.local import _x509

    _check_hosts(hosts)
    path = Path(path)
    try:
        chain = _x509.load_certs(authority.certificate.read_bytes())
        cert, key = _x509.new_leaf(
            chain[0], _x509.load_key(authority.key.read_bytes()), hosts, LEAF_VALID_DAYS
        )
        intermediates = [c for c in chain if c.issuer != c.subject]  # a root: clients have it
        private_folder(path.parent)
        _write(path, _x509.cert_pem(cert, *intermediates) + _x509.key_pem(key), 0o600)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot issue the gateway certificate {path}: {exc.filename}: {exc.strerror}. "
            "To fix: make the CA files readable and the folder writable."
        ) from None
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"cannot issue the gateway certificate {path}: the CA files are unreadable ({exc}). "
            "To fix: check them with `openssl x509 -in CERT -noout -text`."
        ) from None
    return path


def self_signed_certificate(
    folder: Path, hosts: Sequence[str] = ("localhost", "127.0.0.1")
) -> Path:
    """Write (or reuse) one PEM with a self-signed certificate and its key, for tests.

    The certificate is its own CA and the file holds its private key, so it is never handed
    to clients: deployments use :func:`deployment_ca` and :func:`server_certificate`.

    Parameters
    ----------
    folder : Path
        Where ``verdict-self-signed.pem`` goes (created 0700 if missing); mode 0600.
    hosts : sequence of str
        DNS names and IP addresses the certificate is valid for; the first names the subject.

    Returns
    -------
    Path
        The PEM (certificate, then key). A file valid for a day more that covers ``hosts`` is
        reused.

    Raises
    ------
    ConfigurationError
        When ``hosts`` is empty or the folder cannot be written.
    """
    from verdict.deploy.local import _x509

    _check_hosts(hosts)
    path = Path(folder) / FILENAME
    try:
        data = path.read_bytes()
        cert, key = _x509.load_certs(data)[0], _x509.load_key(data)
        fresh = _x509.left(cert) >= _RENEW_BEFORE
        if fresh and _x509.same_key(key, cert) and _x509.covers(cert, hosts):
            return path
    except (OSError, ValueError, TypeError):
        pass  # missing or unreadable: made anew
    try:
        Path(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
        cert, key = _x509.self_signed(hosts, VALID_DAYS)
        _write(path, _x509.cert_pem(cert) + _x509.key_pem(key), 0o600)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the certificate {path}: {exc.strerror or exc}. "
            "To fix: choose a folder you can write to."
        ) from None
    return path


def _problem(authority: Authority, margin: dt.timedelta) -> str | None:
    """Why ``authority`` cannot sign for ``margin`` more, or None when it can."""
    from verdict.deploy.local import _x509

    try:
        text = authority.certificate.read_bytes()
        ca = _x509.load_certs(text)[0]
        key = _x509.load_key(authority.key.read_bytes())
    except OSError as exc:
        return f"cannot read {exc.filename}: {exc.strerror}. To fix: check the path"
    except (ValueError, TypeError) as exc:
        return (
            f"{authority.certificate} or {authority.key} is unreadable as PEM ({exc}). To fix: "
            "give a PEM certificate and its unencrypted key (`openssl pkey -in KEY -out NEW`)"
        )
    if b"PRIVATE KEY" in text:
        return (
            f"{authority.certificate} holds a private key, and clients get that file. "
            "To fix: keep the key in its own file (ca_key) and only certificates in ca_cert"
        )
    if not _x509.is_ca(ca):
        return (
            f"{authority.certificate} is not a CA certificate (it needs basic constraints "
            "CA:TRUE and key usage keyCertSign). To fix: give a certificate authority's"
        )
    if not _x509.same_key(key, ca):
        return f"{authority.key} is not the key of {authority.certificate}. To fix: pair them"
    if _x509.left(ca) < margin:
        return (
            f"{authority.certificate} expires {ca.not_valid_after_utc:%Y-%m-%d %H:%M} UTC. "
            "To fix: renew the CA"
        )
    return None


def _check_hosts(hosts: Sequence[str]) -> None:
    """Refuse an empty list of hosts."""
    if not hosts:
        raise ConfigurationError(
            "a certificate needs at least one host name or IP address. "
            "To fix: pass hosts, e.g. ('localhost', '127.0.0.1')."
        )


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` with exactly ``mode``, replacing any old file atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
