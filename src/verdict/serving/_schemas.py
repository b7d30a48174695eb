"""Request and response bodies of the prediction service, kept apart, as OpenAPI declares them.

v1 is verdict's friendly API (records in, one object per row out); v2 follows the Open
Inference Protocol (KServe / Triton) JSON exactly, so that standard v2 clients work unchanged.
Errors have one shape per API: ``{"error": {"kind", "message", "details", "request_id"}}``
everywhere but under ``/v2``, where the protocol's ``{"error": "<message>"}`` is kept and the
same facts ride along as sibling fields (clients of the protocol read ``error`` only).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    return value


Integer = Annotated[int, BeforeValidator(_no_bool)]
"""An integer as JSON Schema has it: ``3`` or ``3.0``, never ``false``."""

Label = str | bool | int | float
"""A class label as JSON carries it (the type of the training target)."""

V2Datatype = Literal[
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
    "FP16", "FP32", "FP64", "BYTES",
]  # fmt: skip


# -- errors ---------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """One field that was wrong: where (``loc``), what kind of problem, and what was found."""

    loc: list[str | int] = Field(description='Where, e.g. ["body", "instances", 0, "island"].')
    kind: str = Field(description="e.g. wrong_type, missing_feature, missing_value, not_finite.")
    message: str


class ErrorBody(BaseModel):
    """What went wrong; ``details`` lists field-level problems (422) and is empty otherwise."""

    kind: str = Field(description="e.g. unauthorized, forbidden, not_found, too_large, invalid.")
    message: str = Field(description="What was wrong, ending with 'To fix: ...'.")
    details: list[ErrorDetail] = Field(default_factory=list)
    more_details: int = Field(
        default=0, description="Problems found beyond those listed (details stop at 20)."
    )
    request_id: str


class ErrorResponse(BaseModel):
    """Every error outside ``/v2``."""

    error: ErrorBody


class V2ErrorResponse(BaseModel):
    """Every error under ``/v2``: the protocol's ``{"error": "..."}`` plus the same facts."""

    error: str
    kind: str
    details: list[ErrorDetail] = Field(default_factory=list)
    more_details: int = Field(
        default=0, description="Problems found beyond those listed (details stop at 20)."
    )
    request_id: str


# -- v1 -------------------------------------------------------------------------------------


class PredictRequest(BaseModel):
    """Rows to score, each an object of feature name to value (null: missing, imputed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"instances": [{"island": "Biscoe", "bill_length_mm": 48.6}]}]
        },
    )

    instances: list[dict[str, Any]] = Field(min_length=1)


class KServeV1Request(BaseModel):
    """KServe's V1 protocol: rows as objects (feature name to value) or as lists of the
    features in the order ``GET /v2/models/{name}`` lists its inputs."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"instances": [["Biscoe", 48.6, 16.0, 230.0, 5800.0, "male", 2008]]}]
        },
    )

    instances: list[dict[str, Any]] | list[list[Any]] = Field(min_length=1)


class KServeV1Prediction(BaseModel):
    label: Label = Field(description="The class the decision policy chose.")
    probabilities: list[float] = Field(
        description="Per class, in the order of the model's classes (GET /v1/models/{name})."
    )


class KServeV1Response(BaseModel):
    predictions: list[KServeV1Prediction]


class KServeV1Model(BaseModel):
    name: str
    ready: bool
    classes: list[Label] = Field(description="The order of the probabilities.")
    inputs: list[str] = Field(description="The order of a row sent as a list.")


class RowPrediction(BaseModel):
    """One row's answer."""

    model_config = ConfigDict(populate_by_name=True)

    row: int = Field(description="The row's position in the request, from 0.")
    label: Label = Field(alias="class", description="The class the decision policy chose.")
    probabilities: dict[str, float] = Field(description="Per class label (as text).")
    model_version: str = Field(description="The version that answered, e.g. 'penguins@v3'.")
    request_id: str


class PredictResponse(BaseModel):
    """Per row the class and probabilities; the version and request id once and per row."""

    model: str
    model_version: str
    request_id: str
    predictions: list[RowPrediction]
    unknown_categories: dict[str, int] = Field(
        default_factory=dict,
        description="Per column, values not seen in training (accepted, scored as unseen).",
    )


class FeedbackForRequest(BaseModel):
    """A true label for an earlier prediction: its request id (``X-Request-ID``) and row."""

    label: Label
    request_id: str = Field(min_length=1, max_length=128)
    row: Integer = Field(default=0, ge=0)
    model: str | None = Field(default=None, description="If given, must be the request's.")


class FeedbackWithFeatures(BaseModel):
    """A true label for a row sent with its features (no earlier prediction)."""

    label: Label
    features: dict[str, Any]
    model: str = Field(description="The served model the features are for.")


class FeedbackRequest(BaseModel):
    """True labels, each attached to a request id and row or sent with the row's features."""

    feedback: list[FeedbackForRequest | FeedbackWithFeatures] = Field(min_length=1)


class FeedbackRef(BaseModel):
    request_id: str
    row: int


class FeedbackElsewhere(BaseModel):
    request_id: str
    row: int
    target: str = Field(description="The deployment target that answered the prediction.")


class FeedbackResponse(BaseModel):
    """Labels attached to logged predictions, stored with features, or not (yet) matched.

    An ``unknown`` label is stored all the same and joined should its prediction be logged
    later (by another replica, say). An ``elsewhere`` label is for a prediction another target
    of the deployment answered: stored here, shipped to the center, attached there.
    """

    attached: int
    with_features: int
    unknown: list[FeedbackRef]
    elsewhere: list[FeedbackElsewhere] = Field(default_factory=list)
    request_id: str


# -- v2 (Open Inference Protocol) -------------------------------------------------------------


class ServerLive(BaseModel):
    live: bool


class ServerReady(BaseModel):
    ready: bool


class ModelReady(BaseModel):
    name: str
    ready: bool


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class MetadataTensor(BaseModel):
    name: str
    datatype: V2Datatype
    shape: list[int]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[MetadataTensor]
    outputs: list[MetadataTensor]
    parameters: dict[str, Any] | None = Field(
        default=None, description='{"runtime": "native" | "onnx"}: what scores the rows.'
    )


class RequestInput(BaseModel):
    """One input tensor; ``data`` row-major, flat or nested."""

    name: str
    shape: list[Integer] = Field(min_length=1, max_length=2)
    datatype: V2Datatype
    parameters: dict[str, Any] | None = None
    data: list[Any]


class RequestOutput(BaseModel):
    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(BaseModel):
    """Named tensors: one per feature (shape [n] or [n, 1]), or one [n, features] matrix."""

    id: str | None = Field(default=None, max_length=128)
    parameters: dict[str, Any] | None = None
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = None


class ResponseOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: V2Datatype
    parameters: dict[str, Any] | None = None
    data: list[Label]


class InferenceResponse(BaseModel):
    model_name: str
    model_version: str | None = None
    id: str | None = None
    parameters: dict[str, Any] | None = None
    outputs: list[ResponseOutput]
