"""Batch scoring: a CSV or Parquet file in, one scored row per input row out, in bounded memory.

The file is read a chunk at a time (or a partition at a time on a Dask cluster), each chunk is
checked and scored with :func:`score_frame`'s logic, and written straight to the output, so
memory holds a chunk or two whatever the file's size. The output is written to a temporary
file beside ``out`` and renamed only when every row is scored: a run that fails on row
3,000,000 leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from verdict._params import Interval, Satisfies, StrOptions, check
from verdict._results import Result, plain
from verdict.data import check_rows
from verdict.errors import InvalidInputError
from verdict.registry import LoadedModel
from verdict.serving._scoring import resolve_id_columns
from verdict.serving.batch._io import (
    AtomicWriter,
    Chunk,
    Source,
    file_format,
    open_source,
    output_schema,
    reading_errors,
    score_chunk,
)

DEFAULT_CHUNK_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class BatchSummary(Result):
    """What :func:`score_file` did.

    Attributes
    ----------
    source, out : str
        The input and output files.
    model : str
        The version that scored (``'penguins@v3'``).
    n_rows, n_chunks : int
        Rows scored, and the chunks (or Dask partitions) they came in.
    seconds, rows_per_second : float
        Wall time of the whole run (reading, scoring, writing) and the throughput.
    class_counts : dict
        Rows per served class, in ``LoadedModel.classes`` order.
    unknown_categories : dict of str to int
        Per column, values not seen in training (accepted, and worth a look when many).
    dask : str or None
        The Dask scheduler used, if any.
    """

    source: str
    out: str
    model: str
    n_rows: int
    n_chunks: int
    seconds: float
    rows_per_second: float
    class_counts: dict[Any, int] = field(default_factory=dict)
    unknown_categories: dict[str, int] = field(default_factory=dict)
    dask: str | None = None


def score_file(
    loaded: LoadedModel,
    source: str | Path,
    out: str | Path,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    id_columns: Sequence[str] | None = None,
    progress: bool = True,
    dask: str | None = None,
) -> BatchSummary:
    """Score every row of a CSV or Parquet file and write the predictions to ``out``.

    The output (CSV or Parquet, from ``out``'s suffix) has one row per input row, in order:
    the id columns, ``class``, ``proba_<label>`` per class and ``model_version``, as
    :func:`score_frame` returns them. Rows are checked against the model's schema as the
    service checks them; the first chunk with a problem stops the run with an error naming
    the rows and columns, and ``out`` is left untouched.

    Parameters
    ----------
    loaded : LoadedModel
        The model version to score with.
    source : str or Path
        A ``.csv`` (UTF-8) or ``.parquet``/``.pq`` file.
    out : str or Path
        The output file, ``.csv`` or ``.parquet``/``.pq``; replaced when the run succeeds.
    chunk_rows : int, default 100_000
        Rows per chunk: memory grows with it, and so does speed up to a point.
    id_columns : sequence of str, optional
        Columns to copy to the output. None: the schema's id columns present in the file.
    progress : bool, default True
        Show a progress bar on standard error.
    dask : str, optional
        ``'local'`` to start a two-worker cluster on this machine for the run, or a scheduler
        address (``'tcp://host:8786'``) whose workers can read ``source``. The output is
        identical to a run without Dask.

    Returns
    -------
    BatchSummary

    Raises
    ------
    InvalidInputError
        If a file cannot be read or written, a column is missing or a value does not fit.
    ConfigurationError
        If Dask is asked for but not installed, or the scheduler cannot be reached.
    """
    start = time.perf_counter()
    src, target = _check_paths(source, out)
    chunk_rows = _check_options(chunk_rows, dask)
    reader = open_source(src)
    ids = resolve_id_columns(loaded, reader.columns, id_columns)
    check_rows(pd.DataFrame(columns=reader.columns), loaded.schema).raise_for_problems(
        what=f"the columns of {src.name!r}"
    )
    schema = output_schema(loaded, ids, reader.id_types)
    tally = _Tally()
    with contextlib.ExitStack() as stack:
        if dask is None:
            chunks, total = _local(loaded, reader, ids, schema, chunk_rows), reader.size
        else:
            chunks, total = _on_dask(stack, dask, loaded, reader, ids, schema, chunk_rows)
        writer = stack.enter_context(AtomicWriter(target, schema))
        bar = stack.enter_context(_display(progress, f"{src.name} -> {loaded.ref}", total))
        for chunk, done in chunks:
            writer.write(chunk.table)
            tally.add(chunk)
            bar(done, tally.n_rows)
    seconds = time.perf_counter() - start
    return tally.summary(loaded, src, target, seconds, dask)


def _local(
    loaded: LoadedModel, reader: Source, ids: list[str], schema: pa.Schema, chunk_rows: int
) -> Iterator[tuple[Chunk, int]]:
    first = 0
    for frame, done in reader.chunks(loaded.schema, ids, chunk_rows):
        what = f"rows {first:,}-{first + len(frame) - 1:,} of {reader.path.name!r}"
        yield score_chunk(loaded, frame, ids, schema, first, what), done
        first += len(frame)


def _on_dask(
    stack: contextlib.ExitStack,
    address: str,
    loaded: LoadedModel,
    reader: Source,
    ids: list[str],
    schema: pa.Schema,
    chunk_rows: int,
) -> tuple[Iterator[tuple[Chunk, int]], int]:
    """Partitions scored on the cluster, with the partitions done as progress."""
    from verdict.serving.batch._dask import dask_client, read_partitions, score_partitions

    client = stack.enter_context(dask_client(address))
    with reading_errors(reader.path):
        frame = read_partitions(reader, loaded.schema, ids, chunk_rows)
    parts = score_partitions(client, frame, loaded, ids, schema, reader.path.name)
    stack.callback(parts.close)
    return ((chunk, i + 1) for i, chunk in enumerate(parts)), frame.npartitions


@dataclass
class _Tally:
    n_rows: int = 0
    n_chunks: int = 0
    classes: Counter = field(default_factory=Counter)
    unknown: Counter = field(default_factory=Counter)

    def add(self, chunk: Chunk) -> None:
        self.n_rows += chunk.n_rows
        self.n_chunks += 1
        self.classes.update({plain(k): v for k, v in chunk.class_counts.items()})
        self.unknown.update(chunk.unknown_categories)

    def summary(
        self, loaded: LoadedModel, src: Path, out: Path, seconds: float, dask: str | None
    ) -> BatchSummary:
        return BatchSummary(
            source=str(src),
            out=str(out),
            model=loaded.ref,
            n_rows=self.n_rows,
            n_chunks=self.n_chunks,
            seconds=seconds,
            rows_per_second=self.n_rows / seconds if seconds > 0 else float("nan"),
            class_counts={c: self.classes.get(c, 0) for c in loaded.classes},
            unknown_categories=dict(sorted(self.unknown.items())),
            dask=dask,
        )


@contextlib.contextmanager
def _display(show: bool, title: str, total: int) -> Iterator[Any]:
    """A function ``(done, rows)`` that moves a Rich bar on standard error (or does nothing)."""
    if not show:
        yield lambda done, rows: None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(title, total=total, rows=0)
    with bar:
        yield lambda done, rows: bar.update(task, completed=done, rows=rows)


def _check_paths(source: Any, out: Any) -> tuple[Path, Path]:
    for name, value in (("source", source), ("out", out)):
        if not isinstance(value, str | Path):
            raise InvalidInputError(
                f"{name} must be a path (str or Path); got {type(value).__name__}. To fix: pass "
                "the file's path."
            )
    src, target = Path(source), Path(out)
    file_format(target, "out")
    if not target.parent.is_dir():
        raise InvalidInputError(
            f"The folder of out {str(target)!r} does not exist. To fix: create it first "
            f"(mkdir -p {str(target.parent)!r}) or write elsewhere."
        )
    if target.exists() and src.exists() and target.resolve() == src.resolve():
        raise InvalidInputError(
            f"out is the input file {str(src)!r}. To fix: write the predictions to a new file."
        )
    return src, target


_ADDRESS = Satisfies(lambda v: isinstance(v, str) and bool(v.strip()), "a scheduler address")


def _check_options(chunk_rows: Any, dask: Any) -> int:
    """Raise on a bad ``chunk_rows`` or ``dask``; ``chunk_rows`` as a Python int."""
    positive = Interval(Integral, 1, None, closed="left")
    fix = "pass e.g. chunk_rows=100000 (lower it if memory is short)"
    check("chunk_rows", chunk_rows, "score_file", positive, fix=fix)
    fix = "pass dask='local' or dask='tcp://host:8786'"
    check("dask", dask, "score_file", None, StrOptions("local"), _ADDRESS, fix=fix)
    return int(chunk_rows)
