"""What an exercise is: its cases, its hint, and the mistakes it recognises.

Each lesson's exercises are declared in ``gradlab/checks/lessonNN.py`` as a
list named ``EXERCISES``. Declaring one imports no TensorFlow: cases and
mistakes are functions, called only when a check runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    """One exercise of a lesson, checked by comparing a function with the reference."""

    lesson: int
    number: int
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


def exercises_of(lesson_number: int) -> list[Exercise]:
    """The exercises of a lesson, in order (empty if the lesson has none)."""
    try:
        module = importlib.import_module(f"gradlab.course.checks.lesson{lesson_number:02d}")
    except ModuleNotFoundError:
        return []
    return list(module.EXERCISES)
