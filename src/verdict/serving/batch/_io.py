"""The files of batch scoring: chunked readers of CSV and Parquet, and an all-or-nothing writer.

Only the columns scoring needs are read (the schema's features and the id columns), a chunk
at a time. The output's column types are fixed before the first chunk, from the model (labels,
float probabilities) and the source (the id columns' types: a Parquet file's own, text for
CSV, so that '007' stays '007'), so every chunk, and every Dask partition, is written with the
same types whatever pandas inferred for it. CSV columns are read with the types the model was
trained on where text could be misread (categories such as '007', booleans, dates); numeric
columns are left to pandas, so that a chunk holding a word where a number belongs reaches
``check_rows`` and is reported by row.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from verdict.data import ColumnKind, Schema
from verdict.errors import InvalidInputError
from verdict.registry import LoadedModel
from verdict.serving._scoring import (
    CLASS_COLUMN,
    VERSION_COLUMN,
    proba_columns,
    score_rows,
)

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Chunk:
    """A scored chunk: the output table and what the summary adds up."""

    table: pa.Table
    n_rows: int
    unknown_categories: dict[str, int]
    class_counts: dict[Any, int]


@dataclass
class Source:
    """An input file: its format, columns and size, and how to read it a chunk at a time."""

    path: Path
    format: str
    columns: list[str]
    n_rows: int | None  # known for Parquet
    id_types: dict[str, pa.DataType] = field(default_factory=dict)

    def needed(self, schema: Schema, ids: Sequence[str]) -> list[str]:
        """The columns to read: the features present and the id columns, in file order."""
        wanted = {*schema.features, *ids}
        return [c for c in self.columns if c in wanted]

    def csv_dtypes(self, schema: Schema, ids: Sequence[str], *, numbers: bool) -> dict[str, str]:
        """Types for ``read_csv``: text for ids and non-numeric features; floats if ``numbers``."""
        text = {ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.DATETIME}
        dtypes = {c.name: "str" for c in schema.columns if c.kind in text}
        if numbers:
            dtypes |= dict.fromkeys(schema.numeric, "float64")
        dtypes |= dict.fromkeys(ids, "str")
        return {k: v for k, v in dtypes.items() if k in self.columns}

    def chunks(
        self, schema: Schema, ids: Sequence[str], chunk_rows: int
    ) -> Iterator[tuple[pd.DataFrame, int]]:
        """``(frame, progress)`` per chunk: bytes read (CSV) or rows read (Parquet) so far."""
        needed = self.needed(schema, ids)
        if self.format == "parquet":
            yield from _parquet_chunks(self.path, needed, chunk_rows)
            return
        dtypes = self.csv_dtypes(schema, ids, numbers=False)
        with open(self.path, "rb") as handle, reading_errors(self.path):
            reader = pd.read_csv(
                handle, usecols=needed, dtype=dtypes, chunksize=chunk_rows, encoding="utf-8-sig"
            )
            with reader:
                for frame in reader:
                    yield frame, handle.tell()

    @property
    def size(self) -> int:
        """Progress units in the whole file: rows (Parquet) or bytes (CSV)."""
        return self.n_rows if self.n_rows is not None else self.path.stat().st_size


def open_source(path: Path) -> Source:
    """Read a CSV's header or a Parquet file's metadata; clear errors for what cannot be read."""
    fmt = file_format(path, "source")
    if not path.is_file():
        raise InvalidInputError(
            f"The input file {str(path)!r} does not exist. To fix: check the path."
        )
    with reading_errors(path):
        if fmt == "parquet":
            meta = pq.ParquetFile(path)
            arrow = meta.schema_arrow
            types = {name: arrow.field(name).type for name in arrow.names}
            return Source(path, fmt, list(arrow.names), meta.metadata.num_rows, types)
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
        columns = [str(c) for c in header.columns]
        return Source(path, fmt, columns, None, dict.fromkeys(columns, pa.string()))


def file_format(path: Path, argument: str) -> str:
    """'csv' or 'parquet' from the suffix; an error for any other."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInputError(
            f"{argument} {str(path)!r} is neither CSV nor Parquet (suffix {path.suffix!r}). "
            f"To fix: use a file ending in one of {sorted(FORMATS)}."
        )
    return fmt


@contextlib.contextmanager
def reading_errors(path: Path) -> Iterator[None]:
    """Turn a reader's failure into an error that names the file."""
    try:
        yield
    except (ValueError, OSError, UnicodeDecodeError, pa.ArrowException) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(
            f"{str(path)!r} could not be read: {type(exc).__name__}: {exc}. To fix: check that "
            "it is a valid UTF-8 CSV file or a Parquet file, matching its suffix."
        ) from exc


def _parquet_chunks(
    path: Path, columns: list[str], chunk_rows: int
) -> Iterator[tuple[pd.DataFrame, int]]:
    done = 0
    with reading_errors(path), pq.ParquetFile(path) as file:
        for batch in file.iter_batches(batch_size=chunk_rows, columns=columns):
            done += batch.num_rows
            yield batch.to_pandas(), done


def output_schema(loaded: LoadedModel, ids: Sequence[str], id_types: dict[str, Any]) -> pa.Schema:
    """The output's Arrow schema: ids as in the source, the label type, float probabilities."""
    try:
        label_type = pa.array(list(loaded.classes)).type
    except (pa.ArrowException, TypeError):
        label_type = pa.string()
    fields = [pa.field(name, id_types[name]) for name in ids]
    fields.append(pa.field(CLASS_COLUMN, label_type))
    fields += [pa.field(name, pa.float64()) for name in proba_columns(loaded)]
    fields.append(pa.field(VERSION_COLUMN, pa.string()))
    return pa.schema(fields)


def score_chunk(
    loaded: LoadedModel,
    frame: pd.DataFrame,
    ids: Sequence[str],
    schema: pa.Schema,
    first_row: int,
    what: str,
) -> Chunk:
    """Score one chunk and convert it to the output's Arrow types (run locally or on Dask)."""
    scored, check = score_rows(loaded, frame, id_columns=ids, first_row=first_row, what=what)
    counts = scored[CLASS_COLUMN].value_counts(sort=False)
    try:
        table = pa.Table.from_pandas(scored, schema=schema, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{what} cannot be written with the output's column types {schema.types}: {exc}. "
            "To fix: make each id column hold one type of value in the whole file."
        ) from exc
    return Chunk(table, len(scored), check.unknown_categories, counts.to_dict())


class AtomicWriter:
    """Write CSV or Parquet to a temporary file beside ``out``; ``os.replace`` it on success.

    A run that fails (bad rows, an interrupt) deletes the temporary file and leaves any
    earlier ``out`` as it was.
    """

    def __init__(self, out: Path, schema: pa.Schema) -> None:
        self.out, self.schema, self.format = out, schema, file_format(out, "out")
        self._writer: Any = None
        self._tmp: Path | None = None

    def __enter__(self) -> AtomicWriter:
        self._tmp = self.out.with_name(f".{self.out.name}.{uuid.uuid4().hex[:12]}.part")
        if self.format == "parquet":
            self._writer = pq.ParquetWriter(self._tmp, self.schema)
        else:
            options = pacsv.WriteOptions(quoting_style="needed")
            self._writer = pacsv.CSVWriter(self._tmp, self.schema, write_options=options)
        return self

    def write(self, table: pa.Table) -> None:
        """Append one chunk (already in the output's schema)."""
        self._writer.write_table(table)

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        assert self._tmp is not None
        try:
            self._writer.close()
            if kind is None:
                os.replace(self._tmp, self.out)
        finally:
            self._tmp.unlink(missing_ok=True)
