"""verdict's estimators: softmax (multinomial) and one-vs-rest logistic regression.

Both are scikit-learn estimators that reach scikit-learn's solutions for the same ``C``::

    from verdict.models import SoftmaxRegression
    clf = SoftmaxRegression(C=1.0).fit(X, y)
"""

from verdict import _lazy

__all__ = ["OneVsRestLogisticRegression", "SoftmaxRegression"]

_EXPORTS = {
    "_ovr": ("OneVsRestLogisticRegression",),
    "_softmax": ("SoftmaxRegression",),
}

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
