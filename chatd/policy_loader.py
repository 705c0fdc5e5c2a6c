"""Builds the configured moderation policy from "module:callable" and its TOML settings."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path
from typing import Any

from chatd import i18n
from policies import Policy


class PolicyLoadError(Exception):
    pass


def load_policy(spec: str, settings_file: str) -> Policy:
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise PolicyLoadError(f"moderation.policy: expected 'module:callable', got {spec!r}")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr_path.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise PolicyLoadError(f"moderation.policy: cannot load {spec!r}: {exc}") from exc
    path = Path(settings_file)
    settings: dict[str, Any] = {}
    if settings_file:
        try:
            settings = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise PolicyLoadError(f"moderation.policies_file: {path} not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise PolicyLoadError(f"moderation.policies_file: {path} is not valid TOML: {exc}") from exc
    policy: Policy = target(settings, i18n.label)
    return policy
