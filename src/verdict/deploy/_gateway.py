"""The global gateway: an HAProxy configuration built from the spec and a list of servers.

One frontend terminates TLS and reads the caller's residency zone from ``gateway.zone_header``.
The header must be sent at most once and hold exactly one zone of the spec
(:meth:`DeploySpec.zones`), matched without case (HAProxy has trimmed the spaces around it):
several header lines, a list (``eu, us``), an empty, quoted or unknown value is answered 400
``bad_zone`` naming the allowed zones, never routed. A request without the header takes
``routing.default_zone`` when set, is answered 400 ``missing_zone`` with
``routing.require_zone``, and otherwise goes to backend ``all``. The zone, lowercased, is kept
in ``txn.zone`` and forwarded in the header so the replica sees the value that was routed. Then:

- a **strict** zone ``z`` goes to backend ``zone_<z>``, which holds only the servers in ``z``;
  when none of them is up the gateway itself answers 503 with a JSON error of kind
  ``no_target_in_zone`` instead of sending the request out of the zone;
- a **preferred** zone (any other zone of the spec) goes to backend ``zone_<z>`` over the
  servers in ``z``; once they are all down, to ``zone_<z>_spill`` over every other server;
- anything else goes to backend ``all``: every server by weight (policy ``cost``), or the first
  target of ``routing.failover``, then (``all_spill``) the rest (policy ``failover``).

Every backend ends in one ``backup`` server that is the gateway itself: a hop over a Linux
abstract socket to the spill backend, or to a frontend that answers the JSON 503. So a request
whose server dies under it is retried elsewhere or answered, never met with a closed
connection (HAProxy closes a kept-alive client connection without an answer when the last
server fails; HTTP allows the client to retry, but most clients do not retry a POST).

Every backend balances round-robin by weight, checks ``/v2/health/ready`` every
``gateway.check_interval_ms`` and marks a server down on its first refused connection, and
retries a request on another server after every retryable failure (``all-retryable-errors``:
connection failure, empty or broken response, response timeout, 500, 502, 503, 504). What the
gateway answers itself (no server left, timeouts, a malformed request) is JSON
``{"error": {"kind", "message"}}``, never a closed connection. With a ``secret`` the gateway
adds ``X-Verdict-Gateway-Secret`` to every request it forwards and to its health checks
(replicas refuse requests without it). The same builder serves the rendered multi-cloud
gateways and the local gateway that runs as a process on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from verdict.deploy._gateway_rules import (
    bad_zone_body,
    error_body,
    no_server_body,
    no_target_body,
    own_errors,
    zone_rules,
)
from verdict.deploy._planner import Plan
from verdict.deploy._spec import DeploySpec
from verdict.errors import ConfigurationError

__all__ = [
    "SECRET_HEADER",
    "ServerLine",
    "bad_zone_body",
    "error_body",
    "haproxy_config",
    "no_target_body",
    "rendered_servers",
    "target_weights",
]

MAX_WEIGHT = 256
READY_PATH = "/v2/health/ready"
SECRET_HEADER = "X-Verdict-Gateway-Secret"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_HOST = re.compile(r"^[A-Za-z0-9_.:-]+$")
# A literal secret (what secrets.token_urlsafe makes), or ${NAME}: read from the environment.
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_INDENT = "    "


@dataclass(frozen=True)
class ServerLine:
    """One ``server`` line of the gateway's HAProxy configuration: a replica endpoint it
    routes to (a record that :func:`haproxy_config` writes out, not a running server).

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


def rendered_servers(spec: DeploySpec, plan: Plan) -> list[ServerLine]:
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
    list of ServerLine
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
        servers.append(ServerLine(t.name, t.name, t.provider, t.zone, host, port, weights[t.name]))
    return servers


