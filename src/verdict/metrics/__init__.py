"""Classification metrics: scikit-learn's names, signatures and results, computed much faster.

Pure numpy, usable alone: ``from verdict.metrics import roc_auc_score``. Count metrics share
one weighted bincount (``_confusion``); ranking metrics share one sort per score column;
``evaluate`` computes all of them at once. Beyond scikit-learn: confidence intervals
(bootstrap, Wilson, Clopper-Pearson, DeLong), paired tests between models (DeLong, McNemar,
paired bootstrap, Holm-corrected comparisons), calibration error, cost-based thresholds and
decisions, and advice on which metric fits the problem. The metric catalogue (``get_metric``,
``metric_names``) says for every metric name what it reads and which way is better;
``cost_matrix`` is the one place stated costs become a matrix.
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
from verdict.metrics._calibration import (
    ReliabilityDiagram,
    calibration_curve,
    expected_calibration_error,
    max_calibration_error,
    reliability_diagram,
)
from verdict.metrics._catalogue import MetricInfo, get_metric, metric_names
from verdict.metrics._compare import (
    AucComparison,
    ModelComparison,
    PairwiseComparison,
    adjust_p_values,
    compare_models,
    delong_roc_test,
)
from verdict.metrics._confusion import confusion_matrix, multilabel_confusion_matrix
from verdict.metrics._cost import CostDecisionResult, CostSensitiveDecision
from verdict.metrics._cost_matrix import cost_matrix, expected_cost
from verdict.metrics._curves import (
    auc,
    confusion_matrix_at_thresholds,
    det_curve,
    precision_recall_curve,
    roc_curve,
)
from verdict.metrics._d2 import d2_brier_score, d2_log_loss_score
from verdict.metrics._dcg import dcg_score, ndcg_score
from verdict.metrics._delong import AucInterval, MulticlassAucInterval, delong_roc_ci
from verdict.metrics._hinge import hinge_loss
from verdict.metrics._intervals import ConfidenceInterval, PairedInterval, proportion_ci
from verdict.metrics._label_ranking import (
    coverage_error,
    label_ranking_average_precision_score,
    label_ranking_loss,
)
from verdict.metrics._likelihood_ratios import class_likelihood_ratios
from verdict.metrics._mcnemar import McNemarResult, mcnemar_test
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
from verdict.metrics._ranking_multiclass import average_precision_score, roc_auc_score
from verdict.metrics._report import classification_report
from verdict.metrics._thresholds import ThresholdChoice, optimal_threshold
from verdict.metrics._topk import top_k_accuracy_score
from verdict.metrics.bootstrap import bootstrap_ci, paired_bootstrap_ci
from verdict.metrics.evaluation import (
    ClassMetrics,
    Evaluation,
    PrecisionRecallCurve,
    RocCurve,
    evaluate,
)

__all__ = [
    "AucComparison",
    "AucInterval",
    "ClassMetrics",
    "ConfidenceInterval",
    "CostDecisionResult",
    "CostSensitiveDecision",
    "Evaluation",
    "McNemarResult",
    "MetricAdvice",
    "MetricInfo",
    "ModelComparison",
    "MulticlassAucInterval",
    "PairedInterval",
    "PairwiseComparison",
    "PrecisionRecallCurve",
    "ReliabilityDiagram",
    "RocCurve",
    "ThresholdChoice",
    "accuracy_score",
    "adjust_p_values",
    "auc",
    "average_precision_score",
    "balanced_accuracy_score",
    "bootstrap_ci",
    "brier_score_loss",
    "calibration_curve",
    "class_likelihood_ratios",
    "classification_report",
    "cohen_kappa_score",
    "compare_models",
    "confusion_matrix",
    "confusion_matrix_at_thresholds",
    "cost_matrix",
    "coverage_error",
    "d2_brier_score",
    "d2_log_loss_score",
    "dcg_score",
    "delong_roc_ci",
    "delong_roc_test",
    "det_curve",
    "evaluate",
    "expected_calibration_error",
    "expected_cost",
    "f1_score",
    "fbeta_score",
    "get_metric",
    "hamming_loss",
    "hinge_loss",
    "jaccard_score",
    "label_ranking_average_precision_score",
    "label_ranking_loss",
    "log_loss",
    "matthews_corrcoef",
    "max_calibration_error",
    "mcnemar_test",
    "metric_names",
    "multilabel_confusion_matrix",
    "ndcg_score",
    "optimal_threshold",
    "paired_bootstrap_ci",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "proportion_ci",
    "recall_score",
    "recommend_metrics",
    "reliability_diagram",
    "roc_auc_score",
    "roc_curve",
    "specificity_score",
    "top_k_accuracy_score",
    "zero_one_loss",
]
