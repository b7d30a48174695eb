"""Read a finished run directory into what a registry version stores.

Everything a version needs is taken from the run as it was written by ``train``: the model
bytes exactly as evaluated, run.json, the held-out predictions and rows, the training reference
sample and the report (written first if the run has none). Nothing is recomputed, so the
registered numbers are the numbers of the model that is served.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verdict.errors import InvalidInputError

if TYPE_CHECKING:  # listing models must not import the pipeline (numpy, scikit-learn)
    from verdict.pipeline import Run

REQUIRED = ("run.json", "model.skops", "test_predictions.parquet", "reference.parquet")
OPTIONAL = ("test_rows.parquet", "report.html", "model_card.md", "metrics.json")
MODEL = "model.skops"


@dataclass(frozen=True)
class Intake:
    """A run's artifacts (name -> bytes) and the version summary derived from run.json."""

    artifacts: dict[str, bytes]
    summary: dict[str, Any]
    family: str
    primary_metric: str
    fingerprint: str
    source: str
    signal: dict[str, Any]  # run.json's verdict on "is there anything here"; found=True if absent


def read_run(run: Run | str | Path) -> Intake:
    """The artifacts and summary of ``run`` (a Run or its directory)."""
    run_dir = Path(run if isinstance(run, (str, Path)) else run.run_dir)
    if not (run_dir / "run.json").is_file():
        raise InvalidInputError(
            f"{str(run_dir)!r} is not a run directory (no run.json). To fix: pass the directory "
            f"`verdict train` wrote (its path is printed at the end), or the Run it returned."
        )
    missing = [name for name in REQUIRED if not (run_dir / name).is_file()]
    if missing:
        raise InvalidInputError(
            f"The run in {str(run_dir)!r} lacks {missing}; it was written by an older verdict. "
            f"To fix: train it again with this version, then register the new run."
        )
    if not (run_dir / "report.html").is_file():
        from verdict.report import write_report

        write_report(run_dir)
    names = REQUIRED + tuple(n for n in OPTIONAL if (run_dir / n).is_file())
    artifacts = {name: (run_dir / name).read_bytes() for name in names}
    info = json.loads(artifacts["run.json"])
    return Intake(
        artifacts=artifacts,
        summary=summarise(info),
        family=str(info["best"]),
        primary_metric=str(info["primary_metric"]),
        fingerprint=str(info["data"]["fingerprint"]),
        source=str(run_dir.resolve()),
        signal=info.get("signal") or {"found": True},
    )


def summarise(info: dict[str, Any]) -> dict[str, Any]:
    """What the registry keeps queryable from run.json (the rest stays in the artifact)."""
    classes = info["data"]["classes"]
    from verdict.pipeline import DecisionPolicy

    policy = DecisionPolicy.from_decision(info.get("decision"), classes)
    return {
        "classes": classes,
        "schema": info["schema"],
        "policy": policy.to_dict(),
        "primary_metric": info["primary_metric"],
        "metrics": info["test"],
        "comparisons": info.get("comparisons"),
        "decision": info.get("decision"),
        "data": info["data"],
        "lineage": info["lineage"],
        "verdict_version": info.get("verdict_version"),
        "trained": info.get("created"),
    }
