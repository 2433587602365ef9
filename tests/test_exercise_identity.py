"""An exercise's identity comes from one place; a broken checks module is never "0 exercises"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from gradlab.course.exercise import (
    BrokenChecks,
    Exercise,
    exercises_of,
    find_exercise,
    numbered,
    parse_reference,
)
from gradlab.course.messages import CourseError
from tests.lesson_files import ROOT


def _declared(**identity) -> Exercise:
    return Exercise(function="f", title="t", hint="h?", cases=list, **identity)


def test_lesson_and_number_come_from_module_and_position():
    first, second = numbered("gradlab.course.checks.lesson08", [_declared(), _declared()])
    assert (first.id, second.id) == ("8.1", "8.2")
    assert second.hint_command == "python -m gradlab.lesson 8 hint 2"


def test_a_declaration_that_still_says_its_number_must_agree():
    agreeing = numbered("gradlab.course.checks.lesson08", [_declared(lesson=8, number=1)])
    assert agreeing[0].id == "8.1"
    with pytest.raises(BrokenChecks, match="number=3"):
        numbered("gradlab.course.checks.lesson08", [_declared(lesson=8, number=3)])
    with pytest.raises(BrokenChecks, match="lesson=7"):
        numbered("gradlab.course.checks.lesson08", [_declared(lesson=7)])


def test_every_lesson_is_numbered_by_position():
    for number in range(1, 8):
        exercises = exercises_of(number)
        assert [e.id for e in exercises] == [f"{number}.{k}" for k in range(1, len(exercises) + 1)]


@pytest.mark.parametrize(
    ("text", "lesson", "expected"),
    [("2", 1, (1, 2)), ("1.2", 1, (1, 2)), (" 3 ", 5, (5, 3)), ("5.3", None, (5, 3))],
)
def test_references_that_parse(text, lesson, expected):
    assert parse_reference(text, lesson) == expected


@pytest.mark.parametrize(
    ("text", "lesson", "words"),
    [
        ("2", None, "not an exercise number"),  # gradlab.check needs L.K
        ("2.1", 1, "not in lesson 1"),
        ("²", 1, "not an exercise number"),
        ("1.٣", 1, "not an exercise number"),
        ("1.2.3", 1, "not an exercise number"),
        ("-1", 1, "not an exercise number"),
        ("9", 1, "has no exercise 9"),
        ("0", 1, "has no exercise 0"),
    ],
)
def test_references_that_do_not(text, lesson, words):
    with pytest.raises(CourseError, match=words):
        find_exercise(text, lesson)


def test_hint_solution_check_and_notebook_agree_on_which_exercise(course, capsys):
    import gradlab
    from gradlab.lesson import main

    main(["5", "hint", "3"])
    hint = capsys.readouterr().out
    main(["5", "solution", "5.3", "--yes"])
    solution = capsys.readouterr().out
    main(["5", "check", "3"])
    check = capsys.readouterr().out
    gradlab.check("5.3", lambda f, x: None)
    notebook = capsys.readouterr().out
    for out in (hint, check, notebook):
        assert "5.3 hessian_of" in out, out
    assert "def hessian_of" in solution


BROKEN_IMPORT = "import gradlab.course.checks.no_such_helper  # a helper that was renamed\n"


@pytest.fixture
def broken_checks(tmp_path):
    """A copy of the package whose lesson 1 checks import a module that does not exist."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "gradlab", site / "gradlab", ignore=shutil.ignore_patterns("*.pyc"))
    checks = site / "gradlab" / "course" / "checks" / "lesson01.py"
    text = checks.read_text(encoding="utf-8")
    future = "from __future__ import annotations\n"
    checks.write_text(text.replace(future, future + BROKEN_IMPORT, 1), encoding="utf-8")
    return site


@pytest.mark.parametrize("argv", [["1", "hint", "1"], ["1", "check"], []])
def test_checks_that_fail_to_import_show_the_traceback(course, broken_checks, argv):
    result = subprocess.run(
        [sys.executable, "-m", "gradlab.lesson", *argv],
        capture_output=True,
        text=True,
        cwd=course,
        env={**os.environ, "GRADLAB_HOME": str(course), "PYTHONPATH": str(broken_checks)},
        timeout=300,
    )
    assert result.returncode not in (0, 2), result.stdout + result.stderr
    assert "Traceback" in result.stderr
    assert "No module named 'gradlab.course.checks.no_such_helper'" in result.stderr
    assert "BrokenChecks: gradlab.course.checks.lesson01 failed to import" in result.stderr
    assert "0/0" not in result.stdout and "1 to 0" not in result.stderr
