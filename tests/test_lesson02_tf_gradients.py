"""Lesson 2: what it prints, and how its checks judge answers written in the lesson file."""

from __future__ import annotations

import pytest

from gradlab.course.catalogue import lesson
from gradlab.course.judge import check_file
from gradlab.course.verdict import FAIL, PASS, TODO
from tests.lesson_files import replace_function, with_solutions

EAGER_ERROR = (
    "RuntimeError: tf.gradients is not supported when eager execution is enabled. "
    "Use tf.GradientTape instead."
)


@pytest.mark.slow
def test_lesson_prints_the_eager_error_then_18_in_tf_function_and_in_a_session(lesson_scripts):
    result = lesson_scripts[2].result
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert lines[0] == EAGER_ERROR
    assert "list of 1 → 18.0" in lines  # tf.function
    assert "session.run → 18.0" in lines  # tf.compat.v1 Graph + Session
    assert "traces after three lengths: 1" in lines


def _variant(course, function: str, body: str):
    target = lesson(2)
    text = target.path.read_text(encoding="utf-8")
    path = course / "mine.py"
    path.write_text(replace_function(text, function, body), encoding="utf-8")
    return target, path


def test_an_eager_tf_gradients_call_is_named_with_the_line_it_is_on(course):
    target, path = _variant(
        course,
        "graph_gradient",
        "def graph_gradient(f, x):\n    return tf.gradients(f(x), x)[0]\n",
    )
    (verdict,) = check_file(target, path, only=1)
    assert verdict.status == FAIL
    assert verdict.mistake.name == "called tf.gradients eagerly"
    text = str(verdict)
    assert "RuntimeError: tf.gradients is not supported" in text
    assert "mine.py, line" in text


def test_tf_stop_gradient_in_place_of_stop_gradients_is_named(course):
    body = (
        "def partial_derivatives(model, x):\n"
        "    @tf.function\n"
        "    def partials(x):\n"
        "        y, u = model(x)\n"
        "        return tuple(tf.gradients(y, [x, tf.stop_gradient(u)]))\n"
        "\n"
        "    return partials(x)\n"
    )
    target, path = _variant(course, "partial_derivatives", body)
    (verdict,) = check_file(target, path, only=4)
    assert verdict.status == FAIL
    assert verdict.mistake.name == "tf.stop_gradient where stop_gradients was asked"


def test_pristine_lesson_is_all_todo_and_with_solutions_pasted_in_all_pass(course):
    target = lesson(2)
    assert {v.status for v in check_file(target, target.path)} == {TODO}
    pasted = course / "pasted.py"
    pasted.write_text(with_solutions(target), encoding="utf-8")
    assert [v.status for v in check_file(target, pasted)] == [PASS] * 6
