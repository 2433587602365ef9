"""The facts lesson 4 teaches, checked on the installed TensorFlow and Keras."""

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf

from gradlab.course.checks.lesson04 import _candidate_cases, _candidate_truth
from gradlab.gradcheck import check_gradients
from gradlab.teaching import plots
from tests.test_gradcheck import strict_replay  # noqa: F401 - autouse: a rule bug fails here too

matplotlib.use("Agg")


def test_tf_keras_no_longer_has_the_articles_loss_function():
    with pytest.raises(AttributeError, match="mean_squared_error"):
        _ = tf.keras.losses.mean_squared_error
    assert callable(keras.losses.mean_squared_error)


def test_dense_refuses_a_flat_vector_of_examples():
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        keras.layers.Dense(units=1)(tf.zeros((100,)))


def test_compute_gradient_finds_a_zero_derivative_in_bfloat16():
    x = tf.constant([1.0, 2.0, 3.0], tf.bfloat16)

    theoretical, numerical = tf.test.compute_gradient(lambda x: tf.reduce_sum(x * x), [x])

    np.testing.assert_array_equal(theoretical[0].astype(np.float32), [[2.0, 4.0, 6.0]])
    np.testing.assert_array_equal(numerical[0].astype(np.float32), [[0.0, 0.0, 0.0]])


def test_a_loss_reading_the_model_has_zero_jacobians_on_both_sides():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    x, y = tf.ones((4, 1)), tf.zeros((4, 1))
    kernel, bias = (v.value for v in model.trainable_variables)

    def loss(kernel, bias):
        return keras.losses.MeanSquaredError()(y, model(x))

    theoretical, numerical = tf.test.compute_gradient(loss, [kernel, bias])

    assert not any(np.any(j) for j in theoretical + numerical)


def test_relu_fails_a_gradient_check_at_its_kink_and_passes_away_from_it():
    relu_sum = lambda x: tf.reduce_sum(tf.nn.relu(x))  # noqa: E731

    at_kink = check_gradients(relu_sum, tf.constant([-1.0, 0.0, 2.0], tf.float64))
    away = check_gradients(relu_sum, tf.constant([-1.0, 1e-3, 2.0], tf.float64))

    worst = at_kink.inputs[0].worst
    assert not at_kink.ok and at_kink.values_failed == 1
    assert worst.index == (1,) and worst.numerical == pytest.approx(0.5) and worst.analytical == 0
    assert away.ok


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_exercise_5_candidates_are_judged_as_declared_in_either_mode(mode):
    for case in _candidate_cases():
        arguments = case.make()
        verdicts = {
            name: check_gradients(f, arguments["x"], mode=mode).ok
            for name, f in arguments["functions"].items()
        }
        assert verdicts == _candidate_truth(**arguments)


def test_error_vs_step_draws_one_line_per_error_and_leaves_exact_zeros_out():
    steps = np.logspace(-8, 0, 9)
    errors = {"central, float64": np.where(steps > 1e-4, steps**2, 0.0), "one-sided": steps}

    figure = plots.error_vs_step(steps, errors, marks={"rule": 1e-5})

    axes = figure.axes[0]
    lines = [line for line in axes.get_lines() if line.get_label() in errors]
    assert [line.get_label() for line in lines] == list(errors)
    assert np.isnan(lines[0].get_ydata()[:5]).all()
    assert axes.get_xscale() == axes.get_yscale() == "log"
    assert lines[1].get_linestyle() == "--"


def test_error_vs_step_gives_curves_of_one_dtype_one_colour():
    steps = np.logspace(-8, 0, 9)
    errors = {"one-sided, float32": steps, "central, float32": steps**2, "central, float64": steps}

    lines = plots.error_vs_step(steps, errors).axes[0].get_lines()

    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
