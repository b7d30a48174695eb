"""The files of a prediction-log export: JSON Lines, CSV and Parquet, written atomically.

:func:`verdict.state.log._export.export_log` reads and decodes the log a page at a time
into a :class:`Chunk` (the records by column); this module turns chunks into lines or Arrow
tables of one fixed :class:`Layout` and writes them to a temporary file renamed when complete.
Text that UTF-8 cannot hold (lone surrogates, which a careless client can send) is written
with ``backslashreplace``; a value of another type in a text column is spelt as the hashing of
sensitive columns spells it (``canonical``: ``1`` and ``1.0`` -> ``'1'``, ``True`` ->
``'true'``, lists and objects as JSON).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from verdict.errors import InvalidInputError
from verdict.state._database import utc
from verdict.state.log._rows import canonical

_NUMERIC = (pa.int64(), pa.float64(), pa.bool_())


@dataclass(frozen=True)
class Layout:
    """The fixed columns of a flat export: probabilities, then inputs with their types."""

    probas: list[str]
    inputs: dict[str, pa.DataType]


@dataclass
class Chunk:
    """The records of one page of requests, by column.

    ``columns`` holds ``request_id``, ``client_request_id``, ``row``, ``model_version``,
    ``target`` and ``class`` as lists and ``time`` as naive ``datetime64[us]`` in UTC;
    ``probas`` one float column per ``proba_<class>`` (NaN where the row's version lacks the
    class); ``inputs`` each request's logged columns as stored (None where not logged), its
    number of rows in ``sizes``.
    """

    size: int
    columns: dict[str, Any]
    probas: dict[str, np.ndarray]
    true_label: list[Any]
    feedback_time: list[datetime | None]
    inputs: list[dict[str, list[Any]] | None]
    sizes: list[int]


def column(decoded: list[Any], sizes: list[int], name: str) -> list[Any]:
    """One input over every row of the page; None where a request lacks it."""
    values: list[Any] = []
    for columns, size in zip(decoded, sizes, strict=True):
        got = (columns or {}).get(name)
        values += got if got is not None else [None] * size
    return values


def kind_of(values: list[Any]) -> pa.DataType:
    """The Arrow type of one input column: null, int64, float64, bool, else text."""
    try:
        kind = pa.array(values).type
    except (pa.ArrowException, TypeError, ValueError, OverflowError, UnicodeError):
        return pa.string()
    return kind if kind in (pa.null(), *_NUMERIC) else pa.string()


def merge(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The type that holds both: integers widen to floats, anything else mixed is text."""
    if a == b or b == pa.null():
        return a
    if a == pa.null():
        return b
    return pa.float64() if {a, b} == {pa.int64(), pa.float64()} else pa.string()


