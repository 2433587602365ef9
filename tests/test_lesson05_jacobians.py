"""Lesson 5: the closed forms its checks trust, and the facts its prose rests on.

The checks compare the reference solutions with closed-form Jacobians and
Hessians; here those closed forms are themselves compared with central
differences from :mod:`gradlab.gradcheck`, so a wrong formula cannot hide.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.course.catalogue import lesson
from gradlab.course.checks import lesson05
from gradlab.course.judge import check_exercise, reference_functions
from gradlab.course.verdict import FAIL
from gradlab.gradcheck import numerical_gradient
from gradlab.tfsupport.lazy import keras, tf
from gradlab.tfsupport.quiet import tensorflow_warnings_hidden

POINT_SEEDS = (0, 1)


def _point(inputs: int, seed: int) -> np.ndarray:
    return np.random.default_rng([5, seed]).uniform(-1.0, 1.0, size=inputs)


def _numerical_jacobian(function, x: np.ndarray) -> np.ndarray:
    """Row i: central differences of output i, from gradlab.gradcheck (float64)."""
    outputs = int(np.shape(function(tf.constant(x)))[0])
    return np.stack(
        [numerical_gradient(lambda z, i=i: function(z)[i], tf.constant(x)) for i in range(outputs)]
    )


def _tape_gradient(function):
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = function(x)
        return tape.gradient(value, x)

    return gradient


@pytest.mark.parametrize("function", lesson05.VECTOR_FUNCTIONS, ids=repr)
@pytest.mark.parametrize("seed", POINT_SEEDS)
def test_closed_form_jacobians_agree_with_finite_differences(function, seed):
    x = _point(function.inputs, seed)
    numerical = _numerical_jacobian(function, x)
    np.testing.assert_allclose(function.jacobian(x), numerical, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function", lesson05.SCALAR_FUNCTIONS, ids=repr)
@pytest.mark.parametrize("seed", POINT_SEEDS)
def test_closed_form_gradients_and_hessians_agree_with_finite_differences(function, seed):
    x = _point(function.inputs, seed)
    gradient = numerical_gradient(function, tf.constant(x))
    np.testing.assert_allclose(function.gradient(x), gradient, rtol=1e-6, atol=1e-8)
    hessian = _numerical_jacobian(_tape_gradient(function), x)
    np.testing.assert_allclose(function.hessian(x), hessian, rtol=1e-6, atol=1e-7)


def test_per_example_truth_agrees_with_finite_differences():
    arguments = lesson05._model_case(0, 4, 3, 5, 2)
    model, x = arguments["model"], arguments["x"].numpy().astype(np.float64)
    truth = lesson05._model_truth(model, x)
    weights = [tf.constant(w, tf.float64) for w in model.get_weights()]

    def example_output(row, b):
        hidden = tf.tanh(row[None, :] @ weights[0] + weights[1])
        return (hidden @ weights[2] + weights[3])[0]

    for b in range(len(x)):
        numerical = _numerical_jacobian(lambda row, b=b: example_output(row, b), x[b])
        np.testing.assert_allclose(truth[b], numerical, rtol=1e-6, atol=1e-8)


def _full_and_batch_jacobians(layer, x):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = layer(x)
    return tape.jacobian(y, x).numpy(), tape.batch_jacobian(y, x).numpy()


def _blocks(full):
    return np.einsum("bibj->bij", full)


def test_batch_jacobian_sums_over_examples_so_batch_norm_in_training_breaks_it():
    keras.utils.set_random_seed(0)
    x = tf.random.normal((4, 3), seed=1)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization()]
    )
    full, fast = _full_and_batch_jacobians(lambda z: model(z, training=True), x)
    np.testing.assert_allclose(fast, np.einsum("ijbk->bjk", full), atol=1e-6)
    assert np.abs(fast).max() < 1e-5  # each normalised column sums to a constant
    assert np.abs(_blocks(full)).max() > 0.1  # while the true blocks are not zero
    full, fast = _full_and_batch_jacobians(lambda z: model(z, training=False), x)
    np.testing.assert_allclose(fast, _blocks(full), atol=1e-6)


def test_batch_jacobian_of_a_softmax_across_the_batch_is_zero_but_wrong():
    x = tf.random.normal((5, 3), seed=2)
    full, fast = _full_and_batch_jacobians(lambda z: tf.nn.softmax(z, axis=0), x)
    assert np.abs(fast).max() < 1e-6
    assert np.abs(_blocks(full)).max() > 0.05


def _counted_tanh():
    """``tanh`` whose gradient function notes each run, and whether it ran eagerly: Python
    code in a gradient runs when the backward pass runs eagerly or is traced into a graph,
    never when a finished graph runs."""
    runs = []

    @tf.custom_gradient
    def tanh(z):
        y = tf.tanh(z)

        def gradient(upstream):
            runs.append(tf.executing_eagerly())
            return upstream * (1 - tf.square(y))

        return y, gradient

    return tanh, runs


def test_eager_jacobian_traces_on_every_call_and_tf_function_traces_once():
    """Section 9's claim, by counting traces; what they cost is benchmarks/jacobians.py."""
    x = tf.random.normal((4, 8), seed=3)
    weights = tf.random.normal((8, 8), seed=4)
    tanh, runs = _counted_tanh()

    def jacobian(z):
        with tf.GradientTape() as tape:
            tape.watch(z)
            y = tanh(z @ weights)
        return tape.jacobian(y, z)

    calls = 4
    with tensorflow_warnings_hidden():
        for _ in range(calls):
            jacobian(x)
        eager_runs = runs.copy()
        compiled = tf.function(jacobian)
        compiled(x)
        first_runs = len(runs) - len(eager_runs)
        for _ in range(calls - 1):
            compiled(x)
    # Each eager call traces its backward pass into a new graph, once (not once per output).
    assert eager_runs == [False] * calls, eager_runs
    assert first_runs >= 1
    assert len(runs) - len(eager_runs) == first_runs  # later compiled calls trace nothing
    assert compiled.experimental_get_tracing_count() == 1


def test_a_wrong_tensor_answer_is_judged_even_when_a_known_mistake_raises():
    """5.3's first known mistake raises; a tensor answer must still get a verdict."""
    exercise = next(item for item in lesson05.EXERCISES if item.number == 3)

    def wrong_hessian(f, x):
        return tf.ones((x.shape[0], x.shape[0]))

    verdict = check_exercise(exercise, wrong_hessian, reference_functions(lesson(5)))
    assert verdict.status == FAIL
    assert verdict.mistake is None


def test_raised_mistake_is_named_for_a_learner_who_uses_one_tape_twice():
    exercise = next(item for item in lesson05.EXERCISES if item.number == 3)

    def one_tape(f, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            gradient = tape.gradient(f(x), x)
        return tape.jacobian(gradient, x)

    verdict = check_exercise(exercise, one_tape, reference_functions(lesson(5)))
    assert not verdict.passed
    assert verdict.mistake is not None and "non-persistent" in verdict.mistake.name
