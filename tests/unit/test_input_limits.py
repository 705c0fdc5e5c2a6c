"""Shape limits: deep, wide and long stanzas are recognised without recursion."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as hs

from chatd.core.input_limits import InputLimits, shape_problem

LIMITS = InputLimits(max_depth=8, max_attributes=4, max_attribute_chars=16, max_children=5)


def nested(depth: int) -> ET.Element:
    return ET.fromstring("<message>" + "<x>" * (depth - 1) + "</x>" * (depth - 1) + "</message>")


def test_an_ordinary_stanza_passes() -> None:
    stanza = ET.fromstring("<message to='a@b' id='1' type='chat'><body>hi</body><x xmlns='y'><i/></x></message>")
    assert shape_problem(stanza, LIMITS) is None


def test_depth_at_the_limit_passes_and_one_more_is_refused() -> None:
    assert shape_problem(nested(8), LIMITS) is None
    assert shape_problem(nested(9), LIMITS) == "depth"


def test_nesting_far_beyond_the_recursion_limit_is_refused_without_recursion() -> None:
    assert shape_problem(nested(50_000), InputLimits()) == "depth"


def test_attribute_count_length_and_children_are_limited() -> None:
    assert shape_problem(ET.fromstring("<m a='1' b='2' c='3' d='4' e='5'/>"), LIMITS) == "attributes"
    assert shape_problem(ET.fromstring(f"<m a='{'x' * 17}'/>"), LIMITS) == "name_length"
    assert shape_problem(ET.fromstring(f"<m><{'y' * 17}/></m>"), LIMITS) == "name_length"
    assert shape_problem(ET.fromstring("<m>" + "<c/>" * 6 + "</m>"), LIMITS) == "children"


@given(depth=hs.integers(1, 40), width=hs.integers(0, 8), attributes=hs.integers(0, 6))
def test_a_problem_is_named_exactly_when_a_limit_is_crossed(depth: int, width: int, attributes: int) -> None:
    stanza = nested(depth)
    for index in range(attributes):
        stanza.set(f"a{index}", "v")
    for _ in range(width):
        ET.SubElement(stanza, "c")
    crossed = {
        name
        for name, over in (("depth", depth > 8), ("children", width + (depth > 1) > 5), ("attributes", attributes > 4))
        if over
    }
    problem = shape_problem(stanza, LIMITS)
    assert problem in crossed if crossed else problem is None
