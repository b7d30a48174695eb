"""What the search returns: every config tried, each family's best, and pipelines to refit."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sklearn.dummy import DummyClassifier
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline

from verdict._params import Options, invalid_parameter
from verdict._results import Result, plain
from verdict.data import Schema
from verdict.models import Family, TemperatureScaled
from verdict.pipeline._preprocess import build_preprocessor


@dataclass(frozen=True)
class Trial(Result):
    """One config cross-validated: its fold scores, or the error that stopped it.

    ``cv_scores`` are the metric's plain values (a loss stays positive); ``fit_seconds`` is
    the mean fit time of one fold; ``seconds`` the wall time of the whole config;
    ``tiebreak`` the log loss per fold when the search scores it (for count metrics, to rank
    families whose scores are within one row of each other).
    """

    family: str
    params: dict[str, Any]
    cv_scores: tuple[float, ...]
    fit_seconds: float
    seconds: float
    error: str | None = None
    tiebreak: tuple[float, ...] = ()

    @property
    def cv_mean(self) -> float:
        """Mean fold score (NaN when the config failed)."""
        return _mean(self.cv_scores)

    @property
    def cv_std(self) -> float:
        """Standard deviation of the fold scores."""
        return _std(self.cv_scores)

    @property
    def cv_log_loss(self) -> float:
        """Mean fold log loss (infinite when none was recorded: a failed or dropped config)."""
        return math.fsum(self.tiebreak) / len(self.tiebreak) if self.tiebreak else math.inf


@dataclass(frozen=True)
class Candidate(Result):
    """A family's best config: its cross-validated score and how many configs were tried.

    Attributes
    ----------
    family : str
    params : dict
        Estimator parameters set on top of the family's defaults (``{}``: the defaults).
    cv_mean, cv_std : float
        Mean and standard deviation of ``cv_scores``, in the metric's own direction.
    cv_scores : tuple of float
        One score per fold.
    fit_seconds : float
        Mean fit time of one fold for this config.
    n_configs : int
        Configs of this family that were cross-validated.
    """

    family: str
    params: dict[str, Any]
    cv_mean: float
    cv_std: float
    cv_scores: tuple[float, ...]
    fit_seconds: float
    n_configs: int


@dataclass(frozen=True)
class SearchResult(Result):
    """The outcome of :func:`verdict.pipeline.search`.

    Attributes
    ----------
    metric : str
        The metric searched on (canonical name).
    greater_is_better : bool
        False for losses (log loss, Brier score, expected cost ...).
    candidates : tuple of Candidate
        One per family that produced a score, best first by ``cv_mean``. For count metrics
        (accuracy, F1 ...) scores closer than one row's error in one fold count as tied:
        within a family the config tried first is kept, between families the one with the
        lower cross-validated log loss comes first.
    trials : tuple of Trial
        Every config tried, in the order they finished.
    cv : int
        Number of stratified folds.
    time_budget : float
        The budget given to the search.
    elapsed_seconds : float
        Wall time the search took.
    """

    metric: str
    greater_is_better: bool
    candidates: tuple[Candidate, ...]
    trials: tuple[Trial, ...]
    cv: int
    time_budget: float
    elapsed_seconds: float
    schema: Schema = field(repr=False, compare=False)
    families: dict[str, Family] = field(repr=False, compare=False)
    clip_outliers: bool | float = True
    final: Any = None  # verdict.pipeline._final.Final: ensemble, calibration, prior guard
    mode: str = "time_budget"  # or 'max_configs' (reproducible)
    max_configs: int | None = None

    _hidden = ("trials", "schema", "families")

    @property
    def best(self) -> Candidate:
        """The best candidate."""
        return self.candidates[0]

    def best_pipeline(self, family: str | None = None) -> Pipeline:
        """An unfitted ``Pipeline(preprocess, model)`` with a family's best params.

        Parameters
        ----------
        family : str, optional
            Which family's best config; the overall best when None.

        Returns
        -------
        Pipeline
            Unfitted, ready to be refit on all training rows.
        """
        names = [c.family for c in self.candidates]
        chosen = names[0] if family is None else family
        if chosen not in names:
            with_results = [Options(*names), None]  # None: the best family
            fix = "pick a family with a result"
            raise invalid_parameter("family", family, "best_pipeline", with_results, fix)
        params = next(c.params for c in self.candidates if c.family == chosen)
        return make_pipeline(self.schema, self.families[chosen], params, self.clip_outliers)

    def final_pipeline(self, n_jobs: int | None = None) -> Any:
        """The unfitted final model: the chosen config, or the weighted average of the
        ensemble's members, with the chosen temperature; ready to be refit on all training
        rows. ``n_jobs`` fits an ensemble's members in parallel. Its ``predict`` is argmax;
        when ``final.weights`` is set the class to serve is
        ``DecisionPolicy("weights", sorted classes, weights=final.weights).decide(proba)``,
        which ``train`` records as the run's decision (``Run.predict`` applies it)."""
        if self.final is None:
            return self.best_pipeline()
        members = self.final.members
        temperature = float(self.final.calibration.temperature)
        if len(members) == 1:
            pipeline = self._member(members[0])
            if temperature != 1.0:
                pipeline.steps[-1] = ("model", TemperatureScaled(pipeline[-1], temperature))
            return pipeline
        named = [(f"{m.family}_{i}", self._member(m)) for i, m in enumerate(members)]
        weights = [m.weight for m in members]
        voting = VotingClassifier(named, voting="soft", weights=weights, n_jobs=n_jobs)
        return voting if temperature == 1.0 else TemperatureScaled(voting, temperature)

    def _member(self, member: Any) -> Pipeline:
        if member.family == PRIOR:
            prep = build_preprocessor(self.schema, "none", clip_outliers=False)
            return Pipeline([("preprocess", prep), ("model", DummyClassifier(strategy="prior"))])
        family = self.families[member.family]
        return make_pipeline(self.schema, family, member.params, self.clip_outliers)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (the schema and the family objects are left out)."""
        keep = ("metric", "greater_is_better", "candidates", "trials", "cv", "time_budget")
        out = {k: plain(getattr(self, k)) for k in keep}
        out["final"] = None if self.final is None else self.final.to_dict()
        out["mode"], out["max_configs"] = self.mode, self.max_configs
        out["trials"] = [{**t, "cv_mean": _none(_mean(t["cv_scores"]))} for t in out["trials"]]
        out["elapsed_seconds"] = self.elapsed_seconds
        return out


PRIOR = "prior"  # the family name of the class-frequency prior in an ensemble


def make_pipeline(
    schema: Schema, family: Family, params: dict[str, Any], clip_outliers: bool | float = True
) -> Pipeline:
    """``Pipeline([('preprocess', ...), ('model', ...)])`` for one family and config."""
    scaling = "scaled" if family.needs_scaling else "none"
    scaler = params.get("scaler", "standard")
    preprocess = build_preprocessor(schema, scaling, clip_outliers=clip_outliers, scaler=scaler)
    return Pipeline([("preprocess", preprocess), ("model", family.make(params))])


def _mean(scores: tuple[float, ...] | list[float]) -> float:
    return math.fsum(scores) / len(scores) if scores else math.nan


def _std(scores: tuple[float, ...]) -> float:
    if not scores:
        return math.nan
    mean = _mean(scores)
    return math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / len(scores))


def _none(value: float) -> float | None:
    return None if math.isnan(value) else value
