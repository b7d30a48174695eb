"""Several processes writing one registry at once: distinct versions, atomic alias moves."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from verdict.registry import Registry

pytestmark = pytest.mark.slow  # several Python processes, each importing the stack

WORKERS = 4


def _spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


REGISTER = """
    import sys, time
    from verdict.registry import Registry
    url, store, run, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    registry = Registry(url, store)
    time.sleep(max(0.0, start - time.time()))  # every process writes at the same moment
    print(registry.register(run, "penguins").version)
"""


def test_processes_registering_at_once_all_succeed_with_distinct_versions(
    registry_url, tmp_path, run_dirs
):
    store = str(tmp_path / "artifacts")
    Registry(registry_url, store).close()  # migrated once; the race is on the versions
    start = f"{time.time() + 6.0}"  # after every interpreter has imported verdict
    runs = [run_dirs[f] for f in ("softmax", "decision_tree", "softmax", "random_forest")]
    procs = [_spawn(REGISTER, registry_url, store, str(run), start) for run in runs]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * WORKERS, [err for _, err in outputs]
    versions = sorted(int(out.strip()) for out, _ in outputs)
    assert versions == list(range(1, WORKERS + 1))
    with Registry(registry_url, store) as registry:
        for version in versions:
            assert registry.load(f"penguins@v{version}").version == version


def test_processes_opening_a_new_registry_at_once_migrate_it_once(registry_url, tmp_path):
    code = """
        import sys, time
        time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
        from verdict.registry import Registry
        Registry(sys.argv[1], sys.argv[2]).models()
    """
    start = f"{time.time() + 1.0}"
    procs = [_spawn(code, registry_url, str(tmp_path / "a"), start) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]


READ = """
    import sys, time
    from verdict.registry import Registry
    registry = Registry(sys.argv[1], sys.argv[2])
    seen, deadline = set(), time.time() + float(sys.argv[3])
    while time.time() < deadline:
        version = registry.get("penguins@production")
        assert version.aliases == ("production",), version.aliases  # never half-moved
        seen.add(version.version)
    print(sorted(seen))
"""


def test_an_alias_moves_atomically_under_concurrent_readers(registry_url, tmp_path, run_dirs):
    store = str(tmp_path / "artifacts")
    with Registry(registry_url, store) as registry:
        registry.register(run_dirs["softmax"], "penguins", alias="production")
        registry.register(run_dirs["decision_tree"], "penguins")
        reader = _spawn(READ, registry_url, store, "8")
        time.sleep(3.0)  # the reader is up and reading
        moves = 0
        deadline = time.time() + 4.0
        while time.time() < deadline:
            registry.promote(f"penguins@v{1 + (moves + 1) % 2}")
            moves += 1
        out, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, err
        assert set(json.loads(out)) <= {1, 2}  # the reader only ever saw whole versions
        assert moves > 10
        moved = [e for e in registry.events("penguins") if e.kind == "alias"]
        assert len(moved) == moves + 1  # each move recorded once, none lost
        assert registry.get("penguins@production").version == 1 + moves % 2
