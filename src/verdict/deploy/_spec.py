"""The deployment spec, ``deploy.yaml``: what to serve, where, for how much load, and how to route.

A full example (``examples/deploy.yaml`` is a complete five-target one)::

    model: penguins@production          # NAME@ALIAS from the registry
    load:
      rps: 300                          # expected requests per second, all zones together
      peak_factor: 2.0                  # the plan holds rps * peak_factor (600 here)
      zones:                            # share of the load that originates in each residency zone
        eu: 0.4                         # shares sum to 1; omit `zones` for one global pool
        us: 0.6
    latency:
      p99_ms: 250                       # the objective each replica's capacity figure must meet
    capacity_rps_per_replica: 400       # optional; per-target override below; default: see below
    routing:
      residency:                        # per zone: strict (never served outside the zone)
        eu: strict                      # or preferred (in zone when it can, elsewhere on failure)
        us: preferred                   # zones not named are preferred
      default_zone: null                # a request without the zone header: null routes it by
                                        # policy over every target; a zone routes it as that zone
      require_zone: false               # true: refuse a request without the header (400)
      min_targets_per_zone: 2           # each strict zone is served by at least this many targets
      survive_provider_loss: true       # the plan must hold the peak with any one provider lost
      failover: [aws-eu, gcp-eu, azure-us, aws-us]   # either an order of targets ...
      # cost_weights: {aws-eu: 1.0, gcp-eu: 0.5}     # ... or weights (not both)
    targets:
      - name: aws-eu                    # a DNS label, unique
        provider: aws                   # aws | gcp | azure | onprem
        region: eu-west-1
        zone: eu                        # residency zone of the region
        instance_type: m6i.large
        cost_per_replica_hour: 0.096    # USD, >= 0
        min_replicas: 0
        max_replicas: 6
        bucket: s3://verdict-artifacts-eu   # artifact bucket URL (s3:// gs:// az:// https:// file://)
        # capacity_rps_per_replica: 350     # this target's own measured figure
        # endpoint: aws-eu.verdict.example.com:443  # where the gateway reaches it (rendered files)
    gateway:                            # optional; the global HAProxy gateway
      providers: [aws, gcp]             # one gateway per provider (default: the first two)
      zone_header: X-Verdict-Zone       # the request header naming the caller's residency zone
      source_ranges: [203.0.113.10/32]  # the gateways' addresses (CIDRs): the only sources the
                                        # replicas' NetworkPolicy and load balancers admit
      tls:
        cert: null                      # rendered gateways: PEM (certificate + key) they present
        ca_cert: null                   # local runs: your CA's certificate (PEM, no key) and ...
        ca_key: null                    # ... its key (0600), both or neither, relative to this
                                        # file; null: a CA made and kept in <home>/deploy
        reencrypt: false                # TLS from the gateway to the replicas as well
      retries: 3                        # retries on another server after any retryable failure
      check_interval_ms: 1000           # health checks of /v2/health/ready
      connect_timeout_ms: 500           # to a replica; also the pause before a retry once one
                                        # server is left: what a failover costs a request
    image: ghcr.io/verdict-ml/verdict:0.1.0   # optional; the container image the manifests run

Capacity per replica is, in order, the target's ``capacity_rps_per_replica``, the spec's, or
:data:`DEFAULT_CAPACITY_RPS`: 400 requests/s, the single-row throughput of one ``verdict serve``
worker measured by ``bench/serve.py`` (532.7 req/s on a quiet 2-core machine, ``bench/RESULTS.md``,
Serving) rounded down for headroom. Measure your own model and instance with the service
benchmark and give it here.

Residency is enforced at the gateway and again at each replica. A request names its zone in
``gateway.zone_header``: exactly one header line holding one zone of the spec
(:meth:`DeploySpec.zones`: the zones of ``load.zones``, ``routing.residency`` and the targets),
matched without case after trimming spaces. Several header lines, a list (``eu, us``), an empty,
quoted or unknown value is refused with 400 ``bad_zone``, naming the allowed zones. A request
without the header is routed as ``routing.default_zone`` when set, refused with 400
``missing_zone`` when ``routing.require_zone`` is true, and otherwise routed over every target by
the routing policy. Replicas take traffic only from the gateway: a per-deployment secret header,
and in the rendered Kubernetes files a NetworkPolicy admitting only ``gateway.source_ranges``
and in-cluster gateway pods.

:func:`load_spec` turns YAML and validation errors into :class:`~verdict.errors.ConfigurationError`
naming each field by its path (``targets[1].max_replicas``) and ending with "To fix: ...".
"""

