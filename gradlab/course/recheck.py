"""Re-check only what a save can have changed, in children forked from a warm process.

The process that creates a :class:`Rechecker` loads TensorFlow, the lesson's
checks and its reference solutions once (running no TensorFlow operation);
each :meth:`Rechecker.round` reads the lesson file, and checks again, each in
a fresh child, only the exercises whose :func:`exercise_keys` changed: the
setup cells, plus the exercise's function and the exercise-cell definitions
it uses, transitively, compared as syntax trees (a comment or a blank line
changes nothing). Everything else keeps its verdict; one that did not pass is
checked again if its code moved, since its message may cite a line.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gradlab.course import judge
from gradlab.course.catalogue import Lesson
from gradlab.course.cells import RUN_BEFORE_CHECKS, code_of, defined_names, parse_cells
from gradlab.course.exercise import Exercise, exercises_of
from gradlab.course.isolation import check_in_child
from gradlab.course.loading import compiled
from gradlab.course.verdict import Verdict

_EXERCISE = frozenset({"exercise"})


@dataclass(frozen=True)
class Key:
    """What one exercise's verdict depends on: its code, and where that code sits."""

    code: str
    lines: tuple[int, ...]


def exercise_keys(text: str, exercises: list[Exercise], path: Path | str) -> dict[int, Key]:
    """Each exercise's :class:`Key` in the lesson text; :class:`CourseError` on a syntax error."""
    cells = parse_cells(text)
    total = text.count("\n") + 1
    code = code_of(cells, _EXERCISE, total)
    # the setup cells' own text: lines added or removed elsewhere do not change it
    setup = "\0".join(
        cell.source for cell in cells if cell.kind == "code" and "setup" in cell.tags
    )
    compiled(code_of(cells, RUN_BEFORE_CHECKS, total), Path(path))  # a syntax error: one line
    tree = ast.parse(code)
    definitions: dict[str, list[ast.stmt]] = {}
    for node in tree.body:
        for name in defined_names(node):
            definitions.setdefault(name, []).append(node)
    keys = {}
    for exercise in exercises:
        nodes = list(_used(exercise.function, definitions))
        digest = hashlib.sha256(setup.encode())
        for node in nodes:
            digest.update(b"\0" + ast.dump(node).encode())  # comments and layout aside
        keys[exercise.number] = Key(digest.hexdigest(), tuple(node.lineno for node in nodes))
    return keys


def _used(name: str, definitions: dict[str, list[ast.stmt]]) -> Iterator[ast.stmt]:
    """The exercise-cell statements that define ``name`` and what they use, in file order."""
    seen: set[int] = set()
    pending = [name]
    found: list[ast.stmt] = []
    while pending:
        for node in definitions.get(pending.pop(), []):
            if id(node) in seen:
                continue
            seen.add(id(node))
            found.append(node)
            pending += [leaf.id for leaf in ast.walk(node) if isinstance(leaf, ast.Name)]
    yield from sorted(found, key=lambda node: node.lineno)


@dataclass
class _Known:
    key: Key
    verdict: Verdict


class Rechecker:
    """Checks one lesson file again and again, keeping the verdicts a save did not touch."""

    def __init__(self, target: Lesson) -> None:
        self.target = target
        self.exercises = exercises_of(target.number)
        self.reference = judge.reference_functions(target)  # imports TensorFlow, runs no op
        self._known: dict[int, _Known] = {}

    def round(self, show: Callable[[Verdict, bool], None]) -> list[Verdict]:
        """Check the file as saved now; ``show(verdict, fresh)`` each verdict in order.

        Raises :class:`CourseError` (one line) if the file is missing, unreadable,
        does not parse, or its setup and exercise cells cannot run.
        """
        keys = exercise_keys(self.target.text, self.exercises, self.target.path)
        verdicts = []
        for exercise in self.exercises:
            known = self._known.get(exercise.number)
            key = keys[exercise.number]
            fresh = known is None or not _still_valid(known, key)
            if fresh:
                verdict = check_in_child(exercise, self.target.path, self.reference)
                self._known[exercise.number] = _Known(key, verdict)
            else:
                verdict = known.verdict
            show(verdict, fresh)
            verdicts.append(verdict)
        return verdicts

    def forget(self) -> None:
        """Drop every kept verdict (the next round checks everything)."""
        self._known.clear()


def _still_valid(known: _Known, key: Key) -> bool:
    """Same code; and, unless it passed, the same lines (its message may cite one)."""
    if known.key.code != key.code:
        return False
    return known.verdict.passed or known.key.lines == key.lines
