"""The prediction service's settings: arguments first, then VERDICT_* variables, then defaults.

Secure by default: API keys are required, CORS is off, request bodies and rows per request are
bounded, and the service listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from verdict.errors import ConfigurationError

DEFAULT_HOME = Path(".verdict")
_TARGET = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"  # travels in a header and a log column: keep it plain
_ZONE = r"^[a-z0-9][a-z0-9_-]{0,31}$"  # a residency zone, as deploy.yaml names them
_HEADER = r"^[A-Za-z0-9-]+$"


class ServiceSettings(BaseSettings):
    """What ``verdict serve`` and ``create_app`` need.

    Attributes
    ----------
    models : list of str
        Model references to serve (``NAME@ALIAS`` / ``NAME@vN``); empty: the ``production``
        alias of every registered model. ``VERDICT_MODELS`` takes a JSON list or commas.
    home : Path
        Folder of the local defaults (``VERDICT_HOME``).
    state_url : str or None
        SQLAlchemy URL of the service's own state: API keys, the prediction log and feedback
        (``VERDICT_STATE_URL``); None: ``sqlite:///<home>/service.db`` (WAL).
    auth : bool
        Require an API key on every endpoint but liveness (``VERDICT_AUTH``).
    max_body_bytes, max_rows : int
        Larger requests get 413.
    batching : {'off', 'on', 'auto'}
        Micro-batching of concurrent requests; ``auto`` waits for company only when other
        requests are in flight.
    batch_max_rows : int
        Rows scored in one pipeline call at most.
    batch_budget_ms : float
        The longest a request waits for others to join its batch; never exceeded.
    max_orphan_feedback : int
        Labels for request ids the log does not hold kept per model at most
        (``VERDICT_MAX_ORPHAN_FEEDBACK``); beyond, such feedback gets 429.
    log_inputs : bool
        Store each row's inputs in the prediction log (sensitive columns hashed).
    reload_seconds : float
        How often aliases are checked for a move (hot reload); 0 disables.
    cors_origins : list of str
        Origins allowed by CORS; empty (default) sends no CORS headers.
    runtime : {'native', 'onnx'}
        What scores rows: the registered scikit-learn pipeline itself (default), or its ONNX
        export run by onnxruntime, used only after it matched the pipeline on the version's
        held-out rows (labels equal, probabilities within 1e-5); a model that cannot be
        exported is served natively, and the model's metadata says which runtime answers.
    target : str or None
        The deployment target this replica belongs to (``VERDICT_TARGET``, e.g. ``aws-eu``):
        every response carries it in ``X-Verdict-Target`` and every logged prediction and
        feedback row stores it, so the central database knows where each row was served.
    public_readiness : bool
        Answer ``GET /v2/health/ready`` without an API key (``VERDICT_PUBLIC_READINESS``), for
        load-balancer and kubelet probes that cannot send one; liveness is always open.
    header_timeout_seconds : float
        A request's line and headers must arrive complete within this many seconds of its first
        byte (of the connection's opening, for the first request), or the connection is closed
        (``VERDICT_HEADER_TIMEOUT_SECONDS``); the deadline is not extended by trickled bytes.
    max_header_bytes, max_headers : int
        Larger request heads (request line and headers together), or more header fields, get
        431 and the connection is closed; the excess is never buffered
        (``VERDICT_MAX_HEADER_BYTES``, ``VERDICT_MAX_HEADERS``).
    keys_max_staleness_seconds : float or None
        Fail closed when the API keys may be stale (``VERDICT_KEYS_MAX_STALENESS_SECONDS``):
        a deployment target's keys are copies its link keeps current, and once the link's last
        key sync is older than this, every request that needs a key gets 503 ``keys_stale``
        (a key revoked centrally might still be valid here); liveness and readiness stay open.
        None (default): no bound, for a standalone service whose keys are its own.
    zone : str or None
        The residency zone this replica serves (``VERDICT_ZONE``, e.g. ``eu``).
    strict_zones : list of str
        The deployment's strict zones (``VERDICT_STRICT_ZONES``, a JSON list or commas): a
        request whose ``zone_header`` names one of them that is not ``zone`` gets 421
        ``wrong_zone``, an ambiguous zone header 400 ``bad_zone``; empty (default): no check.
    zone_header : str
        The request header naming the caller's zone (``VERDICT_ZONE_HEADER``).
    gateway_secret : SecretStr or None
        The deployment's gateway secret (``VERDICT_GATEWAY_SECRET``, 16+ characters): every
        request but liveness (and readiness when public) must carry it in
        ``X-Verdict-Gateway-Secret`` or gets 403 ``not_from_gateway``, so the replica answers
        only its gateway; None (default): no check.
    grpc_port : int or None
        Also serve the Open Inference Protocol over gRPC (``inference.GRPCInferenceService``)
        on this port of ``listen_host`` (``VERDICT_GRPC_PORT``; 0 picks a free one, printed);
        None (default): HTTP only. Same keys, limits, batching, log and metrics as HTTP.
    metrics_port : int or None
        Also serve ``/metrics`` on this port of ``listen_host``, without an API key, for
        Prometheus scrapers (``VERDICT_METRICS_PORT``; 0 picks a free one, printed); None
        (default): ``/metrics`` only on the service port, behind the key.
    listen_host : str
        The address the service listens on (``run``'s ``host`` sets it), which the gRPC and
        metrics ports share.
    """

    model_config = SettingsConfigDict(env_prefix="VERDICT_", extra="ignore")

    models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    home: Path = DEFAULT_HOME
    state_url: str | None = None
    auth: bool = True
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    max_rows: int = Field(default=10_000, gt=0)
    batching: Literal["off", "on", "auto"] = "auto"
    batch_max_rows: int = Field(default=2048, gt=0)
    batch_budget_ms: float = Field(default=2.0, ge=0)
    max_orphan_feedback: int = Field(default=100_000, ge=0)
    log_inputs: bool = True
    reload_seconds: float = Field(default=1.0, ge=0)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    runtime: Literal["native", "onnx"] = "native"
    target: str | None = Field(default=None, min_length=1, max_length=63, pattern=_TARGET)
    public_readiness: bool = False
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    max_headers: int = Field(default=100, gt=0)
    keys_max_staleness_seconds: float | None = Field(default=None, gt=0)
    zone: str | None = Field(default=None, pattern=_ZONE)
    strict_zones: Annotated[list[Annotated[str, Field(pattern=_ZONE)]], NoDecode] = Field(
        default_factory=list
    )
    zone_header: str = Field(default="X-Verdict-Zone", pattern=_HEADER)
    gateway_secret: SecretStr | None = Field(default=None, min_length=16)
    grpc_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    listen_host: str = Field(default="127.0.0.1", min_length=1)

    @field_validator("models", "cors_origins", "strict_zones", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        """A JSON list or comma-separated words, as the variables are documented."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("gateway_secret", mode="before")
    @classmethod
    def _hidden(cls, value: Any) -> Any:
        """Wrapped before it is checked, so that an error never shows the secret."""
        return SecretStr(value) if isinstance(value, str) else value

    def state_database(self) -> str:
        """The SQLAlchemy URL of the service state actually used."""
        return self.state_url or f"sqlite:///{self.home / 'service.db'}"


def read_settings(settings: ServiceSettings | Mapping[str, Any] | None) -> ServiceSettings:
    """The settings, read over the ``VERDICT_*`` variables when not given whole; their
    errors as one ConfigurationError that names every bad field (never a secret's value)."""
    if isinstance(settings, ServiceSettings):
        return settings
    overrides = {k: v for k, v in (settings or {}).items() if v is not None}
    try:
        return ServiceSettings(**overrides)
    except SettingsError as exc:
        raise ConfigurationError(
            f"A VERDICT_* variable could not be read: {exc}. To fix: correct it (lists are JSON "
            "or comma-separated)."
        ) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(
            f"The service settings are invalid: {problems}. To fix: correct the flags or the "
            "VERDICT_* variables named."
        ) from None
