"""``watch``: a real watch process on a copy of the course, driven by real saves."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradlab.course.catalogue import lesson
from gradlab.course.exercise import exercises_of
from gradlab.course.messages import CourseError
from gradlab.course.recheck import exercise_keys
from gradlab.course.source import function_source
from tests.lesson_files import replace_function

FIRST_TALLY = 300.0  # importing TensorFlow on a busy 2-core machine
A_ROUND = 60.0


class Watch:
    """``python -m gradlab.lesson N watch`` in ``root``, read line by line with deadlines."""

    def __init__(self, root: Path, number: int) -> None:
        self.target = lesson(number, root)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gradlab.lesson", str(number), "watch"],
            cwd=root,
            env={**os.environ, "GRADLAB_HOME": str(root)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.seen: list[str] = []
        self._buffer = b""

    def until(self, pattern: str, timeout: float = A_ROUND) -> list[str]:
        """The lines up to and including the first matching ``pattern``; fails at the deadline."""
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                line, _, self._buffer = self._buffer.partition(b"\n")
                self.seen.append(line.decode("utf-8", errors="replace"))
                if re.search(pattern, self.seen[-1]):
                    return self.seen[start:]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no line matching {pattern!r} in {timeout:g} s:\n" + self.output())
            ready, _, _ = select.select([self.process.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    pytest.fail(f"watch ended before {pattern!r}:\n" + self.output())
                self._buffer += chunk

    def save(self, text: str) -> None:
        """Save as editors that write a new file and rename it over the old one do."""
        temporary = self.target.path.with_name(".save.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.target.path)

    def interrupt(self) -> int:
        """Ctrl-C: the exit status."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail("watch did not stop on SIGINT:\n" + self.output())
        self._buffer += self.process.stdout.read()
        return self.process.returncode

    def output(self) -> str:
        return "\n".join(self.seen[-40:]) + self._buffer.decode("utf-8", errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def watching(course):
    started = []

    def start(number: int) -> Watch:
        started.append(Watch(course, number))
        return started[-1]

    yield start
    for watch in started:
        watch.close()


def solved(target, text: str, name: str) -> str:
    solution = function_source(target.solution_path.read_text(encoding="utf-8"), name)
    return replace_function(text, name, solution)


@pytest.mark.slow  # starts TensorFlow in a new process
def test_a_correct_save_turns_the_cross_into_a_tick_and_ctrl_c_exits_0(watching, course):
    watch = watching(1)
    first = watch.until(r"^lesson 1: \d+ of 6 exercises passed", FIRST_TALLY)
    assert any(line.startswith("✗ 1.1 slope_at: not written yet") for line in first)
    text = watch.target.path.read_text(encoding="utf-8")
    watch.save(solved(watch.target, text, "slope_at"))  # by rename: a new file
    again = watch.until(r"^lesson 1: 1 of 6 exercises passed")
    assert any(line.startswith("✓ 1.1 slope_at:") for line in again)
    records = json.loads((course / "runs" / "progress.json").read_text(encoding="utf-8"))
    assert records["1"]["passed"] == [1]
    assert watch.interrupt() == 0
    assert watch.output().rstrip().endswith("lesson 1: 1 of 6 exercises passed")


@pytest.mark.slow  # starts TensorFlow in a new process
def test_a_syntax_error_is_one_line_and_the_next_good_save_is_checked(watching):
    watch = watching(1)
    watch.until(r"^lesson 1: 0 of 6", FIRST_TALLY)
    text = watch.target.path.read_text(encoding="utf-8")
    broken = text.replace("def slope_at(f, x):", "def slope_at(f, x:")
    line = broken.splitlines().index("def slope_at(f, x:") + 1
    watch.save(broken)
    said = watch.until(r"syntax error")
    assert said[-1] == (
        f"gradlab: lessons/{watch.target.path.name}, line {line}: syntax error: "
        "'(' was never closed"
    )
    watch.save(solved(watch.target, text, "slope_at"))
    assert any(line.startswith("✓ 1.1") for line in watch.until(r"^lesson 1: 1 of 6"))
    assert not any("Traceback" in line for line in watch.seen)
    assert watch.interrupt() == 0


@pytest.mark.slow  # starts TensorFlow in a new process
def test_an_endless_loop_hits_the_time_limit_and_the_watch_goes_on(watching):
    watch = watching(1)
    watch.until(r"^lesson 1: 0 of 6", FIRST_TALLY)
    text = watch.target.path.read_text(encoding="utf-8")
    endless = "def slope_at(f, x):\n    while True:\n        pass\n"
    watch.save(replace_function(text, "slope_at", endless))
    said = watch.until(r"^lesson 1: 0 of 6")
    assert any(re.match(r"✗ 1.1 slope_at: still running after .* s, so it", x) for x in said)
    for attempt in range(5):  # a burst of saves: the last one is what counts
        wrong = f"def slope_at(f, x):\n    return {attempt}.0 * x\n"
        watch.save(replace_function(text, "slope_at", wrong))
    watch.save(solved(watch.target, text, "slope_at"))
    assert any(line.startswith("✓ 1.1") for line in watch.until(r"^lesson 1: 1 of 6"))
    assert watch.interrupt() == 0


# ── what a save invalidates (no process: the keys are read from the text) ────


def keys_of(text: str) -> dict:
    return exercise_keys(text, exercises_of(1), "lessons/01_gradient_tape.py")


def changed(before: str, after: str) -> set[int]:
    old, new = keys_of(before), keys_of(after)
    return {number for number in old if old[number].code != new[number].code}


def test_a_change_to_one_exercise_invalidates_only_that_exercise():
    text = lesson(1).path.read_text(encoding="utf-8")
    edited = replace_function(text, "slope_at", "def slope_at(f, x):\n    return 0.0\n")
    assert changed(text, edited) == {1}
    comment = text.replace("def slope_at(f, x):\n", "def slope_at(f, x):\n    # thinking\n")
    assert changed(text, comment) == set()
    assert keys_of(comment)[2].lines != keys_of(text)[2].lines  # moved: its message may cite one


def test_a_change_to_the_setup_cells_invalidates_every_exercise():
    text = lesson(1).path.read_text(encoding="utf-8")
    marker = '# %% tags=["setup"]\n'
    assert changed(text, text.replace(marker, marker + "SCALE = 2\n")) == set(range(1, 7))


def test_an_exercise_using_another_exercise_s_function_is_invalidated_with_it():
    text = lesson(1).path.read_text(encoding="utf-8")
    uses = "def mse(y_true, y_pred):\n    return slope_at(lambda v: v, 1.0)\n"
    base = replace_function(text, "mse", uses)
    edited = replace_function(base, "slope_at", "def slope_at(f, x):\n    return 1.0\n")
    assert changed(base, edited) == {1, 6}


def test_a_syntax_error_is_one_line_naming_the_learner_s_line():
    text = lesson(1).path.read_text(encoding="utf-8").replace("def mse(", "def mse((", 1)
    line = next(n for n, x in enumerate(text.splitlines(), 1) if x.startswith("def mse(("))
    with pytest.raises(CourseError, match=rf"^lessons/01_gradient_tape.py, line {line}: syntax"):
        keys_of(text)
