"""Self-help instruments (questionnaires) as data: items, answer options with scores, severity bands, flag rules.

An instrument is one TOML file (see conf/selfhelp/ and docs/selfhelp.md), validated here with pydantic.
`parse_instrument` takes the file's name and text (the reading is the caller's I/O) and raises an
InstrumentError that names the file and the line of the first problem.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

LANGUAGES = ("en", "fr")
ID = r"^[a-z0-9][a-z0-9-]{0,40}$"


class InstrumentError(ValueError):
    """An instrument (or course) file that cannot be used: "file:line: what is wrong"."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Model = TypeVar("Model", bound=Strict)


class Texts(Strict):
    """One text in every language."""

    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)

    def __call__(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


class Option(Strict):
    score: int = Field(ge=0, le=100)
    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)
    words: tuple[str, ...] = ()  # other words that choose it, in any language

    def label(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


class Item(Strict):
    id: str = Field(pattern=ID)
    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)
    options: tuple[Option, ...] = ()  # its own (e.g. scored in reverse); empty: the instrument's

    def text(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


class Band(Strict):
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    label: Texts
    meaning: Texts
    resources: tuple[str, ...] = ()  # resource-library topics shown with this band


class Flag(Strict):
    """ "item N answered at least S raises a risk alert to the Wall Guides" (N counts from 1)."""

    item: int = Field(ge=1)
    at_least: int = Field(ge=0)
    severity: int = Field(3, ge=1, le=3)


class Instrument(Strict):
    id: str = Field(pattern=ID)
    version: int = Field(1, ge=1)
    title: Texts
    intro: Texts
    means: Texts  # what the score means
    does_not_mean: Texts  # and what it does not
    source: str = ""  # where the items and scoring come from (for the clinical team)
    options: tuple[Option, ...] = ()
    items: tuple[Item, ...] = Field(min_length=1)
    bands: tuple[Band, ...] = Field(min_length=1)
    flags: tuple[Flag, ...] = ()

    def options_of(self, index: int) -> tuple[Option, ...]:
        return self.items[index].options or self.options

    @property
    def max_score(self) -> int:
        return sum(max(o.score for o in self.options_of(i)) for i in range(len(self.items)))

    def score(self, answers: Sequence[int]) -> int:
        """The total of the chosen options (answers: one option index per item)."""
        return sum(self.options_of(i)[choice].score for i, choice in enumerate(answers))

    def band(self, score: int) -> Band:
        return next(b for b in self.bands if b.min <= score <= b.max)

    def flag_for(self, index: int, choice: int) -> Flag | None:
        """The flag an answer raises (the most severe when several apply), if any."""
        score = self.options_of(index)[choice].score
        raised = [f for f in self.flags if f.item == index + 1 and score >= f.at_least]
        return max(raised, key=lambda f: f.severity, default=None)


@dataclass(frozen=True, slots=True)
class Instruments:
    """The instruments loaded at start, in file-name order."""

    all: tuple[Instrument, ...] = ()

    def get(self, instrument_id: str) -> Instrument | None:
        return next((i for i in self.all if i.id == instrument_id), None)

    def topics(self) -> set[str]:
        return {topic for i in self.all for band in i.bands for topic in band.resources}


def parse_instrument(name: str, text: str) -> Instrument:
    """The instrument in a TOML file's text; InstrumentError "name:line: problem" when it is malformed."""
    return parse_file(name, text, Instrument, inconsistency)


def parse_file(
    name: str,
    text: str,
    model: type[Model],
    check: Callable[[Model], tuple[tuple[object, ...], str] | None] = lambda _: None,
) -> Model:
    """A data file's model (an instrument, a course) from its TOML text; InstrumentError "name:line: problem"
    for the first problem: TOML syntax, a field (pydantic), or what `check` finds in the whole."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = at.group(1) if at else "1"
        raise InstrumentError(f"{name}:{line}: not valid TOML: {exc}") from exc
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()  # a misspelt key first: its line is the one to fix (its "missing" twin follows)
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        where: tuple[object, ...] = tuple(error["loc"])
        message = str(error["msg"])
    else:
        found = check(parsed)
        if found is None:
            return parsed
        where, message = found
    path = ".".join(str(part) for part in where) or "(the file)"
    raise InstrumentError(f"{name}:{line_of(text, where)}: {path}: {message}")


def inconsistency(instrument: Instrument) -> tuple[tuple[object, ...], str] | None:
    """The first thing that makes a well-formed instrument unusable: where it is, and what."""
    for index, item in enumerate(instrument.items):
        if len(instrument.options_of(index)) < 2:
            return ("items", index), f"item {index + 1} ({item.id}) has fewer than two answer options"
        if any(other.id == item.id for other in instrument.items[:index]):
            return ("items", index, "id"), f"a second item with id {item.id!r}"
    expected = 0
    whole = f"bands must cover every score from 0 to {instrument.max_score}, without gaps or overlaps"
    for index, band in sorted(enumerate(instrument.bands), key=lambda pair: pair[1].min):
        if band.min != expected:
            return ("bands", index, "min"), f"{whole}: expected min = {expected}"
        if band.max < band.min:
            return ("bands", index, "max"), f"{whole}: max is below min"
        expected = band.max + 1
    if expected != instrument.max_score + 1:
        last = max(range(len(instrument.bands)), key=lambda i: instrument.bands[i].max)
        return ("bands", last, "max"), f"{whole}: the last band must end at {instrument.max_score}"
    for index, flag in enumerate(instrument.flags):
        if flag.item > len(instrument.items):
            return ("flags", index, "item"), f"there is no item {flag.item} ({len(instrument.items)} items)"
    return None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def line_of(text: str, where: Sequence[object]) -> int:
    """The line (from 1) of a validation error's location, e.g. ("items", 2, "options", 0, "score").

    Follows the TOML tables and arrays of tables down the location; the key's line when found, else the
    line of the deepest table reached (1 for a problem with the whole file)."""
    counts: dict[tuple[object, ...], int] = {}  # each array of tables seen: its last index
    current: tuple[object, ...] = ()  # the table that lines now belong to: ("items", 2, "options", 0)
    best, best_depth = 1, 0
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            current = _table(header.group(1) == "[[", header.group(2).split("."), counts)
            depth = _shared(current, where)
            if depth == len(current) and depth > best_depth:
                best, best_depth = number, depth
            continue
        key = _KEY.match(line)
        if key:
            path = (*current, key.group(1))
            depth = _shared(path, where)
            if depth == len(path) and depth > best_depth:
                best, best_depth = number, depth
    return best


def _table(array: bool, names: list[str], counts: dict[tuple[object, ...], int]) -> tuple[object, ...]:
    """The location of a table header, counting arrays of tables ([[items]] is items.0, items.1 …)."""
    path: tuple[object, ...] = ()
    for position, name in enumerate(names):
        path = (*path, name)
        last = position == len(names) - 1
        if last and array:
            counts[path] = counts.get(path, -1) + 1
            for key in [k for k in counts if len(k) > len(path) and k[: len(path)] == path]:
                del counts[key]  # a new parent: its child arrays count again from 0
            path = (*path, counts[path])
        elif path in counts:
            path = (*path, counts[path])
    return path


def _shared(path: Sequence[object], where: Sequence[object]) -> int:
    """How many leading parts two locations share."""
    shared = 0
    for a, b in zip(path, where, strict=False):
        if a != b:
            break
        shared += 1
    return shared
