"""Champion or challenger: promote only a challenger that is significantly better.

Both models are scored on the same recent labelled rows, so the comparison is paired: McNemar's
test for accuracy, DeLong's for ROC AUC (macro one-vs-rest, or binary), the paired bootstrap for
any other metric. The question is one-sided (is the challenger *better*?), so the two-sided
tests of ``verdict.metrics`` are turned one-sided: with the challenger ahead the two-sided
p-value is halved, otherwise the one-sided p-value is ``1 - p / 2``. DeLong's is read from its z
directly (``P(Z >= z)``, the same thing). The paired bootstrap's is the share of resampled
differences at or below zero (at or above for a loss), plus one over resamples plus one.

The reported interval of the difference is the two-sided ``1 - 2 * alpha`` one, so that its
lower end (upper, for a loss) is the one-sided bound the decision rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy import special

from verdict._results import Result
from verdict.errors import InvalidInputError
from verdict.metrics import (
    PairedInterval,
    delong_roc_test,
    mcnemar_test,
    paired_bootstrap_ci,
)
from verdict.monitoring.performance._inputs import (
    check_alpha,
    check_classes,
    check_proba,
    label_codes,
    lower_is_better,
    metric_input,
    one_sided_share,
)

DELONG_METRICS = ("roc_auc", "roc_auc_macro", "roc_auc_ovr", "roc_auc_binary")


@dataclass(frozen=True, slots=True)
class PromotionDecision(Result):
    """Whether the challenger replaces the champion, with the evidence.

    ``difference`` is ``challenger_score - champion_score``; ``low``, ``high`` its two-sided
    ``1 - 2 * alpha`` interval; ``p_value`` the one-sided p-value of "the challenger is better"
    (for a loss: lower) by ``test`` ('mcnemar', 'delong' or 'paired_bootstrap') on ``n``
    rows; ``promote`` is ``p_value < alpha`` with the challenger ahead, and ``reason`` says so
    in one sentence.
    """

    promote: bool
    metric: str
    test: str
    champion_score: float
    challenger_score: float
    difference: float
    low: float
    high: float
    p_value: float
    alpha: float
    n: int
    reason: str


@dataclass(frozen=True, slots=True)
class _Pair:
    """The checked inputs: true labels and each model's labels and probabilities."""

    y: np.ndarray
    champion: tuple[np.ndarray, np.ndarray]
    challenger: tuple[np.ndarray, np.ndarray]
    labels: np.ndarray


class _Found(NamedTuple):
    """What one test found: its name, both scores, the interval and the one-sided p-value."""

    test: str
    champion: float
    challenger: float
    low: float
    high: float
    p_value: float


def decide_promotion(
    y_true: Any,
    champion: tuple[Any, Any],
    challenger: tuple[Any, Any],
    classes: Any,
    *,
    metric: str,
    alpha: float = 0.05,
    n_resamples: int = 2000,
    random_state: Any = 0,
) -> PromotionDecision:
    """Decide whether a challenger should replace the champion, by a paired one-sided test.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels of recent rows that neither model trained on.
    champion, challenger : tuple of (y_pred, proba)
        Each model's predicted labels and probabilities (columns in the order of
        ``classes``) for those rows.
    classes : array-like of shape (n_classes,)
        The classes of both models.
    metric : str
        The primary metric, named as in ``evaluate``'s intervals ('accuracy', 'f1_macro',
        'roc_auc_macro', 'log_loss' ...). 'accuracy' is tested by McNemar, the macro or binary
        ROC AUC by DeLong, any other metric by the paired bootstrap.
    alpha : float, default=0.05
        One-sided significance level.
    n_resamples : int, default=2000
        Resamples of the paired bootstrap (and of the accuracy interval).
    random_state : None, int or numpy.random.Generator, default=0

    Returns
    -------
    PromotionDecision
        ``promote`` only when the challenger is significantly better; ``reason`` says why.
    """
    level = check_alpha(alpha, "alpha", "decide_promotion")
    pair = _checked(y_true, champion, challenger, classes)
    if metric == "accuracy":
        found = _mcnemar(pair, level, n_resamples, random_state)
    elif metric in DELONG_METRICS:
        found = _delong(pair, level)
    else:
        found = _bootstrap(pair, metric, level, n_resamples, random_state)
    return _decision(metric, level, pair.y.shape[0], found)