from __future__ import annotations

import ipaddress
import math
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from verdict.errors import ConfigurationError

__all__ = [
    "DEFAULT_CAPACITY_RPS",
    "DEFAULT_IMAGE",
    "DeploySpec",
    "Gateway",
    "GatewayTLS",
    "Target",
    "load_spec",
    "parse_spec",
]

DEFAULT_CAPACITY_RPS = 400.0
PROVIDERS = ("aws", "gcp", "azure", "onprem")
_BUCKET_SCHEMES = {
    "aws": ("s3://",),
    "gcp": ("gs://",),
    "azure": ("az://", "abfs://", "abfss://", "https://"),
    "onprem": ("s3://", "gs://", "az://", "https://", "http://", "file://"),
}
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_ENDPOINT = r"^[A-Za-z0-9.-]+:[0-9]{1,5}$"
_HEADER = r"^[A-Za-z0-9-]+$"
_ZONE = r"^[a-z0-9][a-z0-9_-]{0,31}$"  # names HAProxy backends and ACLs: lower case, no spaces
DEFAULT_IMAGE = "ghcr.io/verdict-ml/verdict:0.1.0"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """One place replicas can run: a region of one provider, with its price and bounds."""

    name: str = Field(pattern=_DNS_LABEL)
    provider: Literal["aws", "gcp", "azure", "onprem"]
    region: str = Field(min_length=1)
    zone: str = Field(pattern=_ZONE)
    instance_type: str = Field(min_length=1)
    cost_per_replica_hour: float = Field(ge=0, allow_inf_nan=False)
    min_replicas: int = Field(default=0, ge=0)
    max_replicas: int = Field(ge=0)
    bucket: str = Field(min_length=1)
    capacity_rps_per_replica: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    endpoint: str | None = Field(default=None, pattern=_ENDPOINT)

    @model_validator(mode="after")
    def _check(self) -> Target:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas ({self.min_replicas}) is above max_replicas ({self.max_replicas})"
            )
        schemes = _BUCKET_SCHEMES[self.provider]
        if not self.bucket.startswith(schemes):
            raise ValueError(
                f"bucket {self.bucket!r} does not suit provider {self.provider}; "
                f"expected a URL starting with one of {', '.join(schemes)}"
            )
        return self


class Load(_Strict):
    """Expected requests per second, the peak factor, and the share of load per zone."""

    rps: float = Field(gt=0, allow_inf_nan=False)
    peak_factor: float = Field(default=1.0, ge=1, allow_inf_nan=False)
    zones: dict[str, float] | None = None

    @field_validator("zones")
    @classmethod
    def _shares(cls, zones: dict[str, float] | None) -> dict[str, float] | None:
        if zones is None:
            return None
        if not zones:
            raise ValueError("zones is empty; omit it for one global pool of load")
        bad = sorted(z for z in zones if not re.match(_ZONE, z))
        if bad:
            raise ValueError(
                f"zone names must be lower-case letters, digits, - or _ (up to 32); got {bad}"
            )
        if any(not math.isfinite(v) or v < 0 for v in zones.values()):
            raise ValueError("zone shares must be finite and >= 0")
        if abs(sum(zones.values()) - 1.0) > 1e-6:
            raise ValueError(f"zone shares sum to {sum(zones.values()):.6g}; they must sum to 1")
        return zones


class Latency(_Strict):
    """The latency objective the per-replica capacity figure is measured against."""

    p99_ms: float = Field(gt=0, allow_inf_nan=False)


class Routing(_Strict):
    """Residency per zone, the minimum targets per strict zone, failover or cost weights, and
    what a request without a zone header gets (``default_zone`` or ``require_zone``)."""

    residency: dict[str, Literal["strict", "preferred"]] = Field(default_factory=dict)
    min_targets_per_zone: int = Field(default=1, ge=1)
    survive_provider_loss: bool = True
    failover: list[str] | None = None
    cost_weights: dict[str, float] | None = None
    default_zone: str | None = None
    require_zone: bool = False

    @model_validator(mode="after")
    def _one_policy(self) -> Routing:
        if self.failover is not None and self.cost_weights is not None:
            raise ValueError("give either failover (an order) or cost_weights, not both")
        if self.require_zone and self.default_zone is not None:
            raise ValueError(
                "give either default_zone (route requests without a zone header as that zone) "
                "or require_zone: true (refuse them), not both"
            )
        if self.cost_weights and any(
            w < 0 or not math.isfinite(w) for w in self.cost_weights.values()
        ):
            raise ValueError("cost_weights must be finite and >= 0")
        return self

    @property
    def policy(self) -> Literal["failover", "cost"]:
        """``failover`` when an order is given, else ``cost`` (weighted)."""
        return "failover" if self.failover is not None else "cost"


