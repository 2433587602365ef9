"""Verdicts on exercises and how they are printed."""

from __future__ import annotations

from dataclasses import dataclass, field

from gradlab.course.exercise import Exercise, Mistake

PASS, FAIL, TODO, ERROR = "pass", "fail", "todo", "error"
_MARK = {PASS: "✓", FAIL: "✗", TODO: "✗", ERROR: "✗"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one exercise, with the evidence for it.

    ``status`` is ``pass``; ``fail`` (a wrong value, or a known mistake);
    ``todo`` (the stub is still there); or ``error`` (the function raised, timed
    out, or returned the wrong kind of value).
    """

    exercise: Exercise
    status: str
    summary: str
    details: tuple[tuple[str, str], ...] = field(default=())
    mistake: Mistake | None = None

    @property
    def passed(self) -> bool:
        """Whether the exercise passed."""
        return self.status == PASS

    def __str__(self) -> str:
        head = f"{_MARK[self.status]} {self.exercise.id} {self.exercise.function}: {self.summary}"
        width = max((len(label) for label, _ in self.details), default=0)
        body = [f"    {label.ljust(width)}  {text}" for label, text in self.details]
        return "\n".join([head, *body])


def exit_status(verdicts: list[Verdict]) -> int:
    """0 if every exercise passed, 2 if one could not be judged, else 1."""
    if any(verdict.status == ERROR for verdict in verdicts):
        return 2
    return 0 if all(verdict.passed for verdict in verdicts) else 1


def tally(verdicts: list[Verdict]) -> str:
    """``"3 of 5 exercises passed"``."""
    passed = sum(verdict.passed for verdict in verdicts)
    noun = "exercise" if len(verdicts) == 1 else "exercises"
    return f"{passed} of {len(verdicts)} {noun} passed"


def tally_line(lesson_number: int, verdicts: list[Verdict]) -> str:
    """``"lesson 1: 3 of 5 exercises passed"``: how ``check`` and each ``watch`` round end."""
    return f"lesson {lesson_number}: {tally(verdicts)}"
