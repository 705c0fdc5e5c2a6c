from __future__ import annotations

import tomllib

import pytest

from policies.engine import PolicyEngine
from tests.unit.policies.support import SETTINGS_FILE, label


@pytest.fixture(scope="session")
def settings() -> dict:
    with SETTINGS_FILE.open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="session")
def engine(settings: dict) -> PolicyEngine:
    return PolicyEngine.from_settings(settings, label)
