"""Lesson 3 leaves, in runs/lesson03, the gradient logs it promises TensorBoard will show."""

from __future__ import annotations

import pytest

from gradlab.tensorboard import list_runs, read_histograms, read_scalars
from tests.lesson_runs import STALE_RUN, STALE_TAG

MLP_PATHS = [
    f"mlp/{layer}/{kind}"
    for layer in ("hidden1", "hidden2", "output")
    for kind in ("kernel", "bias")
]


@pytest.fixture
def lesson_logs(lesson_scripts):
    """runs/lesson03 after lesson 3 ran as a script over stale logs (see conftest.py)."""
    run = lesson_scripts[3]
    assert run.result.returncode == 0, run.result.stdout[-2000:] + run.result.stderr[-2000:]
    return run.runs


@pytest.mark.slow
def test_custom_loop_and_fit_runs_hold_norms_and_histograms_for_every_mlp_variable(lesson_logs):
    runs = list_runs(lesson_logs)
    assert {"custom_loop/mlp", "custom_loop/linear", "fit/gradients"} <= set(runs)
    for run in ("custom_loop/mlp", "fit/gradients"):
        scalars = read_scalars(lesson_logs, run=run)
        histograms = read_histograms(lesson_logs, run=run)
        for path in MLP_PATHS:
            assert len(scalars[f"grad_norm/{path}"].steps) == 200, (run, path)
            assert len(histograms[f"grad_hist/{path}"]) == 200, (run, path)


@pytest.mark.slow
def test_running_the_lesson_again_replaces_old_logged_points(lesson_logs):
    steps = read_scalars(lesson_logs, run=STALE_RUN)[STALE_TAG].steps
    assert steps.tolist() == list(range(40))
