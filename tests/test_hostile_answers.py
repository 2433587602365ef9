"""Hostile answers: exits, interrupts, endless C++ loops, stray threads, patched TensorFlow.

Whatever an exercise does, ``check`` prints one verdict per exercise, never a
traceback, and ends within the time limit plus a small margin. The command
runs as a learner runs it (a real process on a learner file in a course copy);
the notebook path (:func:`gradlab.check`, in this process) is tested directly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gradlab.course import judge
from gradlab.course.catalogue import lesson
from gradlab.course.checks import lesson01
from gradlab.course.exercise import Exercise, exercises_of
from gradlab.course.messages import CourseError
from gradlab.course.verdict import ERROR, PASS
from tests.lesson_files import copy_course, replace_function, run_in_course, with_solutions

pytestmark = pytest.mark.slow  # each test starts TensorFlow in a new process

CHECK_TIMEOUT = 150  # TensorFlow's import (~12 s of CPU) on a busy machine, plus the checks
MARKS = ("✓ ", "✗ ")

EXITS = {
    "slope_at": "def slope_at(f, x):\n    import sys\n    sys.exit(0)\n",
    "gradient_wrt_constant": "def gradient_wrt_constant(f, x):\n    import os\n    os._exit(0)\n",
    "two_gradients": "def two_gradients(f, g, x):\n    import sys\n    sys.exit('bye')\n",
    "second_derivative": "def second_derivative(f, x):\n    raise KeyboardInterrupt\n",
    # Right answer, but a thread that never ends: the command must still exit.
    "loss_gradients_by_name": (
        "def loss_gradients_by_name(model, x, y):\n"
        "    import threading, time\n"
        "    threading.Thread(target=time.sleep, args=(10**6,)).start()\n"
        "    loss = keras.losses.MeanSquaredError()\n"
        "    with tf.GradientTape() as tape:\n"
        "        value = loss(tf.reshape(y, (-1, 1)), model(x))\n"
        "    grads = tape.gradient(value, model.trainable_variables)\n"
        "    return {v.path: g for v, g in zip(model.trainable_variables, grads)}\n"
    ),
    "mse": "def mse(w, b, x, y):\n    import ctypes\n    return ctypes.string_at(0)\n",  # segfault
}

SIDE_EFFECTS = {
    # One TensorFlow op that never returns: SIGALRM cannot interrupt it.
    "slope_at": (
        "def slope_at(f, x):\n"
        "    @tf.function\n"
        "    def forever(start):\n"
        "        return tf.while_loop(lambda i: i > -1.0, lambda i: i + 1.0, [start])\n"
        "    return forever(tf.constant(0.0))\n"
    ),
    # Right answer, then TensorFlow patched for whoever comes next.
    "gradient_wrt_constant": (
        "_Tape = tf.GradientTape\n\n\n"
        "def gradient_wrt_constant(f, x):\n"
        "    tf.GradientTape = None\n"
        "    with _Tape() as tape:\n"
        "        tape.watch(x)\n"
        "        y = f(x)\n"
        "    return tape.gradient(y, x)\n"
    ),
    # Right answer, then the function objects it was given broken.
    "two_gradients": (
        "def two_gradients(f, g, x):\n"
        "    with tf.GradientTape(persistent=True) as tape:\n"
        "        tape.watch(x)\n"
        "        y, z = f(x), g(x)\n"
        "    f.function = g.function = None\n"
        "    return tape.gradient(y, x), tape.gradient(z, x)\n"
    ),
}


def learner_file(folder: Path, name: str, functions: dict[str, str]) -> Path:
    """Lesson 1 with every exercise solved, then the given functions rewritten."""
    text = with_solutions(lesson(1))
    for function, source in functions.items():
        text = replace_function(text, function, source)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def check(root: Path, path: Path) -> subprocess.CompletedProcess:
    return run_in_course(
        root, "-m", "gradlab.lesson", "1", "check", "--file", str(path), timeout=CHECK_TIMEOUT
    )


def verdict_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line[:2] in MARKS]


def verdict_of(result: subprocess.CompletedProcess, exercise_id: str) -> str:
    (line,) = [line for line in verdict_lines(result) if line[2:].startswith(exercise_id + " ")]
    return line


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    return copy_course(tmp_path_factory.mktemp("hostile") / "course")


@pytest.fixture(scope="module")
def exits(course_copy):
    """``check`` on a lesson 1 whose exercises exit, interrupt, crash, leave a thread running."""
    return check(course_copy, learner_file(course_copy, "exits.py", EXITS))


@pytest.fixture(scope="module")
def side_effects(course_copy):
    """``check`` on a lesson 1 whose exercises hang in C++, patch TensorFlow, break arguments."""
    return check(course_copy, learner_file(course_copy, "side_effects.py", SIDE_EFFECTS))


# ── exits and interrupts (issue 22 item 3) ───────────────────────────────────


def test_exits_are_never_a_pass_and_every_exercise_gets_its_verdict(exits):
    assert exits.returncode == 2, exits.stdout + exits.stderr
    assert len(verdict_lines(exits)) == len(exercises_of(1)) == 6
    assert "lesson 1: 1 of 6 exercises passed" in exits.stdout
    assert "Traceback" not in exits.stdout + exits.stderr


@pytest.mark.parametrize(
    ("exercise_id", "words"),
    [
        ("1.1", "exited with sys.exit(0) instead of returning, so it could not be judged"),
        ("1.2", "ended the process (exit status 0) instead of returning"),
        ("1.3", "exited with sys.exit('bye') instead of returning"),
        ("1.4", "raised KeyboardInterrupt instead of returning, so it could not be judged"),
        ("1.6", "ended the process (killed by SIGSEGV) instead of returning"),
    ],
)
def test_an_exit_or_interrupt_is_a_verdict_on_that_exercise(exits, exercise_id, words):
    line = verdict_of(exits, exercise_id)
    assert line.startswith("✗") and words in line


def test_a_thread_left_running_does_not_keep_check_alive(exits):
    # Before: every verdict printed, then the process never exited (the fixture timed out).
    assert verdict_of(exits, "1.5").startswith("✓")


def test_an_exit_in_the_setup_or_exercise_cells_is_one_line_and_exit_2(course_copy):
    path = learner_file(course_copy, "exits_early.py", {"mse": "import os\n\nos._exit(0)\n"})
    result = check(course_copy, path)
    assert result.returncode == 2
    assert result.stderr.startswith("gradlab: ") and result.stderr.count("\n") == 1
    assert "ended the process (exit status 0)" in result.stderr


def test_a_real_ctrl_c_stops_the_command(course_copy):
    waits = (
        "def slope_at(f, x):\n"
        "    print('waiting', flush=True)\n"
        "    import time\n"
        "    time.sleep(4)\n"
    )
    path = learner_file(course_copy, "waits.py", {"slope_at": waits})
    command = [sys.executable, "-m", "gradlab.lesson", "1", "check", "--file", str(path)]
    env = {**os.environ, "GRADLAB_HOME": str(course_copy)}
    with subprocess.Popen(
        command,
        cwd=course_copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout.readline() == "waiting\n"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err == "gradlab: interrupted\n"
    assert not [line for line in out.splitlines() if line[:2] in MARKS]


# ── hangs and side effects (issue 22 items 2 and 4) ──────────────────────────


def test_an_endless_tensorflow_op_is_stopped_at_the_limit(side_effects):
    result = side_effects
    line = verdict_of(result, "1.1")
    assert line == "✗ 1.1 slope_at: still running after 5 s, so it was stopped"
    assert "call  slope_at(" in result.stderr


def test_patching_tensorflow_is_one_verdict_and_breaks_nothing_later(side_effects):
    result = side_effects
    assert result.returncode == 2
    assert sorted(line[:5] for line in verdict_lines(result)) == sorted(
        ["✗ 1.1", "✗ 1.2"] + [f"✓ 1.{number}" for number in range(3, 7)]
    )
    assert verdict_of(result, "1.2").startswith(
        "✗ 1.2 gradient_wrt_constant: could not be judged: the checker's own code raised TypeError"
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_an_answer_that_breaks_the_functions_it_is_given_still_passes(side_effects):
    assert verdict_of(side_effects, "1.3").startswith("✓")


# ── the notebook: gradlab.check runs in the kernel's own process ─────────────


def _exercise(number: int) -> Exercise:
    return judge.select(lesson(1), number)[0]


@pytest.mark.parametrize(
    ("raising", "words"),
    [
        (SystemExit(0), "exited with sys.exit(0) instead of returning"),
        (SystemExit("bye"), "exited with sys.exit('bye') instead of returning"),
        (KeyboardInterrupt(), "raised KeyboardInterrupt instead of returning"),
    ],
)
def test_notebook_check_turns_an_exit_into_a_verdict(capsys, raising, words):
    def slope_at(f, x):
        raise raising

    judge.check_in_notebook("1.1", slope_at)
    out = capsys.readouterr().out
    assert out.startswith("✗ 1.1 slope_at: ") and words in out


def test_an_answer_that_breaks_its_arguments_does_not_break_later_checks():
    reference = judge.reference_functions(lesson(1))

    def slope_at(f, x):
        answer = reference["slope_at"](f, x)
        f.function = None
        return answer

    assert judge.check_exercise(_exercise(1), slope_at, reference).status == PASS
    assert all(callable(curve.function) for curve in lesson01.CURVES)
    second = judge.check_exercise(_exercise(4), reference["second_derivative"], reference)
    assert second.status == PASS, str(second)


def test_patched_tensorflow_gives_one_verdict_not_a_traceback(monkeypatch):
    import tensorflow as tf

    # The reference must run under the patch, not come from an earlier check's results.
    monkeypatch.setattr(judge, "_OBSERVED", {})
    reference = judge.reference_functions(lesson(1))
    tape = tf.GradientTape
    try:
        tf.GradientTape = None
        verdict = judge.check_exercise(_exercise(2), reference["gradient_wrt_constant"], reference)
    finally:
        tf.GradientTape = tape
    assert verdict.status == ERROR
    assert verdict.summary.startswith(
        "could not be judged: the checker's own code raised TypeError"
    )


def test_an_exit_while_loading_is_a_course_error(tmp_path):
    path = learner_file(tmp_path, "exits.py", {"mse": "import sys\n\nsys.exit(3)\n"})
    with pytest.raises(CourseError, match=r"exits.py: running its setup .* sys.exit\(3\)"):
        judge.load_learner(path)