class GatewayTLS(_Strict):
    """TLS at the gateway: the certificate it presents, and whether it re-encrypts to replicas.

    ``cert`` is what a rendered gateway presents. A local run signs its gateway's certificate
    with the CA in ``ca_cert``/``ca_key`` (given together), else with a CA of its own; the files
    are checked when ``verdict deploy up`` uses them (see ``verdict.deploy.local._certs``).
    """

    cert: str | None = None
    ca_cert: str | None = Field(default=None, min_length=1)
    ca_key: str | None = Field(default=None, min_length=1)
    reencrypt: bool = False

    @model_validator(mode="after")
    def _ca_pair(self) -> GatewayTLS:
        if (self.ca_cert is None) != (self.ca_key is None):
            raise ValueError(
                "give ca_cert and ca_key together (the CA's certificate and its private key), "
                "or neither (a CA is made for the deployment)"
            )
        return self

    def ca_files(self, base: Path) -> tuple[Path, Path] | None:
        """The given CA's certificate and key, relative paths taken from ``base``; or None."""
        if self.ca_cert is None or self.ca_key is None:
            return None
        return base / Path(self.ca_cert).expanduser(), base / Path(self.ca_key).expanduser()


class Gateway(_Strict):
    """The global HAProxy gateway: where it runs, how it routes, retries and checks health,
    and the addresses it reaches the replicas from (``source_ranges``)."""

    providers: list[Literal["aws", "gcp", "azure", "onprem"]] | None = None
    zone_header: str = Field(default="X-Verdict-Zone", pattern=_HEADER)
    tls: GatewayTLS = Field(default_factory=GatewayTLS)
    retries: int = Field(default=3, ge=0, le=10)
    check_interval_ms: int = Field(default=1000, ge=100, le=60_000)
    connect_timeout_ms: int = Field(default=500, ge=10, le=10_000)
    source_ranges: list[str] | None = None

    @field_validator("source_ranges")
    @classmethod
    def _cidrs(cls, ranges: list[str] | None) -> list[str] | None:
        if ranges is None:
            return None
        if not ranges:
            raise ValueError("source_ranges is empty; omit it, or list the gateways' CIDRs")
        bad = []
        for text in ranges:
            try:
                ipaddress.ip_network(text, strict=True)
            except ValueError:
                bad.append(text)
        if bad:
            raise ValueError(
                f"source_ranges must be CIDR networks with no host bits set "
                f"(203.0.113.10/32, 198.51.100.0/24); got {bad}"
            )
        return [str(ipaddress.ip_network(text)) for text in ranges]


