"""What the service answers, as typed records: read from its JSON and response headers.

Each record mirrors one response body of the service (``PredictResponse``,
``FeedbackResponse``, the v2 ``InferenceResponse``, the health answers) and adds the headers
worth keeping: the target that answered (``X-Verdict-Target``, in a multi-target deployment)
and the client's own request id echoed back (``X-Client-Request-ID``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

Label = str | bool | int | float
"""A class label as JSON carries it (the type of the training target)."""

TARGET_HEADER = "X-Verdict-Target"
CLIENT_ID_HEADER = "X-Client-Request-ID"


@dataclass(frozen=True)
class PredictedRow:
    """One row's answer: the class the decision policy chose and every class's probability."""

    row: int
    label: Label
    probabilities: dict[str, float]
    model_version: str
    request_id: str


@dataclass(frozen=True)
class Prediction:
    """The answer to ``POST /v1/models/{name}/predict``.

    ``request_id`` is the service's id for the request (quote it in feedback); ``target`` the
    deployment target that answered (None outside a multi-target deployment).
    """

    model: str
    model_version: str
    request_id: str
    predictions: list[PredictedRow]
    unknown_categories: dict[str, int] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    target: str | None = None
    client_request_id: str | None = None

    @property
    def labels(self) -> list[Label]:
        """The chosen class of each row, in the order sent."""
        return [p.label for p in self.predictions]

    @property
    def probabilities(self) -> list[dict[str, float]]:
        """Each row's class probabilities (class label as text -> probability)."""
        return [p.probabilities for p in self.predictions]

    @property
    def classes(self) -> list[str]:
        """The model's classes, as the probabilities name them."""
        return list(self.predictions[0].probabilities) if self.predictions else []

    def __len__(self) -> int:
        return len(self.predictions)


@dataclass(frozen=True)
class Feedback:
    """One true label: for row ``row`` of an earlier request, or for a row sent whole.

    Give ``request_id`` (and ``row``) to label an earlier prediction, or ``features`` and
    ``model`` to label a row that was never scored.
    """

    label: Label
    request_id: str | None = None
    row: int = 0
    features: Mapping[str, Any] | None = None
    model: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The item as ``POST /v1/feedback`` takes it."""
        item: dict[str, Any] = {"label": self.label}
        if self.features is not None:
            item["features"] = dict(self.features)
        else:
            item["request_id"], item["row"] = self.request_id, self.row
        if self.model is not None:
            item["model"] = self.model
        return item


@dataclass(frozen=True)
class FeedbackReceipt:
    """The answer to ``POST /v1/feedback``.

    ``attached``: labels joined to a logged prediction; ``with_features``: rows stored with
    their features; ``unknown``: (request id, row) the log does not hold (kept, joined should
    the prediction be logged later); ``elsewhere``: (request id, row, target) answered by
    another target of the deployment (shipped to the center, attached there).
    """

    attached: int
    with_features: int
    unknown: list[tuple[str, int]]
    elsewhere: list[tuple[str, int, str]]
    request_id: str
    target: str | None = None


@dataclass(frozen=True)
class Health:
    """``/v2/health/live`` and ``/v2/health/ready``: the process answers; it serves."""

    live: bool
    ready: bool
    target: str | None = None


@dataclass(frozen=True)
class Tensor:
    """One output tensor of the Open Inference Protocol: ``data`` flat, row-major."""

    name: str
    datatype: str
    shape: list[int]
    data: list[Any]


@dataclass(frozen=True)
class Inference:
    """The answer to ``POST /v2/models/{name}[/versions/{v}]/infer``.

    ``id`` is the request's own ``id``, or the service's request id when it sent none;
    ``request_id`` is always the service's (``X-Request-ID``).
    """

    model_name: str
    model_version: str | None
    id: str | None
    outputs: dict[str, Tensor]
    request_id: str | None = None
    target: str | None = None


def prediction(body: dict[str, Any], headers: httpx.Headers) -> Prediction:
    """A :class:`Prediction` from the predict answer."""
    rows = [
        PredictedRow(
            row=int(p["row"]),
            label=p["class"],
            probabilities=dict(p["probabilities"]),
            model_version=p["model_version"],
            request_id=p["request_id"],
        )
        for p in body["predictions"]
    ]
    return Prediction(
        model=body["model"],
        model_version=body["model_version"],
        request_id=body["request_id"],
        predictions=rows,
        unknown_categories=dict(body.get("unknown_categories") or {}),
        out_of_range=dict(body.get("out_of_range") or {}),
        target=headers.get(TARGET_HEADER),
        client_request_id=headers.get(CLIENT_ID_HEADER),
    )


def feedback_receipt(body: dict[str, Any], headers: httpx.Headers) -> FeedbackReceipt:
    """A :class:`FeedbackReceipt` from the feedback answer."""
    return FeedbackReceipt(
        attached=int(body["attached"]),
        with_features=int(body["with_features"]),
        unknown=[(u["request_id"], int(u["row"])) for u in body.get("unknown", [])],
        elsewhere=[
            (e["request_id"], int(e["row"]), e["target"]) for e in body.get("elsewhere", [])
        ],
        request_id=body["request_id"],
        target=headers.get(TARGET_HEADER),
    )


def inference(body: dict[str, Any], headers: httpx.Headers) -> Inference:
    """An :class:`Inference` from the v2 infer answer."""
    outputs = {
        o["name"]: Tensor(o["name"], o["datatype"], list(o["shape"]), list(o["data"]))
        for o in body["outputs"]
    }
    return Inference(
        model_name=body["model_name"],
        model_version=body.get("model_version"),
        id=body.get("id"),
        outputs=outputs,
        request_id=headers.get("X-Request-ID"),
        target=headers.get(TARGET_HEADER),
    )
