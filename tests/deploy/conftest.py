"""Fixtures for the deploy tests."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from deploy_support import BASE


@pytest.fixture
def spec_dict() -> dict[str, Any]:
    """A fresh copy of a valid four-target spec (eu strict on aws+gcp, us preferred)."""
    return copy.deepcopy(BASE)
