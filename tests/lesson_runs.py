"""Each lesson executed once per test session, as a notebook and as a script.

Executing a lesson costs a TensorFlow start-up and the lesson's own work, so
the suite does it once per kind and every test that needs the result reads it
(see the session fixtures in ``conftest.py``). Both kinds run two at a time,
forked from a warm process; notebooks with the executor the docs site uses,
and their clean results are stored where the docs build looks for them, so the
site test builds from them instead of executing them again.

:class:`SessionRuns` starts them in the background as soon as the collected
tests show they are needed, so they run while the quick tests do.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gradlab.course.catalogue import Lesson, lessons
from tests.lesson_files import ROOT, copy_course, run_in_course

if TYPE_CHECKING:  # conftest.py imports this module: the executors load only when used (~3 s)
    from gradlab.course.execute import Outcome
    from gradlab.course.zygote import CommandResult


def shortest_lesson() -> Lesson:
    """The lesson with the smallest file: the one a test that must execute a lesson anew uses."""
    return min(lessons(ROOT), key=lambda item: item.path.stat().st_size)


@dataclass(frozen=True)
class ScriptRun:
    """``python -m gradlab.lesson N`` run once in a course copy: what it printed and left."""

    lesson: Lesson
    result: subprocess.CompletedProcess | CommandResult
    runs: Path

    @property
    def output(self) -> str:
        """Everything the run printed, stdout then stderr."""
        return self.result.stdout + self.result.stderr


def execute_notebooks(
    course: Path, docs_cache: Path, log: Callable[[str], None] = print
) -> dict[int, Outcome]:
    """Every lesson executed as a notebook in the course copy ``course``, by number.

    Each clean result is also stored in ``docs_cache`` under the key and path
    the docs build would use for the repository's own lesson (same source).
    """
    from docs_build import hooks, notebooks
    from gradlab.course.execute import execute_many

    plans = {item.number: hooks.lesson_plan(item, docs_cache) for item in lessons(ROOT)}
    jobs = [dataclasses.replace(plan.job, cwd=course / "lessons") for plan in plans.values()]
    outcomes = execute_many(
        jobs,
        env={**os.environ, "GRADLAB_HOME": str(course)},
        log=log,
        kernel_log=docs_cache / "kernels.log",
    )
    executed = {}
    for number, outcome in zip(plans, outcomes, strict=True):
        if outcome.notebook is not None:
            notebooks.store(plans[number], outcome.notebook, outcome.seconds)
        executed[number] = outcome
    return executed


def run_scripts(course: Path) -> dict[int, ScriptRun]:
    """Every lesson of the course copy ``course`` run as a script, by number.

    Each run is ``python -m gradlab.lesson N``, forked from a warm zygote
    (fresh TensorFlow runtime, imports done) unless ``$GRADLAB_FORK`` is ``0``,
    then a new interpreter each.
    """
    from gradlab.course.execute import forking, jobs_count
    from gradlab.course.zygote import Zygote

    catalogue = lessons(course)
    zygote = None
    if forking():
        env = {**os.environ, "GRADLAB_HOME": str(course), "MPLBACKEND": "Agg"}
        zygote = Zygote(env, Path(os.devnull))

    def run(item: Lesson) -> ScriptRun:
        argv = [str(item.number)]
        if zygote is None:
            result = run_in_course(course, "-m", "gradlab.lesson", *argv)
        else:
            result = zygote.run_command(argv, course)
        return ScriptRun(item, result, item.run_dir)

    try:
        with ThreadPoolExecutor(max_workers=jobs_count()) as pool:
            return {run.lesson.number: run for run in pool.map(run, catalogue)}
    finally:
        if zygote is not None:
            zygote.close()


STALE_RUN = "custom_loop/linear"
STALE_TAG = "grad_norm/linear/dense/kernel"


def plant_stale_log_point(logs: Path) -> None:
    """A point at step 999 in lesson 3's linear run, as an earlier run of the lesson leaves."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(logs / STALE_RUN))
    with writer.as_default():
        tf.summary.scalar(STALE_TAG, 1.0, step=999)
    writer.close()


class SessionRuns:
    """The session's lesson executions, in ``folder``, one kind after the other in the
    background (each kind already uses both cores)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.docs_cache = folder / "docs-cache"
        self.log: list[str] = []
        self._background = ThreadPoolExecutor(max_workers=1)
        self._notebooks: Future | None = None
        self._scripts: Future | None = None

    def start(self, notebooks: bool, scripts: bool) -> None:
        """Start what the session's tests need (notebooks first: the site build waits on them)."""
        if notebooks and self._notebooks is None:
            self._notebooks = self._background.submit(self._execute_notebooks)
        if scripts and self._scripts is None:
            self._scripts = self._background.submit(self._run_scripts)

    def notebooks(self) -> dict[int, Outcome]:
        """Every lesson executed as a notebook (waits for it): ``{number: Outcome}``."""
        self.start(notebooks=True, scripts=False)
        assert self._notebooks is not None
        return self._notebooks.result()

    def scripts(self) -> dict[int, ScriptRun]:
        """Every lesson run as a script (waits for it): ``{number: ScriptRun}``."""
        self.start(notebooks=False, scripts=True)
        assert self._scripts is not None
        return self._scripts.result()

    def close(self) -> None:
        """Wait for what was started, then remove the folder."""
        self._background.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _execute_notebooks(self) -> dict[int, Outcome]:
        root = copy_course(self.folder / "notebooks" / "course")
        return execute_notebooks(root, self.docs_cache, log=self.log.append)

    def _run_scripts(self) -> dict[int, ScriptRun]:
        # Lesson 3's logs start with a stale point, as an earlier run could leave, so its
        # test can see the lesson replace it.
        root = copy_course(self.folder / "scripts" / "course")
        plant_stale_log_point(root / "runs" / "lesson03")
        return run_scripts(root)
