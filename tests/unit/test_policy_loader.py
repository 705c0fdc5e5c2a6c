"""The built policy kept beside chatd's files: read back at the next start instead of built again."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from chatd.policy_loader import load_policy
from policies import Context, Label
from tests.support.seam_policy import KeywordPolicy

BUILT: list[dict[str, Any]] = []  # the settings of every build, in order
COUNTED = "tests.unit.test_policy_loader:counted"


def counted(settings: dict[str, Any], label: Label) -> KeywordPolicy:
    BUILT.append(settings)
    return KeywordPolicy(label)


def unpicklable(settings: dict[str, Any], label: Label) -> KeywordPolicy:
    policy = KeywordPolicy(label)
    policy.label = lambda kind, language: kind  # a lambda cannot be kept
    return policy


def settings_file(folder: Path, text: str = "[actions]\npii = 'redact'\n") -> str:
    path = folder / "policies.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def kept(folder: Path) -> list[Path]:
    return sorted(folder.glob("policy-*.pickle"))


@pytest.fixture(autouse=True)
def no_builds_yet() -> None:
    BUILT.clear()


def test_a_policy_is_built_once_then_read_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_file(tmp_path)
    first = load_policy(COUNTED, settings, (), tmp_path)
    [file] = kept(tmp_path)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # chatd's own file, as its database
    with caplog.at_level(logging.INFO, logger="chatd.policy"):
        second = load_policy(COUNTED, settings, (), tmp_path)
    assert len(BUILT) == 1 and "policy read back built" in caplog.text
    assert isinstance(second, KeywordPolicy) and second is not first
    assert second.review("HOLDME", _context()).action == first.review("HOLDME", _context()).action


def test_other_settings_build_again_and_replace_the_kept_one(tmp_path: Path) -> None:
    load_policy(COUNTED, settings_file(tmp_path), (), tmp_path)
    [before] = kept(tmp_path)
    load_policy(COUNTED, settings_file(tmp_path, "[actions]\npii = 'hold'\n"), (), tmp_path)
    load_policy(COUNTED, settings_file(tmp_path, "[actions]\npii = 'hold'\n"), ("https://up.example/",), tmp_path)
    assert len(BUILT) == 3 and BUILT[1] != BUILT[0] and BUILT[2] != BUILT[1]
    [after] = kept(tmp_path)  # only the latest is kept
    assert after != before


def test_an_unreadable_kept_policy_is_built_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_file(tmp_path)
    load_policy(COUNTED, settings, (), tmp_path)
    [file] = kept(tmp_path)
    file.write_bytes(b"half a file")
    with caplog.at_level(logging.WARNING, logger="chatd.policy"):
        policy = load_policy(COUNTED, settings, (), tmp_path)
    assert len(BUILT) == 2 and "could not be read (UnpicklingError): building it" in caplog.text
    assert policy.review("REJECTME", _context()).action.value == "reject"
    load_policy(COUNTED, settings, (), tmp_path)
    assert len(BUILT) == 2  # kept again whole, and read back


def test_a_policy_that_cannot_be_kept_is_built_every_time(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="chatd.policy"):
        load_policy("tests.unit.test_policy_loader:unpicklable", settings_file(tmp_path), (), tmp_path)
    assert kept(tmp_path) == [] and list(tmp_path.glob("*.partial")) == []
    assert "cannot be kept built" in caplog.text


def test_a_folder_that_refuses_the_file_costs_only_the_next_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "not-there"
    with caplog.at_level(logging.WARNING, logger="chatd.policy"):
        policy = load_policy(COUNTED, settings_file(tmp_path), (), missing)
    assert policy.review("hello", _context()).action.value == "deliver"
    assert "was not kept (FileNotFoundError)" in caplog.text


def _context() -> Context:
    return Context(realm="en", language="en")
