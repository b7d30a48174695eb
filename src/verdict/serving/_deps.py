"""The routes' dependencies, as ``Annotated`` aliases (tests swap them with
``app.dependency_overrides[get_served] = ...``).

Everything comes from ``app.state``, which ``create_app``'s lifespan fills: nothing here is
built at import time. API keys are checked before any of this, by the request middleware, so
that a request without a valid key is refused before its body is read or parsed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from verdict.serving._errors import ServiceError, request_id_of
from verdict.serving._served import ServedModel, ServedModels
from verdict.serving._settings import ServiceSettings
from verdict.serving._telemetry import Telemetry
from verdict.state import PredictionLog


async def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


async def get_served(request: Request) -> ServedModels:
    return request.app.state.served


async def get_predlog(request: Request) -> PredictionLog:
    return request.app.state.predlog


async def get_telemetry(request: Request) -> Telemetry:
    return request.app.state.telemetry


async def get_request_id(request: Request) -> str:
    return request_id_of(request)


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
ServedDep = Annotated[ServedModels, Depends(get_served)]
PredLogDep = Annotated[PredictionLog, Depends(get_predlog)]
TelemetryDep = Annotated[Telemetry, Depends(get_telemetry)]
RequestId = Annotated[str, Depends(get_request_id)]


def model_or_404(
    served: ServedModels | None, name: str, describe: str = "GET /v2/models/NAME"
) -> ServedModel:
    """The model served under ``name``, or the 404 naming those that are (``describe``: how
    this transport describes a model)."""
    model = served.get(name) if served is not None else None
    if model is None:
        names = [m.name for m in served.all()] if served is not None else []
        raise ServiceError(
            404,
            f"No model named {name[:64]!r} is served here; served: {names}. To fix: use one of "
            f"those names ({describe} describes a model).",
            kind="model_not_found",
        )
    return model


def version_or_404(
    model: ServedModel, version: str, omit: str = "leave the version out of the path"
) -> ServedModel:
    """``model``, if ``version`` is the one answering now, else the 404 saying which is
    (``omit``: how this transport asks for no particular version)."""
    if version.removeprefix("v") != str(model.version):
        raise ServiceError(
            404,
            f"Version {version[:32]!r} of {model.name!r} is not served; version "
            f"{model.version} is ({model.served}). To fix: ask for version {model.version}, or "
            f"{omit}.",
            kind="version_not_found",
        )
    return model


async def served_model(name: str, served: ServedDep) -> ServedModel:
    """The model served under ``name`` (the path parameter), or 404."""
    return model_or_404(served, name)


ModelDep = Annotated[ServedModel, Depends(served_model)]


async def served_version(version: str, model: ModelDep) -> ServedModel:
    """The model, if ``version`` (the path parameter) is the one answering now, else 404."""
    return version_or_404(model, version)


VersionDep = Annotated[ServedModel, Depends(served_version)]
