"""What the data checks found: one record per finding, and the warning class they are raised as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from verdict._results import Result
from verdict.data._schema import Schema
from verdict.errors import VerdictWarning


class DataQualityWarning(VerdictWarning):
    """The table can be used, but something in it deserves a look (see ``DataReport.findings``)."""


@dataclass(frozen=True, slots=True)
class Finding(Result):
    """One thing a check noticed that does not stop training.

    ``code`` is stable for programs (``'unlabelled_rows'``, ``'id_column'``, ``'empty_column'``,
    ``'constant_column'``, ``'dropped_column'``, ``'high_cardinality'``, ``'duplicate_rows'``,
    ``'conflicting_labels'``, ``'infinite_values'``, ``'leakage'``); ``message`` is for people
    and ends with what to do.
    ``severity`` is 'warning' (worth acting on) or 'info' (done for you, nothing to act on).
    ``value`` is the number behind it: a row count, a level count or a score.
    """

    code: str
    severity: Literal["warning", "info"]
    message: str
    column: str | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class DataReport(Result):
    """The outcome of :func:`check_table`: the schema to train with and what the checks found.

    ``n_rows`` counts the rows given; ``n_labelled`` those with a target value, the only ones
    used (``clean`` keeps them).
    """

    schema: Schema
    findings: tuple[Finding, ...]
    n_rows: int
    n_labelled: int
    _hidden: ClassVar[tuple[str, ...]] = ("schema", "findings")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings of severity 'warning'."""
        return tuple(f for f in self.findings if f.severity == "warning")

    def clean(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows with a target value, restricted to the feature columns and the target.

        This is what training should see: unlabelled rows and dropped columns (ids, empty or
        constant columns) removed, and infinite numbers made missing, for the imputer and its
        missing indicator to handle. Duplicates stay; whether to drop them is the user's call.
        """
        labelled = frame[frame[self.schema.target].notna()]
        clean = labelled.loc[:, [*self.schema.features, self.schema.target]].copy()
        for name in self.schema.numeric:
            values = clean[name].astype(float)
            if np.isinf(values).any():
                clean[name] = values.mask(np.isinf(values))
        return clean

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; the schema in ``Schema.to_dict`` form."""
        return {
            "schema": self.schema.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "n_rows": self.n_rows,
            "n_labelled": self.n_labelled,
        }