def haproxy_config(
    spec: DeploySpec,
    servers: Sequence[ServerLine],
    *,
    bind_host: str = "0.0.0.0",
    bind_port: int = 443,
    cert_path: str,
    stats_socket: str | None = None,
    ca_file: str | None = None,
    resolve_dns: bool = False,
    name: str = "gateway",
    secret: str | None = None,
) -> str:
    """The text of an HAProxy 2.6 configuration routing by zone, weight and health.

    Parameters
    ----------
    spec : DeploySpec
        Supplies the zones, residency, routing policy, zone header, retries and check interval.
    servers : sequence of ServerLine
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
    secret : str, optional
        The deployment's gateway secret, sent in ``X-Verdict-Gateway-Secret`` with every
        forwarded request and health check: the value itself (16+ letters, digits, ``-``,
        ``_``), or ``${NAME}`` to read it from environment variable NAME when HAProxy starts
        (startup then fails while NAME is unset or empty).

    Returns
    -------
    str
        The configuration; check it with ``haproxy -c -f FILE``.

    Raises
    ------
    ConfigurationError
        When ``servers`` is empty, a server or zone name is unusable, names repeat, or the
        secret is malformed.
    """
    _check(spec, servers, name, (cert_path, stats_socket, ca_file))
    guard = _check_secret(secret)
    sections = [_global(stats_socket)]
    if resolve_dns:
        sections.append(
            ["resolvers dns", "parse-resolv-conf", "hold valid 10s", "timeout resolve 1s"]
        )
    sections += [_defaults(spec), _frontend(spec, bind_host, bind_port, cert_path, name, secret)]
    local = _Local(bind_port)
    strict, retries = spec.strict_zones(), spec.gateway.retries
    for backend, members, allbackups in _backends(spec, servers):
        zone = backend.removeprefix("zone_") if backend.startswith("zone_") else None
        answer = local.answer(zone if zone in strict else None)
        active = [s for s, backup in members if not backup]
        spilled = [s for s, backup in members if backup]
        if allbackups and spilled:  # the backups, together, behind one last-resort hop
            spill = f"{backend}_spill"
            sections.append(_backend(backend, active, ("spill", local.address(spill)), secret,
                                     ca_file, resolve_dns, retries))  # fmt: skip
            sections.append([f"frontend {spill}", f"bind {local.address(spill)}",
                             f"default_backend {spill}"])  # fmt: skip
            sections.append(_backend(spill, spilled, answer, secret, ca_file, resolve_dns, retries))
        else:
            sections.append(
                _backend(backend, active, answer, secret, ca_file, resolve_dns, retries)
            )
    sections += local.answer_frontends()
    return "\n\n".join([*guard, *(_section(lines) for lines in sections)]) + "\n"


