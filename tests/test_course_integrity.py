"""The lesson contract, checked without running anything: every exercise of every lesson.

For each exercise declared in ``gradlab/course/checks/lessonNN.py``: its stub is
in an exercise cell of ``lessons/NN_*.py``, in the same order as the
declarations, and raises ``NotImplementedError`` naming the exercise and its
hint command; its reference is in ``solutions/NN_*.py``; the check cell under it
calls ``gradlab.check("L.K", function)``; and neither the stub nor the
reference needs a name that only a demo cell defines (``check`` runs only setup
and exercise cells, so such an answer would pass in Jupyter and fail in
``check``). And a helper the lesson reuses across exercises lives in a setup
cell, so a learner who calls it gets the same verdict in both.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass
from functools import cache

import pytest

from gradlab.course.catalogue import Lesson, lessons
from gradlab.course.cells import RUN_BEFORE_CHECKS, Cell, defined_names, parse_cells
from gradlab.course.exercise import Exercise, exercises_of
from gradlab.course.source import function_source, functions_in, is_stub

BUILTINS = frozenset(dir(builtins))
LESSONS = lessons()
EXERCISES = [item for target in LESSONS for item in exercises_of(target.number)]


@dataclass(frozen=True)
class LessonFile:
    """A lesson file of the course as it is on disk (pristine in a checkout), in cells."""

    target: Lesson
    cells: tuple[Cell, ...]

    @property
    def code(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.kind == "code"]

    def tagged(self, tag: str) -> list[Cell]:
        return [cell for cell in self.code if tag in cell.tags]

    @property
    def checked_names(self) -> set[str]:
        """What running the setup and exercise cells defines."""
        return {
            name
            for cell in self.code
            if cell.tags & RUN_BEFORE_CHECKS
            for node in _statements(cell)
            for name in defined_names(node)
        }


@cache
def lesson_file(number: int) -> LessonFile:
    target = next(item for item in LESSONS if item.number == number)
    return LessonFile(target, tuple(parse_cells(target.path.read_text(encoding="utf-8"))))


def _statements(cell: Cell) -> list[ast.stmt]:
    return ast.parse(cell.source).body


def _functions(cell: Cell) -> list[ast.FunctionDef]:
    return [node for node in _statements(cell) if isinstance(node, ast.FunctionDef)]


def global_names(source: str, function: str) -> set[str]:
    """The module-level names ``function`` (in ``source``) reads, nested scopes included."""
    module = symtable.symtable(source, "<exercise>", "exec")
    table = next(child for child in module.get_children() if child.get_name() == function)
    found: set[str] = set()
    pending = [table]
    while pending:
        scope = pending.pop()
        found |= {
            symbol.get_name()
            for symbol in scope.get_symbols()
            if symbol.is_global() and symbol.is_referenced()
        }
        pending += scope.get_children()
    return found


def _id(exercise: Exercise) -> str:
    return exercise.id


@pytest.mark.parametrize("target", LESSONS, ids=lambda t: f"lesson{t.number}")
def test_exercise_cells_hold_the_declared_exercises_in_order(target):
    declared = [item.function for item in exercises_of(target.number)]
    written = [
        f.name for cell in lesson_file(target.number).tagged("exercise") for f in _functions(cell)
    ]
    assert written == declared, (
        f"{target.path.name}: exercise cells define {written}, but "
        f"gradlab/course/checks/lesson{target.number:02d}.py declares {declared} (in this order)"
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=_id)
def test_stub_raises_not_implemented_naming_the_exercise(exercise):
    source = "".join(cell.source for cell in lesson_file(exercise.lesson).tagged("exercise"))
    stub = functions_in(source).get(exercise.function)
    assert stub is not None, f"{exercise.id}: no stub {exercise.function} in an exercise cell"
    assert is_stub(stub), f"{exercise.id}: {exercise.function} is not a pristine stub"
    message = ast.unparse(stub.body[-1])
    assert (
        f"exercise {exercise.id}" in message
        and exercise.hint_command.split("lesson ")[1] in message
    ), (
        f"{exercise.id}: the stub's NotImplementedError should name exercise {exercise.id} "
        f"and its hint command ({exercise.hint_command}): {message}"
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=_id)
def test_reference_solution_exists(exercise):
    target = lesson_file(exercise.lesson).target
    solutions = target.solution_path.read_text(encoding="utf-8")
    assert exercise.function in functions_in(solutions), (
        f"{exercise.id}: solutions/{target.path.name} has no function {exercise.function}"
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=_id)
def test_check_cell_under_the_exercise_calls_gradlab_check(exercise):
    code = lesson_file(exercise.lesson).code
    place = next(
        i
        for i, cell in enumerate(code)
        if "exercise" in cell.tags and exercise.function in {f.name for f in _functions(cell)}
    )
    following = code[place + 1] if place + 1 < len(code) else None
    assert following is not None and "check" in following.tags, (
        f"{exercise.id}: the cell after the exercise cell is not tagged check"
    )
    calls = [
        (node.args[0].value, node.args[1].id)
        for node in ast.walk(ast.parse(following.source))
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) == "gradlab.check"
        and len(node.args) == 2
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[1], ast.Name)
    ]
    assert calls == [(exercise.id, exercise.function)], (
        f"{exercise.id}: the check cell at line {following.first_line} should call "
        f'gradlab.check("{exercise.id}", {exercise.function}), not {calls}'
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=_id)
@pytest.mark.parametrize("side", ["stub", "reference"])
def test_exercise_needs_only_setup_and_exercise_names(exercise, side):
    lesson = lesson_file(exercise.lesson)
    if side == "stub":
        source = "".join(cell.source for cell in lesson.tagged("exercise"))
    else:
        source = lesson.target.solution_path.read_text(encoding="utf-8")
    function = function_source(source, exercise.function)
    missing = global_names(function, exercise.function) - lesson.checked_names - BUILTINS
    assert not missing, (
        f"{exercise.id}: the {side} of {exercise.function} uses {sorted(missing)}, which no "
        f"setup or exercise cell of {lesson.target.path.name} defines"
    )


def reused_helpers(lesson: LessonFile) -> list[str]:
    """Demo-cell functions used again after a later exercise, needing only setup names.

    Those are the lesson's tools (like lesson 5's ``gradient_and_hessian``): a
    learner reaches for them in an exercise, so they belong in a setup cell.
    """
    code = lesson.code
    available = lesson.checked_names | BUILTINS
    found = []
    for place, cell in enumerate(code):
        if cell.tags:
            continue
        for function in _functions(cell):
            later = code[place + 1 :]
            exercise_after = next((i for i, c in enumerate(later) if "exercise" in c.tags), None)
            if exercise_after is None:
                continue
            used_again = any(
                function.name in _loaded(other) for other in later[exercise_after + 1 :]
            )
            needs = global_names(ast.unparse(function), function.name)
            if used_again and needs <= available | {f.name for f in _functions(cell)}:
                found.append(f"{function.name} (line {cell.first_line + function.lineno - 1})")
    return found


def _loaded(cell: Cell) -> set[str]:
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


@pytest.mark.parametrize("target", LESSONS, ids=lambda t: f"lesson{t.number}")
def test_helpers_reused_across_exercises_live_in_setup_cells(target):
    helpers = reused_helpers(lesson_file(target.number))
    assert helpers == [], (
        f"{target.path.name}: demo cells define helpers that later sections reuse; a learner "
        f"who calls one passes in Jupyter and fails in check. Put them in a setup cell: {helpers}"
    )
