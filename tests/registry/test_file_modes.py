"""Files verdict keeps under VERDICT_HOME are its owner's alone.

A home verdict creates is 0700, as is every folder it creates in it; the registry and state
databases (with SQLite's -wal and -shm files), every stored artifact and the deployment
certificate's private key are 0600, whatever the umask. A folder the user made is left as
they set it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from verdict.deploy.local._certs import self_signed_certificate
from verdict.registry import Registry
from verdict.state import KeyStore, open_state

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A permissive umask, so only verdict's own modes can keep files private."""
    old = os.umask(0o002)
    try:
        yield
    finally:
        os.umask(old)


def test_a_fresh_home_and_everything_in_it_are_private(tmp_path, run_dir, loose_umask):
    home = tmp_path / "new" / ".verdict"
    engine = open_state(f"sqlite:///{home / 'service.db'}")
    try:
        KeyStore(engine).create("modes")  # a write: SQLite has its -wal and -shm files now
        with Registry(home=home) as registry:
            registry.register(run_dir, "penguins", alias="production")
            files = {p.name: mode(p) for p in home.iterdir() if p.is_file()}
            for name in ("registry.db", "service.db"):
                for suffix in ("", "-wal", "-shm"):
                    assert files.pop(name + suffix) == 0o600, name + suffix
            assert files == {}
    finally:
        engine.dispose()
    assert mode(home) == 0o700 and mode(home.parent) == 0o700
    stored = list((home / "artifacts").rglob("*"))
    assert sum(p.is_file() for p in stored) >= 4
    for path in stored:
        assert mode(path) == (0o600 if path.is_file() else 0o700), path


def test_a_folder_the_user_made_is_left_as_they_set_it(tmp_path, run_dir, loose_umask):
    home = tmp_path / "mine"
    home.mkdir()
    home.chmod(0o755)
    with Registry(home=home) as registry:
        registry.register(run_dir, "penguins")
    assert mode(home) == 0o755
    assert mode(home / "registry.db") == 0o600 and mode(home / "artifacts") == 0o700


def test_the_deployment_certificate_and_its_key_are_private(tmp_path, loose_umask):
    path = self_signed_certificate(tmp_path / "gateway")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert b"PRIVATE KEY" in path.read_bytes()


def test_a_training_run_into_a_fresh_home_keeps_the_home_private(tmp_path, loose_umask):
    import pandas as pd
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import make_pipeline

    from verdict.pipeline._run import write_run

    home = tmp_path / ".verdict"
    run = home / "runs" / "first"
    model = make_pipeline(DummyClassifier()).fit([[0], [1]], [0, 1])
    write_run(run, {"seed": 0}, model, pd.DataFrame({"x": [1]}))
    assert mode(home) == mode(home / "runs") == mode(run) == 0o700
