"""Shared by the service's tests: models trained once per test process, and apps built on them.

Not a conftest (other suites share this folder): test modules import what they need. The
registry is built once per process (module-level cache), in pytest's session temp folder.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient
from palmerpenguins import load_penguins

from verdict.pipeline import train
from verdict.registry import Registry
from verdict.serving import ServiceSettings
from verdict.serving._app import create_app
from verdict.state import KeyStore, open_state

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
_CACHE: dict[str, Any] = {}


@dataclass(frozen=True)
class Home:
    """A registry with ``penguins@production`` (all features) and ``numeric@production``."""

    root: Path
    url: str
    artifacts: Path

    def registry(self) -> Registry:
        return Registry(self.url, self.artifacts)


def trained_home(tmp_path_factory: Any) -> Home:
    """The registry, trained on first use in this process."""
    if "home" not in _CACHE:
        root = tmp_path_factory.mktemp("serving_home")
        home = Home(root, f"sqlite:///{root}/registry.db", root / "artifacts")
        frame = load_penguins()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = train(frame, "species", models=["softmax"], time_budget=5, cv=3, quiet=True,
                         out=root / "run_full")  # fmt: skip
            numeric = train(frame[[*NUMERIC, "species"]], "species", models=["softmax"],
                            time_budget=2, cv=2, quiet=True, out=root / "run_numeric")  # fmt: skip
        with home.registry() as registry:
            registry.register(full, "penguins", alias="production")
            registry.register(numeric, "numeric", alias="production")
        _CACHE["home"] = home
    return _CACHE["home"]


def records(n: int = 20, *, drop: tuple[str, ...] = ("species",)) -> list[dict[str, Any]]:
    """``n`` penguins (every 17th row, so all three species) as JSON records, NaN as None."""
    frame = load_penguins().iloc[::17].head(n).drop(columns=list(drop))
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def frame_of(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The records as the DataFrame batch scoring would get."""
    return pd.DataFrame(rows)


@dataclass
class Service:
    """A running app (TestClient) with its key and state database."""

    client: TestClient
    token: str
    state_url: str
    app: Any

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)


@contextmanager
def service(home: Home, tmp: Path, *, required: Any = None, **settings: Any) -> Iterator[Service]:
    """An app on ``home``'s registry with a fresh state database and one API key, started."""
    state_url = f"sqlite:///{tmp}/service.db"
    engine = open_state(state_url)
    token = KeyStore(engine).create("tests").token
    engine.dispose()
    settings = {"models": ["penguins@production", "numeric@production"], **settings}
    config = ServiceSettings(home=tmp, state_url=state_url, **settings)
    with home.registry() as registry:
        app = create_app(config, registry, required=required)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Service(client, token, state_url, app)