def _checked(y_true: Any, champion: Any, challenger: Any, classes: Any) -> _Pair:
    labels = check_classes(classes)
    y = label_codes(y_true, labels, "y_true")
    models = []
    for name, model in (("champion", champion), ("challenger", challenger)):
        if not isinstance(model, (tuple, list)) or len(model) != 2:
            raise InvalidInputError(
                f"{name} must be a pair (y_pred, proba). To fix: pass "
                f"(model.predict(X), model.predict_proba(X)) of the {name} on the same rows."
            )
        pred = label_codes(model[0], labels, f"{name} y_pred")
        if pred.shape[0] != y.shape[0]:
            raise InvalidInputError(
                f"{name} y_pred has {pred.shape[0]} rows but y_true has {y.shape[0]}. To fix: "
                "score both models on exactly the labelled rows."
            )
        models.append((pred, check_proba(model[1], y.shape[0], len(labels), f"{name} proba")))
    return _Pair(y, models[0], models[1], labels)


def _mcnemar(pair: _Pair, alpha: float, n_resamples: int, random_state: Any) -> _Found:
    """McNemar's test (challenger as model a); a paired bootstrap gives the interval."""
    y = pair.labels[pair.y]
    new, old = pair.labels[pair.challenger[0]], pair.labels[pair.champion[0]]
    result = mcnemar_test(y, new, old)
    ahead = result.b > result.c
    p_value = result.p_value / 2 if ahead else 1 - result.p_value / 2
    ci = _paired_bootstrap(pair, "accuracy", alpha, n_resamples, random_state)
    return _Found("mcnemar", result.accuracy_b, result.accuracy_a, ci.low, ci.high, p_value)


def _delong(pair: _Pair, alpha: float) -> _Found:
    """DeLong's test of the challenger's AUC against the champion's."""
    y = pair.labels[pair.y]
    new, old = pair.challenger[1], pair.champion[1]
    if len(pair.labels) == 2:  # the positive class's column: the binary AUC
        options: dict[str, Any] = {"pos_label": pair.labels[-1]}
        new, old = new[:, -1], old[:, -1]
    else:
        options = {"labels": pair.labels}
    result = delong_roc_test(y, new, old, confidence=1 - 2 * alpha, **options)
    p_value = float(special.ndtr(-result.z))  # P(Z >= z): one-sided, challenger better
    return _Found("delong", result.auc_b, result.auc_a, result.low, result.high, p_value)


def _bootstrap(
    pair: _Pair, metric: str, alpha: float, n_resamples: int, random_state: Any
) -> _Found:
    """The paired bootstrap's one-sided p-value, read from its resampled differences."""
    ci = _paired_bootstrap(pair, metric, alpha, n_resamples, random_state)
    # "better" is a positive difference, or a negative one for a loss
    p_value = one_sided_share(ci.distribution, "less" if lower_is_better(metric) else "greater")
    return _Found("paired_bootstrap", ci.estimate_b, ci.estimate_a, ci.low, ci.high, p_value)


def _paired_bootstrap(
    pair: _Pair, metric: str, alpha: float, n_resamples: int, random_state: Any
) -> PairedInterval:
    """The challenger's metric minus the champion's on the same resampled rows, with the
    two-sided ``1 - 2 * alpha`` interval and the resampled differences."""
    return paired_bootstrap_ci(
        metric,
        pair.labels[pair.y],
        _scored(pair, metric, pair.challenger),
        _scored(pair, metric, pair.champion),
        n_resamples=n_resamples,
        confidence=1 - 2 * alpha,
        labels=pair.labels,
        random_state=random_state,
        return_distribution=True,
    )


def _scored(pair: _Pair, metric: str, model: tuple[np.ndarray, np.ndarray]) -> Any:
    chosen = metric_input(metric, *model)
    return chosen if chosen.ndim == 2 else pair.labels[chosen]


def _decision(metric: str, alpha: float, n: int, found: _Found) -> PromotionDecision:
    """The decision and its one-sentence reason."""
    test, champion, challenger, low, high, p_value = found
    difference = challenger - champion
    loss = lower_is_better(metric)
    ahead = difference < 0 if loss else difference > 0
    promote = bool(ahead and p_value < alpha)
    way = ("lower" if difference < 0 else "higher") if difference else "equal"
    gap = f"{abs(difference):.3f} {way}" if difference else "equal"
    if promote:
        reason = (
            f"promoted the challenger: its {metric} is {gap} ({challenger:.3f} against "
            f"{champion:.3f}) and the one-sided {test} p = {p_value:.3g} < {alpha:g}"
        )
    elif not ahead:
        reason = (
            f"kept the champion: the challenger's {metric} is {gap} ({challenger:.3f} against "
            f"{champion:.3f}), not better (one-sided {test} p = {p_value:.3g})"
        )
    else:
        reason = (
            f"kept the champion: the challenger's {metric} is {gap} but p = {p_value:.3g} >= "
            f"{alpha:g} ({test}, one-sided), which noise explains"
        )
    return PromotionDecision(
        promote,
        metric,
        test,
        champion,
        challenger,
        difference,
        low,
        high,
        p_value,
        alpha,
        n,
        reason,
    )
