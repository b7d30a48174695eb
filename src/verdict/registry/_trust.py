"""Model artifacts as skops bytes, loaded only when every type in them is on our allow-list.

skops never unpickles: it rebuilds objects from a JSON description and refuses types it does
not trust. Its own default trusts scikit-learn's estimators and plain containers; we add exactly
the types our pipelines are made of. A file that names anything else (say ``os.system``, or a
class from a package the user never trained with) is refused before anything is built.
"""

from __future__ import annotations

from typing import Any

from verdict.errors import ArtifactIntegrityError

TRUSTED_TYPES = frozenset(
    {
        "numpy.dtype",
        # scikit-learn internals that skops does not trust by default but our families use
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.tree._tree.Tree",
        "sklearn.utils._bunch.Bunch",  # VotingClassifier's named_estimators_ (ensembles)
        # our own estimators and transformers, by the public path artifacts name them with
        "verdict.data.DatetimeExpander",
        "verdict.models.LabelEncoded",
        "verdict.models.OneVsRestLogisticRegression",
        "verdict.models.SoftmaxRegression",
        "verdict.models.TemperatureScaled",
        "verdict.pipeline.BooleanEncoder",
        "verdict.pipeline.CategoryText",
        "verdict.pipeline.OutlierClipper",
        # ... and by the module paths that artifacts registered before they carried public
        # paths name (tests/registry/test_old_layout.py loads one): never remove these
        "verdict.data._datetimes.DatetimeExpander",
        "verdict.models._ovr.OneVsRestLogisticRegression",
        "verdict.models._softmax.SoftmaxRegression",
        "verdict.pipeline._clip.BooleanEncoder",
        "verdict.pipeline._clip.CategoryText",
        "verdict.pipeline._clip.OutlierClipper",
        "verdict.pipeline._families.LabelEncoded",
        # the boosting families (LightGBM is a dependency); LightGBM keeps its best scores in
        # an OrderedDict, a plain container that skops rebuilds as data
        "collections.OrderedDict",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.basic.Booster",
        "xgboost.sklearn.XGBClassifier",
        "xgboost.core.Booster",
    }
)


def untrusted_types(data: bytes) -> list[str]:
    """Types named in ``data`` that neither skops nor our allow-list trusts."""
    import skops.io

    try:
        named = skops.io.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises many kinds on malformed archives
        raise ArtifactIntegrityError(
            f"The model artifact is not a readable skops file ({type(exc).__name__}: {exc}). "
            f"To fix: register the model again from its run directory."
        ) from exc
    return sorted(t for t in named if t not in TRUSTED_TYPES)


def load_model(data: bytes, *, what: str = "the model artifact") -> Any:
    """Rebuild a pipeline from skops bytes, refusing any type not trusted."""
    import skops.io

    unexpected = untrusted_types(data)
    if unexpected:
        raise ArtifactIntegrityError(
            f"{what} holds types verdict does not trust: {unexpected}. Loading them could run "
            f"code that was never part of a verdict pipeline, so it was refused. To fix: "
            f"register a model trained by verdict; if these types are yours and safe, load "
            f"the file yourself with skops.io.load(..., trusted=[...])."
        )
    try:
        return skops.io.loads(data, trusted=sorted(TRUSTED_TYPES))
    except Exception as exc:
        raise ArtifactIntegrityError(
            f"{what} could not be rebuilt ({type(exc).__name__}: {exc}). To fix: register the "
            f"model again with the verdict and scikit-learn versions it was trained with."
        ) from exc
