"""The self-signed certificate: one PEM HAProxy can serve and a client can trust as its CA."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from verdict.deploy import _certs
from verdict.deploy._certs import self_signed_certificate
from verdict.errors import ConfigurationError


def test_one_private_pem_with_certificate_and_key(tmp_path: Path) -> None:
    path = self_signed_certificate(tmp_path / "certs")
    assert path.parent == tmp_path / "certs"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert data.index(b"BEGIN CERTIFICATE") < data.index(b"BEGIN PRIVATE KEY")
    cert = x509.load_pem_x509_certificate(data)
    key = serialization.load_pem_private_key(data, password=None)
    assert key.public_key() == cert.public_key()
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    lifetime = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=29) < lifetime <= dt.timedelta(days=30)
    assert cert.issuer == cert.subject  # self-signed


def test_a_valid_file_is_reused_and_a_stale_one_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = self_signed_certificate(tmp_path).read_bytes()
    assert self_signed_certificate(tmp_path).read_bytes() == first
    assert self_signed_certificate(tmp_path, ["127.0.0.1"]).read_bytes() == first  # covered
    wider = self_signed_certificate(tmp_path, ["localhost", "gw.example.com"]).read_bytes()
    assert wider != first  # a host it did not cover: a new certificate
    monkeypatch.setattr(_certs, "VALID_DAYS", 0)
    short = self_signed_certificate(tmp_path / "short").read_bytes()
    assert self_signed_certificate(tmp_path / "short").read_bytes() != short  # expiring: new
    (tmp_path / _certs.FILENAME).write_text("not a certificate")
    assert b"BEGIN CERTIFICATE" in self_signed_certificate(tmp_path).read_bytes()


def test_no_hosts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="To fix:"):
        self_signed_certificate(tmp_path, [])


@contextmanager
def tls_server(pem: Path) -> Iterator[int]:
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_client_trusts_it_as_its_own_ca(tmp_path: Path, host: str) -> None:
    pem = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(cafile=str(pem))
    context.verify_flags |= ssl.VERIFY_X509_STRICT  # the stricter default of newer Pythons
    with tls_server(pem) as port:
        response = httpx.get(f"https://{host}:{port}/", verify=context, timeout=5)
        assert response.text == "ok"
        with pytest.raises(httpx.ConnectError):  # and an untrusting client refuses it
            httpx.get(f"https://{host}:{port}/", verify=ssl.create_default_context(), timeout=5)
