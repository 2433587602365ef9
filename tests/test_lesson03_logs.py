"""Lesson 3 leaves, in runs/lesson03, the gradient logs it promises TensorBoard will show."""

from __future__ import annotations

import pytest

from gradlab.tensorboard import list_runs, read_histograms, read_scalars

MLP_PATHS = [
    f"mlp/{layer}/{kind}"
    for layer in ("hidden1", "hidden2", "output")
    for kind in ("kernel", "bias")
]


def _plant_stale_point(logs) -> None:
    """A point at step 999 in the linear run, as an earlier run of the lesson could leave."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(logs / "custom_loop" / "linear"))
    with writer.as_default():
        tf.summary.scalar("grad_norm/linear/dense/kernel", 1.0, step=999)
    writer.close()


@pytest.fixture(scope="module")
def lesson_logs(tmp_path_factory):
    """runs/lesson03 after running lesson 3 as a script over stale logs in a course copy."""
    from tests.lesson_files import copy_course, run_in_course

    root = copy_course(tmp_path_factory.mktemp("course") / "course")
    _plant_stale_point(root / "runs" / "lesson03")
    result = run_in_course(root, "-m", "gradlab.lesson", "3")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return root / "runs" / "lesson03"


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
    steps = read_scalars(lesson_logs, run="custom_loop/linear")[
        "grad_norm/linear/dense/kernel"
    ].steps
    assert steps.tolist() == list(range(40))
