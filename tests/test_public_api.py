"""Each package's __all__ lists exactly its public names, and they all resolve."""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = [
    "verdict",
    "verdict.errors",
    "verdict.metrics",
    "verdict.models",
    "verdict.data",
    "verdict.pipeline",
    "verdict.report",
    "verdict.registry",
    "verdict.state",
    "verdict.serving",
    "verdict.monitoring",
    "verdict.deploy",
    "verdict.client",
    "verdict.demo",
    "verdict.cli",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_complete_and_resolves(name):
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert exported <= set(dir(module)), f"dir({name}) lacks {exported - set(dir(module))}"
    for attr in exported:
        assert hasattr(module, attr), f"{name}.__all__ names {attr}, which is missing"
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", name).startswith("verdict")
    }
    assert public <= exported, f"{name} has public names missing from __all__: {public - exported}"


def test_metrics_signatures_match_sklearn():
    import sklearn.metrics as skm

    import verdict.metrics as vm

    for attr in vm.__all__:
        ours = getattr(vm, attr)
        if not callable(ours) or not hasattr(skm, attr) or inspect.isclass(ours):
            continue
        ref = inspect.signature(getattr(skm, attr))
        mine = inspect.signature(ours)
        ref_params = [(p.name, p.kind, p.default) for p in ref.parameters.values()]
        my_params = [(p.name, p.kind, p.default) for p in mine.parameters.values()]
        assert my_params == ref_params, f"{attr}: {mine} != sklearn {ref}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("verdict.serving.open_state", "verdict.state.open_state"),
        ("verdict.serving.KeyStore", "verdict.state.KeyStore"),
        ("verdict.serving.export_log", "verdict.state.export_log"),
        ("verdict.deploy.GatewayServer", "verdict.deploy.ServerLine"),
    ],
)
def test_names_that_moved_still_import_for_a_release_with_a_warning(old, new):
    old_package, old_name = old.rsplit(".", 1)
    new_package, new_name = new.rsplit(".", 1)
    package = importlib.import_module(old_package)
    with pytest.warns(DeprecationWarning, match=rf"{old} is now {new}; import it from there"):
        value = getattr(package, old_name)
    assert value is getattr(importlib.import_module(new_package), new_name)
    assert old_name not in package.__all__ and old_name not in dir(package)
