"""Every exercise: the reference passes and is right; stubs and known mistakes fail.

One shared check per exercise, parametrised over every lesson's exercises.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradlab.course.answers import Tolerance, compare
from gradlab.course.catalogue import lesson, lessons
from gradlab.course.exercise import Exercise, exercises_of
from gradlab.course.judge import check_exercise, check_file, reference_functions
from gradlab.course.pristine import pristine_text
from gradlab.course.verdict import PASS, TODO

EXERCISES = [item for target in lessons() for item in exercises_of(target.number)]
WITH_MISTAKES = [(item, m) for item in EXERCISES for m in item.mistakes]


def _id(value) -> str:
    return value.id if isinstance(value, Exercise) else value.name


def _reference(exercise: Exercise) -> dict:
    return reference_functions(lesson(exercise.lesson))


@pytest.fixture
def answers(request, exercise: Exercise) -> dict:
    """The functions under test, as chosen by --answers."""
    choice = request.config.getoption("--answers")
    target = lesson(exercise.lesson)
    if choice == "solutions":
        return reference_functions(target)
    if choice == "lessons":
        path = target.path
    else:
        wanted = request.config.getoption("--answers-lesson")
        if wanted is not None and wanted != exercise.lesson:
            pytest.skip(f"--answers is a file of lesson {wanted}")
        path = Path(choice)
    from gradlab.course.loading import load_exercise_cells

    return load_exercise_cells(path)


@pytest.mark.parametrize("exercise", EXERCISES, ids=_id)
def test_answer_passes_its_check(exercise, answers):
    verdict = check_exercise(exercise, answers.get(exercise.function), _reference(exercise))
    assert verdict.status == PASS, str(verdict)


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.truth], ids=_id)
def test_reference_agrees_with_an_independent_truth(exercise):
    reference = _reference(exercise)[exercise.function]
    tolerance = Tolerance(rtol=max(exercise.rtol, 1e-5), atol=exercise.atol, exact_dtype=False)
    for case in exercise.cases():
        arguments = case.make()
        truth = exercise.truth(*arguments.values())
        got = exercise.observe(reference, case.make())
        assert compare(got, truth, tolerance) is None, f"{exercise.id}: {got} vs {truth}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=_id)
def test_pristine_stub_is_not_written_yet(exercise):
    target = lesson(exercise.lesson)
    stub = {exercise.function: _stub_like(exercise)}
    verdict = check_exercise(exercise, stub[exercise.function], reference_functions(target))
    assert verdict.status == TODO
    assert exercise.hint_command in str(verdict)


def _stub_like(exercise: Exercise):
    def stub(*args):
        raise NotImplementedError(f"exercise {exercise.id}")

    return stub


@pytest.mark.parametrize(("exercise", "mistake"), WITH_MISTAKES, ids=_id)
def test_known_mistake_fails_and_is_named(exercise, mistake):
    verdict = check_exercise(exercise, mistake.answer, _reference(exercise))
    assert not verdict.passed
    assert verdict.mistake is mistake
    assert mistake.name in str(verdict) and mistake.advice in str(verdict)


@pytest.mark.parametrize("exercise", EXERCISES, ids=_id)
@pytest.mark.parametrize("kind", ["zero", "one", "the first input"])
def test_trivial_answer_fails(exercise, kind):
    reference = _reference(exercise)[exercise.function]
    expected = exercise.observe(reference, exercise.cases()[0].make())

    def trivial(*args):
        if kind == "the first input":
            return args[0]
        return _fill(expected, 0.0 if kind == "zero" else 1.0)

    verdict = check_exercise(exercise, trivial, _reference(exercise))
    assert not verdict.passed, f"{exercise.id} accepted {kind}"


def _fill(structure, value):
    if isinstance(structure, dict):
        return {key: _fill(item, value) for key, item in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_fill(item, value) for item in structure)
    return np.full(np.shape(structure), value, dtype=np.asarray(structure).dtype)


@pytest.mark.parametrize("target", lessons(), ids=lambda t: f"lesson{t.number}")
def test_pristine_lesson_file_has_every_exercise_not_written(target, tmp_path):
    pristine = tmp_path / target.path.name
    pristine.write_text(pristine_text(target), encoding="utf-8")
    verdicts = check_file(target, pristine)
    assert [v.status for v in verdicts] == [TODO] * len(exercises_of(target.number))
