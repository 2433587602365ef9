"""Every lesson runs as a script and as a notebook on a real kernel, quietly.

Each lesson is executed once per session for all the tests that read it (see
``executed_lessons`` and ``lesson_scripts`` in ``conftest.py``).
"""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest

from gradlab.course.catalogue import lessons
from gradlab.course.execute import problems
from gradlab.course.exercise import exercises_of
from gradlab.tfsupport.quiet import TENSORFLOW_NOISE
from tests.lesson_files import run_in_course
from tests.lesson_runs import shortest_lesson

LESSONS = lessons()
# A line that makes TensorFlow start: importing it, or Keras (which imports it).
_STARTS_TENSORFLOW = re.compile(r"^\s*(?:import|from)\s+(?:tensorflow|keras)\b", re.M)


def _quiet(text: str) -> bool:
    return not any(marker in text for marker in TENSORFLOW_NOISE)


def _by_number(target):
    return f"lesson{target.number}"


@pytest.mark.slow
@pytest.mark.parametrize("target", LESSONS, ids=_by_number)
def test_lesson_runs_as_a_script_without_noise(target, lesson_scripts):
    run = lesson_scripts[target.number]
    assert run.result.returncode == 0, run.result.stdout[-2000:] + run.result.stderr[-2000:]
    assert _quiet(run.output), run.result.stderr[-2000:]
    assert "Traceback" not in run.output
    assert list(run.runs.glob("figure-*.png"))


@pytest.mark.slow
def test_the_shortest_lesson_runs_quietly_in_a_new_interpreter(course):
    """The script runs above are forked from a process that imported TensorFlow already;
    this one is ``python -m gradlab.lesson N`` exactly as a learner's terminal starts it."""
    target = shortest_lesson()
    result = run_in_course(course, "-m", "gradlab.lesson", str(target.number))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert _quiet(output), result.stderr[-2000:]
    assert "Traceback" not in output
    assert list((course / "runs" / f"lesson{target.number:02d}").glob("figure-*.png"))


@pytest.mark.slow
@pytest.mark.parametrize("target", LESSONS, ids=_by_number)
def test_lesson_executes_as_a_notebook_with_no_error_cell(target, executed_lessons):
    outcome = executed_lessons[target.number]
    assert outcome.error is None, str(outcome.error)
    notebook = outcome.notebook
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not problems(notebook)
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert _quiet(text), text[:2000]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure was shown"


@pytest.mark.slow
@pytest.mark.parametrize("target", LESSONS, ids=_by_number)
def test_notebook_shows_every_unwritten_exercise_failing_its_check(target, executed_lessons):
    outcome = executed_lessons[target.number]
    assert outcome.error is None, str(outcome.error)
    text = "".join(
        o.get("text", "")
        for cell in outcome.notebook.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if o.output_type == "stream"
    )
    for exercise in exercises_of(target.number):
        assert f"✗ {exercise.id}" in text, f"no ✗ line for the stub of {exercise.id}"
        assert f"✓ {exercise.id}" not in text


@pytest.mark.parametrize("target", LESSONS, ids=_by_number)
def test_lesson_quietens_tensorflow_before_anything_imports_it(target):
    """A fresh kernel has no gradlab set-up but the lesson's own (the one fresh-kernel run
    is in test_docs.py): its first cell must quieten TensorFlow before importing it."""
    source = target.path.read_text(encoding="utf-8")
    starts = _STARTS_TENSORFLOW.search(source)
    quietens = source.find("gradlab.quiet_tensorflow()")
    assert starts is not None, "the lesson never imports TensorFlow or Keras"
    assert 0 <= quietens < starts.start(), "TensorFlow is imported before it is quietened"


@pytest.mark.parametrize("target", LESSONS, ids=_by_number)
def test_notebook_pair_regenerates_the_lesson_without_a_diff(target, tmp_path):
    source = target.path.read_text(encoding="utf-8")
    notebook_path = tmp_path / "lesson.ipynb"
    nbformat.write(jupytext.reads(source, fmt="py:percent"), notebook_path)
    back = jupytext.writes(nbformat.read(notebook_path, as_version=4), fmt="py:percent")
    assert back == source
