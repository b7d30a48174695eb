"""The HAProxy gateway: configuration text, `haproxy -c`, and a real HAProxy routing requests.

The integration tests start two tiny HTTP replicas (zone eu and zone us) and HAProxy on
ephemeral loopback ports, and stop all three whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from deploy_support import target

from verdict.deploy import load_spec, parse_spec, plan
from verdict.deploy._gateway import (
    SECRET_HEADER,
    ServerLine,
    haproxy_config,
    rendered_servers,
    target_weights,
)
from verdict.deploy.local._certs import self_signed_certificate
from verdict.errors import ConfigurationError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deploy.yaml"
HAPROXY = shutil.which("haproxy")
needs_haproxy = pytest.mark.skipif(
    HAPROXY is None and not os.environ.get("VERDICT_REQUIRE_HAPROXY"),
    reason="haproxy is not installed (apt install haproxy; .ci/run installs it)",
)


def through_haproxy(test: Callable[..., None]) -> Callable[..., None]:
    """A test through a real HAProxy and replicas: slow, and only where HAProxy is installed."""
    return pytest.mark.slow(needs_haproxy(test))


def local_spec(**routing: Any) -> Any:
    """Two local targets, eu (strict) and us (preferred), checked every 100 ms."""
    return parse_spec(
        {
            "model": "penguins@production",
            "load": {"rps": 10, "zones": {"eu": 0.5, "us": 0.5}},
            "latency": {"p99_ms": 250},
            "routing": {"residency": {"eu": "strict", "us": "preferred"}, **routing},
            "targets": [
                target("local-eu", "onprem", "eu", 1.0, min_replicas=1),
                target("local-us", "onprem", "us", 1.0, min_replicas=1),
            ],
            "gateway": {"check_interval_ms": 100, "retries": 2},
        }
    )


def servers_at(ports: dict[str, int], weights: dict[str, int] | None = None) -> list[ServerLine]:
    """One 127.0.0.1 server per zone (eu, us)."""
    weights = weights or {}
    return [
        ServerLine(
            f"local-{z}-0", f"local-{z}", "onprem", z, "127.0.0.1", port, weights.get(z, 100)
        )
        for z, port in ports.items()
    ]


def sections(text: str) -> dict[str, list[str]]:
    """The configuration's sections by header line (``backend zone_eu`` ...): their lines."""
    blocks = [block.splitlines() for block in text.strip().split("\n\n")]
    return {lines[0]: [line.strip() for line in lines[1:]] for lines in blocks}


