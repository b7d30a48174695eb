"""The floor for ``bench/serve.py``: the least an HTTP server can do around ``predict_proba``.

A raw ASGI app (no framework, no validation, no auth, no log) under uvicorn (uvloop +
httptools, access log off), one worker, in ``bench/.venv-floor`` (uvicorn[standard], orjson and
verdict in editable mode, so the pickled pipeline's classes import)::

    bench/.venv-floor/bin/python bench/serve_peer_floor.py --pipeline pipeline.joblib --port 8000

``POST /predict`` takes ``{"rows": [{feature: value, ...}, ...]}`` (a JSON list of records),
scores them with the fitted pipeline's ``predict_proba`` on the event loop (no thread hop) and
answers ``{"predictions": [{"label": ..., "probabilities": {class: p, ...}}, ...]}`` with one
``orjson.dumps``; ``GET`` on any path answers 200 (the health check).
"""

from __future__ import annotations

import argparse

import joblib
import numpy as np
import orjson
import pandas as pd
import uvicorn

JSON = [(b"content-type", b"application/json")]


def make_app(pipeline):
    classes = [str(c) for c in pipeline.classes_]
    labels_of = np.asarray(classes, dtype=object)

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await send({"type": "http.response.start", "status": 200, "headers": JSON})
            await send({"type": "http.response.body", "body": b'{"ready":true}'})
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        frame = pd.DataFrame(orjson.loads(b"".join(chunks))["rows"])
        proba = np.asarray(pipeline.predict_proba(frame), dtype=np.float64)
        labels = labels_of[proba.argmax(axis=1)].tolist()
        answer = {
            "predictions": [
                {"label": label, "probabilities": dict(zip(classes, row, strict=True))}
                for label, row in zip(labels, proba.tolist(), strict=True)
            ]
        }
        await send({"type": "http.response.start", "status": 200, "headers": JSON})
        await send({"type": "http.response.body", "body": orjson.dumps(answer)})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", required=True, help="The fitted pipeline (joblib file).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app = make_app(joblib.load(args.pipeline))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        lifespan="off",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
