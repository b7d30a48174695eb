"""Performance in production: estimated before the labels arrive, measured once they do.

Before labels: ``estimate_performance`` reads the expected confusion matrix off the model's own
probabilities (confidence-based performance estimation). That is only as good as the
probabilities, so ``calibration_check`` first measures the expected calibration error on the
version's held-out test predictions and the estimate says whether it can be trusted.

After labels: ``live_performance`` evaluates the labelled window with every metric of
``evaluate`` and its interval, and tests whether the primary metric dropped from its test-time
figure: the window and the stored test predictions are bootstrapped independently (they are
different rows) and the resampled differences give the interval and a one-sided p-value.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from verdict._results import Result, plain
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics import (
    ConfidenceInterval,
    Evaluation,
    bootstrap_ci,
    evaluate,
    expected_calibration_error,
)
from verdict.monitoring.performance._cbpe import (
    confusion_metrics,
    expected_confusion,
    simulated_confusions,
)
from verdict.monitoring.performance._inputs import (
    check_alpha,
    check_classes,
    check_proba,
    label_codes,
    lower_is_better,
    metric_input,
    one_sided_share,
    stored_test_columns,
    window_rows,
)

CBPE_METHOD = "simulated labels"


@dataclass(frozen=True, slots=True)
class CalibrationCheck(Result):
    """Are the model's probabilities calibrated on held-out data (ECE at most ``max_ece``)?"""

    ece: float
    max_ece: float
    calibrated: bool
    n: int
    message: str


SURE = 0.999  # a held-out error at this confidence disqualifies the probabilities


def calibration_check(
    y_true: Any, proba: Any, classes: Any, *, max_ece: float = 0.05, n_bins: int = 10
) -> CalibrationCheck:
    """Check that a model's probabilities can stand in for labels.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels of held-out rows the model did not train on (the version's test set).
    proba : array-like of shape (n_samples, n_classes)
        The model's probabilities for those rows, columns in the order of ``classes``.
    classes : array-like of shape (n_classes,)
        The model's classes.
    max_ece : float, default=0.05
        The largest top-label expected calibration error accepted as calibrated.
    n_bins : int, default=10
        Bins of the ECE.

    Returns
    -------
    CalibrationCheck
        ``ece``, ``max_ece``, ``calibrated`` (``ece <= max_ece`` and no held-out error made
        with probability >= 0.999: a model that is sure when wrong, such as an unpruned tree
        whose probabilities are all 0 or 1, would estimate its own accuracy as 1), ``n`` rows
        and a sentence.
    """
    labels = check_classes(classes)
    codes = label_codes(y_true, labels, "y_true")
    p = check_proba(proba, codes.shape[0], labels.shape[0], "proba")
    limit = check_alpha(max_ece, "max_ece", "calibration_check")
    ece = float(expected_calibration_error(codes, p, n_bins=n_bins, labels=np.arange(len(p[0]))))
    top = p.max(axis=1)
    sure_but_wrong = int(np.sum((top >= SURE) & (p.argmax(axis=1) != codes)))
    calibrated = ece <= limit and sure_but_wrong == 0
    n = codes.shape[0]
    if ece > limit:
        sure = f", and wrong {sure_but_wrong} time(s) with probability >= {SURE:g}"
        message = (
            f"not calibrated on {n} held-out rows: ECE {ece:.3f} > {limit:g}"
            f"{sure if sure_but_wrong else ''}, so performance estimated from the probabilities "
            "would be biased. To fix: calibrate the model on held-out data, or rely on "
            "labelled feedback"
        )
    elif sure_but_wrong:
        message = (
            f"not usable before labels: on {n} held-out rows the model was wrong {sure_but_wrong}"
            f" time(s) with probability >= {SURE:g} (ECE {ece:.3f}); probabilities that certain "
            "cannot show its errors, so an estimate from them would be over-optimistic. To fix: "
            "calibrate the model on held-out data, or rely on labelled feedback"
        )
    else:
        message = (
            f"calibrated on {n} held-out rows: ECE {ece:.3f} <= {limit:g}, so the "
            "probabilities can estimate performance before labels arrive"
        )
    return CalibrationCheck(ece, limit, calibrated, int(codes.shape[0]), message)


