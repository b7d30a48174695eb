"""Read a table from CSV, Parquet or JSON Lines, chosen by the file's suffix.

Text files are read as UTF-8 unless told otherwise. A byte-order mark is honoured (UTF-8 or
UTF-16), because it states the encoding. Anything else that is not valid UTF-8 is refused with
the line of the first bad byte and the encoding it most likely is, instead of being read through
a guessed fallback: a single-byte fallback such as latin-1 never fails, so a wrong guess would
silently turn 'café' into 'cafÃ©', the model would learn those spellings as categories, and
clients sending proper UTF-8 at prediction time would then look like unseen levels. Passing
``encoding=`` makes the choice explicit and reproducible.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from verdict.errors import InvalidInputError

_TEXT_READERS: dict[str, Callable[[Path, str], pd.DataFrame]] = {
    ".csv": lambda path, enc: pd.read_csv(path, encoding=enc),
    ".tsv": lambda path, enc: pd.read_csv(path, sep="\t", encoding=enc),
    ".jsonl": lambda path, enc: pd.read_json(path, lines=True, encoding=enc),
    ".ndjson": lambda path, enc: pd.read_json(path, lines=True, encoding=enc),
}
_BINARY_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".parquet": pd.read_parquet,
    ".pq": pd.read_parquet,
}
_FORMAT_NAMES = {
    ".csv": "CSV",
    ".tsv": "TSV",
    ".jsonl": "JSON Lines",
    ".ndjson": "JSON Lines",
    ".parquet": "Parquet",
    ".pq": "Parquet",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHUNK = 1 << 20


def read_table(path: str | Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Load a whole table from a CSV, TSV, Parquet or JSON Lines file.

    The suffix picks the reader, so a file is never parsed by guesswork. Every failure is an
    :class:`~verdict.errors.InvalidInputError` whose message is one paragraph: what the file
    is, what was wrong, and how to fix it (the CLI prints it and exits with code 2).

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.tsv``, ``.parquet``/``.pq`` or ``.jsonl``/``.ndjson`` file.
    encoding : str, optional
        Text encoding of CSV, TSV and JSON Lines files (ignored for Parquet, which stores UTF-8).
        By default UTF-8, or what a byte-order mark states. Non-UTF-8 text is refused rather
        than decoded with a guessed fallback, because a wrong guess corrupts category names
        silently; the error names the likely encoding to pass here.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _FORMAT_NAMES:
        raise InvalidInputError(
            f"Cannot read {path}: unknown file type {path.suffix!r}. To fix: save the table as "
            f"one of {', '.join(sorted(_FORMAT_NAMES))}, or rename it if the suffix is wrong."
        )
    if not path.is_file():
        raise InvalidInputError(f"{path} does not exist or is not a file. To fix: check the path.")
    if suffix in _BINARY_READERS:
        return _read(path, lambda: _BINARY_READERS[suffix](path))
    if encoding is None:
        encoding = _bom_encoding(path) or "utf-8"
    else:
        _check_encoding(encoding)
    try:
        return _read(path, lambda: _TEXT_READERS[suffix](path, encoding))
    except UnicodeDecodeError as exc:
        raise InvalidInputError(_decode_message(path, encoding, exc)) from exc


def _read(path: Path, reader: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """Run a reader; turn its failure into one paragraph that names the file and a fix."""
    kind = _FORMAT_NAMES[path.suffix.lower()]
    if path.stat().st_size == 0:
        raise InvalidInputError(
            f"{path} is empty (0 bytes). To fix: check that it was written completely."
        )
    try:
        return reader()
    except UnicodeDecodeError:
        raise
    except PermissionError as exc:
        raise InvalidInputError(
            f"{path} cannot be opened: permission denied. To fix: make it readable by this user."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InvalidInputError(
            f"{path} holds no columns: {_one_line(exc)}. To fix: check that it has a header row."
        ) from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InvalidInputError(
            f"Could not read {path} as {kind}: {_one_line(exc)}. The file may be truncated, "
            f"corrupt, or in another format than its suffix says. To fix: open it in the program "
            f"that wrote it and export it again as {kind}, or rename it to match its real format."
        ) from exc


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line, without a trailing period."""
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


def _bom_encoding(path: Path) -> str | None:
    """The encoding a byte-order mark at the start of the file declares, if any."""
    with path.open("rb") as handle:
        head = handle.read(4)
    return next((name for bom, name in _BOMS if head.startswith(bom)), None)


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InvalidInputError(
            f"encoding={encoding!r} is not a known text encoding. To fix: use a Python codec "
            f"name such as 'utf-8', 'cp1252' or 'latin-1'."
        ) from exc


def _decode_message(path: Path, encoding: str, exc: UnicodeDecodeError) -> str:
    """Where the first undecodable byte is, and which encoding would most likely read it."""
    offset, line_no, line = _first_bad_line(path, encoding)
    if offset is None:  # the reader saw an error our scan did not: report it as it came
        where = _one_line(exc)
    else:
        where = f"byte {offset} (line {line_no}) cannot be decoded"
    guess = _guess_encoding(path)
    shown = ""
    if line is not None:
        shown = f" Read as {guess}, that line is {line.decode(guess, 'replace').strip()[:80]!r}."
    return (
        f"{path} is not valid {encoding} text: {where}.{shown} To fix: read it with its encoding, "
        f"most likely encoding={guess!r}, or re-save the file as UTF-8."
    )


def _first_bad_line(path: Path, encoding: str) -> tuple[int | None, int, bytes | None]:
    """Offset and 1-based line number of the first byte ``encoding`` rejects, with that line."""
    decoder = codecs.getincrementaldecoder(encoding)()
    start, newlines, tail = 0, 0, b""  # tail: the bytes since the last newline (capped)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk, final=len(chunk) < _CHUNK)
            except UnicodeDecodeError as exc:
                bad = max(exc.start, 0)
                before = tail + chunk[:bad]
                rest = chunk[bad:]
                end = rest.find(b"\n")
                line = before[before.rfind(b"\n") + 1 :] + (rest if end < 0 else rest[:end])
                return start + bad, newlines + chunk[:bad].count(b"\n") + 1, line
            newlines += chunk.count(b"\n")
            tail = (tail + chunk)[-4096:]
            tail = tail[tail.rfind(b"\n") + 1 :]
            start += len(chunk)
    return None, 0, None


def _guess_encoding(path: Path) -> str:
    """cp1252 (what Excel on Windows writes) if the file's start decodes as it, else latin-1."""
    with path.open("rb") as handle:
        sample = handle.read(_CHUNK)
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"
