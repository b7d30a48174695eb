"""Reading the prediction log back as frames, and storing feedback: what monitoring consumes.

A window is ``since <= created < until`` in UTC. ``predictions`` has one row per logged row
(the stored batches exploded by ``_explode``); ``labelled`` joins each prediction to
its latest true label and appends the labelled rows that were sent with their features
instead of a request id. A label matches the row ``row`` of the batch of its request id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Text,
    and_,
    exists,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)

from verdict._results import plain
from verdict.data import level_spelling
from verdict.errors import InvalidInputError
from verdict.state._database import feedback, prediction_classes, predictions, reading, utc
from verdict.state.log._explode import decode_json, every_row, rows_frame, scrub
from verdict.state.log._rows import (
    FeedbackItem,
    FeedbackResult,
    Hasher,
    OrphanLimitError,
    Sensitive,
    answering_target,
)

_CHUNK = 400  # request ids per IN (...) lookup, under every backend's parameter limit
_P = predictions.c
_F = feedback.c
_JSON = ("true_label", "features")
_BATCH = (_P.id, _P.request_id, _P.created, _P.model, _P.version, _P.n_rows, _P.labels,
          _P.proba, _P.inputs, _P.target)  # fmt: skip


def predictions_frame(
    engine: Engine, model: str, since: Any, until: Any, version: int | None
) -> pd.DataFrame:
    """The logged rows of ``model`` in the window (and version), oldest first."""
    query = select(*_BATCH).where(_P.model == _model(model))
    query = _window(query, _P.created, since, until)
    if version is not None:
        query = query.where(_P.version == int(version))
    with reading(engine).connect() as connection:
        batches = connection.execute(query.order_by(_P.id)).all()
        classes = _classes(connection, model)
    return rows_frame(batches, every_row(batches), classes)


def labelled_frame(engine: Engine, model: str, since: Any, until: Any) -> pd.DataFrame:
    """Predictions with their latest true label (``true_label``), then rows sent with features.

    The column ``source`` says which: ``'prediction'`` or ``'features'``. Feature rows have no
    request id, version or served label; their ``created`` is when the feedback arrived.
    """
    model, raw = _model(model), engine.dialect.name == "sqlite"
    joined = and_(_F.request_id == _P.request_id, _F.row >= 0, _F.row < _P.n_rows)
    query = select(_P.id, _P.request_id, _P.created, _F.row,
                   _json(_F.label, raw).label("true_label"))  # fmt: skip
    query = query.select_from(predictions.join(feedback, joined))
    query = query.where(_P.model == model, or_(_F.model.is_(None), _F.model == model))
    query = _window(query, _P.created, since, until).order_by(_F.id, _P.id)
    sent = select(_F.created, _F.row, _json(_F.label, raw).label("true_label"),
                  _json(_F.features, raw).label("features"), _F.target)  # fmt: skip
    sent = sent.where(_F.request_id.is_(None), _F.model == model)
    sent = _window(sent, _F.created, since, until).order_by(_F.id)
    with reading(engine).connect() as connection:
        latest = {(r.request_id, r.row): r for r in connection.execute(query)}  # last label wins
        rows = sorted(latest.values(), key=lambda r: (utc(r.created), r.request_id, r.row))
        batches = _batches(connection, sorted({r.id for r in rows}))
        classes = _classes(connection, model)
        given = _columns(connection.execute(sent).all(), raw)
    position = {b.id: i for i, b in enumerate(batches)}
    picks = (np.asarray([position[r.id] for r in rows], dtype=np.int64),
             np.asarray([r.row for r in rows], dtype=np.int64))  # fmt: skip
    true_label = _columns(rows, raw)["true_label"]
    served = rows_frame(batches, picks, classes, true_label=true_label, source="prediction")
    sent_frame = _frame(
        {"request_id": None, "row": np.asarray(given["row"], dtype=np.int64),
         "created": _times(given["created"]), "model": model, "version": np.nan,
         "label": None, "true_label": given["true_label"], "source": "features",
         "target": given["target"]},
        given["features"],
    )  # fmt: skip
    if sent_frame.empty:
        return served
    order = list(dict.fromkeys([*served.columns, *sent_frame.columns]))
    if served.empty:
        return sent_frame.reindex(columns=order)
    return pd.concat([served, sent_frame], ignore_index=True)[order]


def _batches(connection: Connection, ids: list[int]) -> list[Any]:
    """The stored batches with these ids, in id order."""
    found: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        query = select(*_BATCH).where(_P.id.in_(ids[start : start + _CHUNK]))
        found += connection.execute(query.order_by(_P.id)).all()
    return found


def arrived(engine: Engine, request_ids: Iterable[str]) -> tuple[int, int]:
    """How many of ``request_ids`` are logged, and how many feedback rows name one of them."""
    ids = sorted({str(i) for i in request_ids})
    requests = labels = 0
    with reading(engine).connect() as connection:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            logged = select(func.count(func.distinct(_P.request_id)))
            logged = logged.where(_P.request_id.in_(chunk))
            requests += int(connection.scalar(logged) or 0)
            labelled = select(func.count()).where(_F.request_id.in_(chunk))
            labels += int(connection.scalar(labelled) or 0)
    return requests, labels


@dataclass(frozen=True)
class FeedbackRules:
    """What the service checks when it stores feedback (a library caller may check nothing).

    Attributes
    ----------
    classes : callable or None
        ``classes(model)``: the classes a label of ``model`` must be among, or None if unknown.
        When set, an orphan label must name (or default to) a model.
    default_model : str or None
        The model of an orphan label that names none.
    max_orphans : int or None
        Orphan labels (request id not in the log on arrival) kept per model at most.
    """

    classes: Callable[[str], Sequence[Any] | None] | None = None
    default_model: str | None = None
    max_orphans: int | None = None


def store_feedback(
    engine: Engine,
    items: Sequence[FeedbackItem],
    hasher: Hasher,
    sensitive: Sensitive,
    target: str | None = None,
    rules: FeedbackRules = FeedbackRules(),
) -> FeedbackResult:
    """Insert every item in one transaction (tagged with ``target``), or none if one is
    refused; report those whose prediction is not logged here (and which target of the
    deployment answered them, when their request id says so)."""
    now = datetime.now(UTC)
    rows, unknown, elsewhere, attached, with_features = [], [], [], 0, 0
    orphans: dict[str, int] = {}
    with engine.begin() as connection:
        found = _models_of(connection, {(i.request_id, i.row) for i in items if i.request_id})
        logged = _logged_classes(connection, set(found.values()))
        for i, item in enumerate(items):
            model, classes, orphan = item.model, None, False
            if item.request_id is None:
                with_features += 1
            elif (hit := found.get((item.request_id, item.row))) and model in (None, hit[0]):
                attached, model, classes = attached + 1, hit[0], logged.get(hit)
            else:
                ref = {"request_id": item.request_id, "row": item.row}
                if other := answering_target(item.request_id, target):
                    elsewhere.append({**ref, "target": other})
                else:
                    unknown.append(ref)
                model, orphan = _orphan_model(i, item, rules), True
                orphans[model or ""] = orphans.get(model or "", 0) + 1
            if classes is None and rules.classes is not None and model is not None:
                classes = rules.classes(model)
            features = item.features
            if features is not None:
                features = hasher.row(features, sensitive.get(model or "", frozenset()))
            rows.append({"created": now, "request_id": item.request_id, "row": item.row,
                         "model": model, "label": _label(i, item.label, model, classes),
                         "features": features, "target": target, "orphan": orphan})  # fmt: skip
        if orphans and rules.max_orphans is not None:
            _check_orphans(connection, orphans, rules.max_orphans)
        if rows:
            connection.execute(insert(feedback), rows)
    return FeedbackResult(attached, with_features, unknown, elsewhere)


def _orphan_model(i: int, item: FeedbackItem, rules: FeedbackRules) -> str | None:
    """The model an orphan label is kept for; when the service checks, one must be known."""
    model = item.model or rules.default_model
    if model is None and rules.classes is not None:
        raise InvalidInputError(
            f"feedback item {i}: request id {item.request_id[:64]!r} (row {item.row}) is not in "
            "the prediction log and the item names no model, so its label cannot be checked. "
            "To fix: send the X-Request-ID the prediction was answered with, or name the "
            "'model'."
        )
    return model


def _label(i: int, label: Any, model: str | None, classes: Sequence[Any] | None) -> Any:
    """The class ``label`` names (the class's own value), or an error listing the classes."""
    if classes is None:
        return label
    by_spelling = {level_spelling(c): plain(c) for c in classes}
    spelled = level_spelling(label) if type(label) in (str, int, float, bool) else None
    if spelled is not None and spelled in by_spelling:
        return by_spelling[spelled]
    shown = repr(label)[:64]
    raise InvalidInputError(
        f"feedback item {i}: the label {shown} is not one of the classes of {model!r}: "
        f"{list(by_spelling.values())}. To fix: send one of those classes as 'label'."
    )


def _check_orphans(connection: Connection, new: dict[str, int], limit: int) -> None:
    """Refuse the orphans if a model would keep more than ``limit``; labels whose prediction
    has arrived since (another replica's) stop counting first."""
    for model, n in new.items():
        if _orphans(connection, model) + n <= limit:
            continue
        attached = exists().where(_P.request_id == _F.request_id, _F.row < _P.n_rows)
        query = update(feedback).where(_F.model == model, _F.orphan.is_(True), attached)
        connection.execute(query.values(orphan=False))
        stored = _orphans(connection, model)
        if stored + n > limit:
            raise OrphanLimitError(
                f"{stored:,} labels for request ids this service never answered are kept for "
                f"the model {model!r}, and at most {limit:,} are (max_orphan_feedback); these "
                f"{n:,} were not stored. To fix: send feedback with the X-Request-ID the "
                "prediction was answered with (or the row's features and the model), or raise "
                "VERDICT_MAX_ORPHAN_FEEDBACK."
            )


def _orphans(connection: Connection, model: str) -> int:
    query = select(func.count()).select_from(feedback)
    return int(connection.scalar(query.where(_F.model == model, _F.orphan.is_(True))) or 0)


def _logged_classes(
    connection: Connection, versions: set[tuple[str, int]]
) -> dict[tuple[str, int], list[Any]]:
    """The classes the log stored for each (model, version)."""
    table = prediction_classes
    models = {m for m, _ in versions}
    if not models:
        return {}
    query = select(table.c.model, table.c.version, table.c.classes)
    rows = connection.execute(query.where(table.c.model.in_(models)))
    return {(r.model, r.version): list(r.classes) for r in rows if (r.model, r.version) in versions}


def _models_of(
    connection: Connection, keys: set[tuple[Any, int]]
) -> dict[tuple[str, int], tuple[str, int]]:
    """The (model, version) of each logged (request id, row) among ``keys``."""
    found: dict[tuple[str, int], tuple[str, int]] = {}
    ids = sorted({k[0] for k in keys})
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(_P.request_id, _P.n_rows, _P.model, _P.version)
        by_request: dict[str, list[Any]] = {}
        for r in connection.execute(query.where(_P.request_id.in_(chunk))):
            by_request.setdefault(r.request_id, []).append(r)
        for request_id, row in keys:
            for r in by_request.get(request_id, ()):
                if 0 <= row < r.n_rows:
                    found[(request_id, row)] = (r.model, r.version)
    return found


def _model(model: Any) -> str:
    if not isinstance(model, str) or not model:
        raise InvalidInputError(
            f"model must be a non-empty model name; got {model!r}. To fix: pass e.g. 'penguins'."
        )
    return model


def _window(query: Select, column: Any, since: Any, until: Any) -> Select:
    """``query`` limited to ``since <= column < until`` (either bound may be None)."""
    for name, bound in (("since", since), ("until", until)):
        if bound is not None and not isinstance(bound, datetime):
            raise InvalidInputError(
                f"{name} must be a datetime or None; got {type(bound).__name__}. To fix: pass "
                f"e.g. datetime.now(UTC) - timedelta(hours=1)."
            )
    if since is not None:
        query = query.where(column >= utc(since))
    if until is not None:
        query = query.where(column < utc(until))
    return query


def _classes(connection: Connection, model: str) -> dict[int, list[Any]]:
    """The stored classes of each version of ``model`` (a version whose are unreadable has
    none: its probability columns are named by position)."""
    raw = connection.dialect.name == "sqlite"
    table = prediction_classes.c
    query = select(table.version, _json(table.classes, raw).label("classes"))
    rows = connection.execute(query.where(table.model == model)).all()
    stored = decode_json([r.classes for r in rows]) if raw else [scrub(r.classes) for r in rows]
    return {r.version: c for r, c in zip(rows, stored, strict=True) if isinstance(c, list)}


def _json(column: Any, raw: bool) -> Any:
    """On SQLite the stored text, decoded in bulk by ``_columns`` (many times faster)."""
    return type_coerce(column, Text) if raw else column


def _columns(rows: Sequence[Any], raw: bool) -> dict[str, list[Any]]:
    """The fetched rows as lists by column, JSON columns decoded (text that is not JSON as
    None, strings without lone surrogates)."""
    names = list(rows[0]._fields) if rows else []
    columns = {name: [r[i] for r in rows] for i, name in enumerate(names)}
    for name in names:
        if name in _JSON:
            values = columns[name]
            columns[name] = decode_json(values) if raw else [scrub(v) for v in values]
    return _EmptyColumns(columns) if not rows else columns


class _EmptyColumns(dict):
    """Columns of no rows: every name is an empty list."""

    def __missing__(self, key: str) -> list[Any]:
        return []


def _frame(base: Mapping[str, Any], inputs: list[dict | None]) -> pd.DataFrame:
    """The base columns then the feature columns of rows sent with their features (renamed
    ``input_<name>`` where a name clashes with a base column); stored features that are not
    an object of columns count as none."""
    index = pd.RangeIndex(len(inputs))
    frame = pd.DataFrame(dict(base), index=index)
    rows = [x if isinstance(x, dict) else {} for x in inputs]
    extra = pd.DataFrame.from_records(rows, index=index)
    extra.columns = [f"input_{c}" if c in frame.columns else c for c in extra.columns]
    return pd.concat([frame, extra], axis=1)


def _times(values: Iterable[Any]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([utc(v) for v in values], dtype="datetime64[us, UTC]")
