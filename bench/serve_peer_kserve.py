"""KServe's Python model server serving the fitted pipeline, for ``bench/serve.py``.

Runs in ``bench/.venv-kserve`` (``kserve`` from PyPI and verdict in editable mode, so the
pickled pipeline's classes import)::

    bench/.venv-kserve/bin/python bench/serve_peer_kserve.py --pipeline pipeline.joblib \
        --http-port 8080 --grpc-port 8081

A custom ``kserve.Model`` named ``penguins`` under ``kserve.ModelServer(http_port, grpc_port,
workers=1)``, otherwise KServe's defaults (its gRPC server on, latency logging on). The Open
Inference Protocol (v2) both ways: REST ``POST /v2/models/penguins/infer`` and gRPC
``inference.GRPCInferenceService/ModelInfer`` (KServe's own gRPC server, in the same process
and event loop), each giving ``predict`` an ``InferRequest`` with one tensor per feature
(FP64/INT64/BYTES, shape ``[n]``; typed contents or raw_input_contents). The answer is two
tensors: ``label`` (BYTES, ``[n]``) and ``probabilities`` (FP64, ``[n, classes]``, the
pipeline's ``predict_proba``), as JSON data over REST and raw contents over gRPC (KServe's
encoding of numpy outputs). Ready at ``GET /v2/health/ready``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", required=True, help="The fitted pipeline (joblib file).")
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--name", default="penguins")
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # kserve.model_server parses sys.argv when imported

    import joblib
    from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer
    from kserve.utils.utils import generate_uuid

    class Penguins(Model):
        def __init__(self, name: str, path: str) -> None:
            super().__init__(name)
            self.path = path
            self.load()

        def load(self) -> bool:
            self.pipeline = joblib.load(self.path)
            self.classes = [str(c) for c in self.pipeline.classes_]
            self.labels_of = np.asarray(self.classes, dtype=object)
            self.ready = True
            return self.ready

        def predict(
            self, payload: InferRequest, headers=None, response_headers=None
        ) -> InferResponse:
            columns = {}
            for tensor in payload.inputs:
                values = tensor.as_numpy().reshape(-1)
                if tensor.datatype == "BYTES":  # str over REST, bytes over gRPC
                    values = np.array(
                        [v.decode() if isinstance(v, bytes) else v for v in values.tolist()],
                        dtype=object,
                    )
                columns[tensor.name] = values
            proba = np.asarray(self.pipeline.predict_proba(pd.DataFrame(columns)), np.float64)
            labels = self.labels_of[proba.argmax(axis=1)]
            n = len(proba)
            return InferResponse(
                response_id=payload.id or generate_uuid(),
                model_name=self.name,
                infer_outputs=[
                    InferOutput(name="label", shape=[n], datatype="BYTES", data=labels),
                    InferOutput(
                        name="probabilities",
                        shape=[n, len(self.classes)],
                        datatype="FP64",
                        data=proba,
                    ),
                ],
            )

    model = Penguins(args.name, args.pipeline)
    ModelServer(http_port=args.http_port, grpc_port=args.grpc_port, workers=1).start([model])


if __name__ == "__main__":
    main()
