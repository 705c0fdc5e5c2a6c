"""House rules: respect (slurs, harassment), graphic detail, links and uploads, flood."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.kinds import Hit
from policies.lexicon import WordHit, expand, longest_first, read_rows
from policies.normalize import Normalized
from policies.pii import find_urls
from policies.types import Context

LEXICONS = ("house_en.tsv", "house_fr.tsv")
UPLOAD_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".heic", ".webp", ".mp4", ".mov", ".pdf")


class HouseRules:
    """Its lexicon is matched by the engine's word matcher, like the risk lexicon."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.entries: list[tuple[str, tuple[str, int]]] = []
        for name in LEXICONS:
            for phrase, kind, severity in read_rows(name):
                self.entries += [(form, (kind, int(severity))) for form in expand(phrase)]
        flood = settings.get("flood", {})
        self._flood_limit = int(flood.get("max_messages", 8))
        self._new_member_flood_limit = int(flood.get("new_member_max_messages", 4))
        uploads = settings.get("uploads", {})
        prefixes: Sequence[str] = uploads.get("url_prefixes", [])
        self._upload_prefixes = tuple(prefix.lower() for prefix in prefixes)

    def find(self, norm: Normalized, context: Context, words: list[WordHit]) -> list[Hit]:
        # an "ok" phrase covers an ordinary use of a listed word ("20 minutes de retard")
        hits: list[Hit] = [
            (f"house.{kind}", severity, start, end)
            for start, end, (kind, severity) in longest_first(set(words))
            if kind != "ok"
        ]
        for start, end in find_urls(norm.lower):
            url = norm.lower[start:end]
            if url.startswith(self._upload_prefixes) or url.endswith(UPLOAD_EXTENSIONS):
                hits.append(("house.upload", 2, start, end))
        limit = self._new_member_flood_limit if context.new_member else self._flood_limit
        if context.recent_messages >= limit:
            hits.append(("house.flood", 2, 0, len(norm.lower)))
        return hits
