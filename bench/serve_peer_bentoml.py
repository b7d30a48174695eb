"""BentoML serving the fitted pipeline, for ``bench/serve.py``.

Runs in ``bench/.venv-bentoml`` (``bentoml`` from PyPI and verdict in editable mode, so the
pickled pipeline's classes import)::

    bench/.venv-bentoml/bin/python bench/serve_peer_bentoml.py --pipeline FILE --port 8000

which runs ``bentoml serve serve_peer_bentoml:Penguins --host 127.0.0.1 --port PORT`` (the
pipeline's path goes in ``PENGUINS_PIPELINE``). A ``@bentoml.service`` with one worker and
BentoML's other defaults (a sync API, so it runs on the service's thread pool, one thread;
access log on); its API ``POST /predict`` takes ``{"rows": [{feature: value, ...}, ...]}``, a
JSON list of records that BentoML's ``DataframeSchema(orient="records")`` turns into a
DataFrame, and answers ``{"predictions": [{"label": ..., "probabilities": {class: p}}, ...]}``
from the pipeline's ``predict_proba``. Ready at ``GET /readyz``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import bentoml
import numpy as np
import pandas as pd
from bentoml.validators import DataframeSchema


@bentoml.service(name="penguins", workers=1)
class Penguins:
    def __init__(self) -> None:
        import joblib

        self.pipeline = joblib.load(os.environ["PENGUINS_PIPELINE"])
        self.classes = [str(c) for c in self.pipeline.classes_]
        self.labels_of = np.asarray(self.classes, dtype=object)

    @bentoml.api
    def predict(
        self, rows: Annotated[pd.DataFrame, DataframeSchema(orient="records")]
    ) -> dict[str, Any]:
        proba = np.asarray(self.pipeline.predict_proba(rows), dtype=np.float64)
        labels = self.labels_of[proba.argmax(axis=1)].tolist()
        return {
            "predictions": [
                {"label": label, "probabilities": dict(zip(self.classes, row, strict=True))}
                for label, row in zip(labels, proba.tolist(), strict=True)
            ]
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", required=True, help="The fitted pipeline (joblib file).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent
    os.environ["PENGUINS_PIPELINE"] = str(Path(args.pipeline).resolve())
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    command = [
        sys.executable, "-m", "bentoml", "serve", f"{Path(__file__).stem}:Penguins",
        "--working-dir", str(here), "--host", args.host, "--port", str(args.port),
    ]  # fmt: skip
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
