"""The model zoo: each family's estimator, strong starting configs and search space.

A family is tried first with ``starts[0]`` (its default, which is a strong config on typical
tables), then with the other hand-picked ``starts``, then with random draws from ``space``.
Spaces are dicts of estimator parameter -> list of values or a frozen ``scipy.stats``
distribution (a list may hold distributions, drawn in turn). Spaces are bounded so that
a random config costs at most a few times the default, which keeps the search's time
predictions honest.

LightGBM and XGBoost are offered only when importable.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import loguniform, randint, uniform
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from verdict._params import invalid_parameter
from verdict.models._ovr import OneVsRestLogisticRegression
from verdict.models._softmax import SoftmaxRegression

FAMILY_NAMES = (
    "softmax",
    "ovr_logistic",
    "decision_tree",
    "random_forest",
    "extra_trees",
    "svm",
    "mlp",
    "hist_gradient_boosting",
    "lightgbm",
    "xgboost",
)
SCALED_FAMILIES = frozenset({"softmax", "ovr_logistic", "svm", "mlp"})
PREPROCESS_KEYS = ("scaler",)  # config keys that tune the preprocessor, not the estimator
_OPTIONAL = {"lightgbm": "lightgbm", "xgboost": "xgboost"}
LARGE_SVM_ROWS = 20_000  # above this, SVC's O(n^2) kernel gives way to a calibrated LinearSVC


@dataclass(frozen=True)
class Family:
    """A model family: an unfitted estimator, configs to try first, and a search space.

    Attributes
    ----------
    name : str
    estimator : sklearn estimator
        Unfitted, with the family's default parameters.
    space : dict
        Parameter -> list of values or ``scipy.stats`` distribution; list items may be
        distributions themselves.
    needs_scaling : bool
        Whether the preprocessor standardises numeric features for it (linear models, SVM,
        MLP); trees are scale-free.
    starts : tuple of dict
        Configs tried before any random draw, the default (``{}``) first.
    cost : float
        Relative cost of one default fit on the same data, for ordering (cheapest first).
    """

    name: str
    estimator: Any
    space: dict[str, Any]
    needs_scaling: bool
    starts: tuple[dict[str, Any], ...] = field(default=({},))
    cost: float = 1.0

    def make(self, params: Mapping[str, Any] | None = None) -> Any:
        """A fresh unfitted estimator with ``params`` set on top of the defaults.

        Preprocessing keys (``'scaler'``) are left for the preprocessor.
        """
        own = {k: v for k, v in (params or {}).items() if k not in PREPROCESS_KEYS}
        return clone(self.estimator).set_params(**own)


def available_families() -> tuple[str, ...]:
    """Names of the families usable here (LightGBM/XGBoost only when installed)."""
    return tuple(
        n for n in FAMILY_NAMES if n not in _OPTIONAL or importlib.util.find_spec(_OPTIONAL[n])
    )


def model_families(
    names: Sequence[str] | None = None,
    *,
    n_classes: int,
    seed: int,
    n_samples: int | None = None,
) -> dict[str, Family]:
    """The model families to search, by name, cheapest first.

    Parameters
    ----------
    names : sequence of str, optional
        Families to include; all available ones when None. Unknown or uninstalled names
        raise ``InvalidParameterError`` listing the available ones.
    n_classes : int
        Number of classes (boosting and one-vs-rest models cost grows with it).
    seed : int
        ``random_state`` of every randomised estimator, so a run is reproducible.
    n_samples : int, optional
        Training rows; above 20,000 the SVM is a calibrated ``LinearSVC`` (kernel SVC's
        memory and time grow with the square of the rows).

    Returns
    -------
    dict of str to Family
        Ordered by estimated cost, cheapest first.
    """
    available = available_families()
    if isinstance(names, str):
        names = [names]
    chosen = list(available) if names is None else list(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in available]
    if unknown or not chosen:
        missing = [n for n in unknown if n in _OPTIONAL]
        hint = f" ({', '.join(missing)} is not installed)" if missing else ""
        fix = (
            f"leave out {unknown}{hint} and choose from the available families"
            if unknown
            else "name one or more of the available families"
        )
        # The name and function the caller knows: train's (search and this pass them on).
        raise invalid_parameter(
            "models",
            chosen,
            "train",
            f"a non-empty list of the available model families {list(available)}",
            fix + (f", or pip install {' '.join(missing)}" if missing else ""),
        )
    builders = {n: _BUILDERS[n] for n in chosen}
    families = [build(seed, n_classes, n_samples) for build in builders.values()]
    return {f.name: f for f in sorted(families, key=lambda f: f.cost)}


_SCALERS = ["standard", "minmax"]
_LINEAR_SPACE = {
    "C": loguniform(1e-3, 1e3),
    "class_weight": [None, "balanced"],
    "scaler": _SCALERS,
}


def _softmax(seed: int, k: int, n: int | None) -> Family:
    return Family(
        "softmax",
        SoftmaxRegression(C=1.0, max_iter=500),
        {**_LINEAR_SPACE},
        True,
        ({}, {"C": 10.0}, {"C": 0.1}, {"scaler": "minmax", "C": 10.0}, {"C": 100.0}),
        cost=1.0,
    )


def _ovr(seed: int, k: int, n: int | None) -> Family:
    return Family(
        "ovr_logistic",
        OneVsRestLogisticRegression(C=1.0, max_iter=500),
        {**_LINEAR_SPACE},
        True,
        ({}, {"C": 10.0}, {"C": 0.1}, {"scaler": "minmax", "C": 10.0}),
        cost=1.0 + 0.3 * max(k - 2, 0),
    )


def _tree(seed: int, k: int, n: int | None) -> Family:
    space = {
        "max_depth": [None, 3, 4, 5, 6, 8, 10, 14, 20],
        "min_samples_leaf": randint(1, 21),
        "criterion": ["gini", "entropy", "log_loss"],
        "class_weight": [None, "balanced"],
        "max_features": [None, "sqrt", 0.5, 0.8],
    }
    starts = ({}, {"min_samples_leaf": 5}, {"max_depth": 5, "criterion": "entropy"})
    return Family(
        "decision_tree", DecisionTreeClassifier(random_state=seed), space, False, starts, cost=0.5
    )


def _forest(seed: int, k: int, n: int | None) -> Family:
    space = {
        "n_estimators": [100, 200, 300],
        "max_features": ["sqrt", "log2", 0.2, 0.35, 0.5, 0.7],
        "min_samples_leaf": [1, 1, 2, 3, 5],
        "criterion": ["gini", "entropy"],
        "class_weight": [None, "balanced", "balanced_subsample"],
        "bootstrap": [True, False],
    }
    starts = ({}, {"criterion": "entropy", "max_features": 0.35}, {"bootstrap": False})
    est = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    return Family("random_forest", est, space, False, starts, cost=6.0)


def _extra_trees(seed: int, k: int, n: int | None) -> Family:
    space = {
        "n_estimators": [100, 200, 300],
        "max_features": ["sqrt", 0.3, 0.5, 0.7, 1.0],
        "min_samples_leaf": [1, 2, 3, 5, 10],
        "criterion": ["gini", "entropy"],
        "class_weight": [None, "balanced"],
    }
    starts = ({}, {"max_features": 0.5, "min_samples_leaf": 3, "criterion": "entropy"})
    # random split points: cheaper than a random forest, and its errors differ from the other
    # families', which is what an ensemble needs (AutoGluon's portfolio has it for that reason)
    est = ExtraTreesClassifier(n_estimators=200, min_samples_leaf=2, random_state=seed, n_jobs=1)
    return Family("extra_trees", est, space, False, starts, cost=4.0)


def _svm(seed: int, k: int, n: int | None) -> Family:
    if n is not None and n > LARGE_SVM_ROWS:
        est = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=seed), cv=3)
        space = {"estimator__C": loguniform(1e-3, 1e2)}
        return Family("svm", est, space, True, ({}, {"estimator__C": 0.1}), cost=4.0)
    space = {
        "estimator__C": loguniform(1e-1, 1e3),
        "estimator__gamma": ["scale", "scale", loguniform(1e-4, 1e0)],
        "estimator__class_weight": [None, "balanced"],
        "scaler": _SCALERS,
    }
    # min-max scaling keeps the relative spread of same-unit features (pixels, counts),
    # which an RBF kernel with gamma='scale' often prefers to standardisation
    starts = (
        {},
        {"scaler": "minmax"},
        {"estimator__C": 10.0},
        {"estimator__C": 10.0, "scaler": "minmax"},
        {"estimator__C": 100.0},
        {"estimator__C": 3.0, "estimator__class_weight": "balanced"},
    )
    # Platt-scaled probabilities from internal CV, as SVC(probability=True) computed them
    est = CalibratedClassifierCV(SVC(C=1.0, random_state=seed), ensemble=False)
    # the kernel SVM's fit grows with the square of the rows (and Platt scaling fits it five
    # times): cheap on a few hundred rows, the most expensive family on tens of thousands
    scale = max(1.0, (n or 0) / 1_000) ** 2
    return Family("svm", est, space, True, starts, cost=3.0 * scale)


def _mlp(seed: int, k: int, n: int | None) -> Family:
    space = {
        "hidden_layer_sizes": [(64,), (128,), (256,), (128, 64), (64, 64)],
        "alpha": loguniform(1e-6, 1e-1),
        "learning_rate_init": loguniform(3e-4, 1e-2),
        "activation": ["relu", "tanh"],
        "batch_size": [32, 64, 200],
        "scaler": _SCALERS,
    }
    starts = ({}, {"alpha": 1e-2, "hidden_layer_sizes": (128,)}, {"scaler": "minmax"})
    # on large tables stop on a 10% validation split (the training loss alone keeps the fit
    # going for hundreds of epochs); on small ones that split is too noisy and stops too soon
    stop = n is not None and n >= 10_000
    est = MLPClassifier((100,), max_iter=300, early_stopping=stop, random_state=seed)
    return Family("mlp", est, space, True, starts, cost=12.0)


def _hgb(seed: int, k: int, n: int | None) -> Family:
    space = {
        "learning_rate": loguniform(0.02, 0.3),
        "max_iter": [100, 200, 300],
        "max_leaf_nodes": [7, 15, 31, 63],
        "min_samples_leaf": [3, 5, 10, 20, 40],
        "l2_regularization": loguniform(1e-6, 10.0),
        "max_features": [0.3, 0.5, 0.8, 1.0],
    }
    starts = ({}, {"learning_rate": 0.05, "max_iter": 200, "max_leaf_nodes": 15})
    est = HistGradientBoostingClassifier(random_state=seed)
    return Family("hist_gradient_boosting", est, space, False, starts, cost=2.0 * max(k, 2))


def _lightgbm(seed: int, k: int, n: int | None) -> Family:
    from lightgbm import LGBMClassifier

    space = {
        "n_estimators": [100, 200, 400],
        "learning_rate": loguniform(0.02, 0.3),
        "num_leaves": [7, 15, 31, 63],
        "min_child_samples": [3, 5, 10, 20, 40],
        "subsample": uniform(0.6, 0.4),
        "subsample_freq": [1],
        "colsample_bytree": uniform(0.4, 0.6),
        "reg_lambda": loguniform(1e-6, 10.0),
    }
    # a portfolio in the spirit of AutoGluon's and FLAML's starting points: the library's
    # default, a slower-learning regularised one, a randomised-split one (extra_trees) and a
    # small-leaves one for small tables; random draws only after these
    starts = (
        {},
        {
            "learning_rate": 0.05, "n_estimators": 300, "num_leaves": 15,
            "min_child_samples": 10, "colsample_bytree": 0.8, "subsample": 0.8,
            "subsample_freq": 1, "reg_lambda": 1.0,
        },
        {"extra_trees": True, "learning_rate": 0.05, "n_estimators": 300, "colsample_bytree": 0.8},
        {
            "num_leaves": 7, "learning_rate": 0.05, "n_estimators": 200,
            "min_child_samples": 20, "reg_lambda": 5.0,
        },
    )  # fmt: skip
    est = LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1)
    # the strongest family on most tables and a fast one: tried right after the cheapest
    return Family("lightgbm", est, space, False, starts, cost=0.9)


def _xgboost(seed: int, k: int, n: int | None) -> Family:
    from xgboost import XGBClassifier

    space = {
        "estimator__n_estimators": [100, 200, 400],
        "estimator__learning_rate": loguniform(0.02, 0.3),
        "estimator__max_depth": [3, 4, 6, 8],
        "estimator__min_child_weight": loguniform(0.5, 10.0),
        "estimator__subsample": uniform(0.6, 0.4),
        "estimator__colsample_bytree": uniform(0.4, 0.6),
        "estimator__reg_lambda": loguniform(1e-3, 10.0),
    }
    est = LabelEncoded(XGBClassifier(random_state=seed, n_jobs=1, tree_method="hist"))
    return Family("xgboost", est, space, False, cost=2.0 * max(k, 2))


_BUILDERS = {
    "softmax": _softmax,
    "ovr_logistic": _ovr,
    "decision_tree": _tree,
    "random_forest": _forest,
    "extra_trees": _extra_trees,
    "svm": _svm,
    "mlp": _mlp,
    "hist_gradient_boosting": _hgb,
    "lightgbm": _lightgbm,
    "xgboost": _xgboost,
}


class LabelEncoded(ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` on labels coded 0..K-1 and answer in the original labels.

    XGBoost accepts only integer-coded classes; this keeps string labels working.
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, **fit_params: Any) -> LabelEncoded:
        """Encode ``y`` and fit a clone of the estimator."""
        self.encoder_ = LabelEncoder().fit(y)
        self.classes_ = self.encoder_.classes_
        self.estimator_ = clone(self.estimator).fit(X, self.encoder_.transform(y), **fit_params)
        return self

    def predict(self, X: Any) -> Any:
        """Predicted labels, in the original label values."""
        return self.encoder_.inverse_transform(self.estimator_.predict(X).astype(int))

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, columns in ``classes_`` order."""
        return self.estimator_.predict_proba(X)


LabelEncoded.__module__ = "verdict.models"  # artifacts name the public path
