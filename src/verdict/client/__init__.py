"""The Python client of the prediction service, over httpx.

``Client(base_url, api_key)`` speaks to one service (``verdict serve``) or a deployment's
gateway: ``predict`` scores records (``POST /v1/models/{name}/predict``) and returns a
:class:`Prediction`; ``feedback``/``send_feedback`` send true labels (``POST /v1/feedback``);
``health`` asks liveness and readiness; ``infer`` speaks the Open Inference Protocol, where a
version can be pinned. Whatever the service refuses, and a request that gets no answer, raises
:class:`verdict.errors.ServiceError` (status, kind, message, details, request id, target)::

    from verdict.client import Client
    with Client("http://127.0.0.1:8000", api_key=token) as client:
        answer = client.predict("penguins", [{"island": "Biscoe", "bill_length_mm": 45.1}])
        client.feedback(answer, ["Gentoo"])
"""

from verdict import _lazy

_EXPORTS = {
    "_answers": (
        "Feedback",
        "FeedbackReceipt",
        "Health",
        "Inference",
        "PredictedRow",
        "Prediction",
        "Tensor",
    ),
    "_client": ("Client",),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
