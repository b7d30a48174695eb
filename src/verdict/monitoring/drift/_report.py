"""The records a drift check returns: one :class:`FeatureDrift` per tested column, and the
:class:`DriftReport` that gathers them with the alarm decision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from verdict._results import Result


@dataclass(frozen=True, slots=True)
class FeatureDrift(Result):
    """Drift of one column (or of the predicted class, or of the confidence).

    Attributes
    ----------
    name : str
        The column; ``'prediction'`` and ``'confidence'`` for the model's outputs.
    kind : str
        The schema kind ('numeric', 'categorical', 'boolean', 'datetime'), or 'prediction' /
        'confidence'.
    test : str
        'ks' (numeric, datetime, confidence) or 'chi2' (categorical, boolean, prediction).
    statistic : float
        The test's statistic on the window against the reference. For 'ks' missing values
        count as a value above all others, so a change of the missing share moves it too
        (equal to ``ks_2samp`` when neither sample has missing values).
    p_value : float
        The share of the calibrated null (``n_null`` reference-bootstrapped windows of the same
        size) at least as extreme, with the +1 correction: ``(1 + #{null >= observed}) /
        (n_null + 1)``.
    adjusted_p_value : float
        ``p_value`` after the correction for testing several columns (Holm or Bonferroni).
    drifted : bool
        ``adjusted_p_value <= false_alarm_rate``.
    psi : float
        Population stability index (numeric: ten reference-quantile bins of the non-missing
        values, NaN when the window has none; categorical: one bin per category, missing
        included). Reported for reading, not used for the decision.
    jensen_shannon : float or None
        Jensen-Shannon divergence (base 2) of the category shares; None for numeric columns.
    missing_share_reference, missing_share_current : float
        Shares of missing values.
    unseen_categories : tuple
        Categories of the window that the reference never had (categorical columns).
    """

    name: str
    kind: str
    test: str
    statistic: float
    p_value: float
    adjusted_p_value: float
    drifted: bool
    psi: float
    jensen_shannon: float | None
    missing_share_reference: float
    missing_share_current: float
    unseen_categories: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class DriftReport(Result):
    """The outcome of :meth:`DriftDetector.check` on one window of traffic.

    Attributes
    ----------
    window_size : int
        Rows in the window.
    n_reference : int
        Reference rows compared against (after any subsampling).
    false_alarm_rate : float
        The chance that an unchanged stream raises the alarm on a window.
    correction : str
        'holm' or 'bonferroni'.
    n_null : int
        Bootstrapped windows in the calibrated null.
    alarm : bool
        True when any column drifted.
    features : tuple of FeatureDrift
        One per schema feature, in schema order.
    prediction, confidence : FeatureDrift or None
        Drift of the predicted class and of the confidence, when predictions were given.
    """

    _hidden: ClassVar[tuple[str, ...]] = ("features", "prediction", "confidence")

    window_size: int
    n_reference: int
    false_alarm_rate: float
    correction: str
    n_null: int
    alarm: bool
    features: tuple[FeatureDrift, ...]
    prediction: FeatureDrift | None = None
    confidence: FeatureDrift | None = None

    @property
    def tests(self) -> tuple[FeatureDrift, ...]:
        """Every tested column: the features, then prediction and confidence when present."""
        extra = tuple(t for t in (self.prediction, self.confidence) if t is not None)
        return self.features + extra

    @property
    def drifted(self) -> tuple[str, ...]:
        """Names of the columns that drifted."""
        return tuple(t.name for t in self.tests if t.drifted)

    def to_frame(self) -> pd.DataFrame:
        """One row per tested column, indexed by name, most significant first."""
        rows = [t.to_dict() for t in self.tests]
        frame = pd.DataFrame(rows).set_index("name")
        return frame.sort_values(["adjusted_p_value", "p_value"], kind="stable")

    def summary(self) -> str:
        """A few lines for a terminal: the decision, then the drifted columns."""
        head = (
            f"{'DRIFT' if self.alarm else 'no drift'}: window of {self.window_size} rows vs "
            f"{self.n_reference} reference rows; {len(self.tests)} columns tested at a "
            f"false-alarm rate of {self.false_alarm_rate:g} ({self.correction}, "
            f"{self.n_null} null windows)"
        )
        lines = [head]
        for t in sorted(self.tests, key=lambda t: t.adjusted_p_value):
            if not t.drifted:
                continue
            extra = f", unseen {list(t.unseen_categories)}" if t.unseen_categories else ""
            lines.append(
                f"  {t.name} ({t.kind}, {t.test}): statistic {t.statistic:.4g}, "
                f"adjusted p {t.adjusted_p_value:.3g}, PSI {t.psi:.3g}{extra}"
            )
        return "\n".join(lines)