class DeploySpec(_Strict):
    """A validated ``deploy.yaml``; see the module docstring for the full shape.

    Parameters
    ----------
    model : str
        ``NAME@ALIAS`` of the registered model to serve.
    load : Load
        Expected requests per second, peak factor and zone shares.
    latency : Latency
        The latency objective.
    targets : list of Target
        Where replicas may run; names unique.
    routing : Routing
        Residency, minimum targets per strict zone, provider-loss survival, failover or weights.
    capacity_rps_per_replica : float, optional
        Requests/s one replica serves within the latency objective (default 400, from the bench).
    gateway : Gateway
        The global gateway: providers it is rendered for, zone header, TLS, retries, checks.
    image : str
        The container image the Kubernetes manifests run.
    """

    model: str = Field(pattern=r"^[A-Za-z0-9][\w.-]*@[A-Za-z0-9][\w.-]*$")
    load: Load
    latency: Latency
    targets: list[Target] = Field(min_length=1)
    routing: Routing = Field(default_factory=Routing)
    capacity_rps_per_replica: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    gateway: Gateway = Field(default_factory=Gateway)
    image: str = Field(default=DEFAULT_IMAGE, min_length=1)

    @model_validator(mode="after")
    def _cross_check(self) -> DeploySpec:
        names = [t.name for t in self.targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"target names must be unique; repeated: {', '.join(dupes)}")
        zones = set(self.load.zones or {})
        unknown = sorted(set(self.routing.residency) - zones)
        if unknown:
            raise ValueError(
                f"routing.residency names zones with no load: {', '.join(unknown)}; "
                f"load.zones has {', '.join(sorted(zones)) or 'none'}"
            )
        named = list(self.routing.failover or []) + list(self.routing.cost_weights or {})
        missing = sorted(set(named) - set(names))
        if missing:
            raise ValueError(f"routing names unknown targets: {', '.join(missing)}")
        default = self.routing.default_zone
        if default is not None and default not in self.zones():
            raise ValueError(
                f"routing.default_zone {default!r} is not a zone of this spec; "
                f"the zones are {', '.join(self.zones())} (lower case)"
            )
        return self

    @property
    def peak_rps(self) -> float:
        """The load the plan must hold: ``rps * peak_factor``."""
        return self.load.rps * self.load.peak_factor

    def zone_peak_rps(self) -> dict[str, float]:
        """Peak requests/s originating in each zone (empty when the load has no zones)."""
        return {z: share * self.peak_rps for z, share in (self.load.zones or {}).items()}

    def strict_zones(self) -> list[str]:
        """The zones whose load must be served inside the zone, sorted."""
        return sorted(z for z, mode in self.routing.residency.items() if mode == "strict")

    def zones(self) -> list[str]:
        """Every zone a request may name: the strict ones, then the others sorted (the zones
        of ``load.zones``, ``routing.residency`` and the targets)."""
        strict = self.strict_zones()
        named = set(self.load.zones or {}) | set(self.routing.residency)
        named |= {t.zone for t in self.targets}
        return strict + sorted(named - set(strict))

    @property
    def model_name(self) -> str:
        """The registered model's name (before the ``@``)."""
        return self.model.split("@", 1)[0]

    @property
    def model_alias(self) -> str:
        """The alias the deployment serves (after the ``@``)."""
        return self.model.split("@", 1)[1]

    def gateway_providers(self) -> list[str]:
        """The providers a gateway is rendered for: as given, else the first two in use."""
        if self.gateway.providers:
            return list(dict.fromkeys(self.gateway.providers))
        return list(dict.fromkeys(t.provider for t in self.targets))[:2]

    def endpoint(self, target: Target) -> tuple[str, int]:
        """Host and port the gateway reaches ``target`` at in rendered files."""
        if target.endpoint:
            host, port = target.endpoint.rsplit(":", 1)
            return host, int(port)
        return f"{target.name}.verdict.internal", 8080

    def capacity(self, target: Target) -> tuple[float, str]:
        """The target's requests/s per replica and where that figure came from."""
        if target.capacity_rps_per_replica is not None:
            return target.capacity_rps_per_replica, "target"
        if self.capacity_rps_per_replica is not None:
            return self.capacity_rps_per_replica, "spec"
        return DEFAULT_CAPACITY_RPS, "bench default"


def parse_spec(data: Any, source: str = "deploy spec") -> DeploySpec:
    """Validate already-parsed YAML (a mapping) into a :class:`DeploySpec`.

    Parameters
    ----------
    data : Any
        The parsed document; must be a mapping.
    source : str
        Named in error messages (usually the file path).

    Returns
    -------
    DeploySpec

    Raises
    ------
    ConfigurationError
        Listing every invalid field by its path, ending with "To fix: ...".
    """
    if not isinstance(data, dict):
        raise ConfigurationError(
            f"{source} must be a YAML mapping with model, load, latency, targets and routing; "
            f"got {type(data).__name__}. To fix: start from examples/deploy.yaml."
        )
    try:
        return DeploySpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"  - {_path(e['loc'])}: {_message(e)}" for e in exc.errors()]
        raise ConfigurationError(
            f"{source} is not a valid deployment spec:\n"
            + "\n".join(lines)
            + "\nTo fix: correct the fields named above; the shape is documented in "
            "verdict.deploy._spec and examples/deploy.yaml."
        ) from None


def load_spec(path: str | Path) -> DeploySpec:
    """Read and validate a ``deploy.yaml``.

    Parameters
    ----------
    path : str or Path
        The spec file.

    Returns
    -------
    DeploySpec

    Raises
    ------
    ConfigurationError
        When the file is missing, is not valid YAML (with line and column), or fails validation.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read deploy spec {path}: {exc.strerror or exc}. "
            "To fix: pass the path of an existing deploy.yaml (see examples/deploy.yaml)."
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigurationError(
            f"{path} is not valid YAML{where}: {problem}. "
            "To fix: correct the YAML syntax there (indentation, colons, quotes)."
        ) from None
    return parse_spec(data, source=str(path))


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _message(error: dict[str, Any]) -> str:
    msg = str(error["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if error["type"] == "literal_error" and "provider" in error["loc"]:
        msg += f" (known providers: {', '.join(PROVIDERS)})"
    if error["type"] == "extra_forbidden":
        msg = "unknown field (check its spelling)"
    return msg