def _check(
    spec: DeploySpec, servers: Sequence[ServerLine], name: str, paths: tuple[str | None, ...]
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
    bad += [z for z in spec.zones() if not _NAME.match(z)]
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


def _check_secret(secret: str | None) -> list[str]:
    """Refuse a malformed secret; for ``${NAME}``, the lines that stop HAProxy without NAME."""
    if secret is None:
        return []
    found = _SECRET.fullmatch(secret)
    if found is None:
        raise ConfigurationError(
            "the gateway secret must be 16 or more letters, digits, '-' or '_' "
            "(secrets.token_urlsafe makes one), or ${NAME} to read it from the environment. "
            "To fix: generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    env = found.group(1)
    if env is None:
        return []
    alert = f"{env} is not set. To fix: export {env} (the gateway secret the replicas share)."
    return [
        "\n".join([f'.if !defined({env}) || streq("${env}","")', f'.alert "{alert}"', ".endif"])
    ]


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
        # Also the pause before a retry once one server is left (HAProxy waits
        # min(1 s, timeout connect)): the time a failover costs the requests caught in it.
        f"timeout connect {gw.connect_timeout_ms}ms",
        "timeout client 30s",
        "timeout server 30s",
        "timeout check 1s",
        f"retries {gw.retries}",
        "option redispatch 1",  # every retry goes to another server when there is one
        "retry-on all-retryable-errors",
        # L7 retries resend the request, so its body must be buffered whole first.
        "option http-buffer-request",
        f"default-server inter {gw.check_interval_ms}ms fall 2 rise 2 "
        "observe layer4 error-limit 1 on-error mark-down",
        *own_errors(),
    ]


def _frontend(
    spec: DeploySpec, host: str, port: int, cert: str, name: str, secret: str | None
) -> list[str]:
    """TLS termination, the secret, the zone checks, the strict-zone refusals, the backend."""
    lines = [
        "frontend gateway",
        f"bind {host}:{port} ssl crt {cert} alpn http/1.1",
        "option forwardfor",
        "http-request set-header X-Forwarded-Proto https",
    ]
    if secret is not None:  # replaces any value a client sent
        lines.append(f'http-request set-header {SECRET_HEADER} "{secret}"')
    lines += zone_rules(spec)
    lines += [f"use_backend zone_{z} if zone_is_{z}" for z in spec.zones()]
    lines.append("default_backend all")
    lines.append(f"http-after-response set-header X-Verdict-Gateway {name}")
    return lines


def _backends(
    spec: DeploySpec, servers: Sequence[ServerLine]
) -> list[tuple[str, list[tuple[ServerLine, bool]], bool]]:
    """Each backend's name, its servers with a backup flag, and whether backups share load."""
    out: list[tuple[str, list[tuple[ServerLine, bool]], bool]] = []
    strict = spec.strict_zones()
    for z in spec.zones():
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


class _Local:
    """The gateway's own hops, on Linux abstract sockets named after its port (unique on a
    host, gone with the process): the last-resort answers and the spill frontends."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answers: dict[str, str] = {}  # frontend name -> its JSON 503

    def address(self, hop: str) -> str:
        return f"abns@verdict-gateway-{self.port}-{hop}"

    def answer(self, strict_zone: str | None) -> tuple[str, str]:
        """The ``last_resort`` server answering 503 for a strict zone (or any backend)."""
        hop = f"answer_{strict_zone}" if strict_zone else "answer_no_server"
        self.answers[hop] = no_target_body(strict_zone) if strict_zone else no_server_body()
        return "last_resort", self.address(hop)

    def answer_frontends(self) -> list[list[str]]:
        return [
            [f"frontend {hop}", f"bind {self.address(hop)}",
             f"http-request return status 503 content-type application/json string '{body}'"]
            for hop, body in self.answers.items()
        ]  # fmt: skip


def _backend(
    name: str,
    servers: Sequence[ServerLine],
    last: tuple[str, str],
    secret: str | None,
    ca_file: str | None,
    resolve_dns: bool,
    retries: int,
) -> list[str]:
    """A backend over ``servers`` with ``last`` (name, address) as its one backup, always up.

    The backup matters when no server is left: a request retried after its server died is
    then answered by the gateway's own hop. Without it HAProxy closes a kept-alive client
    connection without an answer (HTTP lets a client retry; most POST clients do not).
    """
    lines = [f"backend {name}", *_backend_head(secret)]
    # Retries enough to meet each server twice (a broken answer, then a refused connection
    # marks it down) and then the backup: spent earlier, HAProxy closes a kept-alive client
    # connection without an answer.
    lines.append(f"retries {max(retries, 2 * len(servers) + 1)}")
    lines += [_server_line(s, ca_file, resolve_dns) for s in servers]
    lines.append(f"server {last[0]} {last[1]} backup")
    return lines


def _backend_head(secret: str | None) -> list[str]:
    """Every backend: weighted round robin over the servers whose readiness check passes."""
    send = f"http-check send meth GET uri {READY_PATH} ver HTTP/1.1 hdr Host verdict"
    if secret is not None:
        send += f' hdr {SECRET_HEADER} "{secret}"'
    return ["balance roundrobin", "option httpchk", send, "http-check expect status 200"]


def _server_line(s: ServerLine, ca_file: str | None, resolve_dns: bool) -> str:
    """One ``server`` line: address, weight, health check, TLS and run-time DNS."""
    line = f"server {s.name} {s.host}:{s.port} weight {s.weight} check"
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
