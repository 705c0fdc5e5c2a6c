"""Shape limits for incoming stanzas, checked before anything walks a stanza recursively.

A stanza within the size limit can still be nested thousands of levels deep (a RecursionError
in any recursive serializer) or carry thousands of attributes or children. The walk here is
iterative and stops at the first limit crossed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InputLimits:
    max_depth: int = 24  # the stanza itself is depth 1; data forms and MAM results need about 6
    max_attributes: int = 32  # per element
    max_attribute_chars: int = 3072  # per name or value; a JID is at most 3071 bytes
    max_children: int = 512  # per element


def shape_problem(stanza: ET.Element, limits: InputLimits) -> str | None:
    """The first limit crossed ("depth", "attributes", "name_length", "children"), or None."""
    pending: list[tuple[ET.Element, int]] = [(stanza, 1)]
    while pending:
        element, depth = pending.pop()
        if depth > limits.max_depth:
            return "depth"
        attributes = element.attrib
        if len(attributes) > limits.max_attributes:
            return "attributes"
        longest = max((max(len(n), len(v)) for n, v in attributes.items()), default=0)
        if max(longest, len(element.tag)) > limits.max_attribute_chars:
            return "name_length"
        if len(element) > limits.max_children:
            return "children"
        pending.extend((child, depth + 1) for child in element)
    return None
