"""Logged batches (one table row per request) back to one frame row per predicted row.

Every column is built with numpy over all the batches at once (repeat, concatenate, take): the
only Python loops run per batch or per feature, never per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from verdict.serving._state import utc

Picks = tuple[np.ndarray, np.ndarray]  # per output row: the batch's position, the row within


def every_row(batches: Sequence[Any]) -> Picks:
    """The picks of every row of every batch, in order."""
    n = _sizes(batches)
    starts = np.cumsum(n) - n
    which = np.repeat(np.arange(len(batches)), n)
    return which, np.arange(int(n.sum()), dtype=np.int64) - starts[which]


def rows_frame(
    batches: Sequence[Any], picks: Picks, classes: Mapping[int, list[Any]], **extra: Any
) -> pd.DataFrame:
    """The frame of the picked rows: base columns, ``extra``, ``proba_<class>``, ``target``,
    then inputs.

    ``batches`` are ``predictions`` rows (``request_id, created, model, version, n_rows,
    labels, proba, inputs, target``); an input name that clashes with an earlier column gets
    an ``input_`` prefix. ``target`` follows the probabilities (not the base columns) so that
    the frame's first columns stay as they were before targets existed.
    """
    which, row = picks
    n = _sizes(batches)
    flat = (np.cumsum(n) - n)[which] + row  # position in the concatenation of all batches
    base = {
        "request_id": _objects(b.request_id for b in batches)[which].tolist(),
        "row": np.asarray(row, dtype=np.int64),
        "created": _times([b.created for b in batches])[which],
        "model": _objects(b.model for b in batches)[which].tolist(),
        "version": np.asarray([b.version for b in batches], dtype=np.int64)[which],
        "label": _objects(_labels(batches))[flat].tolist(),
        **extra,
    }
    index = pd.RangeIndex(len(which))
    frame = pd.DataFrame(base, index=index)
    probas = pd.DataFrame(_probas(batches, which, row, classes), index=index)
    served = _objects(b.target for b in batches)[which].tolist()
    target = pd.DataFrame({"target": served}, index=index, dtype=object)
    inputs = pd.DataFrame(_inputs(batches, which, flat, n), index=index)
    taken = set(frame.columns) | set(probas.columns) | {"target"}
    inputs.columns = [f"input_{c}" if c in taken else c for c in inputs.columns]
    return pd.concat([frame, probas, target, inputs], axis=1)


def _sizes(batches: Sequence[Any]) -> np.ndarray:
    return np.asarray([b.n_rows for b in batches], dtype=np.int64)


def _objects(values: Iterable[Any]) -> np.ndarray:
    values = list(values)
    return np.fromiter(values, dtype=object, count=len(values))


def _labels(batches: Sequence[Any]) -> list[Any]:
    """Every batch's labels, concatenated (one JSON parse for all)."""
    bodies = [b.labels[1:-1] for b in batches if b.n_rows]
    return json.loads(f"[{','.join(bodies)}]")


def _probas(
    batches: Sequence[Any], which: np.ndarray, row: np.ndarray, classes: Mapping[int, list[Any]]
) -> dict[str, np.ndarray]:
    """One float column per class over every version picked (NaN where a version lacks it)."""
    groups: dict[tuple[int, int], list[int]] = {}  # (version, k) -> batch positions
    for i in np.unique(which).tolist():
        b = batches[i]
        groups.setdefault((b.version, len(b.proba) // (8 * b.n_rows)), []).append(i)
    widths: dict[int, int] = {}
    for version, k in groups:
        widths[version] = max(widths.get(version, 0), k)
    names = {v: _names(classes.get(v), widths[v]) for v in widths}
    out: dict[str, np.ndarray] = {}
    for version in sorted(widths):
        for name in names[version]:
            out.setdefault(f"proba_{name}", np.full(len(which), np.nan))
    for (version, k), members in groups.items():
        matrix = np.frombuffer(b"".join(batches[i].proba for i in members), dtype="<f8")
        sizes = np.zeros(len(batches), dtype=np.int64)
        sizes[members] = [batches[i].n_rows for i in members]
        starts = np.cumsum(sizes) - sizes  # each member's first row within ``matrix``
        mask = np.isin(which, members)
        picked = matrix.reshape(-1, k)[starts[which[mask]] + row[mask]] if k else None
        for j in range(k):
            out[f"proba_{names[version][j]}"][mask] = picked[:, j]
    return out


def _names(stored: list[Any] | None, width: int) -> list[Any]:
    """The classes of a version; positions where none (or too few) are stored."""
    names = list(stored or [])[:width]
    return names + list(range(len(names), width))


def _inputs(
    batches: Sequence[Any], which: np.ndarray, flat: np.ndarray, n: np.ndarray
) -> dict[str, list[Any]]:
    """The input columns of the picked rows (NaN where a batch lacks the column or inputs)."""
    decoded = json.loads(f"[{','.join(b.inputs or 'null' for b in batches)}]")
    _, first = np.unique(which, return_index=True)
    order = which[np.sort(first)].tolist()  # batches in the order their rows are picked
    names = dict.fromkeys(name for i in order for name in decoded[i] or {})
    columns = {}
    for name in names:
        values: list[Any] = []
        for columns_of, size in zip(decoded, n.tolist(), strict=True):
            got = (columns_of or {}).get(name)
            values += got if got is not None else [np.nan] * size
        columns[name] = _objects(values)[flat].tolist()
    return columns


def _times(values: Iterable[Any]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([utc(v) for v in values], dtype="datetime64[us, UTC]")
