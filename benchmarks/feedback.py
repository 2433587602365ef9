"""Time from saving a change to one exercise to its verdict line: ``watch`` against ``check K``.

    python benchmarks/feedback.py                 # lessons 1 and 4, 5 saves each
    python benchmarks/feedback.py --lessons 1 --saves 9

On a copy of the course, exercise 1 of each lesson is given its reference
solution with a new first statement at each save (so its code changes and it
is checked again; a comment alone would not be). ``watch`` is started once and
warmed up by its first check; the time counted is from the save (a rename, as
editors do) to the line
``✓ L.1 ...`` it prints. For ``check``, each save is followed by a cold
``python -m gradlab.lesson L check 1`` and the time is to the same line.
Prints the median (and the range) of each, as a table.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradlab.course.catalogue import Lesson, lesson  # noqa: E402
from gradlab.course.exercise import exercises_of  # noqa: E402
from gradlab.course.source import function_source, functions_in  # noqa: E402
from tests.lesson_files import replace_function  # noqa: E402

FIRST_CHECK = 600.0  # seconds: TensorFlow's import on a busy machine
A_VERDICT = 120.0


def copy_course(destination: Path) -> Path:
    """The lessons and solutions, in a folder the benchmark may edit."""
    for folder in ("lessons", "solutions"):
        shutil.copytree(ROOT / folder, destination / folder)
    return destination


def saved_version(target: Lesson, pristine: str, count: int) -> str:
    """The lesson with exercise 1 solved, and a comment that makes save ``count`` new."""
    name = exercises_of(target.number)[0].function
    solution = function_source(target.solution_path.read_text(encoding="utf-8"), name)
    body = functions_in(solution)[name].body[0]
    lines = solution.splitlines()
    indent = " " * body.col_offset
    lines.insert(body.lineno - 1, f"{indent}_save = {count}  # new code: checked again")
    return replace_function(pristine, name, "\n".join(lines))


def save(target: Lesson, text: str) -> float:
    """Write ``text`` by rename; the monotonic time just before the rename."""
    temporary = target.path.with_name(".benchmark.tmp")
    temporary.write_text(text, encoding="utf-8")
    start = time.monotonic()
    os.replace(temporary, target.path)
    return start


class Lines:
    """A process's stdout, line by line, with deadlines."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process, self.buffer = process, b""

    def until(self, pattern: str, timeout: float) -> float:
        """Read until a line matches ``pattern``; the monotonic time it arrived."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, _, self.buffer = self.buffer.partition(b"\n")
                if re.search(pattern, line.decode("utf-8", errors="replace")):
                    return time.monotonic()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SystemExit(f"feedback: no line matching {pattern!r} in {timeout:g} s")
            if select.select([self.process.stdout], [], [], remaining)[0]:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    raise SystemExit(f"feedback: the process ended before {pattern!r}")
                self.buffer += chunk


def _start(root: Path, *arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gradlab.lesson", *arguments],
        cwd=root,
        env={**os.environ, "GRADLAB_HOME": str(root)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def time_watch(target: Lesson, saves: int) -> list[float]:
    """Seconds from each save to its verdict line, in one warm ``watch`` process."""
    pristine = target.path.read_text(encoding="utf-8")
    process = _start(target.root, str(target.number), "watch")
    lines = Lines(process)
    tally = rf"^lesson {target.number}: \d+ of"
    try:
        lines.until(tally, FIRST_CHECK)
        times = []
        for count in range(saves):
            start = save(target, saved_version(target, pristine, count))
            times.append(lines.until(rf"^✓ {target.number}\.1 ", A_VERDICT) - start)
            lines.until(tally, A_VERDICT)
        return times
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        process.stdout.close()
        target.path.write_text(pristine, encoding="utf-8")


def time_check(target: Lesson, saves: int) -> list[float]:
    """Seconds from each save to the verdict line of a cold ``check 1`` started then."""
    pristine = target.path.read_text(encoding="utf-8")
    times = []
    try:
        for count in range(saves):
            start = save(target, saved_version(target, pristine, count))
            process = _start(target.root, str(target.number), "check", "1")
            times.append(Lines(process).until(rf"^✓ {target.number}\.1 ", FIRST_CHECK) - start)
            process.wait(timeout=60)
            process.stdout.close()
        return times
    finally:
        target.path.write_text(pristine, encoding="utf-8")


def _cell(times: list[float]) -> str:
    return f"{statistics.median(times):7.2f} s  ({min(times):.2f}–{max(times):.2f})"


def main() -> None:
    """Time both ways for each lesson asked and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lessons", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--saves", type=int, default=5, help="saves per lesson and way (≥ 5)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gradlab-feedback-") as folder:
        root = copy_course(Path(folder))
        rows = []
        for number in options.lessons:
            target = lesson(number, root)
            rows.append(
                (number, time_watch(target, options.saves), time_check(target, options.saves))
            )
    print(f"save → verdict line of exercise 1, median (range) of {options.saves} saves")
    print(f"{'lesson':>6}  {'watch':<26}  {'cold check K':<26}")
    for number, watch, check in rows:
        print(f"{number:>6}  {_cell(watch):<26}  {_cell(check):<26}")


if __name__ == "__main__":
    main()
