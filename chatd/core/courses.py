"""Courses with selfhelp@: a sequence of short lessons (a data file like an instrument) and a discussion room.

A member enrols, gets the first lesson with the link to the course's room, and asks for the next
lesson when they are ready (`!next`): nothing arrives unasked. No I/O: the file's text comes in,
lessons' words and the member's place in the course go out.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from chatd.core.instruments import ID, Strict, Texts, parse_file


class Lesson(Strict):
    title: Texts
    text: Texts


class Course(Strict):
    id: str = Field(pattern=ID)
    title: Texts
    about: Texts
    room: Texts  # the topic room (its id in each realm's config) where members discuss the course
    source: str = ""
    lessons: tuple[Lesson, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Courses:
    all: tuple[Course, ...] = ()

    def get(self, course_id: str) -> Course | None:
        return next((c for c in self.all if c.id == course_id), None)


def parse_course(name: str, text: str) -> Course:
    """The course in a TOML file's text; InstrumentError "name:line: problem" when it is malformed."""
    return parse_file(name, text, Course)


@dataclass(frozen=True, slots=True)
class LessonShown:
    """What the member gets: a lesson (number from 1) in their language, and whether more follow."""

    number: int
    count: int
    title: str
    text: str
    more: bool


def lesson(course: Course, index: int, language: str) -> LessonShown | None:
    """The lesson at index (from 0), or None after the last one."""
    if index >= len(course.lessons):
        return None
    shown = course.lessons[index]
    more = index + 1 < len(course.lessons)
    return LessonShown(index + 1, len(course.lessons), shown.title(language), shown.text(language), more)
