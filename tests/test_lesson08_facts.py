"""The facts lesson 8 teaches and its checks rely on, checked on the installed TensorFlow."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from gradlab.course.checks.lesson08 import uses_custom_gradient

SPEC = tf.TensorSpec([3], tf.float32)


@tf.custom_gradient
def _softplus(x):
    value = tf.maximum(x, 0.0) + tf.math.log1p(tf.exp(-tf.abs(x)))
    return value, lambda upstream: upstream * tf.sigmoid(x)


def test_the_check_sees_a_custom_gradient_in_the_traced_graph():
    assert uses_custom_gradient(_softplus, SPEC)


@pytest.mark.parametrize(
    "function",
    [tf.math.softplus, lambda x: tf.maximum(x, 0.0) + tf.math.log1p(tf.exp(-tf.abs(x)))],
    ids=["built-in softplus", "stable formula, autodiff"],
)
def test_the_check_sees_no_custom_gradient_in_autodiff(function):
    assert not uses_custom_gradient(function, SPEC)


def test_autodiff_of_log1p_exp_is_nan_for_large_x():
    x = tf.constant([0.0, 100.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.math.log1p(tf.exp(x))
    assert np.isnan(tape.gradient(y, x).numpy()[1])


def test_a_graph_lists_the_variables_sorted_by_name_not_in_reading_order():
    kernel = tf.Variable(tf.ones((3, 2)), name="kernel")
    bias = tf.Variable(tf.zeros(2), name="bias")
    seen = []

    @tf.custom_gradient
    def layer(x):
        y = x @ kernel + bias

        def grad(upstream, variables=None):
            seen.extend(v.name for v in variables)
            return upstream @ tf.transpose(kernel), [tf.zeros_like(v) for v in variables]

        return y, grad

    @tf.function
    def gradients(x):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(layer(x))
        return tape.gradient(total, [kernel, bias])

    gradients(tf.ones((1, 3)))
    assert seen == ["bias:0", "kernel:0"]


def test_a_grad_without_variables_raises_the_message_the_lesson_quotes():
    scale = tf.Variable([2.0, -1.0], name="scale")

    @tf.custom_gradient
    def scaled(x):
        return x * scale, lambda upstream: upstream * scale

    with pytest.raises(TypeError, match="grad_fn must accept keyword argument 'variables'"):
        scaled(tf.constant([1.0, 1.0]))


def test_saved_model_stores_the_custom_gradient_only_when_asked(tmp_path):
    @tf.custom_gradient
    def clip(x):
        return tf.identity(x), lambda upstream: tf.clip_by_value(upstream, -1.0, 1.0)

    module = tf.Module()
    module.f = tf.function(clip, input_signature=[SPEC])
    assert tf.saved_model.SaveOptions().experimental_custom_gradients is True
    stored = {}
    for keep in (True, False):
        options = tf.saved_model.SaveOptions(experimental_custom_gradients=keep)
        tf.saved_model.save(module, str(tmp_path / str(keep)), options=options)
        saved = saved_model_pb2.SavedModel()
        saved.ParseFromString((tmp_path / str(keep) / "saved_model.pb").read_bytes())
        stored[keep] = len(saved.meta_graphs[0].graph_def.library.registered_gradients)
    assert stored[True] >= 1 and stored[False] == 0


def test_float16_gradients_of_a_tiny_loss_underflow_unless_the_loss_is_scaled():
    keras.utils.set_random_seed(4)
    layer = keras.layers.Dense(1, dtype="mixed_float16")
    x = tf.ones((4, 3))

    def gradient(scale):
        with tf.GradientTape() as tape:
            loss = 1e-9 * tf.reduce_mean(tf.cast(layer(x), tf.float32) ** 2) * scale
        return tape.gradient(loss, layer.kernel).numpy() / scale

    assert keras.mixed_precision.global_policy().name == "float32"
    assert np.all(gradient(1.0) == 0.0)
    assert np.all(gradient(2.0**15) != 0.0)
