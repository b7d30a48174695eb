"""The global gateway: an HAProxy configuration built from the spec and a list of servers.

One frontend terminates TLS and reads the caller's residency zone from ``gateway.zone_header``
into the variable ``txn.zone`` (lowercased). Then:

- a **strict** zone ``z`` goes to backend ``zone_<z>``, which holds only the servers in ``z``;
  when none of them is up the gateway itself answers 503 with a JSON error of kind
  ``no_target_in_zone`` instead of sending the request out of the zone;
- a **preferred** zone (any other zone in ``load.zones``) goes to backend ``zone_<z>``, where the
  servers in ``z`` are active and every other server is a backup, all used together once the
  in-zone ones are down;
- anything else goes to backend ``all``: every server by weight (policy ``cost``), or the first
  target of ``routing.failover`` active and the rest as backups (policy ``failover``).

Every backend balances round-robin by weight, checks ``/v2/health/ready`` every
``gateway.check_interval_ms`` and marks a server down on its first refused connection, and
retries a request on another server after a connection failure, an empty or broken response,
a response timeout or a 503. The same builder serves the rendered multi-cloud gateways and the
local gateway that runs as a process on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from verdict.deploy._planner import Plan
from verdict.deploy._spec import DeploySpec
from verdict.errors import ConfigurationError

__all__ = [
    "GatewayServer",
    "haproxy_config",
    "no_target_body",
    "rendered_servers",
    "target_weights",
]

MAX_WEIGHT = 256
READY_PATH = "/v2/health/ready"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_HOST = re.compile(r"^[A-Za-z0-9_.:-]+$")
_INDENT = "    "
# Every backend: weighted round robin over the servers whose readiness check passes.
_BACKEND = (
    "balance roundrobin",
    "option httpchk",
    f"http-check send meth GET uri {READY_PATH} ver HTTP/1.1 hdr Host verdict",
    "http-check expect status 200",
)


@dataclass(frozen=True)
class GatewayServer:
    """One replica endpoint behind the gateway.

    Attributes
    ----------
    name : str
        Unique in the configuration; letters, digits, ``_``, ``.`` and ``-``.
    target, provider, zone : str
        The deploy target it belongs to, that target's provider and residency zone.
    host, port : str, int
        Where the gateway reaches it.
    weight : int
        Its relative share among the servers of a backend, 0 to 256 (0: drained).
    canary : bool
        Marks a canary replica; routed like any other server (its weight sets its share).
    """

    name: str
    target: str
    provider: str
    zone: str
    host: str
    port: int
    weight: int = 100
    canary: bool = False


def target_weights(spec: DeploySpec) -> dict[str, int]:
    """Per-target HAProxy weight, so the gateway splits load the way ``cost_weights`` asks.

    Parameters
    ----------
    spec : DeploySpec
        The deployment spec.

    Returns
    -------
    dict of str to int
        Target name to weight. With ``routing.cost_weights`` the weights are scaled so the
        largest is 256 (HAProxy's maximum) and every positive weight stays at least 1; a weight
        of 0 stays 0 (drained). Targets the mapping does not name weigh 1.0 before scaling, as a
        weight left out defaults to 1. Without ``cost_weights`` every target weighs 100.
    """
    given = spec.routing.cost_weights
    if not given:
        return {t.name: 100 for t in spec.targets}
    raw = {t.name: float(given.get(t.name, 1.0)) for t in spec.targets}
    top = max(raw.values())
    if top <= 0:
        return {name: 0 for name in raw}
    return {
        name: 0 if w == 0 else max(1, min(MAX_WEIGHT, round(w / top * MAX_WEIGHT)))
        for name, w in raw.items()
    }


def rendered_servers(spec: DeploySpec, plan: Plan) -> list[GatewayServer]:
    """The servers of the rendered gateways: one per target the plan gives replicas.

    Each server is the target's load balancer (``spec.endpoint(target)``), which spreads
    requests over that target's replicas, so the gateway needs one line per target.

    Parameters
    ----------
    spec : DeploySpec
        The deployment spec.
    plan : Plan
        Its placement; targets with 0 replicas get no server.

    Returns
    -------
    list of GatewayServer
        In the spec's target order, named after their targets, weighted by
        :func:`target_weights`.
    """
    replicas = plan.replicas
    weights = target_weights(spec)
    servers = []
    for t in spec.targets:
        if replicas.get(t.name, 0) <= 0:
            continue
        host, port = spec.endpoint(t)
        servers.append(
            GatewayServer(t.name, t.name, t.provider, t.zone, host, port, weights[t.name])
        )
    return servers


def haproxy_config(
    spec: DeploySpec,
    servers: Sequence[GatewayServer],
    *,
    bind_host: str = "0.0.0.0",
    bind_port: int = 443,
    cert_path: str,
    stats_socket: str | None = None,
    ca_file: str | None = None,
    resolve_dns: bool = False,
    name: str = "gateway",
) -> str:
    """The text of an HAProxy 2.6 configuration routing by zone, weight and health.

    Parameters
    ----------
    spec : DeploySpec
        Supplies the zones, residency, routing policy, zone header, retries and check interval.
    servers : sequence of GatewayServer
        The replica endpoints; names unique.
    bind_host, bind_port : str, int
        Where the gateway listens (TLS).
    cert_path : str
        PEM with the gateway's certificate and private key.
    stats_socket : str, optional
        Path of an admin stats socket (to drain or inspect servers at run time).
    ca_file : str, optional
        When given, the gateway re-encrypts to the servers and verifies them against this CA.
    resolve_dns : bool
        Resolve server host names at run time (``resolvers dns``), so the configuration loads
        before the names resolve.
    name : str
        Sent back in the ``X-Verdict-Gateway`` response header, to tell gateways apart.

    Returns
    -------
    str
        The configuration; check it with ``haproxy -c -f FILE``.

    Raises
    ------
    ConfigurationError
        When ``servers`` is empty, a server or zone name is unusable, or names repeat.
    """
    _check(spec, servers, name, (cert_path, stats_socket, ca_file))
    sections = [_global(stats_socket)]
    if resolve_dns:
        sections.append(
            ["resolvers dns", "parse-resolv-conf", "hold valid 10s", "timeout resolve 1s"]
        )
    sections += [_defaults(spec), _frontend(spec, bind_host, bind_port, cert_path, name)]
    for backend, members, allbackups in _backends(spec, servers):
        lines = [f"backend {backend}", *_BACKEND]
        if allbackups:
            lines.append("option allbackups")
        lines += [_server_line(s, backup, ca_file, resolve_dns) for s, backup in members]
        sections.append(lines)
    return "\n\n".join(_section(lines) for lines in sections) + "\n"


def _check(
    spec: DeploySpec, servers: Sequence[GatewayServer], name: str, paths: tuple[str | None, ...]
) -> None:
    """Refuse what would make an invalid or ambiguous configuration."""
    if not servers:
        raise ConfigurationError(
            "the gateway has no servers to route to: no target has replicas. "
            "To fix: give at least one target replicas (min_replicas or load), or pass servers."
        )
    names = [s.name for s in servers]
    repeated = sorted({n for n in names if names.count(n) > 1})
    bad = [n for n in names if not _NAME.match(n)]
    bad += [z for z in _zones(spec) if not _NAME.match(z)]
    bad += [s.host for s in servers if not _HOST.match(s.host)]
    bad += [] if _NAME.match(name) else [name]
    if repeated or bad:
        unusable = ", ".join(map(repr, bad)) or "none"
        raise ConfigurationError(
            f"gateway names must be unique and use only letters, digits, '_', '.' and '-'; "
            f"repeated: {', '.join(repeated) or 'none'}; unusable: {unusable}. "
            "To fix: rename the servers, zones or hosts named here."
        )
    weights = [s.weight for s in servers if not 0 <= s.weight <= MAX_WEIGHT]
    spaced = [p for p in paths if p is not None and (not p or any(c.isspace() for c in p))]
    if weights or spaced:
        raise ConfigurationError(
            f"gateway weights must be 0..{MAX_WEIGHT} and paths non-empty without spaces; "
            f"got weights {weights} and paths {spaced}. "
            "To fix: correct those server weights or file paths."
        )


def _zones(spec: DeploySpec) -> list[str]:
    """Every zone the gateway routes by: the strict ones, then the other zones with load."""
    strict = spec.strict_zones()
    return strict + sorted(set(spec.load.zones or {}) - set(strict))


def _global(stats_socket: str | None) -> list[str]:
    """The global section: connection limit and the optional admin socket."""
    lines = ["global", "maxconn 4096"]
    if stats_socket:
        lines.append(f"stats socket {stats_socket} mode 600 level admin")
    return lines


def _defaults(spec: DeploySpec) -> list[str]:
    """Timeouts, retries on another server, and health checks that react at the first error."""
    gw = spec.gateway
    return [
        "defaults",
        "mode http",
        "timeout connect 1s",
        "timeout client 30s",
        "timeout server 30s",
        "timeout check 1s",
        f"retries {gw.retries}",
        "option redispatch 1",
        "retry-on conn-failure empty-response junk-response response-timeout 503",
        # L7 retries resend the request, so its body must be buffered whole first.
        "option http-buffer-request",
        f"default-server inter {gw.check_interval_ms}ms fall 2 rise 2 "
        "observe layer4 error-limit 1 on-error mark-down",
    ]


def _frontend(spec: DeploySpec, host: str, port: int, cert: str, name: str) -> list[str]:
    """TLS termination, the zone variable, the strict-zone refusals, and backend choice."""
    header = spec.gateway.zone_header.lower()
    lines = [
        "frontend gateway",
        f"bind {host}:{port} ssl crt {cert} alpn http/1.1",
        "option forwardfor",
        "http-request set-header X-Forwarded-Proto https",
        f"http-request set-var(txn.zone) req.hdr({header}),lower",
    ]
    zones = _zones(spec)
    lines += [f"acl zone_is_{z} var(txn.zone) -m str {z.lower()}" for z in zones]
    for z in spec.strict_zones():
        lines.append(f"acl zone_{z}_down nbsrv(zone_{z}) eq 0")
        lines.append(
            "http-request return status 503 content-type application/json "
            f"string '{no_target_body(z)}' if zone_is_{z} zone_{z}_down"
        )
    lines += [f"use_backend zone_{z} if zone_is_{z}" for z in zones]
    lines.append("default_backend all")
    lines.append(f"http-after-response set-header X-Verdict-Gateway {name}")
    return lines


def no_target_body(zone: str) -> str:
    """The JSON the gateway answers a strict zone's request with when the zone has no server."""
    message = (
        f"every target in zone {zone} is down; strict residency keeps {zone} requests in "
        f"{zone}. To fix: revive a {zone} target or retry later."
    )
    return json.dumps({"error": {"kind": "no_target_in_zone", "message": message}})


def _backends(
    spec: DeploySpec, servers: Sequence[GatewayServer]
) -> list[tuple[str, list[tuple[GatewayServer, bool]], bool]]:
    """Each backend's name, its servers with a backup flag, and whether backups share load."""
    out: list[tuple[str, list[tuple[GatewayServer, bool]], bool]] = []
    strict = spec.strict_zones()
    for z in _zones(spec):
        if z in strict:
            out.append((f"zone_{z}", [(s, False) for s in servers if s.zone == z], False))
        else:
            out.append((f"zone_{z}", [(s, s.zone != z) for s in servers], True))
    if spec.routing.policy == "cost":
        out.append(("all", [(s, False) for s in servers], False))
        return out
    targets = {s.target for s in servers}
    order = [t for t in spec.routing.failover or [] if t in targets]
    first = order[0] if order else servers[0].target
    out.append(("all", [(s, s.target != first) for s in servers], True))
    return out


def _server_line(s: GatewayServer, backup: bool, ca_file: str | None, resolve_dns: bool) -> str:
    """One ``server`` line: address, weight, health check, backup, TLS and run-time DNS."""
    line = f"server {s.name} {s.host}:{s.port} weight {s.weight} check"
    if backup:
        line += " backup"
    if ca_file:
        line += f" ssl verify required ca-file {ca_file}"
        if not _is_ip(s.host):
            line += f" verifyhost {s.host} sni str({s.host}) check-sni {s.host}"
    if resolve_dns:
        line += " resolvers dns init-addr last,libc,none"
    return line


def _is_ip(host: str) -> bool:
    """Whether ``host`` is an IP address (no name to verify or send as SNI)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _section(lines: list[str]) -> str:
    """A section: its header line, then the indented body."""
    return "\n".join([lines[0], *(_INDENT + line for line in lines[1:])])
