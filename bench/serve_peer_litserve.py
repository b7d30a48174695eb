"""LitServe serving the fitted pipeline, for ``bench/serve.py``.

Runs in ``bench/.venv-litserve`` (``litserve`` from PyPI and verdict in editable mode, so the
pickled pipeline's classes import)::

    bench/.venv-litserve/bin/python bench/serve_peer_litserve.py --pipeline FILE --port 8000

A ``ls.LitAPI`` (``setup`` loads the pipeline; ``decode_request`` turns ``{"rows": [{feature:
value, ...}, ...]}``, a JSON list of records, into a DataFrame; ``predict`` is the pipeline's
``predict_proba``; ``encode_response`` answers ``{"predictions": [{"label": ...,
"probabilities": {class: p}}, ...]}``) served by ``ls.LitServer(api, accelerator="cpu",
workers_per_device=1)``: one inference worker process behind one API server process
(``num_api_servers=1``). No batching: ``max_batch_size=1``, LitServe's default. Otherwise
LitServe's defaults (log level info). ``POST /predict``; ready at ``GET /health``.
"""

from __future__ import annotations

import argparse

import litserve as ls
import numpy as np


class PenguinsAPI(ls.LitAPI):
    def __init__(self, pipeline_path: str) -> None:
        super().__init__(max_batch_size=1)  # LitServe's default: no batching
        self.pipeline_path = pipeline_path

    def setup(self, device) -> None:
        import joblib

        self.pipeline = joblib.load(self.pipeline_path)
        self.classes = [str(c) for c in self.pipeline.classes_]
        self.labels_of = np.asarray(self.classes, dtype=object)

    def decode_request(self, request):
        import pandas as pd

        return pd.DataFrame(request["rows"])

    def predict(self, x):
        return np.asarray(self.pipeline.predict_proba(x), dtype=np.float64)

    def encode_response(self, output):
        labels = self.labels_of[output.argmax(axis=1)].tolist()
        return {
            "predictions": [
                {"label": label, "probabilities": dict(zip(self.classes, row, strict=True))}
                for label, row in zip(labels, output.tolist(), strict=True)
            ]
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", required=True, help="The fitted pipeline (joblib file).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ls.LitServer(PenguinsAPI(args.pipeline), accelerator="cpu", workers_per_device=1)
    server.run(host=args.host, port=args.port, num_api_servers=1, generate_client_file=False)


if __name__ == "__main__":
    main()