@dataclass(frozen=True, slots=True)
class EstimatedPerformance(Result):
    """Performance estimated from the probabilities (CBPE), with intervals.

    ``metrics`` maps 'accuracy', 'precision_macro', 'recall_macro', 'f1_macro' (and for two
    classes the '_binary' ones, positive class last) to the estimate; ``intervals`` to their
    ``ConfidenceInterval`` (method 'simulated labels'). ``reliable`` is the calibration
    check's verdict; when False, ``message`` says why the numbers should not be trusted.
    """

    _hidden: ClassVar[tuple[str, ...]] = ("intervals", "metrics")

    metrics: dict[str, float]
    intervals: dict[str, ConfidenceInterval]
    expected_confusion: np.ndarray
    n: int
    reliable: bool
    ece: float
    confidence: float
    message: str


def estimate_performance(
    proba: Any,
    classes: Any,
    *,
    calibration: CalibrationCheck,
    policy_labels: Any = None,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    random_state: Any = 0,
) -> EstimatedPerformance:
    """Estimate accuracy, precision, recall and F1 from probabilities, before labels arrive.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        The model's probabilities for the unlabelled rows, columns in the order of ``classes``.
    classes : array-like of shape (n_classes,)
        The model's classes.
    calibration : CalibrationCheck
        ``calibration_check`` on the version's held-out test predictions.
    policy_labels : array-like of shape (n_samples,), optional
        The labels actually returned (a threshold or cost rule); the argmax when None.
    confidence : float, default=0.95
        Nominal coverage of the intervals.
    n_resamples : int, default=1000
        Simulated label sets.
    random_state : None, int or numpy.random.Generator, default=0

    Returns
    -------
    EstimatedPerformance
        The estimates are those of the expected confusion matrix; each interval is the central
        range of the metric over label sets drawn from the probabilities: the spread the real
        labels of these rows will show if the model is calibrated. Calibration error itself
        is not in the interval: hence ``reliable``.
    """
    labels = check_classes(classes)
    level = check_alpha(confidence, "confidence", "estimate_performance")
    if not isinstance(calibration, CalibrationCheck):
        raise InvalidParameterError(
            "calibration must be a CalibrationCheck. To fix: pass calibration_check(...) run "
            "on the version's held-out test predictions."
        )
    p = check_proba(proba, window_rows(proba, "proba"), len(labels), "proba")
    pred = p.argmax(axis=1)
    if policy_labels is not None:
        pred = label_codes(policy_labels, labels, "policy_labels")
        check_proba(p, pred.shape[0], len(labels), "proba")
    rng = np.random.default_rng(random_state)
    expected = expected_confusion(p, pred)
    estimates = {k: float(v) for k, v in confusion_metrics(expected).items()}
    simulated = confusion_metrics(simulated_confusions(p, pred, int(n_resamples), rng))
    intervals = {
        name: _simulated_interval(name, estimates[name], values, level)
        for name, values in simulated.items()
    }
    message = _estimate_message(estimates, intervals, calibration, p.shape[0])
    return EstimatedPerformance(
        estimates,
        intervals,
        expected,
        int(p.shape[0]),
        calibration.calibrated,
        calibration.ece,
        level,
        message,
    )


def _simulated_interval(
    name: str, estimate: float, values: np.ndarray, level: float
) -> ConfidenceInterval:
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return ConfidenceInterval(
        name, estimate, float(low), float(high), level, CBPE_METHOD, len(values)
    )


def _estimate_message(
    estimates: dict[str, float],
    intervals: dict[str, ConfidenceInterval],
    calibration: CalibrationCheck,
    n: int,
) -> str:
    ci = intervals["accuracy"]
    head = (
        f"estimated accuracy {estimates['accuracy']:.3f} [{ci.low:.3f}, {ci.high:.3f}] on {n} "
        "unlabelled rows, from the model's probabilities"
    )
    if calibration.calibrated:
        return f"{head}; {calibration.message}"
    return f"{head}; do not trust it: the model is {calibration.message}"


