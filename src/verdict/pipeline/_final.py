"""From the configs tried to the model ``train`` refits: ensemble, calibration, the prior guard,
and the decision.

Four decisions, all on out-of-fold probabilities of the training rows, none on a row a
model was fitted on:

1. which configs to average (greedy ensemble selection, ``_ensemble``), the class-frequency
   prior among them. For a metric of labels (macro-F1, MCC, accuracy ...) the blend is chosen
   on log loss: the configs that rank first on such a metric are often class-weighted, with
   biased probabilities, and the metric is served by the decision (4) instead. For a metric of
   probabilities (ROC AUC, Brier ...) the blend is chosen on that metric, log loss settling
   ties, and on log loss if it fails the guard (3);
2. whether a temperature makes the average's probabilities more honest (``_calibrate``);
3. the guard: if the result's out-of-fold log loss is still worse than the prior's (by more
   than one standard error of the per-row difference: less is noise), the prior alone is the
   model. Probabilities worse than the class frequencies mislead everything that reads them
   (ROC curves, cost decisions, performance estimates before labels arrive);
4. for a metric of labels, per-class weights on the probabilities (``argmax(p * w)``) that
   raise the metric without costing out-of-fold accuracy (``_decision.tune_class_weights``).
   On 15 real tables (bench/RESULTS.md) this against the blend chosen on the metric itself:
   macro-F1 about even at 30 s (lower at 60 s), accuracy and log loss better at both budgets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verdict._results import Result
from verdict.models import scale_probabilities
from verdict.pipeline._calibrate import Calibration, choose_calibration, log_loss_of
from verdict.pipeline._candidates import PRIOR, Trial
from verdict.pipeline._decision import tune_class_weights
from verdict.pipeline._ensemble import select_ensemble
from verdict.pipeline._folds import folds_per_repeat

KEEP_PER_FAMILY = 3  # configs per family whose out-of-fold probabilities are kept
REFIT_SHARE = 1.3  # a refit on all rows costs about this many times a fold's fit


@dataclass(frozen=True)
class Member(Result):
    """One config of the final model and its weight (a count of greedy picks)."""

    family: str
    params: dict[str, Any]
    weight: int


@dataclass(frozen=True)
class Final(Result):
    """The final model as chosen on out-of-fold probabilities.

    Attributes
    ----------
    members : tuple of Member
        The averaged configs (one: a single model; family 'prior': the class frequencies).
    calibration : Calibration
        The temperature applied to the average, and the cross-validated log loss before and
        after it.
    cv_score, cv_log_loss : float
        The primary metric and the log loss of the final probabilities (out of fold, mean over
        the passes over the folds).
    prior_log_loss : float
        The class-frequency prior's out-of-fold log loss: the bar the final model must clear.
    guarded : bool
        True when the prior replaced every blend, their log loss being worse than that bar by
        more than one standard error.
    selected_on : str
        'primary' (the blend chosen on a metric of probabilities passed the bar), 'log_loss'
        (the blend chosen on log loss: for a metric of labels, or when the first failed the
        bar) or 'prior'.
    weights : tuple of float or None
        Per-class weights of the decision ``argmax(p * weights)`` (classes in sorted order),
        tuned for a metric of labels; None: plain argmax. ``cv_score`` is that decision's.
    cv_score_argmax : float
        The primary metric of plain argmax on the same probabilities, for comparison.
    """

    members: tuple[Member, ...]
    calibration: Calibration
    cv_score: float
    cv_log_loss: float
    prior_log_loss: float
    guarded: bool
    selected_on: str
    weights: tuple[float, ...] | None
    cv_score_argmax: float
    oof: np.ndarray = field(repr=False, compare=False)  # (n, k), mean over the passes

    _hidden = ("oof",)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, without the out-of-fold probabilities."""
        out = super().to_dict()
        del out["oof"]
        return out

    @property
    def name(self) -> str:
        """'ensemble' for several members, else the single member's family."""
        return "ensemble" if len(self.members) > 1 else self.members[0].family


