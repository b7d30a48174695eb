"""What the gateway answers itself, and the frontend rules that decide a request's zone.

Every answer HAProxy makes on its own is JSON in the service's error shape,
``{"error": {"kind": ..., "message": "... To fix: ..."}}``: a bad or missing zone header (400
``bad_zone``, ``missing_zone``), a strict zone with no target up (503 ``no_target_in_zone``),
and HAProxy's own errors (``http-error``: 503 ``no_server`` when no server is left, 502, 504,
400, 408, 500). The JSON goes into single-quoted configuration strings, which HAProxy takes
as they are, so the messages never contain a single quote.
"""

from __future__ import annotations

import json

from verdict.deploy._spec import DeploySpec

# The answers HAProxy makes itself, in the service's error shape.
_OWN_ERRORS = {
    400: ("bad_request", "the gateway could not parse this HTTP request. To fix: send a "
          "well-formed HTTP/1.1 request"),
    408: ("request_timeout", "the request did not arrive complete in time. To fix: send the "
          "whole request promptly, then retry"),
    500: ("gateway_error", "the gateway failed to handle this request. To fix: retry; if it "
          "persists, give the time of the request to the operator"),
    502: ("bad_gateway", "no replica sent a valid answer, on any retry. To fix: retry in a few "
          "seconds; if it persists, the operator should check the replicas"),
    503: ("no_server", "no replica is left to answer this request: every server for it is down "
          "or failed. To fix: retry in a few seconds; if it persists, the operator should "
          "revive the replicas"),
    504: ("gateway_timeout", "no replica answered in time, on any retry. To fix: retry with a "
          "smaller request, or later"),
}  # fmt: skip


def own_errors() -> list[str]:
    """``http-error`` lines: HAProxy's own answers (no server, timeouts...) as JSON."""
    return [
        f"http-error status {status} content-type application/json "
        f"string '{error_body(kind, message + '.')}'"
        for status, (kind, message) in _OWN_ERRORS.items()
    ]


def zone_rules(spec: DeploySpec) -> list[str]:
    """The frontend lines that set ``txn.zone``: from one header line holding one known zone,
    else from ``routing.default_zone``; a bad header (and, with ``require_zone``, a missing
    one) is answered 400 here; ACL ``zone_is_<z>`` then says which zone was chosen."""
    header, zones = spec.gateway.zone_header, spec.zones()
    low = header.lower()
    lines = [
        f"acl zone_sent req.fhdr_cnt({low}) gt 0",
        f"acl zone_single req.fhdr_cnt({low}) eq 1",  # several lines: ambiguous, never read
        f"http-request set-var(txn.zone) req.fhdr({low}),lower if zone_single",
        f"acl zone_known var(txn.zone) -m str {' '.join(zones)}",  # whole value: no lists
        "http-request return status 400 content-type application/json "
        f"string '{bad_zone_body(spec)}' if zone_sent !zone_known",
    ]
    routing = spec.routing
    if routing.require_zone:
        message = (
            f"this gateway requires the {header} header and the request has none; the allowed "
            f"zones are {', '.join(zones)}. To fix: send {header} with one of them."
        )
        lines.append(
            "http-request return status 400 content-type application/json "
            f"string '{error_body('missing_zone', message)}' if !zone_sent"
        )
    elif routing.default_zone is not None:
        lines.append(f"http-request set-var(txn.zone) str({routing.default_zone}) if !zone_sent")
    found = "{ var(txn.zone) -m found }"
    lines.append(f"http-request set-header {header} %[var(txn.zone)] if {found}")
    lines += [f"acl zone_is_{z} var(txn.zone) -m str {z}" for z in zones]
    return lines


def error_body(kind: str, message: str) -> str:
    """The JSON of an error the gateway answers itself: ``{"error": {"kind", "message"}}``."""
    return json.dumps({"error": {"kind": kind, "message": message}})


def bad_zone_body(spec: DeploySpec) -> str:
    """The JSON the gateway answers an ambiguous, empty or unknown zone header with."""
    header, zones = spec.gateway.zone_header, ", ".join(spec.zones())
    default = spec.routing.default_zone
    missing = (
        "refused" if spec.routing.require_zone
        else f"routed as {default}" if default is not None
        else "routed over every target"
    )  # fmt: skip
    message = (
        f"the {header} header must be sent once, holding exactly one zone; the allowed zones "
        f"are {zones} (any case). Several headers, lists, empty, quoted or unknown values are "
        f"refused so that no request leaves its zone. To fix: send one {header} header with "
        f"one of {zones}, or none (a request without it is {missing})."
    )
    return error_body("bad_zone", message)


def no_target_body(zone: str) -> str:
    """The JSON the gateway answers a strict zone's request with when the zone has no server."""
    message = (
        f"every target in zone {zone} is down; strict residency keeps {zone} requests in "
        f"{zone}. To fix: revive a {zone} target or retry later."
    )
    return error_body("no_target_in_zone", message)


def no_server_body() -> str:
    """The JSON the gateway answers with when no server of a backend is left."""
    kind, message = _OWN_ERRORS[503]
    return error_body(kind, message + ".")
