"""Is the target something a classifier can learn and be evaluated on with these folds?"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from verdict._results import plain
from verdict.errors import InvalidInputError

# A target with more classes than this, most of them distinct per row, is not a class label.
MAX_CLASSES_IF_MOSTLY_DISTINCT = 20


def min_rows_per_class(cv: int, test_size: float) -> int:
    """Fewest rows a class needs: one in the stratified test set and ``cv`` left for the folds."""
    n = cv + 1
    while n - math.ceil(n * test_size) < cv:
        n += 1
    return n


def check_target(y: pd.Series, target: str, cv: int, test_size: float) -> None:
    """Raise if the labelled target is continuous, has one class, or a class is too small."""
    _refuse_continuous(y, target)
    counts = y.value_counts()
    counts = counts[counts > 0]  # a category dtype also lists its unused categories
    if len(counts) < 2:
        only = plain(counts.index[0])
        raise InvalidInputError(
            f"target {target!r} has a single class ({only!r}) in all {len(y)} labelled rows; a "
            f"classifier needs at least two. To fix: check that {target!r} is the right column "
            f"and that the table holds rows of every class."
        )
    _require_rows_per_class(counts, target, cv, test_size)


def _refuse_continuous(y: pd.Series, target: str) -> None:
    n_classes = y.nunique()
    fractional = pd.api.types.is_float_dtype(y) and not np.array_equal(y, np.round(y))
    many = n_classes > MAX_CLASSES_IF_MOSTLY_DISTINCT and n_classes > len(y) / 2
    if fractional or many:
        why = (
            "fractional numbers" if fractional else f"{n_classes} distinct values in {len(y)} rows"
        )
        raise InvalidInputError(
            f"target {target!r} looks continuous or like an identifier ({why}); verdict trains "
            f"classifiers, which need a few repeated class labels. To fix: choose the column "
            f"that holds the classes, or bin this one into classes first (pandas.cut)."
        )


def _require_rows_per_class(counts: pd.Series, target: str, cv: int, test_size: float) -> None:
    need = min_rows_per_class(cv, test_size)
    small = counts[counts < need]
    if small.empty:
        return
    listed = ", ".join(f"{plain(c)!r} ({n} rows)" for c, n in small.items())
    fewest = int(small.min())
    workable = fewest - math.ceil(fewest * test_size)
    lower = f", or lower cv (cv={workable} works with {fewest} rows)" if workable >= 2 else ""
    noun = "class" if len(small) == 1 else "classes"
    raise InvalidInputError(
        f"target {target!r} has too few rows in {noun} {listed}: with cv={cv} folds and "
        f"test_size={test_size:g} every class needs at least {need} ({cv} for the folds plus its "
        f"share of the hold-out test set). To fix: collect more rows of that class, merge it "
        f"with a related class, or drop its rows{lower}."
    )
