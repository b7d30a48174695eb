"""Prometheus metrics of one app, in its own ``CollectorRegistry`` (never the global one, so
several apps in one process, as in the tests, keep separate counts).

Metrics (all prefixed ``verdict_``): ``requests_total{route,method,status}``,
``request_seconds{route}`` (histogram), ``rows_total{model}``,
``predictions_total{model,version,label}``, ``errors_total{kind}``,
``unknown_categories_total{model,column}``, ``model_info{model,version,ref,served,runtime}``
(1 for the version answering; ``runtime``: native or onnx), ``batch_rows{model}`` and
``batch_wait_seconds{model}`` (micro-batching),
``out_of_range_total{model,column}``, ``in_flight``, ``prediction_log_pending`` (rows waiting
for their group commit) and ``prediction_log_refused_rows_total`` (rows answered 503 because
the log could not commit them). Counters end in ``_total`` and gauges never do (Prometheus's
naming rules, checked by the tests with prometheus_client's own parsers); ``render`` answers
in the OpenMetrics format when the scraper's ``Accept`` header asks for it. gRPC requests are
counted in ``requests_total`` with ``method="GRPC"``.

With several uvicorn workers (``verdict serve --workers N``) each worker is a process with its
own counters; the runner (``serving._run``) then sets ``PROMETHEUS_MULTIPROC_DIR`` before the
workers start, and ``/metrics`` on any worker reports the sum over all workers (prometheus_client's
multiprocess mode; gauges use ``livesum``/``livemax``, so a worker that exits drops out).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import choose_encoder

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
WAIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1)


def multiprocess_dir() -> str | None:
    """The multiprocess folder when prometheus_client runs in multiprocess mode, else None."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def merged_registry() -> CollectorRegistry:
    """Every worker's metrics, read from the multiprocess folder (``multiprocess_dir``)."""
    from prometheus_client import multiprocess

    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    return merged


