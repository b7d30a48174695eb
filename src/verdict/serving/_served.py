"""The models a service answers for, and their hot reload when an alias moves.

Each served reference (``penguins@production``) is answered by one loaded version at a time,
with its own :class:`MicroBatcher`. Every ``reload_seconds`` a background task asks the
registry where each reference points now; when it points at another version, that version is
loaded off the event loop (in a thread) and swapped in by replacing one dictionary reference.
A request looks its model up once, so one already in flight finishes on the version it started
with; the next gets the new one. Responses name the version that answered. A failed check or
load (registry unreachable, artifact refused) is logged and the current version keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from verdict.errors import ConfigurationError
from verdict.registry import LoadedModel, ModelVersion, Registry, parse_ref
from verdict.serving._batcher import MicroBatcher
from verdict.serving._errors import ServiceError
from verdict.serving._runtime import Predict, Runtime, runtime_for
from verdict.serving._settings import ServiceSettings
from verdict.serving._telemetry import Telemetry
from verdict.serving._work import Ranges, Rows, Scored, rows_of, score_batch, training_ranges
from verdict.state import LogUnavailableError, PredictionBatch, PredictionLog

logger = logging.getLogger("verdict.serving.reload")


@dataclass(frozen=True, eq=False)
class ServedModel:
    """One served reference and the version answering for it now.

    Attributes
    ----------
    served : str
        The reference as configured, e.g. ``'penguins@production'``.
    loaded : LoadedModel
        The version answering.
    batcher : MicroBatcher
        Where its requests are scored.
    required : frozenset of str
        Features where a missing value is refused (422).
    runtime : str
        What scores its rows: ``'native'`` (the pipeline) or ``'onnx'`` (its ONNX export).
    ranges : dict
        Per numeric feature, the bounds beyond which a number is counted as out of range.
    """

    served: str
    loaded: LoadedModel
    batcher: MicroBatcher[Rows, Scored]
    required: frozenset[str]
    runtime: str = "native"
    ranges: Ranges | None = None

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def version(self) -> int:
        return self.loaded.version

    @property
    def ref(self) -> str:
        return self.loaded.ref

    async def score(self, rows: Rows) -> Scored:
        """Check and score a request's rows (micro-batched with concurrent requests); with
        ``rows.logged`` they are in the prediction log when this returns (503 otherwise)."""
        try:
            return await self.batcher.submit(rows)
        except LogUnavailableError as exc:
            raise ServiceError(503, str(exc), kind="log_unavailable") from None


class ServedModels:
    """The set of served models, by model name; loaded at startup, reloaded when aliases move.

    Parameters
    ----------
    registry : Registry
        Where versions are resolved and loaded from.
    settings : ServiceSettings
        ``models`` (empty: the ``production`` alias of every registered model), batching and
        ``reload_seconds``.
    telemetry : Telemetry
    executor : concurrent.futures.Executor
        The threads pipelines run in.
    required : mapping of str to collection of str, optional
        Model name -> features where a missing value is refused.
    on_load : callable, optional
        ``on_load(loaded)`` whenever a version starts answering (e.g. to register its
        sensitive columns with the prediction log).
    predlog : PredictionLog, optional
        Where each micro-batch commits the rows of its requests that carry ``Rows.logged``
        (inputs included when ``settings.log_inputs``), before any of them is answered.
    """

    def __init__(
        self,
        registry: Registry,
        settings: ServiceSettings,
        telemetry: Telemetry,
        executor: Executor,
        *,
        required: Mapping[str, Collection[str]] | None = None,
        on_load: Any = None,
        predlog: PredictionLog | None = None,
    ) -> None:
        self.registry, self.settings, self.telemetry = registry, settings, telemetry
        self.predlog = predlog
        self.executor = executor
        self.required = {k: frozenset(v) for k, v in (required or {}).items()}
        self.on_load = on_load
        self._models: dict[str, ServedModel] = {}
        self._retired: list[ServedModel] = []
        self._monitored: dict[str, str] = {}  # model -> time of the monitor event shown
        self.ready = False

    def get(self, name: str) -> ServedModel | None:
        """The model served under ``name``, or None."""
        return self._models.get(name)

    def all(self) -> list[ServedModel]:
        """Every served model, by name."""
        return [self._models[k] for k in sorted(self._models)]

    def classes(self, name: str) -> tuple[Any, ...] | None:
        """The classes of the version answering for ``name`` now, or None if not served."""
        model = self._models.get(name)
        return None if model is None else model.loaded.classes

    async def start(self) -> None:
        """Resolve and load every served reference (off the event loop)."""
        refs = self.settings.models or await asyncio.to_thread(self._default_refs)
        names: dict[str, str] = {}
        for ref in refs:
            name = parse_ref(ref).name
            if name in names:
                raise ConfigurationError(
                    f"Two served references name the model {name!r}: {names[name]!r} and "
                    f"{ref!r}; a model name answers for one version at a time. To fix: serve "
                    f"one of them (run a second service for the other)."
                )
            names[name] = ref
        for ref in refs:
            loaded, runtime, ranges = await asyncio.to_thread(self._load, ref)
            self._install(ref, loaded, runtime, ranges, previous=None)
        await self.refresh_monitoring()
        self.ready = True

    def _default_refs(self) -> list[str]:
        refs = [f"{m.name}@production" for m in self.registry.models() if "production" in m.aliases]
        if not refs:
            raise ConfigurationError(
                f"There is no model to serve: no model in {self.registry.where} has a "
                f"'production' alias. To fix: register one with `verdict train --register NAME "
                f"--alias production`, or name models to serve with --model NAME@ALIAS."
            )
        return refs

    def _load(self, ref: str | ModelVersion) -> tuple[LoadedModel, Runtime, Ranges]:
        """Load a version, make its runtime (an ONNX export is checked here: slow) and read
        its numeric features' ranges from its training reference sample."""
        loaded = self.registry.load(ref)
        runtime = runtime_for(loaded, self.settings.runtime, self.registry)
        return loaded, runtime, self._ranges(loaded)

    def _ranges(self, loaded: LoadedModel) -> Ranges:
        try:
            reference = self.registry.frame(f"{loaded.name}@v{loaded.version}")
        except Exception:  # an old version without a reference sample: nothing to compare
            logger.warning("no training reference for %s: out-of-range numbers not counted",
                           loaded.ref)  # fmt: skip
            return {}
        return training_ranges(reference, loaded.schema.numeric)

    def _install(
        self,
        served: str,
        loaded: LoadedModel,
        runtime: Runtime,
        ranges: Ranges,
        previous: ServedModel | None,
    ) -> None:
        """Make ``loaded`` answer for ``served``: one reference swap."""
        batcher = self._batcher(loaded, runtime, ranges)
        required = self._required(loaded)
        model = ServedModel(served, loaded, batcher, required, runtime.name, ranges)
        if self.on_load is not None:
            self.on_load(loaded)
        self._models = {**self._models, loaded.name: model}
        self.telemetry.serving(loaded.name, loaded.version, loaded.ref, served, runtime.name)
        if previous is not None:
            self.telemetry.retired(
                previous.name, previous.version, previous.ref, served, previous.runtime
            )
            self._retired = [m for m in self._retired if not m.batcher.idle]
            self._retired.append(previous)

    def _batcher(
        self, loaded: LoadedModel, runtime: Runtime, ranges: Ranges
    ) -> MicroBatcher[Rows, Scored]:
        s = self.settings
        work = partial(
            score_and_log, loaded, self._required(loaded), predict=runtime.predict,
            ranges=ranges, predlog=self.predlog, log_inputs=s.log_inputs,
        )  # fmt: skip
        return MicroBatcher(
            work,
            self.executor,
            size=rows_of,
            mode=s.batching,
            max_rows=s.batch_max_rows,
            budget_ms=s.batch_budget_ms,
            on_batch=partial(self.telemetry.batch, loaded.name),
        )

    def _required(self, loaded: LoadedModel) -> frozenset[str]:
        wanted = self.required.get(loaded.name, frozenset())
        return frozenset(wanted & set(loaded.schema.features))

    async def check_once(self) -> list[str]:
        """Reload every reference whose alias moved; returns the new versions' refs."""
        moved = []
        for current in self.all():
            try:
                version = await asyncio.to_thread(self.registry.get, current.served)
                if version.version == current.version:
                    continue
                loaded, runtime, ranges = await asyncio.to_thread(self._load, version)
            except Exception:
                logger.exception(
                    "could not reload %s; %s keeps serving", current.served, current.ref
                )
                continue
            self._install(current.served, loaded, runtime, ranges, previous=current)
            logger.info("%s now answered by %s (was %s)", current.served, loaded.ref, current.ref)
            moved.append(loaded.ref)
        return moved

    async def watch(self) -> None:
        """Check for moved aliases every ``reload_seconds`` until cancelled."""
        period = self.settings.reload_seconds
        if period <= 0:
            return
        while True:
            await asyncio.sleep(period)
            await self.check_once()
            await self.refresh_monitoring()

    async def refresh_monitoring(self) -> None:
        """Copy each model's newest ``verdict monitor`` figures into the Prometheus gauges."""
        for model in self.all():
            try:
                event = await asyncio.to_thread(self.registry.latest_event, model.name, "monitor")
            except Exception:
                logger.exception("could not read the monitoring figures of %s", model.name)
                continue
            if event is not None and event.created != self._monitored.get(model.name):
                self._monitored[model.name] = event.created
                when = datetime.fromisoformat(event.created).timestamp()
                self.telemetry.monitoring(model.name, event.payload, when)

    async def drain(self) -> None:
        """Wait until every batcher, current or retired, has answered what it was given."""
        for model in [*self._models.values(), *self._retired]:
            await model.batcher.drain()


def score_and_log(
    loaded: LoadedModel,
    required: Collection[str],
    batch: Sequence[Rows],
    *,
    predict: Predict,
    ranges: Ranges,
    predlog: PredictionLog | None,
    log_inputs: bool,
) -> list[Scored]:
    """Score a micro-batch, then commit the rows of its requests that will be answered (those
    with ``logged`` and no problem) in one transaction, in this same worker thread: the
    group commit of a batch costs no thread hand-off, and no request is answered unlogged."""
    scored = score_batch(loaded, required, batch, predict=predict, ranges=ranges)
    if predlog is None:
        return scored
    now, classes = datetime.now(UTC), list(loaded.classes)
    entries = [
        PredictionBatch(rows.logged.request_id, loaded.name, loaded.version, now,
                        rows.columns if log_inputs else None, result.labels, result.proba,
                        classes, rows.logged.client_request_id)
        for rows, result in zip(batch, scored, strict=True)
        if rows.logged is not None and not result.problems
    ]  # fmt: skip
    if entries:
        predlog.write_now(entries)
    return scored
