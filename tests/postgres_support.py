"""A throwaway PostgreSQL database per test, on the server ``.ci/run`` starts.

Not a conftest: the registry, state and link tests import what they need. Tests skip when
``VERDICT_TEST_POSTGRES_URL`` is not set (CI sets it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_URL = os.environ.get("VERDICT_TEST_POSTGRES_URL")
SKIP_REASON = "VERDICT_TEST_POSTGRES_URL is not set (.ci/run starts a server)"


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """The URL of a new empty database named ``<prefix>_<random>``, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_REASON)
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
