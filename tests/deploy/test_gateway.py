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
from verdict.deploy._certs import self_signed_certificate
from verdict.deploy._gateway import (
    GatewayServer,
    haproxy_config,
    rendered_servers,
    target_weights,
)
from verdict.errors import ConfigurationError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deploy.yaml"
HAPROXY = shutil.which("haproxy")
needs_haproxy = pytest.mark.skipif(
    HAPROXY is None and not os.environ.get("VERDICT_REQUIRE_HAPROXY"),
    reason="haproxy is not installed (apt install haproxy; .ci/run installs it)",
)


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


def servers_at(ports: dict[str, int], weights: dict[str, int] | None = None) -> list[GatewayServer]:
    """One 127.0.0.1 server per zone (eu, us)."""
    weights = weights or {}
    return [
        GatewayServer(
            f"local-{z}-0", f"local-{z}", "onprem", z, "127.0.0.1", port, weights.get(z, 100)
        )
        for z, port in ports.items()
    ]


def sections(text: str) -> dict[str, list[str]]:
    """The configuration's sections by header line (``backend zone_eu`` ...): their lines."""
    blocks = [block.splitlines() for block in text.strip().split("\n\n")]
    return {lines[0]: [line.strip() for line in lines[1:]] for lines in blocks}


def haproxy_check(path: Path) -> subprocess.CompletedProcess:
    assert HAPROXY is not None
    return subprocess.run(
        [HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30
    )


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
    assert [x for x in eu if x.startswith("server")] == [  # strict: in zone only
        "server local-eu-0 127.0.0.1:1001 weight 100 check"
    ]
    assert "server local-us-0 127.0.0.1:1002 weight 100 check" in us
    assert "server local-eu-0 127.0.0.1:1001 weight 100 check backup" in us
    assert "option allbackups" in us and "option allbackups" not in eu
    assert "http-request set-var(txn.zone) req.hdr(x-verdict-zone),lower" in front
    refusal = next(i for i, x in enumerate(front) if x.startswith("http-request return status 503"))
    assert refusal < front.index("use_backend zone_eu if zone_is_eu")
    assert front[-2:] == [
        "default_backend all",
        "http-after-response set-header X-Verdict-Gateway gateway",
    ]
    assert "bind 0.0.0.0:443 ssl crt /c.pem alpn http/1.1" in front
    assert "retries 2" in parts["defaults"]
    assert any(x.startswith("default-server inter 100ms fall 2 rise 2") for x in parts["defaults"])
    for backend in ("backend zone_eu", "backend zone_us", "backend all"):
        assert "http-check expect status 200" in parts[backend]


def test_failover_policy_keeps_the_first_target_active() -> None:
    spec = local_spec(failover=["local-us", "local-eu"])
    text = haproxy_config(spec, servers_at({"eu": 1001, "us": 1002}), cert_path="/c.pem")
    everyone = sections(text)["backend all"]
    assert "server local-us-0 127.0.0.1:1002 weight 100 check" in everyone
    assert "server local-eu-0 127.0.0.1:1001 weight 100 check backup" in everyone
    assert "option allbackups" in everyone


def test_reencrypt_and_dns_options() -> None:
    servers = [GatewayServer("a", "a", "aws", "eu", "a.example.com", 443)]
    text = haproxy_config(
        local_spec(), servers, cert_path="/c.pem", ca_file="/ca.pem", resolve_dns=True
    )
    assert "ssl verify required ca-file /ca.pem verifyhost a.example.com" in text
    assert "resolvers dns init-addr last,libc,none" in text and "parse-resolv-conf" in text


@pytest.mark.parametrize(
    ("servers", "needle"),
    [
        ([], "no servers"),
        ([GatewayServer("a b", "t", "aws", "eu", "h", 1)], "'a b'"),
        ([GatewayServer("a", "t", "aws", "eu", "h", 1)] * 2, "repeated: a"),
        ([GatewayServer("a", "t", "aws", "eu", "h", 1, weight=300)], "0..256"),
    ],
)
def test_unusable_servers_are_refused(servers: list[GatewayServer], needle: str) -> None:
    with pytest.raises(ConfigurationError, match="To fix:") as info:
        haproxy_config(local_spec(), servers, cert_path="/c.pem")
    assert needle in str(info.value)


# -- haproxy -c --------------------------------------------------------------------------------


@needs_haproxy
def test_rendered_gateway_configs_pass_haproxy_check(tmp_path: Path) -> None:
    from verdict.deploy._render import render

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
        result = haproxy_check(local)
        assert result.returncode == 0, result.stdout + result.stderr


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


def _handler(name: str) -> type[BaseHTTPRequestHandler]:
    class Replica(BaseHTTPRequestHandler):
        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            ready = self.path == "/v2/health/ready"
            self._send(200 if ready else 404, {"ready": ready, "server": name})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            self._send(200, {"server": name, "echo": body})

        def log_message(self, *args: Any) -> None:
            pass

    return Replica


@contextmanager
def replicas(*names: str) -> Iterator[dict[str, ThreadingHTTPServer]]:
    """HTTP replicas on ephemeral loopback ports, each shut down on exit."""
    started: dict[str, ThreadingHTTPServer] = {}
    try:
        for name in names:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(name))
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
def gateway(tmp_path: Path, spec: Any, servers: list[GatewayServer]) -> Iterator[httpx.Client]:
    """HAProxy with the built config on an ephemeral port; a client that trusts its cert."""
    assert HAPROXY is not None
    cert = self_signed_certificate(tmp_path / "certs")
    port = free_port()
    text = haproxy_config(
        spec, servers, bind_host="127.0.0.1", bind_port=port, cert_path=str(cert), name="local"
    )
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


@needs_haproxy
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


@needs_haproxy
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


@needs_haproxy
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
