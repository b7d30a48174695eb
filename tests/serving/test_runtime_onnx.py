"""``runtime='onnx'``: the checked ONNX export answers as the pipeline does, or the pipeline
answers when the export is refused."""

from __future__ import annotations

import numpy as np
import pytest
from serving_support import records, service, trained_home

from verdict.errors import ExportError
from verdict.serving import _runtime

PREDICT = "/v1/models/penguins/predict"
INFER = "/v2/models/numeric/infer"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return trained_home(tmp_path_factory)


def _answers(svc):
    rows = records(40)
    v1 = svc.post(PREDICT, json={"instances": rows})
    numeric = [{k: r[k] for k in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                  "body_mass_g")} for r in rows]  # fmt: skip
    matrix = [[r[k] for k in numeric[0]] for r in numeric]
    body = {"inputs": [{"name": "x", "shape": [len(matrix), 4], "datatype": "FP64",
                        "data": matrix}]}  # fmt: skip
    v2 = svc.post(INFER, json=body)
    assert v1.status_code == 200, v1.text
    assert v2.status_code == 200, v2.text
    return v1.json(), v2.json()


def test_onnx_answers_as_native(home, tmp_path):
    with service(home, tmp_path / "native") as native:
        v1_native, v2_native = _answers(native)
    with service(home, tmp_path / "onnx", runtime="onnx") as onnx:
        meta = onnx.get("/v2/models/penguins").json()
        assert meta["parameters"] == {"runtime": "onnx"}
        assert 'runtime="onnx"' in onnx.get("/metrics").text
        v1_onnx, v2_onnx = _answers(onnx)
    labels = [[p["class"] for p in a["predictions"]] for a in (v1_native, v1_onnx)]
    assert labels[0] == labels[1]
    for a, b in zip(v1_native["predictions"], v1_onnx["predictions"], strict=True):
        assert a["probabilities"].keys() == b["probabilities"].keys()
        for k in a["probabilities"]:
            assert abs(a["probabilities"][k] - b["probabilities"][k]) <= 1e-9
    out_native = {o["name"]: o for o in v2_native["outputs"]}
    out_onnx = {o["name"]: o for o in v2_onnx["outputs"]}
    assert out_native["label"] == out_onnx["label"]
    np.testing.assert_allclose(
        out_onnx["probabilities"]["data"], out_native["probabilities"]["data"], rtol=0, atol=1e-9
    )


def test_a_model_without_onnx_export_is_served_natively(home, tmp_path, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise ExportError("no ONNX conversion for this family. To fix: serve it natively.")

    monkeypatch.setattr(_runtime, "export_onnx", refuse)
    with service(home, tmp_path / "fallback", runtime="onnx") as svc:
        assert svc.get("/v2/models/penguins").json()["parameters"] == {"runtime": "native"}
        answer = svc.post(PREDICT, json={"instances": records(3)})
        assert answer.status_code == 200
    assert "served natively" in caplog.text