class Telemetry:
    """The app's metrics, and their text exposition for ``/metrics``."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = multiprocess_dir() is not None
        reg = self.registry
        self.requests = Counter(
            "verdict_requests", "HTTP requests answered.", ["route", "method", "status"],
            registry=reg,
        )  # fmt: skip
        self.latency = Histogram(
            "verdict_request_seconds", "Time to answer a request.", ["route"],
            buckets=LATENCY_BUCKETS, registry=reg,
        )  # fmt: skip
        self.rows = Counter("verdict_rows", "Rows scored.", ["model"], registry=reg)
        self.predictions = Counter(
            "verdict_predictions", "Rows scored, by the class served.",
            ["model", "version", "label"], registry=reg,
        )  # fmt: skip
        self.errors = Counter("verdict_errors", "Errors answered, by kind.", ["kind"], registry=reg)
        self.unknown = Counter(
            "verdict_unknown_categories", "Values not seen in training (accepted).",
            ["model", "column"], registry=reg,
        )  # fmt: skip
        self.out_of_range = Counter(
            "verdict_out_of_range", "Numbers far outside the training range (scored all the same).",
            ["model", "column"], registry=reg,
        )  # fmt: skip
        self.model_info = Gauge(
            "verdict_model_info", "1 for each model version answering requests.",
            ["model", "version", "ref", "served", "runtime"], registry=reg,
            multiprocess_mode="livemax",
        )  # fmt: skip
        self.batch_rows = Histogram(
            "verdict_batch_rows", "Rows per pipeline call (micro-batch).", ["model"],
            buckets=ROW_BUCKETS, registry=reg,
        )  # fmt: skip
        self.batch_wait = Histogram(
            "verdict_batch_wait_seconds", "Time a micro-batch's first request waited to start.",
            ["model"], buckets=WAIT_BUCKETS, registry=reg,
        )  # fmt: skip
        self.in_flight = Gauge(
            "verdict_in_flight", "Requests being answered.", registry=reg,
            multiprocess_mode="livesum",
        )  # fmt: skip
        self.log_pending = Gauge(
            "verdict_prediction_log_pending", "Prediction log entries not yet written.",
            registry=reg, multiprocess_mode="livesum",
        )  # fmt: skip
        self.log_refused = Counter(
            "verdict_prediction_log_refused_rows",
            "Rows answered 503 because the prediction log could not commit them (queue full, "
            "closed or failing).", registry=reg,
        )  # fmt: skip
        self._refused_seen = 0

        self.drift_alarm = Gauge(
            "verdict_drift_alarm", "1 when the newest monitored window raised a drift alarm.",
            ["model", "version"], registry=reg, multiprocess_mode="liveall",
        )  # fmt: skip
        self.drift_p = Gauge(
            "verdict_drift_adjusted_p_value", "Holm-adjusted drift p-value per column, newest "
            "monitored window.", ["model", "column"], registry=reg, multiprocess_mode="liveall",
        )  # fmt: skip
        self.drift_psi = Gauge(
            "verdict_drift_psi", "PSI per column, newest monitored window.", ["model", "column"],
            registry=reg, multiprocess_mode="liveall",
        )  # fmt: skip
        self.performance = Gauge(
            "verdict_monitored_performance", "Estimated (before labels) and live (on feedback) "
            "performance of the newest monitored window, with its interval bounds.",
            ["model", "kind", "metric", "bound"], registry=reg, multiprocess_mode="liveall",
        )  # fmt: skip
        self.monitored_at = Gauge(
            "verdict_monitored_timestamp_seconds", "When the figures above were computed "
            "(`verdict monitor`).", ["model"], registry=reg, multiprocess_mode="liveall",
        )  # fmt: skip

    def monitoring(self, model: str, payload: dict[str, Any], when: float) -> None:
        """Expose the newest ``verdict monitor`` figures of ``model`` (a registry event)."""
        self.drift_alarm.labels(model, str(payload.get("version", ""))).set(
            float(bool(payload.get("drift_alarm")))
        )
        for column, figures in (payload.get("drift") or {}).items():
            self.drift_p.labels(model, column).set(float(figures["adjusted_p_value"]))
            self.drift_psi.labels(model, column).set(float(figures["psi"]))
        for kind in ("estimated", "live"):
            block = payload.get(kind) or {}
            for bound in ("value", "low", "high"):
                if block.get(bound) is not None:
                    self.performance.labels(model, kind, block["metric"], bound).set(block[bound])
        self.monitored_at.labels(model).set(when)

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def error(self, kind: str) -> None:
        """Count one error answered."""
        self.errors.labels(kind).inc()

    def scored(
        self,
        model: str,
        version: int,
        labels: list[Any],
        unknown: Mapping[str, int],
        out_of_range: Mapping[str, int] | None = None,
    ) -> None:
        """Count the rows of one request, their classes, unknown categories and numbers out
        of range."""
        self.rows.labels(model).inc(len(labels))
        counts = collections.Counter(map(str, labels))  # one C-level pass over the rows
        v = str(version)
        for label, n in counts.items():
            self.predictions.labels(model, v, label).inc(n)
        for column, n in unknown.items():
            self.unknown.labels(model, column).inc(n)
        for column, n in (out_of_range or {}).items():
            self.out_of_range.labels(model, column).inc(n)

    def batch(self, model: str, rows: int, waited: float) -> None:
        """Record one pipeline call of ``rows`` rows whose first request waited ``waited`` s."""
        self.batch_rows.labels(model).observe(rows)
        self.batch_wait.labels(model).observe(waited)

    def serving(
        self, model: str, version: int, ref: str, served: str, runtime: str = "native"
    ) -> None:
        """Mark ``ref`` as the version answering for ``served`` (the configured reference),
        scored by ``runtime`` ('native' or 'onnx')."""
        self.model_info.labels(model, str(version), ref, served, runtime).set(1)

    def retired(
        self, model: str, version: int, ref: str, served: str, runtime: str = "native"
    ) -> None:
        """Mark a version as no longer answering (after a hot reload)."""
        if self.multiprocess:  # files cannot forget a series; 0 says "not answering here"
            self.model_info.labels(model, str(version), ref, served, runtime).set(0)
        else:
            self.model_info.remove(model, str(version), ref, served, runtime)

    def log_state(self, pending: int, refused: int) -> None:
        """Record the prediction log writer's backlog, and the rows it refused since the
        process started (the counter takes what was added since the last call)."""
        self.log_pending.set(pending)
        added, self._refused_seen = refused - self._refused_seen, max(refused, self._refused_seen)
        if added > 0:
            self.log_refused.inc(added)

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition of every metric (all workers' in multiprocess mode) in the format
        ``accept`` (a scraper's Accept header) asks for, and its content type."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.collected()), content_type

    def collected(self) -> CollectorRegistry:
        """The registry to expose: this app's, or every worker's merged in multiprocess mode."""
        return merged_registry() if self.multiprocess else self.registry
