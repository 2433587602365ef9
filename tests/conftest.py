"""Shared pytest set-up: a quiet TensorFlow, a non-interactive matplotlib, options, and
each lesson executed once per session (as a notebook, as a script) for the tests that read it.

``--answers`` chooses what the exercise tests check: ``solutions`` (default,
the reference solutions), ``lessons`` (your work in lessons/), or a path to a
lesson file kept elsewhere (for one lesson, with ``--answers-lesson N``).
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest

import gradlab

gradlab.quiet_tensorflow()  # before anything imports TensorFlow

# isort: split
from gradlab.teaching import devices  # noqa: E402
from tests import lesson_runs  # noqa: E402
from tests.lesson_files import copy_course  # noqa: E402

# Lesson 7 mirrors over logical CPUs, which can only be made before TensorFlow first runs
# anything; every exercise check shares this process, so split the CPU before any test.
devices.logical_cpus(4)


def pytest_addoption(parser):
    parser.addoption(
        "--answers", default="solutions", help="solutions | lessons | PATH to a lesson file"
    )
    parser.addoption("--answers-lesson", type=int, help="the lesson PATH belongs to")


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A private copy of the course (committed in git) that tests may edit freely."""
    root = copy_course(tmp_path / "course")
    monkeypatch.setenv("GRADLAB_HOME", str(root))
    monkeypatch.chdir(root)
    return root


@pytest.fixture(scope="session")
def docs_cache(tmp_path_factory):
    """A docs cache (``GRADLAB_DOCS_CACHE``) holding the lessons executed this session."""
    return tmp_path_factory.mktemp("docs-cache")


@pytest.fixture(scope="session")
def executed_lessons(tmp_path_factory, docs_cache) -> dict:
    """Every lesson executed once as a notebook in a course copy: ``{number: Outcome}``."""
    root = copy_course(tmp_path_factory.mktemp("notebooks") / "course")
    return lesson_runs.execute_notebooks(root, docs_cache)


@pytest.fixture(scope="session")
def lesson_scripts(tmp_path_factory) -> dict:
    """Every lesson run once as ``python -m gradlab.lesson N`` in a course copy:
    ``{number: ScriptRun}``.

    Lesson 3's logs start with a stale point, as an earlier run could leave, so
    its test can see the lesson replace it.
    """
    root = copy_course(tmp_path_factory.mktemp("scripts") / "course")
    lesson_runs.plant_stale_log_point(root / "runs" / "lesson03")
    return lesson_runs.run_scripts(root)
