"""``Client``: the prediction service's API as Python calls, over one httpx connection pool.

One method per thing a caller does: ``predict`` (records in, a :class:`Prediction` out),
``feedback``/``send_feedback`` (true labels for earlier predictions), ``health`` (live and
ready) and ``infer`` (the Open Inference Protocol, where a version can be named). Arguments are
checked here, once (:class:`verdict.errors.InvalidInputError`); whatever the service refuses,
and a request that gets no answer at all, raises :class:`verdict.errors.ServiceError`.

The API key is sent as ``Authorization: Bearer <key>``. With ``api_key=None`` the client reads
``VERDICT_API_KEY`` (explicit arguments first, then ``VERDICT_*`` variables, as everywhere in
verdict); ``api_key=""`` sends no key whatever the environment says.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from verdict import __version__
from verdict.client._answers import (
    Feedback,
    FeedbackReceipt,
    Health,
    Inference,
    Label,
    Prediction,
    feedback_receipt,
    inference,
    prediction,
)
from verdict.client._errors import bad_answer, refusal, unreached
from verdict.errors import InvalidInputError

API_KEY_VARIABLE = "VERDICT_API_KEY"
ZONE_HEADER = "X-Verdict-Zone"  # the service's default (VERDICT_ZONE_HEADER)
_T = TypeVar("_T")


class Client:
    """A client of one verdict prediction service (a replica, or a deployment's gateway).

    Parameters
    ----------
    base_url : str
        The service's address, e.g. ``"http://127.0.0.1:8000"`` or a gateway's ``https://``.
    api_key : str, optional
        The API key (``verdict keys create``). None reads ``VERDICT_API_KEY``; ``""`` sends
        no key.
    timeout : float or None, default 10.0
        Seconds to wait for a connection and for each read; None waits for ever.
    verify : bool, str, path or ssl.SSLContext, default True
        TLS verification: True for the system's CAs, the path of a CA certificate (PEM; a
        local deployment's ``ca.pem``), an ``ssl.SSLContext``, or False (not verified).
    headers : mapping of str to str, optional
        Headers sent with every request.
    transport : httpx.BaseTransport, optional
        Replaces the network (``httpx.MockTransport`` in tests).

    Examples
    --------
    >>> with Client("http://127.0.0.1:8000", api_key=token) as client:  # doctest: +SKIP
    ...     answer = client.predict("penguins", [{"island": "Biscoe", "bill_length_mm": 45.1}])
    ...     client.feedback(answer, ["Gentoo"])
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float | None = 10.0,
        verify: bool | str | os.PathLike[str] | ssl.SSLContext = True,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = _base_url(base_url)
        self.timeout = timeout
        key = os.environ.get(API_KEY_VARIABLE, "") if api_key is None else api_key
        sent = {"User-Agent": f"verdict-client/{__version__}", **dict(headers or {})}
        if key:
            sent["Authorization"] = f"Bearer {key}"
        self._http = httpx.Client(
            headers=sent, timeout=timeout, verify=_verify(verify), transport=transport
        )

    def predict(
        self,
        model: str,
        rows: Any,
        *,
        zone: str | None = None,
        request_id: str | None = None,
    ) -> Prediction:
        """Score records with ``POST /v1/models/{model}/predict``.

        Parameters
        ----------
        model : str
            The served model's name (the version answering is in the result).
        rows : sequence of mappings, or pandas.DataFrame
            One mapping of feature name to value per row; None (or NaN) is a missing value.
        zone : str, optional
            The zone the request belongs to (``X-Verdict-Zone``), for residency routing.
        request_id : str, optional
            Your own id for the request (``X-Request-ID``): kept beside the service's.

        Returns
        -------
        Prediction
            Per row the class and probabilities; the version, request id and target.
        """
        headers = {ZONE_HEADER: zone} if zone else {}
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        body = {"instances": _records(rows)}
        reply = self._send("POST", f"/v1/models/{_segment(model, 'model')}/predict", body, headers)
        return _read(reply, prediction)

    def feedback(
        self,
        request: str | Prediction,
        labels: Label | Sequence[Label],
        *,
        rows: Sequence[int] | None = None,
        model: str | None = None,
    ) -> FeedbackReceipt:
        """True labels for the rows of one earlier request (``POST /v1/feedback``).

        Parameters
        ----------
        request : str or Prediction
            The request id the service gave (``Prediction.request_id``), or the prediction.
        labels : label or sequence of labels
            The true class of each row, for rows 0, 1, ... unless ``rows`` says which.
        rows : sequence of int, optional
            The row (position in the request) of each label.
        model : str, optional
            The request's model; the service checks it when given.
        """
        request_id = request.request_id if isinstance(request, Prediction) else request
        if not isinstance(request_id, str) or not request_id:
            raise InvalidInputError(
                f"request must be a request id or a Prediction; got {request!r}. To fix: pass "
                "the request_id of the prediction the labels are for."
            )
        many = isinstance(labels, Iterable) and not isinstance(labels, (str, bytes, Mapping))
        values = list(labels) if many else [labels]
        positions = list(range(len(values))) if rows is None else [int(r) for r in rows]
        if len(positions) != len(values):
            raise InvalidInputError(
                f"labels has {len(values)} values but rows {len(positions)}. To fix: give one "
                "row per label, or leave rows out to label rows 0, 1, ..."
            )
        return self.send_feedback(
            Feedback(label, request_id, row, model=model)
            for label, row in zip(values, positions, strict=True)
        )

    def send_feedback(self, items: Iterable[Feedback | Mapping[str, Any]]) -> FeedbackReceipt:
        """Send feedback items in one ``POST /v1/feedback`` (labels of several requests, or
        rows sent with their features); items may be :class:`Feedback` or the API's dicts."""
        sent = [i.to_json() if isinstance(i, Feedback) else dict(i) for i in items]
        if not sent:
            raise InvalidInputError(
                "items is empty. To fix: send at least one Feedback(label, request_id, row)."
            )
        reply = self._send("POST", "/v1/feedback", {"feedback": sent})
        return _read(reply, feedback_receipt)

    def health(self) -> Health:
        """Liveness (``/v2/health/live``, no key needed) and readiness (``/v2/health/ready``).

        Not ready (503: starting, shutting down, or no replica behind a gateway) is
        ``ready=False``; no answer at all raises :class:`~verdict.errors.ServiceError`.
        """
        live = self._send("GET", "/v2/health/live")
        ready = self._send("GET", "/v2/health/ready", ok=(200, 503))
        return Health(
            live=_read(live, lambda body, _: body.get("live") is True),
            ready=ready.status_code == 200 and _read(ready, lambda b, _: b.get("ready") is True),
            target=ready.headers.get("X-Verdict-Target"),
        )

    def infer(
        self,
        model: str,
        inputs: Sequence[Mapping[str, Any]],
        *,
        version: int | str | None = None,
        outputs: Sequence[str] | None = None,
        id: str | None = None,
    ) -> Inference:
        """Score tensors with the Open Inference Protocol (``POST /v2/models/{model}/infer``).

        Parameters
        ----------
        model : str
            The served model's name.
        inputs : sequence of mappings
            The protocol's input tensors: ``{"name", "shape", "datatype", "data"}``, one per
            feature (or one matrix).
        version : int or str, optional
            The version that must answer (``/versions/{version}/``); the service answers 404
            when another one is served.
        outputs : sequence of str, optional
            The outputs wanted (``label``, ``probabilities``); both by default.
        id : str, optional
            The request's own id, echoed in the answer.
        """
        inputs = [dict(i) for i in inputs]
        if not inputs:
            raise InvalidInputError("inputs is empty. To fix: send one tensor per feature.")
        body: dict[str, Any] = {"inputs": inputs}
        if outputs is not None:
            body["outputs"] = [{"name": name} for name in outputs]
        if id is not None:
            body["id"] = id
        path = f"/v2/models/{_segment(model, 'model')}"
        if version is not None:
            path += f"/versions/{_segment(str(version), 'version')}"
        return _read(self._send("POST", f"{path}/infer", body), inference)

    def close(self) -> None:
        """Close the connections (the client cannot be used afterwards)."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """One request; the reply if its status is in ``ok``, else a ServiceError."""
        url = self.base_url + path
        sent = dict(headers or {})
        content = None
        if body is not None:
            content = _encode(body)
            sent["Content-Type"] = "application/json"
        try:
            reply = self._http.request(method, url, content=content, headers=sent)
        except httpx.TransportError as exc:
            raise unreached(exc, method, url, self.timeout) from None
        if reply.status_code not in ok:
            raise refusal(reply)
        return reply


def _read(reply: httpx.Response, parse: Callable[[Any, httpx.Headers], _T]) -> _T:
    """``parse(body, headers)``, or a ServiceError if the body is not what the API promises."""
    try:
        return parse(reply.json(), reply.headers)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise bad_answer(reply, f"{type(exc).__name__}: {exc}") from None


def _base_url(base_url: Any) -> str:
    url = httpx.URL(base_url) if isinstance(base_url, str) else None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise InvalidInputError(
            f"base_url must be an http:// or https:// address; got {base_url!r}. To fix: pass "
            "e.g. 'http://127.0.0.1:8000' (what `verdict serve` prints)."
        )
    return base_url.rstrip("/")


def _verify(verify: Any) -> bool | ssl.SSLContext:
    """httpx's ``verify``: a CA file becomes an SSL context trusting it."""
    if isinstance(verify, (bool, ssl.SSLContext)):
        return verify
    if isinstance(verify, (str, os.PathLike)) and Path(verify).is_file():
        try:
            return ssl.create_default_context(cafile=os.fspath(verify))
        except ssl.SSLError as exc:
            problem = f"it holds no usable certificate ({exc})"
    else:
        problem = "it is not a file"
    raise InvalidInputError(
        f"verify must be True, False, an ssl.SSLContext or a CA certificate file; got "
        f"{verify!r} and {problem}. To fix: pass the path of the CA's PEM certificate (a local "
        "deployment's gateway: <home>/deploy/ca.pem)."
    )


def _segment(value: Any, name: str) -> str:
    """``value`` as one path segment (quoted), refused if empty."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(
            f"{name} must be a non-empty string; got {value!r}. To fix: pass the served "
            f"{name}'s name, e.g. 'penguins'."
        )
    return quote(value, safe="")


def _records(rows: Any) -> list[dict[str, Any]]:
    """The rows as JSON records: a DataFrame's records, or each mapping with NaN as None."""
    if hasattr(rows, "to_json") and hasattr(rows, "columns"):  # a pandas DataFrame
        records = json.loads(rows.to_json(orient="records", date_format="iso"))
    elif isinstance(rows, Iterable) and not isinstance(rows, (Mapping, str, bytes)):
        records = list(rows)
    else:
        records = None
    if not records or not all(isinstance(r, Mapping) for r in records):
        raise InvalidInputError(
            f"rows must be a non-empty sequence of mappings (feature -> value) or a DataFrame; "
            f"got {_kind(rows)}. To fix: pass e.g. [{{'island': 'Biscoe', 'bill_length_mm': "
            "45.1}] (one mapping per row, even for one row)."
        )
    return [{str(k): _plain(v) for k, v in r.items()} for r in records]


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a single mapping"
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return "an empty sequence, or one holding other things than mappings"
    return type(value).__name__


def _plain(value: Any) -> Any:
    """A value JSON can carry: numpy scalars as Python ones, NaN (missing) as None."""
    if hasattr(value, "dtype") and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _encode(body: Any) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False, default=_json_default).encode("utf-8")
    except TypeError as exc:
        raise InvalidInputError(
            f"A value sent is not JSON ({exc}). To fix: send numbers, text, booleans, None, "
            "or dates (sent as ISO text)."
        ) from None


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} {value!r:.60} is not JSON serializable")