def haproxy_check(path: Path, **env: str) -> subprocess.CompletedProcess:
    assert HAPROXY is not None
    return subprocess.run(
        [HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30,
        env={**os.environ, **env},
    )  # fmt: skip


# -- configuration text ------------------------------------------------------------------------


def test_weights_default_to_100_and_scale_cost_weights() -> None:
    assert set(target_weights(local_spec()).values()) == {100}
    spec = local_spec(cost_weights={"local-eu": 3.0, "local-us": 1.0})
    assert target_weights(spec) == {"local-eu": 256, "local-us": 85}
    drained = local_spec(cost_weights={"local-eu": 2.0, "local-us": 0.0})
    assert target_weights(drained) == {"local-eu": 256, "local-us": 0}
    partial = local_spec(cost_weights={"local-eu": 4.0})  # unnamed targets weigh 1.0
    assert target_weights(partial) == {"local-eu": 256, "local-us": 64}


def test_rendered_servers_follow_the_plan() -> None:
    spec = load_spec(EXAMPLE)
    result = plan(spec)
    servers = rendered_servers(spec, result)
    assert [s.target for s in servers] == [t.name for t in result.targets if t.replicas > 0]
    assert all(s.host.endswith(".verdict.internal") and s.port == 8080 for s in servers)


def test_config_routes_strict_and_preferred_zones() -> None:
    spec = local_spec()
    text = haproxy_config(spec, servers_at({"eu": 1001, "us": 1002}), cert_path="/c.pem")
    parts = sections(text)
    eu, us, front = parts["backend zone_eu"], parts["backend zone_us"], parts["frontend gateway"]
    assert [x for x in eu if x.startswith("server")] == [  # strict: in zone, then an answer
        "server local-eu-0 127.0.0.1:1001 weight 100 check",
        "server last_resort abns@verdict-gateway-443-answer_eu backup",
    ]
    answer = parts["frontend answer_eu"]
    assert answer[0] == "bind abns@verdict-gateway-443-answer_eu"
    assert answer[1].startswith("http-request return status 503 content-type application/json")
    assert '"no_target_in_zone"' in answer[1]
    # Preferred: in zone, then one hop to every other server, then the gateway's own 503.
    assert [x for x in us if x.startswith("server")] == [
        "server local-us-0 127.0.0.1:1002 weight 100 check",
        "server spill abns@verdict-gateway-443-zone_us_spill backup",
    ]
    assert parts["frontend zone_us_spill"] == [
        "bind abns@verdict-gateway-443-zone_us_spill",
        "default_backend zone_us_spill",
    ]
    assert [x for x in parts["backend zone_us_spill"] if x.startswith("server")] == [
        "server local-eu-0 127.0.0.1:1001 weight 100 check",
        "server last_resort abns@verdict-gateway-443-answer_no_server backup",
    ]
    assert '"no_server"' in parts["frontend answer_no_server"][1]
    assert not any("allbackups" in x for x in text.splitlines())
    # One header line, its whole value one known zone: no list, no second line, no guess.
    assert "acl zone_single req.fhdr_cnt(x-verdict-zone) eq 1" in front
    assert "http-request set-var(txn.zone) req.fhdr(x-verdict-zone),lower if zone_single" in front
    assert "acl zone_known var(txn.zone) -m str eu us" in front
    bad = next(i for i, x in enumerate(front) if x.startswith("http-request return status 400"))
    assert front[bad].endswith("if zone_sent !zone_known") and '"bad_zone"' in front[bad]
    assert bad < front.index("use_backend zone_eu if zone_is_eu")
    assert not any(SECRET_HEADER in x for x in text.splitlines())  # no secret given
    assert front[-2:] == [
        "default_backend all",
        "http-after-response set-header X-Verdict-Gateway gateway",
    ]
    assert "bind 0.0.0.0:443 ssl crt /c.pem alpn http/1.1" in front
    assert "retries 2" in parts["defaults"]
    assert "retry-on all-retryable-errors" in parts["defaults"]
    assert "option redispatch 1" in parts["defaults"]
    own = [x for x in parts["defaults"] if x.startswith("http-error status")]
    assert [x.split()[2] for x in own] == ["400", "408", "500", "502", "503", "504"]
    for line in own:
        assert "content-type application/json" in line
        body = json.loads(line.split(" string ", 1)[1].strip("'"))
        assert body["error"]["kind"] and "To fix:" in body["error"]["message"]
    assert any(x.startswith("default-server inter 100ms fall 2 rise 2") for x in parts["defaults"])
    for backend in ("backend zone_eu", "backend zone_us", "backend all"):
        assert "http-check expect status 200" in parts[backend]


def test_failover_policy_keeps_the_first_target_active() -> None:
    spec = local_spec(failover=["local-us", "local-eu"])
    text = haproxy_config(spec, servers_at({"eu": 1001, "us": 1002}), cert_path="/c.pem")
    parts = sections(text)
    assert [x for x in parts["backend all"] if x.startswith("server")] == [
        "server local-us-0 127.0.0.1:1002 weight 100 check",
        "server spill abns@verdict-gateway-443-all_spill backup",
    ]
    assert [x for x in parts["backend all_spill"] if x.startswith("server")] == [
        "server local-eu-0 127.0.0.1:1001 weight 100 check",
        "server last_resort abns@verdict-gateway-443-answer_no_server backup",
    ]


def test_reencrypt_and_dns_options() -> None:
    servers = [ServerLine("a", "a", "aws", "eu", "a.example.com", 443)]
    text = haproxy_config(
        local_spec(), servers, cert_path="/c.pem", ca_file="/ca.pem", resolve_dns=True
    )
    assert "ssl verify required ca-file /ca.pem verifyhost a.example.com" in text
    assert "resolvers dns init-addr last,libc,none" in text and "parse-resolv-conf" in text


@pytest.mark.parametrize(
    ("servers", "needle"),
    [
        ([], "no servers"),
        ([ServerLine("a b", "t", "aws", "eu", "h", 1)], "'a b'"),
        ([ServerLine("a", "t", "aws", "eu", "h", 1)] * 2, "repeated: a"),
        ([ServerLine("a", "t", "aws", "eu", "h", 1, weight=300)], "0..256"),
    ],
)
def test_unusable_servers_are_refused(servers: list[ServerLine], needle: str) -> None:
    with pytest.raises(ConfigurationError, match="To fix:") as info:
        haproxy_config(local_spec(), servers, cert_path="/c.pem")
    assert needle in str(info.value)


# -- haproxy -c --------------------------------------------------------------------------------


@needs_haproxy
def test_rendered_gateway_configs_pass_haproxy_check(tmp_path: Path) -> None:
    from verdict.deploy.renderers._write import render

    spec = load_spec(EXAMPLE)
    written = render(spec, plan(spec), tmp_path / "out")
    configs = [p for p in written if p.name == "haproxy.cfg"]
    assert sorted(p.parent.name for p in configs) == sorted(spec.gateway_providers())
    cert = self_signed_certificate(tmp_path / "certs")
    for path in configs:
        # The rendered paths point into the gateway's container; check against a real PEM here.
        text = path.read_text(encoding="utf-8").replace("/etc/haproxy/certs/verdict.pem", str(cert))
        local = tmp_path / f"{path.parent.name}.cfg"
        local.write_text(text, encoding="utf-8")
        result = haproxy_check(local, VERDICT_GATEWAY_SECRET="s" * 32)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f'{SECRET_HEADER} "${{VERDICT_GATEWAY_SECRET}}"' in text  # never the value
    # Without the secret in its environment a rendered gateway refuses to start.
    refused = haproxy_check(local, VERDICT_GATEWAY_SECRET="")
    assert refused.returncode != 0
    assert "VERDICT_GATEWAY_SECRET is not set. To fix:" in refused.stdout + refused.stderr


@needs_haproxy
def test_local_config_passes_haproxy_check(tmp_path: Path) -> None:
    cert = self_signed_certificate(tmp_path)
    text = haproxy_config(
        local_spec(),
        servers_at({"eu": 18081, "us": 18082}),
        bind_host="127.0.0.1",
        bind_port=18443,
        cert_path=str(cert),
        stats_socket=str(tmp_path / "admin.sock"),
        ca_file=str(cert),
    )
    path = tmp_path / "haproxy.cfg"
    path.write_text(text, encoding="utf-8")
    result = haproxy_check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr


# -- a real HAProxy ----------------------------------------------------------------------------


def _handler(name: str, secret: str | None = None) -> type[BaseHTTPRequestHandler]:
    """A replica stub: ready (with the gateway secret, when one is set) and an echo."""

    class Replica(BaseHTTPRequestHandler):
        posts = 0  # requests answered, all threads together

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            ready = self.path == "/v2/health/ready"
            if secret is not None and self.headers.get(SECRET_HEADER) != secret:
                ready = False
            self._send(200 if ready else 403, {"ready": ready, "server": name})

        def do_POST(self) -> None:
            type(self).posts += 1
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            seen = {"zone": self.headers.get_all("X-Verdict-Zone")}
            seen["secret"] = self.headers.get_all(SECRET_HEADER)
            self._send(200, {"server": name, "echo": body, "seen": seen})

        def log_message(self, *args: Any) -> None:
            pass

    return Replica


@contextmanager
def replicas(*names: str, secret: str | None = None) -> Iterator[dict[str, ThreadingHTTPServer]]:
    """HTTP replicas on ephemeral loopback ports, each shut down on exit."""
    started: dict[str, ThreadingHTTPServer] = {}
    try:
        for name in names:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(name, secret))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            started[name] = server
        yield started
    finally:
        for server in started.values():
            stop(server)