class Library:
    """Every trial in order, and the out-of-fold probabilities of each family's best few: the
    best ``KEEP_PER_FAMILY`` on the primary metric, and the best on log loss when it is not
    among them (on a metric such as macro-F1 the configs that rank first often have the least
    honest probabilities, and the log-loss blend and the ensemble's calibration need those)."""

    def __init__(self, higher: bool, tie: float) -> None:
        self.higher, self.tie = higher, tie
        self.trials: list[Trial] = []
        self.oof: dict[int, np.ndarray] = {}

    def add(self, trial: Trial, oof: np.ndarray | None) -> None:
        """Record ``trial``; keep its probabilities while it is among its family's best."""
        self.trials.append(trial)
        if oof is None:
            return
        self.oof[len(self.trials) - 1] = oof
        same = [i for i in self.oof if self.trials[i].family == trial.family]
        keep = set(sorted(same, key=self._rank)[:KEEP_PER_FAMILY])
        keep.add(min(same, key=lambda i: (self.trials[i].cv_log_loss, i)))
        for i in same:
            if i not in keep:
                del self.oof[i]

    def _rank(self, index: int) -> tuple[float, float, int]:
        """Best first: the score (to its resolution), then the log loss, then the older."""
        trial = self.trials[index]
        signed = trial.cv_mean if self.higher else -trial.cv_mean
        steps = round(signed / self.tie) if self.tie > 0 else signed
        return (-steps, trial.cv_log_loss, index)

    def members(self) -> list[int]:
        """Indices of the trials with kept probabilities, best first."""
        return sorted(self.oof, key=self._rank)


