"""Classification metrics: scikit-learn's names, signatures and results, computed much faster.

Pure numpy, usable alone: ``from verdict.metrics import roc_auc_score``. Count metrics share
one weighted bincount (``_confusion``); ranking metrics share one sort per score column.
"""

from verdict.metrics._agreement import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    hamming_loss,
    matthews_corrcoef,
    zero_one_loss,
)
from verdict.metrics._confusion import confusion_matrix, multilabel_confusion_matrix
from verdict.metrics._prf import (
    f1_score,
    fbeta_score,
    jaccard_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    specificity_score,
)
from verdict.metrics._probabilistic import brier_score_loss, log_loss

__all__ = [
    "accuracy_score",
    "balanced_accuracy_score",
    "brier_score_loss",
    "cohen_kappa_score",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "hamming_loss",
    "jaccard_score",
    "log_loss",
    "matthews_corrcoef",
    "multilabel_confusion_matrix",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "specificity_score",
    "zero_one_loss",
]
