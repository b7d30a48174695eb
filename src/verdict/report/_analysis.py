"""Everything the report computes from the run directory, once, before any rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verdict.metrics import ReliabilityDiagram
from verdict.report._curves import CurveSet, calibration, ranking_curves
from verdict.report._decision import cost_matrix
from verdict.report._load import RunData
from verdict.report._summary import metric_interval, per_class


@dataclass(frozen=True)
class Analysis:
    """The run and the numbers recomputed from its test predictions."""

    run: RunData
    primary: dict[str, Any] | None
    classes: list[dict[str, Any]]
    curves: CurveSet
    reliability: ReliabilityDiagram
    costs: np.ndarray | None

    @property
    def calibration(self) -> dict[str, Any]:
        """ECE and MCE of the reliability diagram, JSON-ready."""
        return {
            "kind": self.reliability.kind,
            "n_bins": int(self.reliability.counts.shape[0]),
            "expected_calibration_error": float(self.reliability.expected_calibration_error),
            "max_calibration_error": float(self.reliability.max_calibration_error),
        }


def analyse(run: RunData) -> Analysis:
    """Recompute the primary interval, per-class intervals, curves, calibration and costs."""
    return Analysis(
        run=run,
        primary=metric_interval(run, run.info["primary_metric"]),
        classes=per_class(run),
        curves=ranking_curves(run),
        reliability=calibration(run),
        costs=cost_matrix(run),
    )
