"""Shared pytest set-up: a quiet TensorFlow, a non-interactive matplotlib, and options.

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