@dataclass(frozen=True, slots=True)
class LivePerformance(Result):
    """A labelled window's performance and its change from the test-time figures.

    ``evaluation`` is ``evaluate(..., ci=True)`` on the window. For ``metric``: ``live`` and
    ``test`` are the window's and the test set's figures, ``change`` is ``live - test`` with
    the interval ``low``, ``high`` at ``confidence``, ``p_value`` the one-sided p-value that
    the metric got worse (for a loss: increased), and ``dropped`` is ``p_value < 1 -
    confidence``.
    """

    _hidden: ClassVar[tuple[str, ...]] = ("evaluation",)

    evaluation: Evaluation
    metric: str
    live: float
    test: float
    change: float
    low: float
    high: float
    p_value: float
    dropped: bool
    higher_is_better: bool
    confidence: float
    n: int
    n_test: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types; the evaluation without its curves."""
        out = {f.name: plain(getattr(self, f.name)) for f in fields(self)}
        out["evaluation"] = self.evaluation.to_dict()
        return out


def live_performance(
    y_true: Any,
    y_pred: Any,
    proba: Any,
    classes: Any,
    *,
    test_predictions: pd.DataFrame,
    primary_metric: str,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    random_state: Any = 0,
) -> LivePerformance:
    """Measure a labelled window and test whether the primary metric dropped since testing.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The feedback labels of the window.
    y_pred : array-like of shape (n_samples,)
        The labels the model returned for those rows.
    proba : array-like of shape (n_samples, n_classes)
        The model's probabilities for those rows, columns in the order of ``classes``.
    classes : array-like of shape (n_classes,)
        The model's classes.
    test_predictions : DataFrame
        The version's held-out predictions (``y_true``, ``y_pred``, ``proba_<class>``).
    primary_metric : str
        A metric name as in ``evaluate``'s intervals ('accuracy', 'f1_macro',
        'roc_auc_macro', 'log_loss' ...).
    confidence : float, default=0.95
        Coverage of the intervals; the drop test is one-sided at ``1 - confidence``.
    n_resamples : int, default=1000
        Bootstrap resamples (of the window and, independently, of the test set).
    random_state : None, int or numpy.random.Generator, default=0

    Returns
    -------
    LivePerformance
        The p-value is the share of resampled differences ``live* - test*`` at or above 0
        (at or below 0 for a loss), plus one over resamples plus one.
    """
    labels = check_classes(classes)
    level = check_alpha(confidence, "confidence", "live_performance")
    true = label_codes(y_true, labels, "y_true")
    pred = label_codes(y_pred, labels, "y_pred")
    if pred.shape[0] != true.shape[0]:
        raise InvalidInputError(
            f"y_true has {true.shape[0]} rows but y_pred has {pred.shape[0]}. To fix: pass "
            "the labels and predictions of the same rows."
        )
    p = check_proba(proba, true.shape[0], labels.shape[0], "proba")
    test_true, test_pred, test_p = stored_test_columns(test_predictions, labels)
    live_rng, test_rng = np.random.default_rng(random_state).spawn(2)
    options = {"n_resamples": n_resamples, "confidence": level, "labels": labels}
    live = _resampled(primary_metric, labels, (true, pred, p), live_rng, options)
    test = _resampled(primary_metric, labels, (test_true, test_pred, test_p), test_rng, options)
    evaluation = evaluate(
        labels[true],
        labels[pred],
        p,
        labels=labels,
        ci=True,
        confidence=level,
        n_resamples=n_resamples,
        random_state=random_state,
    )
    return _live_result(evaluation, primary_metric, live, test, level, len(test_true))


def _resampled(
    metric: str,
    labels: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    rng: np.random.Generator,
    options: dict[str, Any],
) -> ConfidenceInterval:
    """The metric's bootstrap interval and distribution on one set of rows (true and
    predicted codes, probabilities)."""
    true, pred, proba = rows
    return bootstrap_ci(
        metric,
        labels[true],
        _scored(metric, labels, pred, proba),
        return_distribution=True,
        random_state=rng,
        **options,
    )


def _scored(metric: str, labels: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> Any:
    """Predicted labels for a count metric, the probabilities for the others."""
    chosen = metric_input(metric, pred, proba)
    return chosen if chosen.ndim == 2 else labels[chosen]


def _live_result(
    evaluation: Evaluation,
    metric: str,
    live: ConfidenceInterval,
    test: ConfidenceInterval,
    level: float,
    n_test: int,
) -> LivePerformance:
    higher = not lower_is_better(metric)
    diff = live.distribution - test.distribution
    finite = diff[np.isfinite(diff)]
    low, high = np.nan, np.nan
    if finite.size:
        low, high = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2])
    p_value = one_sided_share(diff, "less" if higher else "greater")
    dropped = bool(p_value < 1 - level)
    change = live.estimate - test.estimate
    verb = "got worse" if dropped else "did not get significantly worse"
    worse = "rose" if not higher else "fell"
    message = (
        f"{metric} {verb}: {live.estimate:.3f} on {evaluation.n_samples} labelled rows against "
        f"{test.estimate:.3f} at test time (change {change:+.3f}, {level:.0%} interval "
        f"[{low:+.3f}, {high:+.3f}], one-sided p = {p_value:.3g} that it {worse}"
        f"{' < ' if dropped else ' >= '}{1 - level:.2g})"
    )
    return LivePerformance(
        evaluation,
        metric,
        live.estimate,
        test.estimate,
        change,
        float(low),
        float(high),
        p_value,
        dropped,
        higher,
        level,
        evaluation.n_samples,
        n_test,
        message,
    )
