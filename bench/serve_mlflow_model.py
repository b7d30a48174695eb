"""Save verdict's registered pipeline as an MLflow pyfunc model (used by ``bench/serve.py``).

Runs in the benchmark's MLflow virtual environment (``bench/.venv-mlflow``, which has MLflow
and verdict installed), not in the project's::

    bench/.venv-mlflow/bin/python bench/serve_mlflow_model.py --home TMP --out TMP/mlflow-model

It loads ``penguins@production`` from the registry under ``--home`` (the very pipeline verdict
serves), pickles the fitted scikit-learn pipeline as the model's artifact and saves a pyfunc
whose ``predict`` returns, for every row, the label (argmax, as verdict's policy) and the
probability of each class: the same content as verdict's response. The model's signature makes
MLflow check the input columns and types, as verdict checks rows against its schema.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd


class LabelAndProba(mlflow.pyfunc.PythonModel):
    """The fitted pipeline's probabilities for every class, plus the argmax label."""

    def load_context(self, context) -> None:
        import joblib

        self.pipeline = joblib.load(context.artifacts["pipeline"])
        self.classes = [str(c) for c in self.pipeline.classes_]

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        proba = np.asarray(self.pipeline.predict_proba(model_input), dtype=np.float64)
        out = pd.DataFrame(proba, columns=self.classes)
        out.insert(0, "label", np.asarray(self.classes, dtype=object)[proba.argmax(axis=1)])
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, help="The throwaway VERDICT_HOME.")
    parser.add_argument("--ref", default="penguins@production")
    parser.add_argument("--out", required=True, help="Folder to save the MLflow model in.")
    args = parser.parse_args()

    import logging
    import warnings

    import joblib
    from mlflow.models import infer_signature

    warnings.simplefilter("ignore")
    logging.getLogger("mlflow").setLevel(logging.ERROR)

    from verdict.registry import Registry

    home = Path(args.home)
    with Registry(f"sqlite:///{home / 'registry.db'}", str(home / "artifacts")) as registry:
        loaded = registry.load(args.ref)
        reference = registry.frame(args.ref)
    features = [c.name for c in loaded.schema.columns]
    sample = reference[features].dropna().head(20).reset_index(drop=True)
    pipeline_file = home / "pipeline.joblib"
    joblib.dump(loaded.model, pipeline_file)

    # Import by module name (not __main__) so the pickled model refers to this file, which
    # code_paths ships with the model.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from serve_mlflow_model import LabelAndProba as Model

    proba = loaded.model.predict_proba(sample)
    example_out = pd.DataFrame(proba, columns=[str(c) for c in loaded.model.classes_])
    example_out.insert(0, "label", example_out.columns[proba.argmax(axis=1)])
    mlflow.pyfunc.save_model(
        path=args.out,
        python_model=Model(),
        artifacts={"pipeline": str(pipeline_file)},
        code_paths=[str(Path(__file__).resolve())],
        signature=infer_signature(sample, example_out),
    )
    print(f"saved {loaded.ref} ({type(loaded.model[-1]).__name__}) as an MLflow pyfunc: {args.out}")


if __name__ == "__main__":
    main()
