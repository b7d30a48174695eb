"""verdict's estimators: softmax (multinomial) and one-vs-rest logistic regression.

Both are scikit-learn estimators that reach scikit-learn's solutions for the same ``C``::

    from verdict.models import SoftmaxRegression
    clf = SoftmaxRegression(C=1.0).fit(X, y)
"""

from verdict.models._ovr import OneVsRestLogisticRegression
from verdict.models._softmax import SoftmaxRegression

__all__ = ["OneVsRestLogisticRegression", "SoftmaxRegression"]
