"""Read a table from CSV, Parquet or JSON Lines, chosen by the file's suffix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from verdict.errors import InvalidInputError

_READERS = {
    ".csv": pd.read_csv,
    ".tsv": lambda path: pd.read_csv(path, sep="\t"),
    ".parquet": pd.read_parquet,
    ".pq": pd.read_parquet,
    ".jsonl": lambda path: pd.read_json(path, lines=True),
    ".ndjson": lambda path: pd.read_json(path, lines=True),
}


def read_table(path: str | Path) -> pd.DataFrame:
    """Load a whole table; the error says what was wrong with the file and how to fix it."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InvalidInputError(
            f"Cannot read {path}: unknown file type {path.suffix!r}. To fix: use one of "
            f"{', '.join(sorted(_READERS))}."
        )
    if not path.is_file():
        raise InvalidInputError(f"{path} does not exist or is not a file. To fix: check the path.")
    try:
        return reader(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InvalidInputError(f"Could not parse {path} as {path.suffix}: {exc}") from exc