def stop(server: ThreadingHTTPServer) -> None:
    """Stop serving and close the listening socket (idempotent)."""
    if server.socket.fileno() != -1:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gateway(
    tmp_path: Path, spec: Any, servers: list[ServerLine], secret: str | None = None
) -> Iterator[httpx.Client]:
    """HAProxy with the built config on an ephemeral port; a client that trusts its cert."""
    assert HAPROXY is not None
    cert = self_signed_certificate(tmp_path / "certs")
    port = free_port()
    text = haproxy_config(
        spec, servers, bind_host="127.0.0.1", bind_port=port, cert_path=str(cert), name="local",
        secret=secret,
    )  # fmt: skip
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text, encoding="utf-8")
    log = (tmp_path / "haproxy.log").open("w")
    process = subprocess.Popen([HAPROXY, "-db", "-f", str(cfg)], stdout=log, stderr=log)
    try:
        wait_for(lambda: _accepts(port) or process.poll() is not None, 10)
        assert process.poll() is None, (tmp_path / "haproxy.log").read_text()
        context = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(
            base_url=f"https://localhost:{port}", verify=context, timeout=5
        ) as client:
            yield client
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def ask(client: httpx.Client, zone: str | None, n: int = 1) -> list[httpx.Response]:
    headers = {"X-Verdict-Zone": zone} if zone else {}
    return [client.post("/", json={"i": i}, headers=headers) for i in range(n)]


