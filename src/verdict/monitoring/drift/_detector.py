"""Per-feature drift between the training reference and a window of traffic, with calibrated
alarms.

A fixed cut-off (PSI > 0.1, say) fires on most small windows of unchanged data, because the
statistics of a small sample are noisy; and with many features, something always looks odd.
:class:`DriftDetector` instead asks, for each column, how often a window *of this size* drawn
from the reference itself would look at least as different, and corrects for the number of
columns tested:

1. Each column gets a test: Kolmogorov-Smirnov for numeric and datetime columns (datetimes as
   nanoseconds) and for the confidence; chi-squared of homogeneity for categorical and boolean
   columns and for the predicted class. KS drives numeric alarms rather than PSI because it
   needs no binning and reacts to shifts anywhere in the distribution; PSI (and, for
   categories, Jensen-Shannon) is reported beside it.
2. The null for a window of ``n`` rows: ``n_null`` times, bootstrap a pseudo-reference of
   ``m`` rows and a pseudo-window of ``n`` rows from the reference and compute each statistic
   between them. It is computed once per window size and cached.
3. A column's p-value is ``(1 + #{null >= observed}) / (n_null + 1)``; Holm's (or
   Bonferroni's) correction across all tested columns keeps the chance that an unchanged
   stream alarms on a window at or below ``false_alarm_rate``, whatever the window size.

Missing values take part: numeric ones count as a value above all others in KS, categorical
ones form a category, so a change in the missing share is drift.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from verdict._params import Interval, StrOptions, check, invalid_parameter
from verdict.data import ColumnKind, Schema
from verdict.errors import InvalidInputError
from verdict.monitoring.drift._columns import (
    Column,
    adjust,
    build_column,
    column_values,
    null_p_value,
    null_statistics,
)
from verdict.monitoring.drift._report import DriftReport, FeatureDrift

CORRECTIONS = ("holm", "bonferroni")
PREDICTION_COLUMNS = ("label", "confidence")
_TESTS = {
    ColumnKind.NUMERIC: "ks",
    ColumnKind.DATETIME: "ks",
    ColumnKind.CATEGORICAL: "chi2",
    ColumnKind.BOOLEAN: "chi2",
}

MIN_MISSING_MOVE = 0.05  # a missing share moving this much matters, whatever the PSI


class DriftDetector:
    """Detect drift of a window of traffic from the training reference, at a set false-alarm rate.

    Parameters
    ----------
    reference : pandas.DataFrame
        The training rows (stored with the model version); must hold ``schema.features``.
    schema : Schema
        Which columns are features and of what kind.
    false_alarm_rate : float, default 0.05
        The chance that a window of unchanged data raises the alarm (over all columns).
    n_null : int, optional
        Bootstrapped windows per window size. Default: ``max(999, ceil(2 k / false_alarm_rate))``
        for ``k`` tested columns, so that even the smallest possible p-value survives the
        correction. Values too small for that are refused.
    correction : {'holm', 'bonferroni'}, default 'holm'
        The correction for testing several columns.
    random_state : int or None, default 0
        Seeds the bootstrap (the null of a window size depends only on it and that size).
    reference_predictions : pandas.DataFrame, optional
        Columns ``label`` (the predicted class) and ``confidence`` (the largest probability)
        for the reference rows, in the same order; enables the prediction and confidence tests.
    max_reference : int, default 20000
        A larger reference is subsampled (seeded) to this many rows, to bound calibration time.
    min_psi : float, default 0.05
        Practical significance: a column is flagged only when its change is also large enough
        to matter (PSI at least this, or its missing share moved by 5 points or more, or it
        holds categories never seen in training). On big windows a test detects changes too
        small to act on; this floor keeps those quiet. 0 flags every significant change.

    Examples
    --------
    >>> detector = DriftDetector(train_frame, schema)            # doctest: +SKIP
    >>> report = detector.check(last_hour)                       # doctest: +SKIP
    >>> report.alarm, report.drifted                             # doctest: +SKIP
    """

    def __init__(
        self,
        reference: pd.DataFrame,
        schema: Schema,
        *,
        false_alarm_rate: float = 0.05,
        n_null: int | None = None,
        correction: str = "holm",
        random_state: int | None = 0,
        reference_predictions: pd.DataFrame | None = None,
        max_reference: int = 20_000,
        min_psi: float = 0.05,
    ) -> None:
        _check_params(false_alarm_rate, correction, random_state, max_reference, min_psi)
        self.min_psi = float(min_psi)
        reference = _check_frame(reference, "reference", schema.features)
        if reference_predictions is not None:
            _check_frame(reference_predictions, "reference_predictions", PREDICTION_COLUMNS)
            _check_aligned(reference_predictions, reference, "reference_predictions", "reference")
        if len(reference) > max_reference:
            rows = np.sort(np.random.default_rng(random_state).permutation(len(reference)))
            rows = rows[:max_reference]
            reference = reference.iloc[rows]
            if reference_predictions is not None:
                reference_predictions = reference_predictions.iloc[rows]
        self.schema = schema
        self.false_alarm_rate = float(false_alarm_rate)
        self.correction = correction
        self.random_state = random_state
        self.n_reference = len(reference)
        self._features = [_build(schema, name, reference[name]) for name in schema.features]
        self._outputs = _build_outputs(reference_predictions)
        self.n_null = _check_n_null(n_null, self.n_tests, self.false_alarm_rate)
        self._nulls: dict[int, np.ndarray] = {}

    @property
    def n_tests(self) -> int:
        """Columns tested per window (features, plus prediction and confidence when given)."""
        return len(self._features) + len(self._outputs)

    def calibrate(self, window_size: int) -> np.ndarray:
        """The null statistics for windows of ``window_size`` rows (computed once, then cached).

        Returns
        -------
        ndarray of shape (n_tests, n_null)
            Rows in the order features, then prediction and confidence when given.
        """
        positive = Interval(Integral, 1, None, closed="left")
        fix = "pass the number of rows in the window"
        n = int(check("window_size", window_size, "DriftDetector.calibrate", positive, fix=fix))
        if n not in self._nulls:
            seed = None if self.random_state is None else [self.random_state, n]
            columns = self._features + self._outputs
            self._nulls[n] = null_statistics(columns, self.n_reference, n, self.n_null, seed)
        return self._nulls[n]

    def check(
        self, current: pd.DataFrame, *, predictions: pd.DataFrame | None = None
    ) -> DriftReport:
        """Test a window of traffic for drift from the reference.

        Parameters
        ----------
        current : pandas.DataFrame
            The window's rows; must hold the schema's features (other columns are ignored).
        predictions : pandas.DataFrame, optional
            ``label`` and ``confidence`` for the window's rows; needs ``reference_predictions``.

        Returns
        -------
        DriftReport

        Raises
        ------
        InvalidInputError
            If a feature column is missing, the window is empty, or predictions are given
            without reference predictions or do not match the window's rows.
        """
        current = _check_frame(current, "current", self.schema.features)
        columns: list[Column] = list(self._features)
        values = [self._values(col, current[col.name]) for col in self._features]
        if predictions is not None:
            if not self._outputs:
                raise InvalidInputError(
                    "predictions were given but the detector has no reference predictions. "
                    "To fix: pass reference_predictions to DriftDetector."
                )
            _check_frame(predictions, "predictions", PREDICTION_COLUMNS)
            _check_aligned(predictions, current, "predictions", "current")
            columns += self._outputs
            pairs = zip(self._outputs, PREDICTION_COLUMNS, strict=True)
            values += [self._values(col, predictions[name]) for col, name in pairs]
        null = self.calibrate(len(current))
        results = _score(
            columns, values, null, self.correction, self.false_alarm_rate, self.min_psi
        )
        k = len(self._features)
        outputs = dict(zip(("prediction", "confidence"), results[k:], strict=False))
        return DriftReport(
            window_size=len(current),
            n_reference=self.n_reference,
            false_alarm_rate=self.false_alarm_rate,
            correction=self.correction,
            n_null=self.n_null,
            alarm=any(r.drifted for r in results),
            features=tuple(results[:k]),
            **outputs,
        )

    def _values(self, col: Column, series: pd.Series) -> np.ndarray:
        fmt = self.schema.datetime_formats.get(col.name) if col.kind == "datetime" else None
        return column_values(series, col.test, fmt)


def _score(
    columns: list[Column],
    values: list[np.ndarray],
    null: np.ndarray,
    correction: str,
    rate: float,
    min_psi: float,
) -> list[FeatureDrift]:
    """Observed statistics, calibrated and adjusted p-values, one record per column."""
    observed = [col.observe(v) for col, v in zip(columns, values, strict=True)]
    p = np.array([null_p_value(null[j], o.statistic) for j, o in enumerate(observed)])
    adjusted = adjust(p, correction)
    return [
        FeatureDrift(
            name=col.name,
            kind=col.kind,
            test=col.test,
            statistic=o.statistic,
            p_value=float(p[j]),
            adjusted_p_value=float(adjusted[j]),
            drifted=bool(adjusted[j] <= rate) and _large_enough(col, o, min_psi),
            psi=o.psi,
            jensen_shannon=o.jensen_shannon,
            missing_share_reference=col.missing_share,
            missing_share_current=o.missing_share,
            unseen_categories=o.unseen,
        )
        for j, (col, o) in enumerate(zip(columns, observed, strict=True))
    ]


def _large_enough(col: Column, observed: Any, min_psi: float) -> bool:
    """Whether a significant change also matters: PSI, missingness or unseen categories."""
    psi = observed.psi
    moved = abs(observed.missing_share - col.missing_share) >= MIN_MISSING_MOVE
    return bool(not np.isfinite(psi) or psi >= min_psi or moved or observed.unseen)


def _build(schema: Schema, name: str, series: pd.Series) -> Column:
    col = schema.column(name)
    test = _TESTS[col.kind]
    fmt = col.datetime_format if col.kind is ColumnKind.DATETIME else None
    return build_column(name, str(col.kind), test, column_values(series, test, fmt))


def _build_outputs(predictions: pd.DataFrame | None) -> list[Column]:
    if predictions is None:
        return []
    label = column_values(predictions["label"], "chi2")
    confidence = column_values(predictions["confidence"], "ks")
    return [
        build_column("prediction", "prediction", "chi2", label),
        build_column("confidence", "confidence", "ks", confidence),
    ]


def _check_frame(frame: Any, name: str, columns: Iterable[str]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"{name} must be a pandas DataFrame, got {type(frame).__name__}. "
            "To fix: pass a DataFrame (pd.DataFrame(records))."
        )
    if len(frame) == 0:
        raise InvalidInputError(f"{name} has no rows. To fix: pass at least one row.")
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise InvalidInputError(
            f"{name} lacks the columns {absent}. To fix: include every column the model uses."
        )
    return frame


def _check_aligned(frame: pd.DataFrame, other: pd.DataFrame, name: str, other_name: str) -> None:
    if len(frame) != len(other):
        raise InvalidInputError(
            f"{name} has {len(frame)} rows but {other_name} has {len(other)}. "
            f"To fix: give one prediction per row of {other_name}, in the same order."
        )


def _check_params(
    rate: Any, correction: Any, random_state: Any, max_reference: Any, min_psi: Any
) -> None:
    func = "DriftDetector"
    share = Interval(Real, 0, 1, closed="neither")
    check("false_alarm_rate", rate, func, share, fix="pass e.g. false_alarm_rate=0.05")
    check("correction", correction, func, StrOptions(*CORRECTIONS))
    seed = Interval(Integral, None, None, closed="neither")
    check("random_state", random_state, func, seed, None, fix="pass e.g. random_state=0")
    at_least_two = Interval(Integral, 2, None, closed="left")
    check("max_reference", max_reference, func, at_least_two, fix="pass e.g. max_reference=20000")
    fix = "pass e.g. min_psi=0.05, or 0 to flag every statistically significant change"
    check("min_psi", min_psi, func, Interval(Real, 0, None, closed="both"), fix=fix)


def _check_n_null(n_null: Any, n_tests: int, rate: float) -> int:
    needed = math.ceil(n_tests / rate) - 1  # smallest p-value 1/(n_null+1) must pass Bonferroni
    if n_null is None:
        return max(999, math.ceil(2 * n_tests / rate))
    enough = Interval(Integral, max(needed, 1), None, closed="left")
    if not enough.is_satisfied_by(n_null):
        raise invalid_parameter(
            "n_null",
            n_null,
            "DriftDetector",
            f"None or {enough} (with {n_tests} columns tested at a false-alarm rate of "
            f"{rate:g}, a smaller n_null is too small for any window to ever alarm)",
            f"pass n_null >= {needed} (or leave it out)",
        )
    return int(n_null)
