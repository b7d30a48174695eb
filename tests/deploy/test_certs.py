"""The deployment's CA and the gateway's leaf: clients get the CA certificate, never a key.

The CA is made once per home (or taken from the spec), kept 0600, reused by later runs; the
gateway presents a leaf it signed (CA:FALSE, serverAuth, SANs), which a real HAProxy serves and
httpx verifies against ``ca.pem`` alone.
"""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import os
import re
import shutil
import socket
import ssl
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from deploy_support import BASE

from verdict.deploy import parse_spec
from verdict.deploy.local import _certs
from verdict.deploy.local import _procs as procs
from verdict.deploy.local import _up as _local
from verdict.deploy.local._certs import (
    deployment_ca,
    load_ca,
    self_signed_certificate,
    server_certificate,
)
from verdict.deploy.local._state import DeploymentState
from verdict.errors import ConfigurationError

HAPROXY = shutil.which("haproxy") or next(
    (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.path.exists(p)), None
)
needs_haproxy = pytest.mark.skipif(
    HAPROXY is None and not os.environ.get("VERDICT_REQUIRE_HAPROXY"),
    reason="haproxy is not installed (apt install haproxy; .ci/run installs it)",
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def pem_labels(path: Path) -> list[str]:
    """The kinds of PEM blocks in a file, in order (CERTIFICATE, PRIVATE KEY, ...)."""
    return re.findall(r"-----BEGIN ([A-Z ]+)-----", path.read_text(encoding="ascii"))


def extension(cert: x509.Certificate, kind: type) -> x509.Extension:
    return cert.extensions.get_extension_for_class(kind)


def leaf_of(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificates(path.read_bytes())[0]


# --- the CA a deployment makes -------------------------------------------------------------


def test_the_client_file_holds_the_ca_certificate_and_no_key(tmp_path: Path) -> None:
    folder = tmp_path / "deploy"
    ca = deployment_ca(folder)
    assert ca.certificate == folder / "ca.pem" and ca.key == folder / "ca.key"
    assert pem_labels(ca.certificate) == ["CERTIFICATE"]  # one certificate, nothing else
    assert "PRIVATE KEY" in pem_labels(ca.key)[0]
    assert mode(ca.key) == 0o600 and mode(folder) == 0o700
    assert mode(ca.certificate) == 0o644  # public: inside the 0700 folder anyway
    cert = x509.load_pem_x509_certificate(ca.certificate.read_bytes())
    constraints = extension(cert, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = extension(cert, x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)  # self-signed root
    key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    lifetime = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=3649) < lifetime <= dt.timedelta(days=3650)


def test_a_second_run_reuses_the_ca(tmp_path: Path) -> None:
    first = deployment_ca(tmp_path)
    cert, key = first.certificate.read_bytes(), first.key.read_bytes()
    leaf1 = server_certificate(first, tmp_path / "a.pem")
    again = deployment_ca(tmp_path)
    assert again == first
    assert again.certificate.read_bytes() == cert and again.key.read_bytes() == key
    leaf2 = server_certificate(again, tmp_path / "b.pem")
    ca = x509.load_pem_x509_certificate(cert)
    for leaf in (leaf_of(leaf1), leaf_of(leaf2)):
        leaf.verify_directly_issued_by(ca)  # both leaves trusted through the same ca.pem
    assert leaf_of(leaf1).serial_number != leaf_of(leaf2).serial_number  # a fresh leaf per run


def test_a_ca_expiring_soon_or_broken_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_certs, "CA_VALID_DAYS", 60)  # under a leaf's 90 days: renew
    short = deployment_ca(tmp_path / "short").certificate.read_bytes()
    assert deployment_ca(tmp_path / "short").certificate.read_bytes() != short
    monkeypatch.undo()
    ca = deployment_ca(tmp_path / "broken")
    old = ca.certificate.read_bytes()
    other = ec.generate_private_key(ec.SECP256R1())
    ca.key.write_bytes(_key_pem(other))  # a key that is not the certificate's
    assert deployment_ca(tmp_path / "broken").certificate.read_bytes() != old
    ca.certificate.write_text("not a certificate")
    assert pem_labels(deployment_ca(tmp_path / "broken").certificate) == ["CERTIFICATE"]


# --- the gateway's leaf --------------------------------------------------------------------


def test_the_gateway_certificate_is_a_leaf_signed_by_the_ca(tmp_path: Path) -> None:
    ca = deployment_ca(tmp_path / "deploy")
    path = server_certificate(ca, tmp_path / "deploy" / "gateway" / "gateway.pem")
    assert mode(path) == 0o600
    assert pem_labels(path) == ["CERTIFICATE", "PRIVATE KEY"]  # HAProxy's crt: leaf, key
    leaf = leaf_of(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert key.public_key() == leaf.public_key()
    root = x509.load_pem_x509_certificate(ca.certificate.read_bytes())
    leaf.verify_directly_issued_by(root)  # the signature checks out against ca.pem
    assert leaf.issuer == root.subject and leaf.subject != root.subject
    constraints = extension(leaf, x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    usage = extension(leaf, x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert not usage.value.key_cert_sign and not usage.value.crl_sign
    assert not usage.value.key_encipherment  # RFC 5480: not for an EC key
    assert list(extension(leaf, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    sans = extension(leaf, x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    root_ski = extension(root, x509.SubjectKeyIdentifier).value.digest
    assert extension(leaf, x509.AuthorityKeyIdentifier).value.key_identifier == root_ski
    leaf_ski = extension(leaf, x509.SubjectKeyIdentifier).value
    assert leaf_ski == x509.SubjectKeyIdentifier.from_public_key(leaf.public_key())
    lifetime = leaf.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=89) < lifetime <= dt.timedelta(days=90)


def test_a_leaf_never_outlives_its_ca(tmp_path: Path) -> None:
    cert, key = make_ca(tmp_path, days=10)
    leaf = leaf_of(server_certificate(load_ca(cert, key), tmp_path / "gw.pem"))
    ca = x509.load_pem_x509_certificate(cert.read_bytes())
    assert leaf.not_valid_after_utc <= ca.not_valid_after_utc


def test_no_hosts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="To fix:"):
        server_certificate(deployment_ca(tmp_path), tmp_path / "gw.pem", [])


# --- a CA given in the spec ----------------------------------------------------------------


def make_ca(
    folder: Path, *, days: int = 365, is_ca: bool = True, rsa_key: bool = False, usage: bool = True
) -> tuple[Path, Path]:
    """A CA of the user's own (as an organisation's would be), written 0600."""
    key = (
        rsa.generate_private_key(65537, 2048)
        if rsa_key
        else ec.generate_private_key(ec.SECP384R1())
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example Corp CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if usage:
        cert = cert.add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    cert = cert.sign(key, hashes.SHA256())
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "corp-ca.pem", folder / "corp-ca.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(_key_pem(key))
    key_path.chmod(0o600)
    return cert_path, key_path


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.mark.parametrize("rsa_key", [False, True], ids=["ec", "rsa"])
def test_a_ca_given_in_the_spec_signs_the_leaf(tmp_path: Path, rsa_key: bool) -> None:
    cert, key = make_ca(tmp_path / "mine", rsa_key=rsa_key)
    folder = tmp_path / "deploy"
    ca = deployment_ca(folder, (cert, key))
    assert ca.certificate == cert and ca.key == key
    assert not folder.exists()  # nothing of its own made or written
    leaf = leaf_of(server_certificate(ca, tmp_path / "gw.pem"))
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(cert.read_bytes()))


def test_an_intermediate_ca_is_sent_with_the_leaf(tmp_path: Path) -> None:
    root_cert, root_key = make_ca(tmp_path / "root")
    root = x509.load_pem_x509_certificate(root_cert.read_bytes())
    signer = serialization.load_pem_private_key(root_key.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    middle = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Corp deploy CA")]))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=200))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(root.extensions.get_extension_for_class(x509.KeyUsage).value, True)
        .sign(signer, hashes.SHA256())
    )
    cert, key_path = tmp_path / "deploy-ca.pem", tmp_path / "deploy-ca.key"
    cert.write_bytes(middle.public_bytes(serialization.Encoding.PEM) + root_cert.read_bytes())
    key_path.write_bytes(_key_pem(key))
    key_path.chmod(0o600)
    pem = server_certificate(load_ca(cert, key_path), tmp_path / "gw.pem")
    assert pem_labels(pem) == ["CERTIFICATE", "CERTIFICATE", "PRIVATE KEY"]  # no root sent
    leaf, sent = x509.load_pem_x509_certificates(pem.read_bytes())
    assert sent == middle
    leaf.verify_directly_issued_by(middle)


def test_spec_names_both_ca_files_or_neither(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["gateway"] = {"tls": {"ca_cert": "ca/corp.pem"}}
    with pytest.raises(ConfigurationError, match=r"gateway\.tls.*ca_cert and ca_key together"):
        parse_spec(data)
    data["gateway"]["tls"]["ca_key"] = "/secrets/corp.key"
    tls = parse_spec(data).gateway.tls
    assert tls.ca_files(tmp_path) == (tmp_path / "ca" / "corp.pem", Path("/secrets/corp.key"))
    assert parse_spec(copy.deepcopy(BASE)).gateway.tls.ca_files(tmp_path) is None


def _holds_key(cert: Path, key: Path) -> None:
    cert.write_bytes(cert.read_bytes() + key.read_bytes())


def _not_a_ca(cert: Path, key: Path) -> None:
    make_ca(cert.parent, is_ca=False)


def _no_key_usage(cert: Path, key: Path) -> None:
    make_ca(cert.parent, usage=False)  # strict clients (Python 3.13's default) refuse it


def _other_key(cert: Path, key: Path) -> None:
    key.write_bytes(_key_pem(ec.generate_private_key(ec.SECP256R1())))


def _readable_key(cert: Path, key: Path) -> None:
    key.chmod(0o644)


def _expired(cert: Path, key: Path) -> None:
    make_ca(cert.parent, days=-1)


def _missing(cert: Path, key: Path) -> None:
    key.unlink()


def _encrypted(cert: Path, key: Path) -> None:
    loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
    key.write_bytes(
        loaded.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (_holds_key, "holds a private key"),
        (_not_a_ca, "is not a CA certificate"),
        (_no_key_usage, "key usage keyCertSign"),
        (_other_key, "is not the key of"),
        (_readable_key, "chmod 600"),
        (_expired, "expires"),
        (_missing, "cannot read"),
        (_encrypted, "unencrypted"),
    ],
)
def test_an_unusable_given_ca_is_refused(tmp_path: Path, spoil: Any, said: str) -> None:
    cert, key = make_ca(tmp_path)
    spoil(cert, key)
    with pytest.raises(ConfigurationError, match=said) as caught:
        deployment_ca(tmp_path / "deploy", (cert, key))
    assert "gateway.tls.ca_cert" in str(caught.value) and "To fix:" in str(caught.value)


# --- through a real HAProxy ----------------------------------------------------------------


def tls_config(pem: Path, port: int) -> str:
    return f"""\
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s

frontend gateway
    bind 127.0.0.1:{port} ssl crt {pem} alpn http/1.1
    http-request return status 200 content-type text/plain string ok
"""


def strict_context(cafile: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cafile))
    context.verify_flags |= ssl.VERIFY_X509_STRICT  # the stricter default of newer Pythons
    return context


def start_gateway(tmp_path: Path, spec_data: dict[str, Any]) -> DeploymentState:
    """``_start_gateway`` for real (CA, leaf, HAProxy) with a one-answer config, no replicas."""
    (tmp_path / "deploy.yaml").write_text("# read through spec_data\n", encoding="utf-8")
    folder = tmp_path / "deploy"
    state = DeploymentState(
        spec_path=str(tmp_path / "deploy.yaml"), model="penguins@production", version=1,
        folder=str(folder), central_state_url="", registry_url="", gateway_port=0,
        gateway_pid=0, gateway_config=str(folder / "gateway" / "haproxy.cfg"), certificate="",
        stats_socket="",
    )  # fmt: skip
    _local._start_gateway(state, parse_spec(spec_data))
    return state


@needs_haproxy
def test_haproxy_serves_the_leaf_and_clients_verify_it_with_ca_pem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        _local, "render_local_gateway", lambda s, _: tls_config(s.certificate, s.gateway_port)
    )
    monkeypatch.setattr(_local, "wait_gateway_ready", lambda state: None)
    legacy = tmp_path / "deploy" / "gateway" / _certs.FILENAME
    self_signed_certificate(legacy.parent)  # what older runs left: a cert and its key
    state = start_gateway(tmp_path, copy.deepcopy(BASE))
    try:
        folder = tmp_path / "deploy"
        assert state.ca_certificate == str(folder / "ca.pem")
        assert state.certificate == str(folder / "gateway" / "gateway.pem")
        assert DeploymentState.load(folder).ca_certificate == state.ca_certificate
        assert not legacy.exists()
        assert pem_labels(Path(state.ca_certificate)) == ["CERTIFICATE"]
        assert mode(folder / "ca.key") == mode(Path(state.certificate)) == 0o600
        port = state.gateway_port
        for host in ("127.0.0.1", "localhost"):
            url = f"https://{host}:{port}/"
            reply = httpx.get(url, verify=strict_context(Path(state.ca_certificate)), timeout=5)
            assert reply.status_code == 200 and reply.text == "ok"
            for untrusting in (
                ssl.create_default_context(),
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT),
            ):
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    httpx.get(url, verify=untrusting, timeout=5)  # the system store, or nothing
        served = served_chain(port)
        assert served == leaf_of(Path(state.certificate)).public_bytes(serialization.Encoding.DER)
    finally:
        procs.stop([state.gateway_pid], seconds=10)


def served_chain(port: int) -> bytes:
    """The certificate HAProxy presents, in DER."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.getpeercert(binary_form=True)


@needs_haproxy
def test_a_second_up_keeps_the_ca_and_a_given_ca_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        _local, "render_local_gateway", lambda s, _: tls_config(s.certificate, s.gateway_port)
    )
    monkeypatch.setattr(_local, "wait_gateway_ready", lambda state: None)
    pids = []
    try:
        first = start_gateway(tmp_path, copy.deepcopy(BASE))
        pids.append(first.gateway_pid)
        trusted = Path(first.ca_certificate).read_bytes()
        procs.stop([first.gateway_pid], seconds=10)
        again = start_gateway(tmp_path, copy.deepcopy(BASE))  # the next `up` in the same home
        pids.append(again.gateway_pid)
        assert Path(again.ca_certificate).read_bytes() == trusted
        reply = httpx.get(
            f"https://localhost:{again.gateway_port}/",
            verify=strict_context(Path(first.ca_certificate)),  # what a client kept
            timeout=5,
        )
        assert reply.text == "ok"
        procs.stop([again.gateway_pid], seconds=10)
        make_ca(tmp_path / "pki")  # a CA of one's own, named relative to the spec
        data = copy.deepcopy(BASE)
        data["gateway"] = {"tls": {"ca_cert": "pki/corp-ca.pem", "ca_key": "pki/corp-ca.key"}}
        given = start_gateway(tmp_path, data)
        pids.append(given.gateway_pid)
        assert given.ca_certificate == str(tmp_path / "pki" / "corp-ca.pem")
        reply = httpx.get(
            f"https://127.0.0.1:{given.gateway_port}/",
            verify=strict_context(Path(given.ca_certificate)),
            timeout=5,
        )
        assert reply.text == "ok"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(
                f"https://127.0.0.1:{given.gateway_port}/",
                verify=strict_context(Path(first.ca_certificate)),  # not the CA that signed it
                timeout=5,
            )
    finally:
        procs.stop(pids, seconds=10)


# --- the one-file certificate tests and scratch servers use --------------------------------


def test_the_self_signed_file_is_private_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = self_signed_certificate(tmp_path / "certs")
    assert mode(path) == 0o600 and pem_labels(path) == ["CERTIFICATE", "PRIVATE KEY"]
    first = path.read_bytes()
    assert self_signed_certificate(tmp_path / "certs").read_bytes() == first
    assert self_signed_certificate(tmp_path / "certs", ["127.0.0.1"]).read_bytes() == first
    assert self_signed_certificate(tmp_path / "certs", ["gw.example.com"]).read_bytes() != first
    monkeypatch.setattr(_certs, "VALID_DAYS", 0)
    short = self_signed_certificate(tmp_path / "short").read_bytes()
    assert self_signed_certificate(tmp_path / "short").read_bytes() != short  # expiring: new
    with pytest.raises(ConfigurationError, match="To fix:"):
        self_signed_certificate(tmp_path, [])
