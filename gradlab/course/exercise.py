"""What an exercise is: its cases, its hint, and the mistakes it recognises.

Each lesson's exercises are declared in ``gradlab/course/checks/lessonNN.py`` as
a list named ``EXERCISES``. Declaring one imports no TensorFlow: cases and
mistakes are functions, called only when a check runs.

An exercise's identity is decided here and nowhere else: its lesson is the
``NN`` of the checks module (the lesson file's number), its number is its
position in ``EXERCISES``, counting from 1. :func:`exercises_of` stamps both on
each declaration (a declaration that still says ``lesson=`` or ``number=`` must
agree), and :func:`find_exercise` turns what a learner typed ("K" or "L.K")
into the exercise, for the command line, ``gradlab.check`` and the tests alike.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from gradlab.course.messages import CourseError

Arguments = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One call to check: ``make()`` builds fresh arguments (by parameter name) each time.

    Fresh arguments matter: an answer may assign to a variable or train a
    model, and the reference must not see what the learner's function did.
    """

    make: Callable[[], Arguments]


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: a function that makes it, and what to say when it is seen."""

    name: str
    advice: str
    answer: Callable[..., Any]


@dataclass(frozen=True)
class Exercise:
    """One exercise of a lesson, checked by comparing a function with the reference.

    ``lesson`` and ``number`` are filled in by :func:`exercises_of`; a
    declaration leaves them out.
    """

    function: str
    title: str
    hint: str
    cases: Callable[[], list[Case]]
    mistakes: tuple[Mistake, ...] = ()
    truth: Callable[..., Any] | None = None
    """An independent answer (closed form, finite differences) the reference must match."""
    run: Callable[[Callable[..., Any], Arguments], Any] | None = None
    """How a function is exercised; by default it is called with the case's arguments."""
    rtol: float = 1e-5
    atol: float = 1e-6
    time_limit: float = 5.0
    exact_dtype: bool = True
    lesson: int = field(default=0, kw_only=True)
    number: int = field(default=0, kw_only=True)

    @property
    def id(self) -> str:
        """``"L.K"``: lesson L, exercise K."""
        return f"{self.lesson}.{self.number}"

    def observe(self, function: Callable[..., Any], arguments: Arguments) -> Any:
        """What is compared: ``function``'s result, or what :attr:`run` makes of it."""
        if self.run is not None:
            return self.run(function, arguments)
        return function(*arguments.values())

    @property
    def hint_command(self) -> str:
        """The command that prints this exercise's hint."""
        return f"python -m gradlab.lesson {self.lesson} hint {self.number}"


class Labelled:
    """A callable argument that shows up in messages as its source, not as ``<lambda>``."""

    def __init__(self, label: str, function: Callable[..., Any]) -> None:
        self.label = label
        self.function = function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return self.label


CHECKS_PACKAGE = "gradlab.course.checks"


class BrokenChecks(Exception):
    """A lesson's checks module cannot be imported or declares its exercises wrongly.

    A bug in the course, not in the learner's answer: shown with its traceback.
    """


def checks_module_name(lesson_number: int) -> str:
    """``gradlab.course.checks.lessonNN``, where lesson ``lesson_number``'s exercises are."""
    return f"{CHECKS_PACKAGE}.lesson{lesson_number:02d}"


def exercises_of(lesson_number: int) -> list[Exercise]:
    """The exercises of a lesson, in order, numbered (empty if it has no checks module).

    Raises :class:`BrokenChecks` (chained to the real error, so the traceback
    shows it) if the checks module exists but fails to import.
    """
    return list(_numbered(lesson_number))


@cache
def _numbered(lesson_number: int) -> tuple[Exercise, ...]:
    name = checks_module_name(lesson_number)
    if importlib.util.find_spec(name) is None:
        return ()
    try:
        module = importlib.import_module(name)
    except Exception as error:
        raise BrokenChecks(f"{name} failed to import: {type(error).__name__}: {error}") from error
    return tuple(numbered(name, module.EXERCISES))


def numbered(module: str, declared: list[Exercise]) -> list[Exercise]:
    """``declared`` with each exercise's lesson and number stamped on it.

    The lesson is the ``NN`` of ``module`` (``gradlab.course.checks.lessonNN``),
    the number the exercise's position. A checks module ends with
    ``EXERCISES = numbered(__name__, _DECLARED)``, ``_DECLARED`` being its list
    of ``Exercise(function=..., title=..., hint=..., cases=..., ...)``.
    """
    found = re.fullmatch(r".*\.lesson(?P<number>[0-9]{2})", module, re.ASCII)
    if found is None:
        raise BrokenChecks(f"{module} is not named like {CHECKS_PACKAGE}.lessonNN")
    lesson_number = int(found["number"])
    return [
        _stamped(item, lesson_number, position, module)
        for position, item in enumerate(declared, start=1)
    ]


def _stamped(item: Exercise, lesson_number: int, position: int, module: str) -> Exercise:
    for what, declared, actual in (
        ("lesson", item.lesson, lesson_number),
        ("number", item.number, position),
    ):
        if declared not in (0, actual):
            raise BrokenChecks(
                f"{module}: the exercise at position {position} ({item.function}) says "
                f"{what}={declared}, but by module and position it is {lesson_number}.{position}"
            )
    return dataclasses.replace(item, lesson=lesson_number, number=position)


_REFERENCE = re.compile(r"(?:(?P<lesson>[0-9]+)\.)?(?P<exercise>[0-9]+)", re.ASCII)


def parse_reference(text: str, lesson_number: int | None = None) -> tuple[int, int]:
    """``"L.K"`` → ``(L, K)``; a bare ``"K"`` belongs to ``lesson_number``.

    Only ASCII digits count. Raises :class:`CourseError` for anything else,
    or for an ``L.K`` whose ``L`` is not ``lesson_number``.
    """
    match = _REFERENCE.fullmatch(str(text).strip())
    if match is None or (match["lesson"] is None and lesson_number is None):
        example = "K or L.K, like 2 or 1.2" if lesson_number is not None else 'L.K, like "1.2"'
        raise CourseError(f"{str(text)!r} is not an exercise number: write it as {example}")
    lesson_part = int(match["lesson"]) if match["lesson"] is not None else lesson_number
    if lesson_number is not None and lesson_part != lesson_number:
        raise CourseError(f"exercise {text} is not in lesson {lesson_number}")
    return lesson_part, int(match["exercise"])


def find_exercise(text: str, lesson_number: int | None = None) -> Exercise:
    """The exercise ``text`` names (see :func:`parse_reference`); :class:`CourseError` if none."""
    lesson_part, number = parse_reference(text, lesson_number)
    exercises = exercises_of(lesson_part)
    if not exercises:
        raise CourseError(f"lesson {lesson_part} has no exercises")
    if not 1 <= number <= len(exercises):
        raise CourseError(
            f"lesson {lesson_part} has no exercise {number}: it has 1 to {len(exercises)}"
        )
    return exercises[number - 1]
