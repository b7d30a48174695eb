"""scikit-learn's sklearn/metrics/tests/test_classification.py, run against verdict.metrics."""

from sklearn_swap import load_into

SWAPPED = load_into(globals(), "test_classification.py")
