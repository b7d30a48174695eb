"""A replica answers only its gateway, and only for its own zone: residency's second line.

The gateway enforces residency (``verdict.deploy._gateway``); each replica checks again, so a
request sent straight to a replica's port, or routed there by a misconfigured gateway, is not
served out of its zone:

- with ``settings.gateway_secret``, every request but the open probes (liveness, and readiness
  when it is public: kubelets and cloud load balancers cannot send a secret) must carry one
  ``X-Verdict-Gateway-Secret`` header equal to it (compared in constant time), else 403
  ``not_from_gateway``;
- with ``settings.strict_zones``, a request whose ``settings.zone_header`` names a strict zone
  other than the replica's own ``settings.zone`` gets 421 Misdirected Request ``wrong_zone``,
  and an ambiguous zone header (several lines, a list, an empty or malformed value) 400
  ``bad_zone``. No header, the replica's own zone, or a zone that is not strict passes.

The checks run before the API key is checked or the body read, and refusals are answered here
in the service's error shape (:func:`~verdict.serving._errors.error_response`) with a fresh
request id, counted in ``verdict_errors_total`` by kind.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send

from verdict.serving._errors import ServiceError, error_response
from verdict.serving._settings import ServiceSettings
from verdict.serving._telemetry import Telemetry

SECRET_HEADER = "X-Verdict-Gateway-Secret"
_SECRET_KEY = SECRET_HEADER.lower().encode("latin-1")
_ZONE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def guarded(settings: ServiceSettings) -> bool:
    """Whether ``settings`` ask for any residency check (else the guard is not installed)."""
    return settings.gateway_secret is not None or bool(settings.strict_zones)


class ResidencyGuard:
    """Refuses requests not from the gateway (403) or for another strict zone (421, 400).

    Parameters
    ----------
    app : ASGI app
        The application it wraps.
    settings : ServiceSettings
        Supplies ``gateway_secret``, ``zone``, ``strict_zones`` and ``zone_header``.
    telemetry : Telemetry
        Counts each refusal by kind.
    unlocked : collection of str
        Paths answered without the secret (the open health probes).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: ServiceSettings,
        telemetry: Telemetry,
        unlocked: Collection[str],
    ) -> None:
        self.app = app
        secret = settings.gateway_secret
        self.secret = secret.get_secret_value().encode("utf-8") if secret is not None else None
        self.zone = settings.zone
        self.strict = frozenset(settings.strict_zones)
        self.header = settings.zone_header
        self.header_key = settings.zone_header.lower().encode("latin-1")
        self.unlocked = frozenset(unlocked)
        self.telemetry = telemetry
        self.prefix = f"{settings.target}:" if settings.target else ""  # as RequestMiddleware

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope["path"], scope["headers"])
        if refused is None:
            await self.app(scope, receive, send)
            return
        self.telemetry.error(refused.kind)
        rid = self.prefix + uuid.uuid4().hex
        await error_response(scope["path"], rid, refused)(scope, receive, send)

    def refusal(self, path: str, headers: list[tuple[bytes, bytes]]) -> ServiceError | None:
        """The error to answer a request with, or None to let it through."""
        if self.secret is not None and path not in self.unlocked:
            sent = [value for key, value in headers if key == _SECRET_KEY]
            if len(sent) != 1 or not hmac.compare_digest(sent[0], self.secret):
                return ServiceError(
                    403,
                    "This replica answers only requests forwarded by its deployment's gateway "
                    f"(the {SECRET_HEADER} header is missing or wrong). To fix: send the request "
                    "to the gateway's address, not to a replica's port.",
                    kind="not_from_gateway",
                )
        if self.strict:
            return self._zone_refusal(headers)
        return None

    def _zone_refusal(self, headers: list[tuple[bytes, bytes]]) -> ServiceError | None:
        """421 for another strict zone, 400 for an ambiguous zone header, else None."""
        sent = [value for key, value in headers if key == self.header_key]
        if not sent:
            return None
        zone = sent[0].decode("latin-1").strip().lower()
        if len(sent) != 1 or not _ZONE.fullmatch(zone):
            return ServiceError(
                400,
                f"The {self.header} header must be sent once, holding one zone name; this "
                f"request has {len(sent)} such header line(s) and not one zone name. To fix: "
                f"send one {self.header} header with one zone (for example "
                f"{min(self.strict)}), through the gateway.",
                kind="bad_zone",
            )
        if zone in self.strict and zone != self.zone:
            return ServiceError(
                421,
                f"This replica serves zone {self.zone or '(none)'}, and zone {zone} is strict: "
                f"its requests are served only by {zone} targets. To fix: send the request "
                f"through the gateway, which routes {zone} requests to {zone} targets.",
                kind="wrong_zone",
            )
        return None