def who(responses: list[httpx.Response]) -> Counter:
    return Counter(r.json()["server"] for r in responses if r.status_code == 200)


@through_haproxy
def test_strict_zone_stays_in_zone_and_refuses_when_down(tmp_path: Path) -> None:
    with replicas("eu", "us") as up:
        ports = {z: s.server_address[1] for z, s in up.items()}
        with gateway(tmp_path, local_spec(), servers_at(ports)) as client:
            eu = ask(client, "EU", 20)  # the header value is matched without case
            assert who(eu) == Counter({"eu": 20})
            assert all(r.headers["X-Verdict-Gateway"] == "local" for r in eu)
            assert who(ask(client, "us", 10)) == Counter({"us": 10})
            assert set(who(ask(client, None, 10))) == {"eu", "us"}

            stop(up["eu"])
            refused = lambda: ask(client, "eu")[0].status_code == 503  # noqa: E731
            assert wait_for(refused, 10), "the eu server was never marked down"
            answer = ask(client, "eu")[0]
            assert answer.status_code == 503
            assert answer.headers["content-type"] == "application/json"
            error = answer.json()["error"]
            assert error["kind"] == "no_target_in_zone"
            assert "zone eu" in error["message"] and "To fix:" in error["message"]
            assert answer.headers["X-Verdict-Gateway"] == "local"
            assert who(ask(client, None, 10)) == Counter({"us": 10})
            assert who(ask(client, "us", 5)) == Counter({"us": 5})


@through_haproxy
def test_preferred_zone_fails_over_to_other_zones(tmp_path: Path) -> None:
    with replicas("eu", "us") as up:
        ports = {z: s.server_address[1] for z, s in up.items()}
        with gateway(tmp_path, local_spec(), servers_at(ports)) as client:
            assert who(ask(client, "us", 10)) == Counter({"us": 10})
            stop(up["us"])
            # The first request after the stop is retried on the backup: never an error.
            answers = ask(client, "us", 10)
            assert [r.status_code for r in answers] == [200] * 10
            assert who(answers) == Counter({"eu": 10})


@through_haproxy
def test_weights_split_untagged_load(tmp_path: Path) -> None:
    spec = local_spec(cost_weights={"local-eu": 3.0, "local-us": 1.0})
    weights = target_weights(spec)
    with replicas("eu", "us") as up:
        ports = {z: s.server_address[1] for z, s in up.items()}
        servers = servers_at(ports, {z: weights[f"local-{z}"] for z in ports})
        with gateway(tmp_path, spec, servers) as client:
            counts = who(ask(client, None, 200))
    assert sum(counts.values()) == 200
    assert 0.65 <= counts["eu"] / 200 <= 0.85, counts


