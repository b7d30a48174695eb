"""verdict's estimators (softmax and one-vs-rest logistic regression) and the model zoo.

Both estimators are scikit-learn estimators that reach scikit-learn's solutions for the same
``C``::

    from verdict.models import SoftmaxRegression
    clf = SoftmaxRegression(C=1.0).fit(X, y)

The zoo (``model_families``) is what the pipeline's search tries: each family's estimator,
strong starting configs and search space.
"""

from verdict import _lazy

_EXPORTS = {
    "_calibrated": ("TemperatureScaled", "scale_probabilities"),
    "_ovr": ("OneVsRestLogisticRegression",),
    "_softmax": ("SoftmaxRegression",),
    "_zoo": (
        "FAMILY_NAMES",
        "SCALED_FAMILIES",
        "Family",
        "LabelEncoded",
        "available_families",
        "model_families",
    ),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
