"""Loads what the config points to: the moderation policy and its settings, the resource library."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import json
import logging
import os
import pickle
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from chatd import i18n
from chatd.config import Config
from chatd.core.courses import Course, Courses, parse_course
from chatd.core.instruments import Instrument, InstrumentError, Instruments, line_of, parse_instrument
from chatd.core.resources import ResourceError, ResourceLibrary
from policies import Policy

log = logging.getLogger("chatd.policy")


class PolicyLoadError(Exception):
    pass


Parsed = TypeVar("Parsed")


def configured_policy(config: Config) -> Policy:
    """The policy chatd's config names; links to chatd's own upload service are uploads (house.upload).
    Kept built beside chatd's own files, so that a restart does not build it again."""
    prefixes = [config.uploads.base_url] if config.uploads else []
    folder = config.store.local_path.parent
    return load_policy(config.moderation.policy, config.moderation.policies_file, prefixes, folder)


def load_policy(
    spec: str, settings_file: str, upload_prefixes: Sequence[str] = (), kept_in: Path | None = None
) -> Policy:
    """The policy spec names, built with its settings; with kept_in, read back from there when it was built
    from the same code, data, settings and packages, and kept there after building otherwise."""
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise PolicyLoadError(f"moderation.policy: expected 'module:callable', got {spec!r}")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr_path.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise PolicyLoadError(f"moderation.policy: cannot load {spec!r}: {exc}") from exc
    settings = read_settings(settings_file, "moderation.policies_file") if settings_file else {}
    if upload_prefixes:  # no operator step: the upload host feeds the upload rule
        uploads = dict(settings.get("uploads", {}))
        uploads["url_prefixes"] = [*uploads.get("url_prefixes", []), *upload_prefixes]
        settings = {**settings, "uploads": uploads}
    digest = built_from(spec, module_name, settings) if kept_in else None
    kept = kept_in / f"policy-{digest}.pickle" if kept_in and digest else None
    if kept is not None and (read := _read_kept(kept)) is not None:
        return read
    policy: Policy = target(settings, i18n.label)
    if kept is not None:
        _keep(policy, kept)
    return policy


def built_from(spec: str, module_name: str, settings: Mapping[str, Any]) -> str | None:
    """A digest of what a built policy depends on: the spec, its settings, every file of its top-level
    package (code and data), the Python version and every installed package's version. None when its
    files cannot be told (a namespace package): then it is built at every start."""
    top = importlib.import_module(module_name.partition(".")[0])
    if top.__file__ is None:
        return None
    digest = hashlib.sha256(f"{sys.version}\n{spec}\n".encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    origin = Path(top.__file__)
    files = sorted(origin.parent.rglob("*")) if origin.name == "__init__.py" else [origin]
    for file in files:
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(f"{file.relative_to(origin.parent)}\n".encode())
            digest.update(file.read_bytes())
    versions = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    digest.update("\n".join(versions).encode())
    return digest.hexdigest()[:24]


def _read_kept(path: Path) -> Policy | None:
    """A policy kept by an earlier start (chatd's own file, trusted as its database is); None if there is none
    or it cannot be read (then it is removed and the policy built again)."""
    try:
        with path.open("rb") as handle:
            policy: Policy = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as exc:  # whatever is wrong with the file, the policy is built again: never a failed start
        log.warning("the kept policy could not be read (%s): building it", type(exc).__name__)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return None
    log.info("policy read back built")
    return policy


def _keep(policy: Policy, path: Path) -> None:
    """Keeps the built policy for the next start (written whole, then renamed), in place of older ones."""
    try:
        data = pickle.dumps(policy, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        log.info("this policy cannot be kept built (%s): it is built at every start", type(exc).__name__)
        return
    partial = path.with_suffix(".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except OSError as exc:  # a full disk or a read-only folder: built again at the next start
        log.warning("the built policy was not kept (%s)", type(exc).__name__)
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        return
    for older in path.parent.glob("policy-*.pickle"):
        if older != path:
            with contextlib.suppress(OSError):
                older.unlink(missing_ok=True)


def read_settings(path: str, key: str) -> dict[str, Any]:
    """A TOML settings file; errors name the config key that pointed to it."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyLoadError(f"{key}: {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyLoadError(f"{key}: {path} is not valid TOML: {exc}") from exc


def load_resources(path: str) -> ResourceLibrary:
    try:
        return ResourceLibrary.from_settings(read_settings(path, "resources.file"))
    except ResourceError as exc:
        raise PolicyLoadError(f"resources.file: {path}: {exc}") from exc


def load_instruments(folder: str, library: ResourceLibrary) -> Instruments:
    """Every instrument file (*.toml) in the folder, in name order; the first malformed one stops the start
    with its file and line. A folder that does not exist offers none."""
    loaded: list[Instrument] = []
    for file, text in _data_files(folder):
        instrument = _parsed(file, text, parse_instrument)
        _unique(file, text, instrument.id, [i.id for i in loaded])
        for index, band in enumerate(instrument.bands):
            unknown = [t for t in band.resources if t not in library.topics]
            if unknown:
                line = line_of(text, ("bands", index, "resources"))
                problem = f"no resource topic {', '.join(unknown)} (the library has {', '.join(library.topics)})"
                raise PolicyLoadError(f"selfhelp: {file}:{line}: bands.{index}.resources: {problem}")
        loaded.append(instrument)
    return Instruments(tuple(loaded))


def load_courses(folder: str, rooms: Mapping[str, set[str]]) -> Courses:
    """Every course file (*.toml) in the folder; its room must be a topic room of each realm (language -> ids)."""
    loaded: list[Course] = []
    for file, text in _data_files(folder):
        course = _parsed(file, text, parse_course)
        _unique(file, text, course.id, [c.id for c in loaded])
        for language, ids in rooms.items():
            if course.room(language) not in ids:
                line = line_of(text, ("room", language))
                problem = f"no topic room {course.room(language)!r} in the {language} realm"
                raise PolicyLoadError(f"selfhelp: {file}:{line}: room.{language}: {problem}")
        loaded.append(course)
    return Courses(tuple(loaded))


def _data_files(folder: str) -> list[tuple[Path, str]]:
    path = Path(folder)
    if not path.is_dir():
        return []
    return [(file, file.read_text(encoding="utf-8")) for file in sorted(path.glob("*.toml"))]


def _parsed(file: Path, text: str, parse: Callable[[str, str], Parsed]) -> Parsed:
    try:
        return parse(str(file), text)
    except InstrumentError as exc:
        raise PolicyLoadError(f"selfhelp: {exc}") from exc


def _unique(file: Path, text: str, found: str, earlier: list[str]) -> None:
    if found in earlier:
        raise PolicyLoadError(f"selfhelp: {file}:{line_of(text, ('id',))}: a second file with id {found!r}")
