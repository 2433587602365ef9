"""Shared pytest set-up: a quiet TensorFlow, a non-interactive matplotlib, options, and
each lesson executed once per session (as a notebook, as a script) for the tests that read it.

``--answers`` chooses what the exercise tests check: ``solutions`` (default,
the reference solutions), ``lessons`` (your work in lessons/), or a path to a
lesson file kept elsewhere (for one lesson, with ``--answers-lesson N``).
"""

import os
import tempfile
from pathlib import Path

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


_RUNS = pytest.StashKey[lesson_runs.SessionRuns]()


def pytest_configure(config):
    folder = Path(tempfile.mkdtemp(prefix="gradlab-lessons-"))
    config.stash[_RUNS] = lesson_runs.SessionRuns(folder)


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected what will not run
def pytest_collection_modifyitems(config, items):
    """Start the lesson executions the selected tests need, to run while the others do."""
    if config.option.collectonly:
        return
    needed = {name for item in items for name in getattr(item, "fixturenames", ())}
    config.stash[_RUNS].start(
        notebooks="executed_lessons" in needed, scripts="lesson_scripts" in needed
    )


def pytest_unconfigure(config):
    config.stash[_RUNS].close()


@pytest.fixture(scope="session")
def session_runs(request) -> lesson_runs.SessionRuns:
    """This session's lesson executions (see :mod:`tests.lesson_runs`)."""
    return request.config.stash[_RUNS]


@pytest.fixture(scope="session")
def docs_cache(session_runs):
    """A docs cache (``GRADLAB_DOCS_CACHE``) holding the lessons executed this session."""
    return session_runs.docs_cache


@pytest.fixture(scope="session")
def executed_lessons(session_runs) -> dict:
    """Every lesson executed once as a notebook in a course copy: ``{number: Outcome}``."""
    runs = session_runs.notebooks()
    print("\n".join(session_runs.log))
    return runs


@pytest.fixture(scope="session")
def lesson_scripts(session_runs) -> dict:
    """Every lesson run once as ``python -m gradlab.lesson N`` in a course copy:
    ``{number: ScriptRun}``."""
    return session_runs.scripts()