# -- residency that fails closed ---------------------------------------------------------------

SECRET = "gateway-secret-for-tests-0123456789"
# Every ambiguous, empty or unknown zone header seen to leak out of the EU, as header lines.
AMBIGUOUS = {
    "two headers": ["eu", "us"],
    "two headers, us first": ["us", "eu"],
    "a list": ["eu, us"],
    "a trailing comma": ["eu,"],
    "a leading comma": [",eu"],
    "quoted": ['"eu"'],
    "a quoted list": ['"eu, us"'],
    "empty": [""],
    "eu then junk": ["eu", "junk!"],
    "eu then empty": ["eu", ""],
    "eu then a control byte": ["eu", "\x01junk"],
    "eu twice": ["eu", "eu"],
    "misspelled": ["euu"],
    "inner space": ["e u"],
}
# Valid zones the gateway must still route, whatever their case and surrounding spaces.
TRIMMED = {"upper case, trailing space": ["EU "], "tabs": ["\teu\t"]}


def raw_post(client: httpx.Client, lines: list[str]) -> tuple[int, dict[str, str], bytes]:
    """POST with exactly these X-Verdict-Zone lines (no client library normalises them)."""
    port = client.base_url.port
    assert port is not None
    head = "".join(f"X-Verdict-Zone: {line}\r\n" for line in lines)
    request = (
        f"POST / HTTP/1.1\r\nHost: localhost\r\n{head}Content-Type: application/json\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    ).encode("latin-1")
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # loopback only
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    with context.wrap_socket(sock, server_hostname="localhost") as tls:
        tls.sendall(request)
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


@through_haproxy
def test_ambiguous_or_unknown_zone_headers_never_leave_the_zone(tmp_path: Path) -> None:
    with replicas("eu", "us", secret=SECRET) as up:
        ports = {z: s.server_address[1] for z, s in up.items()}
        with gateway(tmp_path, local_spec(), servers_at(ports), secret=SECRET) as client:
            wait_for(lambda: ask(client, "eu")[0].status_code == 200, 10)
            us = up["us"].RequestHandlerClass
            before = us.posts  # type: ignore[attr-defined]
            for case, lines in AMBIGUOUS.items():
                for _ in range(3):  # round robin would have reached both servers
                    status, headers, body = raw_post(client, lines)
                    assert status == 400, (case, status, body)
                    assert headers["content-type"] == "application/json", case
                    assert headers["x-verdict-gateway"] == "local"
                    error = json.loads(body)["error"]
                    assert error["kind"] == "bad_zone", case
                    assert "the allowed zones are eu, us" in error["message"]
                    assert "To fix:" in error["message"]
            for case, lines in TRIMMED.items():
                for _ in range(3):
                    status, _, body = raw_post(client, lines)
                    answer = json.loads(body)
                    assert status == 200 and answer["server"] == "eu", (case, body)
                    assert answer["seen"]["zone"] == ["eu"]  # what was routed, normalised
            assert us.posts == before  # type: ignore[attr-defined]  # no EU request reached us


@through_haproxy
def test_the_gateway_secret_reaches_replicas_and_their_health_checks(tmp_path: Path) -> None:
    with replicas("eu", "us", secret=SECRET) as up:
        ports = {z: s.server_address[1] for z, s in up.items()}
        with gateway(tmp_path, local_spec(), servers_at(ports), secret=SECRET) as client:
            # The stubs are ready only with the secret, so a 200 means the checks send it.
            assert wait_for(lambda: ask(client, "eu")[0].status_code == 200, 10)
            forged = client.post(
                "/", json={}, headers={SECRET_HEADER: "forged", "X-Verdict-Zone": "us"}
            )
            assert forged.json()["seen"]["secret"] == [SECRET]  # the client's value replaced
            assert who(ask(client, "us", 5)) == Counter({"us": 5})


@through_haproxy
@pytest.mark.parametrize(
    ("routing", "expected"),
    [
        ({}, {"eu", "us"}),  # no default: every target, by policy
        ({"default_zone": "eu"}, {"eu"}),
        ({"default_zone": "us"}, {"us"}),
    ],
)
def test_a_request_without_a_zone_follows_the_default_zone(
    tmp_path: Path, routing: dict[str, Any], expected: set[str]
) -> None:
    with replicas("eu", "us") as up:
        ports = {z: s.server_address[1] for z, s in up.items()}
        with gateway(tmp_path, local_spec(**routing), servers_at(ports)) as client:
            answers = ask(client, None, 20)
            assert set(who(answers)) == expected
            if routing:  # the replica is told the zone it is serving
                assert {tuple(r.json()["seen"]["zone"]) for r in answers} == {
                    (routing["default_zone"],)
                }
            stop(up["eu"])
            if routing.get("default_zone") == "eu":  # strict: refused, never sent to us
                assert wait_for(lambda: ask(client, None)[0].status_code == 503, 10)
                assert ask(client, None)[0].json()["error"]["kind"] == "no_target_in_zone"


@through_haproxy
def test_require_zone_refuses_a_request_without_one(tmp_path: Path) -> None:
    with replicas("eu", "us") as up:
        ports = {z: s.server_address[1] for z, s in up.items()}
        with gateway(tmp_path, local_spec(require_zone=True), servers_at(ports)) as client:
            (missing,) = ask(client, None)
            assert missing.status_code == 400
            assert missing.headers["content-type"] == "application/json"
            error = missing.json()["error"]
            assert error["kind"] == "missing_zone"
            assert "eu, us" in error["message"] and "To fix:" in error["message"]
            assert who(ask(client, "eu", 5)) == Counter({"eu": 5})
            assert raw_post(client, ["eu", "us"])[0] == 400


def test_the_secret_is_sent_with_requests_and_checks() -> None:
    text = haproxy_config(
        local_spec(), servers_at({"eu": 1001, "us": 1002}), cert_path="/c.pem", secret=SECRET
    )
    parts = sections(text)
    assert f'http-request set-header {SECRET_HEADER} "{SECRET}"' in parts["frontend gateway"]
    for backend in ("backend zone_eu", "backend zone_us", "backend all"):
        (send,) = [x for x in parts[backend] if x.startswith("http-check send")]
        assert send.endswith(f'hdr {SECRET_HEADER} "{SECRET}"')
    assert not text.startswith(".if")  # a literal needs no environment


@pytest.mark.parametrize(
    "secret", ["short", "has space in it 0123", 'quote"0123456789abc', "${1X}"]
)
def test_a_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(ConfigurationError, match=r"gateway secret.*To fix:"):
        haproxy_config(local_spec(), servers_at({"eu": 1}), cert_path="/c.pem", secret=secret)


# -- no request dropped without an answer --------------------------------------------------------

# A replica in its own process, so that it can die by SIGKILL with requests in flight; it keeps
# connections alive (HTTP/1.1), as uvicorn does, takes DELAY seconds per prediction and answers
# it with STATUS (a failing replica: 500, 502, 504).
STUB = """
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
NAME, DELAY, STATUS = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
class Replica(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        self._send(200 if self.path == "/v2/health/ready" else 404, {"server": NAME})
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(DELAY)
        self._send(STATUS, {"server": NAME})
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Replica)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def process_replicas(
    *names: str, delay: float = 0.01, status: dict[str, int] | None = None
) -> Iterator[dict[str, Any]]:
    """Stub replicas as processes: name -> Popen (its port in ``.port``); killed on exit."""
    started: dict[str, Any] = {}
    try:
        for name in names:
            answer = str((status or {}).get(name, 200))
            process = subprocess.Popen(
                [sys.executable, "-c", STUB, name, str(delay), answer],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            started[name] = process
            assert process.stdout is not None
            process.port = int(process.stdout.readline())  # type: ignore[attr-defined]
        yield started
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
            process.wait(5)


def stream(client: httpx.Client, seconds: float, threads: int = 4) -> list[Any]:
    """Requests without a zone from ``threads`` clients for ``seconds``: (time, status, body)
    per answer, or (time, the exception) when a request got no HTTP answer."""
    outcomes: list[Any] = []
    deadline = time.monotonic() + seconds

    def run() -> None:
        with httpx.Client(base_url=client.base_url, verify=False, timeout=15) as own:
            while time.monotonic() < deadline:
                try:
                    answer = own.post("/", json={})
                    outcomes.append((time.monotonic(), answer.status_code, answer.content))
                except httpx.HTTPError as exc:
                    outcomes.append((time.monotonic(), exc))

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


def one_zone_spec(**gateway: Any) -> Any:
    """One preferred zone, one or two targets' worth of servers: requests go to ``all``."""
    return parse_spec(
        {
            "model": "penguins@production",
            "load": {"rps": 10, "zones": {"eu": 1.0}},
            "latency": {"p99_ms": 250},
            "targets": [target("local-eu", "onprem", "eu", 1.0, min_replicas=1)],
            "gateway": {"check_interval_ms": 100, "retries": 3, **gateway},
        }
    )


def kill_during(client: httpx.Client, victim: Any, before: float, after: float) -> list[Any]:
    """Stream requests; SIGKILL ``victim`` ``before`` seconds in; go on ``after`` seconds."""
    killer = threading.Timer(before, victim.kill)
    killer.start()
    try:
        return stream(client, before + after)
    finally:
        killer.cancel()


def eu_servers(up: dict[str, Any]) -> list[ServerLine]:
    return [
        ServerLine(f"local-eu-{n}", "local-eu", "onprem", "eu", "127.0.0.1", p.port)
        for n, p in up.items()
    ]


@through_haproxy
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_failing_answer_is_retried_on_another_server(tmp_path: Path, status: int) -> None:
    with (
        process_replicas("a", "b", delay=0, status={"b": status}) as up,
        gateway(tmp_path, one_zone_spec(), eu_servers(up)) as client,
    ):
        assert wait_for(lambda: ask(client, None)[0].status_code == 200, 10)
        answers = ask(client, None, 20)
    assert [r.status_code for r in answers] == [200] * 20
    assert who(answers) == Counter({"a": 20})


@through_haproxy
def test_a_server_killed_mid_stream_costs_no_request(tmp_path: Path) -> None:
    with process_replicas("a", "b", delay=0.02) as up:
        servers = eu_servers(up)
        with gateway(tmp_path, one_zone_spec(), servers) as client:
            assert wait_for(lambda: len(who(ask(client, None, 6))) == 2, 10)
            outcomes = kill_during(client, up["b"], 1.0, 1.5)
    failed = [o for o in outcomes if len(o) == 2]
    assert not failed, failed[:3]  # every request got an HTTP answer ...
    assert {status for _, status, _ in outcomes} == {200}  # ... from the server left
    assert len(outcomes) > 100


@through_haproxy
def test_when_no_server_is_left_the_answer_is_a_json_503(tmp_path: Path) -> None:
    with (
        process_replicas("a", delay=0.02) as up,
        gateway(tmp_path, one_zone_spec(), eu_servers(up)) as client,
    ):
        assert wait_for(lambda: who(ask(client, None)) == Counter({"a": 1}), 10)
        killed = time.monotonic() + 1.0
        outcomes = kill_during(client, up["a"], 1.0, 1.5)
    failed = [o for o in outcomes if len(o) == 2]
    assert not failed, failed[:3]  # never a closed connection, even for those in flight
    statuses = Counter(status for _, status, _ in outcomes)
    assert set(statuses) == {200, 503}, statuses
    for _, status, body in outcomes:
        if status == 503:
            error = json.loads(body)["error"]
            assert error["kind"] == "no_server" and "To fix:" in error["message"]
    late = [status for when, status, _ in outcomes if when > killed + 0.5]
    assert late and set(late) == {503}
