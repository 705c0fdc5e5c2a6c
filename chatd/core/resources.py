"""The resource library: checked support services by topic, in English and French."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("en", "fr")


class ResourceError(ValueError):
    """The resource library's settings are incomplete."""


@dataclass(frozen=True, slots=True)
class Resource:
    id: str
    topics: tuple[str, ...]
    name: Mapping[str, str]
    contact: Mapping[str, str]
    hours: Mapping[str, str]

    def line(self, language: str) -> str:
        return f"• {self.name[language]}: {self.contact[language]} ({self.hours[language]})"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip(" !?.¿¡")


class ResourceLibrary:
    def __init__(self, resources: Sequence[Resource], topic_words: Mapping[str, Sequence[str]]):
        self.resources = tuple(resources)
        self.topics = tuple(topic_words)
        self._words = {_fold(word): topic for topic, words in topic_words.items() for word in (topic, *words)}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ResourceLibrary:
        topic_words: dict[str, list[str]] = {t: list(w) for t, w in settings.get("topics", {}).items()}
        resources = []
        for entry in settings.get("resource", []):
            fields = {}
            for field in ("name", "contact", "hours"):
                missing = [lang for lang in LANGUAGES if not entry.get(f"{field}_{lang}")]
                if missing:
                    raise ResourceError(f"resource {entry.get('id', '?')}: {field} missing in {', '.join(missing)}")
                fields[field] = {lang: str(entry[f"{field}_{lang}"]) for lang in LANGUAGES}
            topics = tuple(entry.get("topics", ()))
            unknown = [t for t in topics if t not in topic_words]
            if unknown:
                raise ResourceError(f"resource {entry.get('id', '?')}: unknown topics {unknown}")
            resources.append(Resource(str(entry["id"]), topics, fields["name"], fields["contact"], fields["hours"]))
        return cls(resources, topic_words)

    def topic_of(self, request: str) -> str | None:
        """The topic a member asked for, by its id or one of its words."""
        return self._words.get(_fold(request))

    def for_topic(self, topic: str, language: str) -> list[str]:
        return [r.line(language) for r in self.resources if topic in r.topics]
