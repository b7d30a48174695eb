"""The scoring routes answered without FastAPI's router and dependency injection.

``POST /v1/models/{name}/predict`` and ``POST /v2/models/{name}[/versions/{version}]/infer``
are nearly every request a busy service answers, and on a request of one row FastAPI's
routing (every route matched in turn), its dependency injection (per request: the query
parameters, cookies and a fresh solve of each dependency) and its exception layers cost
about as much as everything else the request does on the event loop. :class:`HotRoutes`, the
innermost middleware, matches those paths with the routes' own patterns and calls the same
endpoint functions with the same dependencies resolved directly; a ``ServiceError`` gets the
same handler as behind the router. Everything else, and every request while
``app.dependency_overrides`` is in use (tests swap dependencies there), goes through FastAPI.
The routes stay FastAPI's: the OpenAPI document, validation of other requests and
``scope["route"]`` (metrics, access log) are theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from verdict.serving import _deps, _v1, _v2
from verdict.serving._errors import ServiceError, on_service_error

_HOT: tuple[Callable[..., Any], ...] = (_v1.predict, _v2.infer, _v2.infer_version)


def _hot_routes() -> list[APIRoute]:
    """The scoring routes, as declared on their routers (POST, no route-level dependency)."""
    routes = [
        route
        for route in (*_v1.router.routes, *_v2.router.routes)
        if isinstance(route, APIRoute) and route.endpoint in _HOT
    ]
    assert len(routes) == len(_HOT) and all(
        route.methods == {"POST"} and not route.dependencies for route in routes
    ), "the scoring routes changed: update serving._hot"
    return routes


class HotRoutes:
    """Answers the scoring routes directly (module docstring); passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = _hot_routes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            path = scope["path"]
            for route in self.routes:
                match = route.path_regex.match(path)
                if match is not None:
                    if scope["app"].dependency_overrides:
                        break
                    await self._answer(route, match.groupdict(), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _answer(
        self, route: APIRoute, params: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        """What the router, FastAPI's request handler and its exception layer do for
        ``route``: path parameters and route in the scope, dependencies, endpoint, response."""
        convert = route.param_convertors
        path_params = {key: convert[key].convert(value) for key, value in params.items()}
        scope["endpoint"], scope["path_params"], scope["route"] = route.endpoint, path_params, route
        request = Request(scope, receive, send)
        try:
            model = await _deps.served_model(path_params["name"], await _deps.get_served(request))
            if "version" in path_params:
                model = await _deps.served_version(path_params["version"], model)
            response = await route.endpoint(
                request,
                model,
                await _deps.get_settings(request),
                await _deps.get_telemetry(request),
                await _deps.get_request_id(request),
            )
        except ServiceError as exc:
            response = await on_service_error(request, exc)
        await response(scope, receive, send)
