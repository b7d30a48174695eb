"""The records of the prediction log and feedback, and how they become table rows.

A request's rows are logged as one :class:`PredictionBatch` and stored as one ``predictions``
row: its inputs as one JSON object of columns, its labels as one JSON list and its
probabilities as raw float64 bytes, so the writer encodes a 1,000-row request with a handful of
C calls instead of 1,000 of each.

Sensitive columns are stored as ``sha256(salt || value)`` in hex, the salt random per state
database (``state_meta``). The clear value is never written. Equal values give equal hashes, so
groups stay linkable for fairness metrics (error rates per group) while the values stay
unreadable to anyone without the salt; with the salt, a column of few distinct values (sex, a
year of birth) can be recovered by trying each candidate, so guard the database like the data.
Missing values (None, NaN) stay missing rather than hashed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from verdict._results import Result, plain
from verdict.errors import CapacityError, InvalidInputError
from verdict.state._database import compact, utc

Sensitive = Mapping[str, frozenset[str]]  # model name -> columns stored hashed
_TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")  # as ServiceSettings.target


class OrphanLimitError(CapacityError):
    """Too many labels for request ids the log does not hold are stored for a model."""


@dataclass(frozen=True, slots=True)
class PredictionBatch:
    """The scored rows of one request, as the service answered them, by column.

    Attributes
    ----------
    request_id : str
        The id returned to the client (and sent back with feedback, with a row number).
    model : str
        The model name.
    version : int
        The version that scored the rows.
    created : datetime
        When they were answered; timezone-aware (a naive one is taken as UTC).
    inputs : dict of str to list, or None
        The features as received, feature -> one value per row; None when inputs are not
        logged. Only read by the writer: the lists must not be changed after ``record``.
    labels : list
        The class served, per row (row ``i`` of the request is position ``i``).
    proba : numpy.ndarray
        The class probabilities, shape ``(n, k)`` in ``classes`` order.
    classes : list
        The model version's classes (stored once per version, not per request).
    client_request_id : str or None
        The client's own ``X-Request-ID``, kept beside (never instead of) ``request_id``.
    """

    request_id: str
    model: str
    version: int
    created: datetime
    inputs: dict[str, list[Any]] | None
    labels: list[Any]
    proba: np.ndarray
    classes: list[Any] = field(default_factory=list, repr=False)
    client_request_id: str | None = None


def batch_size(batch: PredictionBatch) -> int:
    """The number of rows of ``batch``; a ValueError if its columns disagree on it."""
    n = len(batch.labels)
    shape = np.shape(batch.proba)
    lengths = {len(v) for v in batch.inputs.values()} if batch.inputs else set()
    if len(shape) != 2 or shape[0] != n or lengths - {n}:
        raise ValueError(
            f"the prediction batch of request {batch.request_id!r} has {n} labels, probabilities "
            f"of shape {shape} and input columns of lengths {sorted(lengths)}. To fix: pass "
            f"(n, k) probabilities and n values per input column."
        )
    return n


@dataclass(frozen=True)
class FeedbackItem:
    """A true label: for an earlier prediction (``request_id``, ``row``) or with its features.

    Attributes
    ----------
    label : Any
        The true class.
    request_id : str or None
        The id of the request that was answered; None for a row sent with its features.
    row : int, default 0
        The row within that request.
    features : dict or None
        The row's features, when there is no request id (sensitive columns are hashed).
    model : str or None
        The model; required with features, optional with a request id (where it must match).
    """

    label: Any
    request_id: str | None = None
    row: int = 0
    features: dict[str, Any] | None = None
    model: str | None = None


@dataclass(frozen=True)
class FeedbackResult(Result):
    """What became of a feedback call.

    Attributes
    ----------
    attached : int
        Labels that found their logged prediction.
    with_features : int
        Labelled rows stored with their features (no prediction to attach to).
    unknown : list of dict
        ``{'request_id', 'row'}`` of the labels whose prediction is not in the log. They are
        stored all the same, and :meth:`PredictionLog.labelled` joins them when a matching
        prediction appears later (one written late by another replica).
    elsewhere : list of dict
        ``{'request_id', 'row', 'target'}`` of the labels for predictions another target of the
        deployment answered (its name is the request id's prefix, ``gcp-eu:<hex>``): stored
        here like unknown ones, shipped to the center by the link, and attached there.
    """

    attached: int
    with_features: int
    unknown: list[dict[str, Any]]
    elsewhere: list[dict[str, Any]] = field(default_factory=list)


def answering_target(request_id: str, own: str | None) -> str | None:
    """The other target of the deployment that answered ``request_id`` (whose ids read
    ``<target>:<hex>``), or None (this target's, or not a deployment's)."""
    target, colon, rest = request_id.partition(":")
    if not colon or not rest or target == own or not _TARGET.match(target):
        return None
    return target


class Hasher:
    """Salted sha256 of the values of sensitive columns."""

    def __init__(self, salt: bytes) -> None:
        self._salt = salt

    def value(self, value: Any) -> str | None:
        """The hex digest of ``value``'s canonical text; None stays None, NaN becomes None."""
        text = canonical(value)
        if text is None:
            return None
        return hashlib.sha256(self._salt + text.encode("utf-8", "surrogatepass")).hexdigest()

    def column(self, values: Sequence[Any]) -> list[str | None]:
        """The hash of each value, each distinct value hashed once (missing stays None)."""
        try:
            digests = {v: self.value(v) for v in dict.fromkeys(values)}
        except TypeError:  # unhashable values (lists, dicts): one at a time
            return [self.value(v) for v in values]
        types = set(map(type, values))
        if len(types) > 1 and types & {bool, np.bool_}:
            return [self.value(v) for v in values]  # True == 1 as a key, not to canonical
        return list(map(digests.__getitem__, values))

    def row(self, values: Mapping[str, Any], columns: frozenset[str]) -> dict[str, Any]:
        """``values`` with the named columns replaced by their hash."""
        if not columns or columns.isdisjoint(values):
            return dict(values)
        return {k: self.value(v) if k in columns else v for k, v in values.items()}


def canonical(value: Any) -> str | None:
    """One text per value, so ``30``, ``30.0`` and ``numpy.int64(30)`` hash alike."""
    if type(value) is str:
        return value
    value = plain(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return utc(value).isoformat()
    return json.dumps(value, sort_keys=True, default=str)


def batch_row(
    batch: PredictionBatch, hasher: Hasher, sensitive: Sensitive, target: str | None = None
) -> dict[str, Any]:
    """The ``predictions`` row of one batch: sensitive inputs hashed, every column encoded."""
    inputs = batch.inputs
    if inputs is not None:
        hashed = sensitive.get(batch.model, frozenset())
        inputs = {k: hasher.column(v) if k in hashed else v for k, v in inputs.items()}
    return {
        "request_id": str(batch.request_id),
        "model": str(batch.model),
        "version": int(batch.version),
        "created": utc(batch.created),
        "n_rows": len(batch.labels),
        "labels": compact(batch.labels),
        "proba": np.ascontiguousarray(batch.proba, dtype="<f8").tobytes(),
        "inputs": None if inputs is None else compact(inputs),
        "target": target,
        "client_request_id": batch.client_request_id,
    }


def check_feedback(items: Sequence[FeedbackItem]) -> list[FeedbackItem]:
    """``items`` as a list, or an InvalidInputError naming the first bad item."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise InvalidInputError(
            f"feedback must be a sequence of FeedbackItem; got {type(items).__name__}. "
            f"To fix: pass a list, e.g. [FeedbackItem(label='a', request_id='...')]."
        )
    for i, item in enumerate(items):
        problem = _feedback_problem(item)
        if problem:
            raise InvalidInputError(f"feedback item {i}: {problem}")
    return list(items)


def _feedback_problem(item: Any) -> str | None:
    """What is wrong with one item, ending with the fix, or None."""
    if not isinstance(item, FeedbackItem):
        return f"expected a FeedbackItem, got {type(item).__name__}. To fix: build FeedbackItems."
    if canonical(item.label) is None:
        return "the label is missing. To fix: send the true class as 'label'."
    if item.request_id is None and item.features is None:
        return (
            "it has neither a request id nor features. To fix: send the 'request_id' (and "
            "'row') of the answered prediction, or the row's 'features' with the 'model'."
        )
    if item.request_id is not None and not (isinstance(item.request_id, str) and item.request_id):
        return f"request_id {item.request_id!r} is not a non-empty string. To fix: send the id."
    if isinstance(item.row, bool) or not isinstance(item.row, int) or item.row < 0:
        return f"row {item.row!r} is not an integer >= 0. To fix: send the row's position."
    if item.features is not None and not isinstance(item.features, Mapping):
        return "'features' is not a mapping of column to value. To fix: send an object."
    if item.request_id is None and not item.model:
        return "features were sent without the model. To fix: name the 'model' they were for."
    return None
