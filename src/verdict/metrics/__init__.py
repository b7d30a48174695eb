"""Classification metrics: scikit-learn's names, signatures and results, computed much faster.

Pure numpy, usable alone: ``from verdict.metrics import roc_auc_score``. Count metrics share
one weighted bincount (``_confusion``); ranking metrics share one sort per score column;
``evaluate`` computes all of them at once.
"""

from verdict.metrics._advice import MetricAdvice, recommend_metrics
from verdict.metrics._agreement import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    hamming_loss,
    matthews_corrcoef,
    zero_one_loss,
)
from verdict.metrics._confusion import confusion_matrix, multilabel_confusion_matrix
from verdict.metrics._cost import CostDecisionResult, CostSensitiveDecision
from verdict.metrics._evaluate import evaluate
from verdict.metrics._evaluation import (
    ClassMetrics,
    Evaluation,
    PrecisionRecallCurve,
    RocCurve,
)
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
from verdict.metrics._ranking import precision_recall_curve, roc_curve
from verdict.metrics._ranking_multiclass import average_precision_score, roc_auc_score
from verdict.metrics._report import classification_report
from verdict.metrics._thresholds import ThresholdChoice, optimal_threshold
from verdict.metrics._topk import top_k_accuracy_score

__all__ = [
    "ClassMetrics",
    "CostDecisionResult",
    "CostSensitiveDecision",
    "Evaluation",
    "MetricAdvice",
    "PrecisionRecallCurve",
    "RocCurve",
    "ThresholdChoice",
    "accuracy_score",
    "average_precision_score",
    "balanced_accuracy_score",
    "brier_score_loss",
    "classification_report",
    "cohen_kappa_score",
    "confusion_matrix",
    "evaluate",
    "f1_score",
    "fbeta_score",
    "hamming_loss",
    "jaccard_score",
    "log_loss",
    "matthews_corrcoef",
    "multilabel_confusion_matrix",
    "optimal_threshold",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "recommend_metrics",
    "roc_auc_score",
    "roc_curve",
    "specificity_score",
    "top_k_accuracy_score",
    "zero_one_loss",
]
