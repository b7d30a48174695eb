"""Logged batches (one table row per request) back to one frame row per predicted row.

Every column is built with numpy over all the batches at once (repeat, concatenate, take): the
only Python loops run per batch or per feature, never per row.

What was stored is read as it is, whoever wrote it: a stored text that is not JSON, labels or
inputs of the wrong shape become missing values rather than errors, and text holding a lone
surrogate (the JSON escape ``"\\ud800"``, which no UTF-8 file, Parquet column or terminal can
hold) comes back with the surrogate spelled as its escape (``"\\ud800"`` as six characters).
Deciding what a value of an unexpected type means is left to the reader (monitoring).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from verdict.state._database import utc

Picks = tuple[np.ndarray, np.ndarray]  # per output row: the batch's position, the row within
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # a surrogate's escape in JSON text (paired or not)


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
    return np.asarray([max(int(b.n_rows or 0), 0) for b in batches], dtype=np.int64)


def _objects(values: Iterable[Any]) -> np.ndarray:
    values = list(values)
    return np.fromiter(values, dtype=object, count=len(values))


def _labels(batches: Sequence[Any]) -> list[Any]:
    """Every batch's labels, concatenated (one JSON parse for all); a batch whose stored
    labels are not a list of one per row gets missing labels."""
    sizes = _sizes(batches).tolist()
    lists = decode_json([b.labels for b in batches])
    return list(chain.from_iterable(
        got if isinstance(got, list) and len(got) == n else [None] * n
        for got, n in zip(lists, sizes, strict=True)
    ))  # fmt: skip


def decode_json(texts: Sequence[Any]) -> list[Any]:
    """Each stored JSON text decoded (one parse for all when every text is sound).

    NULL, and a text that is not JSON, decode to None; strings come back without lone
    surrogates (see :func:`scrub`).
    """
    texts = [_text(t) for t in texts]
    body = ",".join("null" if t is None else t for t in texts)
    try:
        values = json.loads(f"[{body}]")
    except (ValueError, RecursionError):
        values = []
    if len(values) != len(texts):  # a text that is not one JSON value: each on its own
        values = [_decode_one(t) for t in texts]
    if _SURROGATE.search(body):
        values = [scrub(v) for v in values]
    return values


def _text(value: Any) -> str | None:
    """A stored value as JSON text: SQLite hands back a JSON number as a number (its JSON
    columns have numeric affinity)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None


def _decode_one(text: str | None) -> Any:
    try:
        return None if text is None else json.loads(text)
    except (ValueError, RecursionError):
        return None


def scrub(value: Any) -> Any:
    """``value`` with every string (keys included) free of lone surrogates, which are spelled
    as their backslash escape; anything else is returned as it is."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


def _probas(
    batches: Sequence[Any], which: np.ndarray, row: np.ndarray, classes: Mapping[int, list[Any]]
) -> dict[str, np.ndarray]:
    """One float column per class over every version picked (NaN where a version lacks it)."""
    groups: dict[tuple[int, int], list[int]] = {}  # (version, k) -> batch positions
    sizes = _sizes(batches)
    for i in np.unique(which).tolist():
        b = batches[i]
        k = len(b.proba or b"") // (8 * max(int(sizes[i]), 1))
        groups.setdefault((b.version, k), []).append(i)
    widths: dict[int, int] = {}
    for version, k in groups:
        widths[version] = max(widths.get(version, 0), k)
    names = {v: _names(classes.get(v), widths[v]) for v in widths}
    out: dict[str, np.ndarray] = {}
    for version in sorted(widths):
        for name in names[version]:
            out.setdefault(f"proba_{name}", np.full(len(which), np.nan))
    for (version, k), members in groups.items():
        # cut to n * k values: a stored matrix of a size no shape explains has its tail ignored
        parts = [(batches[i].proba or b"")[: 8 * k * sizes[i]] for i in members]
        matrix = np.frombuffer(b"".join(parts), dtype="<f8")
        taken = np.zeros(len(batches), dtype=np.int64)
        taken[members] = sizes[members]
        starts = np.cumsum(taken) - taken  # each member's first row within ``matrix``
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
    """The input columns of the picked rows (NaN where a batch lacks the column or inputs, or
    stored something other than one value per row)."""
    decoded = [d if isinstance(d, dict) else {} for d in decode_json([b.inputs for b in batches])]
    _, first = np.unique(which, return_index=True)
    order = which[np.sort(first)].tolist()  # batches in the order their rows are picked
    names = dict.fromkeys(name for i in order for name in decoded[i])
    columns = {}
    for name in names:
        values: list[Any] = []
        for columns_of, size in zip(decoded, n.tolist(), strict=True):
            got = columns_of.get(name)
            values += got if isinstance(got, list) and len(got) == size else [np.nan] * size
        columns[name] = _objects(values)[flat].tolist()
    return columns


def _times(values: Iterable[Any]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([utc(v) for v in values], dtype="datetime64[us, UTC]")