@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to it when the block succeeds."""
    if not path.parent.is_dir() or path.is_dir():
        raise InvalidInputError(
            f"Cannot write the export to {str(path)!r}: "
            f"{'it is a folder' if path.is_dir() else 'its folder does not exist'}. To fix: "
            f"name a file in an existing folder."
        )
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise InvalidInputError(
            f"Cannot write the export to {str(path)!r}: {exc}. To fix: check the space left "
            f"and that you may write there."
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def writer(fmt: str, tmp: Path, layout: Layout | None) -> Iterator[Any]:
    """A function writing one chunk to ``tmp`` in ``fmt``; the file is closed on exit."""
    if layout is None:
        with open(tmp, "wb", buffering=1 << 20) as handle:
            yield lambda chunk: _jsonl(chunk, handle)
        return
    schema = _schema(layout, fmt)
    if fmt == "parquet":
        out = pq.ParquetWriter(tmp, schema)
    else:
        options = pacsv.WriteOptions(quoting_style="needed")
        out = pacsv.CSVWriter(tmp, schema, write_options=options)
    try:
        yield lambda chunk: out.write_table(_table(chunk, schema, layout))
    finally:
        out.close()


def _jsonl(chunk: Chunk, handle: BinaryIO) -> None:
    """Write the chunk's records as JSON Lines, a line at a time (orjson's buffers are large)."""
    c = chunk.columns
    times = np.datetime_as_string(c["time"], unit="us", timezone="UTC").tolist()
    given = [None if t is None else iso(t) for t in chunk.feedback_time]
    records = zip(c["request_id"], c["client_request_id"], c["row"], times, c["model_version"],
                  c["target"], c["class"], _proba_objects(chunk), chunk.true_label, given,
                  _input_objects(chunk), strict=True)  # fmt: skip
    for request, client, row, at, version, target, label, proba, true, when, inputs in records:
        record = {"request_id": request, "client_request_id": client, "row": row, "time": at,
                  "model_version": version, "target": target, "class": label, "proba": proba,
                  "true_label": true, "feedback_time": when, "inputs": inputs}  # fmt: skip
        try:
            handle.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        except TypeError:  # orjson.JSONEncodeError: lone surrogates, integers beyond 64 bits
            text = json.dumps(_clean(record), ensure_ascii=False, default=str)
            handle.write(text.encode() + b"\n")


def _proba_objects(chunk: Chunk) -> list[dict[str, float]]:
    """Per row, class -> probability over the classes of its version (not NaN)."""
    names = [name[len("proba_") :] for name in chunk.probas]
    if not names:
        return [{}] * chunk.size
    matrix = np.column_stack(list(chunk.probas.values()))
    absent = np.isnan(matrix)
    if len(names) < 63:  # each row's pattern as one integer: far cheaper to group than rows
        codes = absent.astype(np.int64) @ (1 << np.arange(len(names), dtype=np.int64))
    else:
        codes = np.unique(absent, axis=0, return_inverse=True)[1].ravel()
    _, first, which = np.unique(codes, return_index=True, return_inverse=True)
    objects: list[Any] = [None] * chunk.size
    for p, row in enumerate(first.tolist()):  # one pattern per set of classes: a few
        rows, kept = np.flatnonzero(which.ravel() == p), np.flatnonzero(~absent[row])
        keys = [names[k] for k in kept]
        for i, values in zip(rows.tolist(), matrix[np.ix_(rows, kept)].tolist(), strict=True):
            objects[i] = dict(zip(keys, values, strict=True))
    return objects


def _input_objects(chunk: Chunk) -> list[dict[str, Any] | None]:
    """Per row, the inputs its request logged (None where it logged none)."""
    objects: list[Any] = []
    for columns, size in zip(chunk.inputs, chunk.sizes, strict=True):
        if columns is None:
            objects += [None] * size
        else:
            rows = zip(*columns.values(), strict=True)
            objects += [dict(zip(columns, values, strict=True)) for values in rows]
    return objects


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _schema(layout: Layout, fmt: str) -> pa.Schema:
    """The columns of a flat export, in record order."""
    when = pa.timestamp("us", tz="UTC") if fmt == "parquet" else pa.string()
    text = pa.string()
    fields = [("request_id", text), ("client_request_id", text), ("row", pa.int64()),
              ("time", when), ("model_version", text), ("target", text),
              ("class", text)]  # fmt: skip
    fields += [(_clean(name), pa.float64()) for name in layout.probas]
    fields += [("true_label", text), ("feedback_time", when)]
    fields += [(f"input_{_clean(name)}", kind) for name, kind in layout.inputs.items()]
    return pa.schema(fields)


def _table(chunk: Chunk, schema: pa.Schema, layout: Layout) -> pa.Table:
    """The chunk as an Arrow table of the export's fixed ``schema``."""
    c, n = chunk.columns, chunk.size
    stamps = schema.field("time").type != pa.string()
    if stamps:
        times = pa.array(c["time"], type=schema.field("time").type)
        given = pa.array(chunk.feedback_time, type=schema.field("time").type)
    else:
        times = pa.array(np.datetime_as_string(c["time"], unit="us", timezone="UTC"))
        given = pa.array([None if t is None else iso(t) for t in chunk.feedback_time], pa.string())
    probas = [chunk.probas.get(name) for name in layout.probas]
    arrays = [
        _texts(c["request_id"]), _texts(c["client_request_id"]), pa.array(c["row"], pa.int64()),
        times, _texts(c["model_version"]), _texts(c["target"]), _texts(c["class"]),
        *[pa.nulls(n, pa.float64()) if p is None else pa.array(p, from_pandas=True)
          for p in probas],
        _texts(chunk.true_label), given,
        *[_texts(column(chunk.inputs, chunk.sizes, name)) if kind == pa.string()
          else pa.array(column(chunk.inputs, chunk.sizes, name), type=kind)
          for name, kind in layout.inputs.items()],
    ]  # fmt: skip
    return pa.Table.from_arrays(arrays, schema=schema)


def _texts(values: Any) -> pa.Array:
    """A text column; other values spelt as the hashing spells them (``1.0`` -> ``'1'``)."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        spelt = (canonical(v) for v in values)
        return pa.array([None if t is None else _clean(t) for t in spelt], type=pa.string())


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds and ``Z``, as the records' times are written."""
    return None if moment is None else utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
