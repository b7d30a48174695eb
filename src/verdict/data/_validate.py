"""Boundary checks shared by the data functions: a usable frame and columns that exist."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

import pandas as pd

from verdict._params import Interval, check
from verdict.errors import InvalidInputError


def check_frame(frame: Any, argument: str = "frame") -> pd.DataFrame:
    """A DataFrame with rows, unique string column names; raise otherwise."""
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"{argument} must be a pandas DataFrame; got {type(frame).__name__}. To fix: load it "
            f"with verdict.data.read_table or wrap it in pandas.DataFrame(...)."
        )
    if len(frame) == 0:
        raise InvalidInputError(f"{argument} has no rows. To fix: pass a table with data in it.")
    not_str = [c for c in frame.columns if not isinstance(c, str)]
    if not_str:
        raise InvalidInputError(
            f"{argument} has column names that are not strings: {not_str[:5]}. To fix: name them, "
            f"for example frame.columns = frame.columns.astype(str)."
        )
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        raise InvalidInputError(
            f"{argument} has duplicate column names {duplicated}. To fix: rename them so that "
            f"each column has its own name."
        )
    return frame


def require_column(frame: pd.DataFrame, name: Any, argument: str) -> str:
    """``name`` if it is a column of ``frame``; else an error suggesting close names."""
    if isinstance(name, str) and name in frame.columns:
        return name
    columns = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(str(name), columns, n=3, cutoff=0.6)
    close += [c for c in columns if c.lower() == str(name).lower() and c not in close]
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    listing = columns if len(columns) <= 20 else [*columns[:20], "..."]
    raise InvalidInputError(
        f"{argument}={name!r} is not a column of the table{'; ' + hint if hint else ''}. "
        f"To fix: use one of its columns: {', '.join(listing)}."
    )


def require_columns(frame: pd.DataFrame, names: Iterable[Any], argument: str) -> tuple[str, ...]:
    """Every name checked with :func:`require_column`."""
    if isinstance(names, str):
        names = (names,)
    return tuple(require_column(frame, n, argument) for n in names)


def check_cv(cv: Any, test_size: Any) -> tuple[int, float]:
    """``cv`` an int >= 2 and ``test_size`` a fraction in (0, 1)."""
    folds = Interval(Integral, 2, None, closed="left")
    check("cv", cv, "check_table", folds, fix="pass e.g. cv=5 (the number of folds)")
    share = Interval(Real, 0, 1, closed="neither")
    check("test_size", test_size, "check_table", share, fix="pass e.g. test_size=0.2")
    return int(cv), float(test_size)
