"""Each lesson executed once per test session, as a notebook and as a script.

Executing a lesson costs a TensorFlow start-up and the lesson's own work, so
the suite does it once per kind and every test that needs the result reads it
(see the session fixtures in ``conftest.py``). Both kinds run two at a time;
notebooks on kernels forked from one warm process, with the executor the docs
site uses, and their clean results are stored where the docs build looks for
them, so the site test builds from them instead of executing them again.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from docs_build import hooks, notebooks
from gradlab.course.catalogue import Lesson, lessons
from gradlab.course.execute import Outcome, execute_many, forking, jobs_count
from gradlab.course.zygote import CommandResult, Zygote
from tests.lesson_files import ROOT, run_in_course


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


def execute_notebooks(course: Path, docs_cache: Path) -> dict[int, Outcome]:
    """Every lesson executed as a notebook in the course copy ``course``, by number.

    Each clean result is also stored in ``docs_cache`` under the key and path
    the docs build would use for the repository's own lesson (same source).
    """
    plans = {item.number: hooks.lesson_plan(item, docs_cache) for item in lessons(ROOT)}
    jobs = [dataclasses.replace(plan.job, cwd=course / "lessons") for plan in plans.values()]
    outcomes = execute_many(
        jobs,
        env={**os.environ, "GRADLAB_HOME": str(course)},
        log=lambda line: print(f"[notebooks] {line}"),
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
