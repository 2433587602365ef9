"""Checks in forked children: the in-process verdicts, a fresh TensorFlow each, references once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gradlab.course import isolation, judge
from gradlab.course.catalogue import lesson
from gradlab.course.verdict import TODO
from tests.lesson_files import ROOT, replace_function, run_in_course, with_solutions

pytestmark = pytest.mark.slow  # each test starts TensorFlow in a new process

FORGOT_WATCH = (
    "def gradient_wrt_constant(f, x):\n"
    "    with tf.GradientTape() as tape:\n"
    "        y = f(x)\n"
    "    return tape.gradient(y, x)\n"
)


def test_reference_solutions_are_loaded_once_per_process():
    assert judge.reference_functions(lesson(1)) is judge.reference_functions(lesson(1))


def test_loading_every_solution_runs_no_tensorflow_op():
    # Forking is only safe, and lesson 7 can only split the CPU, if the parent ran nothing.
    script = (
        "import gradlab; gradlab.quiet_tensorflow()\n"
        "from gradlab.course import judge, isolation\n"
        "from gradlab.course.catalogue import lessons\n"
        "from gradlab.course.exercise import exercises_of\n"
        "for target in lessons():\n"
        "    judge.reference_functions(target); exercises_of(target.number)\n"
        "assert isolation.can_fork(), 'TensorFlow ran an op while loading'\n"
        "import tensorflow as tf\n"
        "cpu = tf.config.list_physical_devices('CPU')[0]\n"
        "three = [tf.config.LogicalDeviceConfiguration()] * 3\n"
        "tf.config.set_logical_device_configuration(cpu, three)\n"
        "assert len(tf.config.list_logical_devices('CPU')) == 3\n"
        "assert not isolation.can_fork()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_forked_check_says_what_an_in_process_check_says(course):
    target = lesson(1)
    text = replace_function(
        target.path.read_text(encoding="utf-8"), "gradient_wrt_constant", FORGOT_WATCH
    )
    path = course / "mine.py"
    path.write_text(text, encoding="utf-8")
    result = run_in_course(course, "-m", "gradlab.lesson", "1", "check", "--file", str(path))
    in_process = judge.check_file(target, path)
    assert result.returncode == 1
    assert in_process[1].mistake is not None  # a named mistake: its name travels too
    for verdict in in_process:
        assert str(verdict) in result.stdout


def test_lesson_7_still_splits_the_cpu_in_each_child(course):
    target = lesson(7)
    path = course / "mine7.py"
    # The reference for 7.5 uses gradlab.tensorboard, which the lesson imports in a demo cell.
    text = with_solutions(target).replace(
        "import tensorflow as tf\n",
        "import tensorflow as tf\nfrom gradlab import tensorboard\n",
        1,
    )
    path.write_text(text, encoding="utf-8")
    result = run_in_course(course, "-m", "gradlab.lesson", "7", "check", "--file", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lesson 7: 5 of 5 exercises passed" in result.stdout


def test_where_tensorflow_already_runs_checks_stay_in_process(course):
    # As in a notebook kernel or this test process: forking a running TensorFlow is unsafe.
    assert not isolation.can_fork()
    target = lesson(1)
    assert [v.status for v in isolation.check_file(target, target.path, 1)] == [TODO]
