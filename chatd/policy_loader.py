"""Loads what the config points to: the moderation policy and its settings, the resource library."""

from __future__ import annotations

import importlib
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


class PolicyLoadError(Exception):
    pass


Parsed = TypeVar("Parsed")


def configured_policy(config: Config) -> Policy:
    """The policy chatd's config names; links to chatd's own upload service are uploads (house.upload)."""
    prefixes = [config.uploads.base_url] if config.uploads else []
    return load_policy(config.moderation.policy, config.moderation.policies_file, prefixes)


def load_policy(spec: str, settings_file: str, upload_prefixes: Sequence[str] = ()) -> Policy:
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
    policy: Policy = target(settings, i18n.label)
    return policy


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