def prior_oof(
    y_index: np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]], n_classes: int
) -> np.ndarray:
    """The prior's out-of-fold probabilities: each fold's training class frequencies."""
    per_pass = folds_per_repeat(splits, len(y_index))
    oof = np.zeros((len(splits) // per_pass, len(y_index), n_classes))
    for i, (train, held_out) in enumerate(splits):
        counts = np.bincount(y_index[train], minlength=n_classes).astype(float)
        oof[i // per_pass, held_out] = counts / counts.sum()
    return oof


def choose_final(
    library: Library,
    prior: np.ndarray,
    y_index: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    *,
    higher: bool,
    tie: float,
    seed: int,
    max_refit_seconds: float,
    decision_score: Callable[[np.ndarray, np.ndarray], float] | None = None,
) -> Final:
    """Ensemble, calibrate, guard and decide (see the module docstring).

    ``decision_score``: for a metric of labels to maximise without costs, that metric from
    class codes (``label_score``); given, the blend is chosen on log loss and per-class
    decision weights are tuned for it."""
    kept = library.members()
    arrays = [library.oof[i] for i in kept] + [prior]
    costs = [REFIT_SHARE * library.trials[i].fit_seconds for i in kept] + [0.0]
    prior_loss = float(np.mean([log_loss_of(p, y_index) for p in prior]))
    attempts = []
    if decision_score is None and score is not _log_loss_score:
        attempts.append((score, higher, _noise(library, higher, tie, len(y_index)), "primary"))
    attempts.append((_log_loss_score, False, 0.0, "log_loss"))  # the most honest probabilities
    for objective, up, resolution, selected_on in attempts:
        picked = select_ensemble(
            arrays, y_index, objective, higher=up, tie=resolution, costs=costs,
            max_cost=max_refit_seconds,
        )  # fmt: skip
        calibration = choose_calibration(picked.oof, y_index, seed)
        scaled = np.stack([scale_probabilities(p, calibration.temperature) for p in picked.oof])
        final_loss = float(np.mean([log_loss_of(p, y_index) for p in scaled]))
        if final_loss - prior_loss <= _standard_error(scaled, prior, y_index):
            members = _members(library, kept, picked.weights)
            return _decided(
                tuple(members), calibration, scaled, y_index, score, final_loss, prior_loss,
                selected_on=selected_on, higher=higher, tie=tie, seed=seed,
                decision_score=decision_score,
            )  # fmt: skip
    return _decided(
        (Member(PRIOR, {}, 1),), Calibration("none", 1.0, prior_loss, prior_loss), prior,
        y_index, score, prior_loss, prior_loss, selected_on="prior", higher=higher, tie=tie,
        seed=seed, decision_score=None,
    )  # fmt: skip


def _decided(
    members: tuple[Member, ...],
    calibration: Calibration,
    scaled: np.ndarray,
    y_index: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    final_loss: float,
    prior_loss: float,
    *,
    selected_on: str,
    higher: bool,
    tie: float,
    seed: int,
    decision_score: Callable[[np.ndarray, np.ndarray], float] | None,
) -> Final:
    """The Final, with decision weights tuned for ``decision_score`` when given (the prior's
    decision stays argmax: it says no model here is worth serving, and weights would dress
    that up)."""
    plain = float(np.mean([score(y_index, p) for p in scaled]))
    weights = None
    if decision_score is not None:
        band = noise_band(plain, higher, tie, len(y_index))
        weights = tune_class_weights(scaled, y_index, decision_score, band=band, seed=seed)
    decided = plain
    if weights is not None:
        w = np.asarray(weights)
        decided = float(np.mean([score(y_index, p * w) for p in scaled]))
    return Final(
        members, calibration, decided, final_loss, prior_loss,
        guarded=selected_on == "prior", selected_on=selected_on, weights=weights,
        cv_score_argmax=plain, oof=scaled.mean(axis=0),
    )  # fmt: skip


def _noise(library: Library, higher: bool, tie: float, n_rows: int) -> float:
    """``noise_band`` around the library's best config."""
    kept = library.members()
    return noise_band(library.trials[kept[0]].cv_mean if kept else 0.5, higher, tie, n_rows)


def noise_band(best: float, higher: bool, tie: float, n_rows: int) -> float:
    """How far apart two blends' primary scores must be before the metric, not log loss,
    decides between them: half a binomial standard error of the best config's score ``best``
    (a proportion-like metric such as accuracy or F1 on ``n_rows`` rows), never below the
    metric's own resolution ``tie``. Closer blends are the same to within the noise of the
    rows, and then the one with the better probabilities is the better choice; on 200 rows an
    F1 of 0.55 has a standard error of about 0.035."""
    if tie <= 0 or not higher:  # losses and continuous metrics: the metric decides alone
        return tie
    best = min(max(abs(best), 0.0), 1.0)
    return max(tie, 0.5 * float(np.sqrt(best * (1.0 - best) / max(n_rows, 1))))


def _log_loss_score(y_index: np.ndarray, proba: np.ndarray) -> float:
    return log_loss_of(proba, y_index)


def _members(library: Library, kept: list[int], weights: Sequence[int]) -> list[Member]:
    members = []
    for index, weight in zip([*kept, None], weights, strict=True):
        if weight:
            trial = None if index is None else library.trials[index]
            family = PRIOR if trial is None else trial.family
            members.append(Member(family, {} if trial is None else dict(trial.params), weight))
    return members


def _standard_error(model: np.ndarray, prior: np.ndarray, y_index: np.ndarray) -> float:
    """Standard error of the mean per-row log-loss difference between ``model`` and ``prior``
    (out of fold, each row's losses averaged over the passes): the noise in "worse than the
    prior". On a table with no signal a tempered model's log loss sits within it of the
    prior's, and its labels still beat the majority class on metrics such as macro-F1."""
    rows = np.arange(len(y_index))

    def per_row(oof: np.ndarray) -> np.ndarray:
        return -np.log(np.clip(oof[:, rows, y_index], 1e-15, 1.0)).mean(axis=0)

    gap = per_row(model) - per_row(prior)
    return float(gap.std(ddof=1) / np.sqrt(len(gap))) if len(gap) > 1 else 0.0
