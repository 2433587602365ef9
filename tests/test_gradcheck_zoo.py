"""gradlab.gradcheck on real Keras layers: verdicts, planted bugs, evaluators, randomness."""

import functools
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from gradlab.gradcheck import NondeterministicError, check_gradients
from gradlab.gradcheck.differences import REPLAY_VARIABLE, central_differences
from gradlab.gradcheck.problem import prepare
from tests.keras_zoo import ZOO, ZooEntry

COMPILED = {"lstm": "StatelessWhile", "gru": "StatelessWhile"}
"""Zoo entries with inputs the replay does not take, and the operation it lacks a rule for:
the recurrent layers' loop (their Dense heads are replayed)."""


@pytest.fixture(autouse=True)
def strict_replay(monkeypatch):
    """A bug in a batched rule fails the test instead of falling back to the compiled loop."""
    monkeypatch.setenv(REPLAY_VARIABLE, "strict")


@functools.cache
def zoo(name: str) -> ZooEntry:
    """Each model is built once for the whole module (checks never change it)."""
    return ZOO[name]()


def cost_parts(report) -> dict[str, str]:
    """The cost row of a full report as {input label: how it was evaluated}."""
    (row,) = [line for line in str(report).splitlines() if line.strip().startswith("cost ")]
    parts = {}
    for part in row.split("; ")[1:-1]:  # after "N evaluations of f", before "and 1 gradient"
        labels, how = part.split(": ", 1)
        for label in labels.split(", "):
            parts[label] = how
    return parts


def planted(entry: ZooEntry, wrong) -> tuple:
    """``entry``'s loss with its first weight passed through an identity whose gradient is
    ``wrong(upstream)``; also that weight's label."""
    first = next(iter(entry.weights))

    @tf.custom_gradient
    def through(weight):
        return tf.identity(weight), lambda upstream: wrong(tf.convert_to_tensor(upstream))

    def loss(**weights):
        return entry.loss(**{**weights, first: through(weights[first])})

    return loss, f"input {first!r}"


@pytest.mark.parametrize("name", ZOO)
def test_full_and_fast_agree_with_the_tape_and_say_which_evaluator_ran(name):
    entry = zoo(name)

    full = check_gradients(entry.loss, entry.weights)
    fast = check_gradients(entry.loss, entry.weights, mode="fast")

    assert full.ok, str(full)
    assert fast.ok, str(fast)
    how = cost_parts(full)
    assert set(how) == {f"input {key!r}" for key in entry.weights}
    compiled = {label for label, text in how.items() if text.startswith("compiled")}
    for label in compiled:
        assert f"(not replayed: no batched rule for {COMPILED[name]})" in how[label]
    for label in set(how) - compiled:
        assert how[label].startswith("only the operations downstream of")
    assert bool(compiled) == (name in COMPILED)


@pytest.mark.parametrize("name", ZOO)
def test_a_gradient_wrong_in_one_element_is_caught_and_named_in_full_mode(name):
    entry = zoo(name)
    shape = next(iter(entry.weights.values())).shape
    index = tuple(int(size) - 1 for size in shape)  # the last element of the first weight
    mask = tf.constant(np.pad([1.0], (int(np.prod(shape)) - 1, 0)).reshape(shape))
    loss, label = planted(entry, lambda upstream: upstream + mask * (0.5 + tf.abs(upstream)))

    report = check_gradients(loss, entry.weights)

    assert not report.ok
    (failed,) = report.failed_inputs
    assert (failed.label, failed.failures, failed.worst.index) == (label, 1, index)
    assert f"element {list(index)}" in str(report)


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("name", ZOO)
def test_a_gradient_off_by_a_factor_of_two_is_caught(name, mode):
    entry = zoo(name)
    loss, label = planted(entry, lambda upstream: 2 * upstream)

    report = check_gradients(loss, entry.weights, mode=mode)

    assert not report.ok
    assert [item.label for item in report.failed_inputs] == [label]


@pytest.mark.parametrize("name", ZOO)
def test_replayed_differences_equal_the_compiled_ones(name):
    entry = zoo(name)
    problem = prepare(entry.loss, entry.weights, reduction="sum", with_gradients=False)
    args = (problem.objective, problem.values, problem.specs, 1e-5)

    replayed = central_differences(*args)
    compiled = central_differences(*args, replay=False)

    assert len(replayed.replayed) + len(replayed.not_replayed) == len(problem.specs)
    assert compiled.replayed == ()
    for by_replay, by_compiling in zip(replayed.gradients, compiled.gradients, strict=True):
        np.testing.assert_allclose(by_replay, by_compiling, rtol=1e-8, atol=1e-10)


def snapshot(model: keras.Model) -> dict[str, np.ndarray]:
    return {variable.path: variable.numpy().copy() for variable in model.variables}


@pytest.mark.parametrize("name", ["batch_norm", "dropout"])
def test_a_check_never_changes_the_models_variables_or_moving_statistics(name):
    entry = ZOO[name]()  # its own model: the training call below changes it
    before = snapshot(entry.model)

    for mode in ("full", "fast"):
        assert check_gradients(entry.loss, entry.weights, mode=mode).ok

    after = snapshot(entry.model)
    assert after.keys() == before.keys()
    for path, value in before.items():
        np.testing.assert_array_equal(after[path], value, err_msg=path)
    entry.model(tf.ones([6, 4], tf.float64), training=True)  # the snapshot does see a change
    assert any(np.any(snapshot(entry.model)[path] != before[path]) for path in before)


class UnseededNoise(keras.layers.Layer):
    """Dropout drawn from TensorFlow's global random state: different on every call."""

    def call(self, inputs):
        return tf.nn.dropout(inputs, 0.5)


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_a_layer_drawing_unseeded_random_numbers_is_refused_by_name(mode):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,), dtype="float64"),
            keras.layers.Dense(6, dtype="float64"),
            UnseededNoise(dtype="float64", name="unseeded_noise"),
        ]
    )
    x = tf.ones([3, 4], tf.float64)

    def loss(*weights):
        return tf.reduce_sum(model.stateless_call(list(weights), [], x)[0] ** 2)

    weights = [tf.constant(v.numpy()) for v in model.trainable_variables]
    with pytest.raises(NondeterministicError) as caught:
        check_gradients(loss, weights, mode=mode)
    message = str(caught.value)
    assert re.search(r"random operations in f: 'unseeded_noise\w*/dropout/", message), message
    assert "Dropout(rate, seed=1)" in message
