"""gradlab.diagnose names the right cause for each None gradient, and spots bad numbers."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.diagnose import (
    Cause,
    Status,
    check_numerics,
    diagnose,
    dump_debug_info,
    nonfinite_ops,
    read_health,
)
from gradlab.tfsupport.lazy import keras, tf


def _square_sum(w, x):
    return tf.reduce_sum((w * x) ** 2)


# ── the cause of a None gradient ─────────────────────────────────────────────


def test_a_constant_input_the_tape_does_not_watch_is_not_watched():
    w, x = tf.Variable(2.0, name="w"), tf.constant([1.0, 2.0])
    found = diagnose(_square_sum, [w], inputs=[x])
    assert found.causes == {"inputs[0]": Cause.NOT_WATCHED}
    assert found["w"].status is Status.OK


def test_a_watched_input_has_a_gradient():
    w, x = tf.Variable(2.0, name="w"), tf.constant([1.0, 2.0])
    found = diagnose(_square_sum, [w], inputs=[x], watch_inputs=True)
    assert found.ok
    assert found["inputs[0]"].norm == pytest.approx(np.linalg.norm(2 * 4.0 * np.array([1, 2])))


def test_an_input_read_by_a_closure_is_not_watched():
    w, x = tf.Variable(2.0, name="w"), tf.constant([1.0, 2.0])
    found = diagnose(lambda: _square_sum(w, x), [w], inputs={"x": x})
    assert found.causes == {"x": Cause.NOT_WATCHED}


def test_a_non_trainable_variable_is_not_watched():
    frozen = tf.Variable(3.0, trainable=False, name="frozen")
    found = diagnose(lambda: frozen**2, [frozen])
    assert found.causes == {"frozen": Cause.NOT_WATCHED}


def test_an_integer_variable_has_an_integer_dtype():
    n = tf.Variable(3, name="n")
    found = diagnose(lambda: tf.cast(n, tf.float32) ** 2, [n])
    assert found.causes == {"n": Cause.INTEGER_DTYPE}
    assert "int32" in found["n"].finding


def test_a_variable_read_through_numpy_went_through_numpy():
    w, b = tf.Variable(2.0, name="w"), tf.Variable(1.0, name="b")
    found = diagnose(lambda: tf.constant(np.square(w.numpy())) + b, [w, b])
    assert found.causes == {"w": Cause.NUMPY}
    assert found["b"].status is Status.OK


def test_an_input_passed_through_numpy_went_through_numpy():
    def loss(w, x):
        return w * tf.reduce_sum(tf.constant(np.exp(x.numpy())))

    found = diagnose(loss, [tf.Variable(1.0, name="w")], inputs=[tf.constant([0.5, 1.0])])
    assert found.causes == {"inputs[0]": Cause.NUMPY}


def test_stop_gradient_and_integer_casts_also_count_as_leaving_the_tape():
    w = tf.Variable(2.6, name="w")
    assert diagnose(lambda: tf.stop_gradient(w) * 3.0, [w]).causes == {"w": Cause.NUMPY}
    rounded = diagnose(lambda: tf.cast(tf.cast(w, tf.int32), tf.float32), [w])
    assert rounded.causes == {"w": Cause.NUMPY}


def test_a_tensor_among_the_variables_was_replaced_by_a_tensor():
    w = tf.Variable(2.0, name="w")
    w_after_bad_update = w - 0.1 * 4.0  # what `w = w - lr * g` leaves behind
    found = diagnose(lambda: w_after_bad_update**2, {"w": w_after_bad_update})
    assert found.causes == {"w": Cause.REPLACED_BY_TENSOR}


def test_a_variable_the_loss_ignores_is_unused():
    w, spare = tf.Variable(2.0, name="w"), tf.Variable([1.0, 2.0], name="spare")
    found = diagnose(lambda: w**2, [w, spare])
    assert found.causes == {"spare": Cause.UNUSED}


def test_a_watched_input_the_loss_ignores_is_unused():
    found = diagnose(lambda w, x: w**2, [tf.Variable(1.0)], inputs=[tf.ones(3)], watch_inputs=True)
    assert found.causes == {"inputs[0]": Cause.UNUSED}


def test_an_input_a_closure_ignores_cannot_be_told_apart():
    w, x = tf.Variable(1.0, name="w"), tf.ones(3)
    found = diagnose(lambda: w**2, [w], inputs=[x], watch_inputs=True)
    assert found.causes == {"inputs[0]": Cause.NO_PATH}


def test_a_random_loss_is_not_called_unused():
    w, spare = tf.Variable(1.0, name="w"), tf.Variable(1.0, name="spare")
    found = diagnose(lambda: w**2 + tf.random.uniform(()), [w, spare])
    assert found.causes == {"spare": Cause.NO_PATH}


def test_probing_leaves_every_variable_as_it_was():
    w = tf.Variable([1.0, -2.0, 3.0], name="w")
    before = w.numpy().copy()
    diagnose(lambda: tf.reduce_sum(tf.constant(w.numpy()) ** 2), [w])
    np.testing.assert_array_equal(w.numpy(), before)


# ── your tape's result ───────────────────────────────────────────────────────


def test_a_tape_result_is_diagnosed_as_given():
    w, x = tf.Variable(2.0, name="w"), tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        loss = _square_sum(w, x)
    unwatched = diagnose(_square_sum, [w], inputs=[x], gradients=tape.gradient(loss, [w, x]))
    assert unwatched.causes == {"inputs[0]": Cause.NOT_WATCHED}
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = _square_sum(w, x)
    watched = diagnose(_square_sum, [w], inputs=[x], gradients=tape.gradient(loss, [w, x]))
    assert watched.ok


def test_a_tape_result_of_the_wrong_length_is_refused():
    w = tf.Variable(1.0)
    with pytest.raises(ValueError, match="1 gradients for 2 sources"):
        diagnose(lambda: w, [w, w], gradients=[None])


def test_a_closure_s_variables_are_found_when_none_are_given():
    a, b = tf.Variable(1.0, name="a"), tf.Variable(2.0, name="b")
    found = diagnose(lambda: a * b)
    assert [item.name for item in found.sources] == ["a", "b"]
    assert found["a"].norm == pytest.approx(2.0)


def test_a_loss_of_the_sources_needs_the_variables():
    with pytest.raises(ValueError, match="pass variables"):
        diagnose(lambda w: w**2)


# ── numbers: non-finite, vanishing, exploding ────────────────────────────────


def test_the_norm_at_zero_is_non_finite():
    z = tf.Variable([0.0, 0.0], name="z")
    found = diagnose(lambda: tf.norm(z), [z])
    assert found["z"].status is Status.NON_FINITE
    assert found["z"].finding == "2 NaN and 0 infinite of 2 values"


def _deep_sigmoid(depth: int = 8):
    keras.utils.set_random_seed(0)
    layers = [keras.Input((16,))]
    layers += [keras.layers.Dense(16, activation="sigmoid") for _ in range(depth)]
    model = keras.Sequential([*layers, keras.layers.Dense(1)])
    x = tf.random.normal((32, 16), seed=1)
    y = tf.random.normal((32, 1), seed=2)
    return model, lambda: keras.losses.MeanSquaredError()(y, model(x))


def test_the_first_layers_of_a_deep_sigmoid_network_vanish_and_the_last_do_not():
    model, loss = _deep_sigmoid()
    found = diagnose(loss, model.trainable_variables)
    statuses = [item.status for item in found.sources]
    assert statuses[0] is Status.VANISHING and statuses[-1] is Status.OK
    norms = list(found.layer_norms().values())
    assert norms[0] < 1e-4 * norms[-1]


def test_the_vanishing_threshold_is_configurable():
    model, loss = _deep_sigmoid()
    assert diagnose(loss, model.trainable_variables, vanishing=1e-12).ok


def test_an_exactly_zero_gradient_vanishes():
    w, dead = tf.Variable(1.0, name="w"), tf.Variable(-1.0, name="dead")
    found = diagnose(lambda: w**2 + tf.nn.relu(dead), [w, dead])
    assert found["dead"].status is Status.VANISHING
    assert "exactly zero" in found["dead"].finding


def test_a_large_gradient_explodes_above_the_threshold():
    w = tf.Variable([3.0, 4.0], name="w")
    loss = lambda: 1000.0 * tf.reduce_sum(w)  # noqa: E731 - gradient norm 1000·√2
    assert diagnose(loss, [w])["w"].status is Status.EXPLODING
    assert diagnose(loss, [w], exploding=1500.0).ok


def test_layer_norms_combine_a_layer_s_kernel_and_bias():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="hidden")])
    x = tf.random.normal((4, 3), seed=3)
    found = diagnose(lambda: tf.reduce_sum(model(x)), model.trainable_variables)
    kernel_gradient = np.tile(x.numpy().sum(0)[:, None], (1, 2))
    bias_gradient = np.full(2, 4.0)
    expected = np.sqrt(np.sum(kernel_gradient**2) + np.sum(bias_gradient**2))
    assert list(found.layer_norms()) == [f"{model.name}/hidden"]
    assert found.layer_norms()[f"{model.name}/hidden"] == pytest.approx(expected, rel=1e-5)


def test_the_report_names_each_problem_and_what_to_try():
    w, n = tf.Variable(2.0, name="w"), tf.Variable(3, name="n")
    text = str(diagnose(lambda: w**2 + tf.cast(n, tf.float32), [w, n]))
    assert "1 of 2 gradients need attention" in text
    assert "None (integer dtype)" in text
    assert "tf.Variable(3.0)" in text


def test_the_figure_shows_layer_norms_on_a_log_scale():
    model, loss = _deep_sigmoid(depth=3)
    figure = diagnose(loss, model.trainable_variables).figure()
    axes = figure.axes[0]
    assert axes.get_yscale() == "log"
    np.testing.assert_allclose(
        axes.lines[0].get_ydata(),
        list(diagnose(loss, model.trainable_variables).layer_norms().values()),
    )


# ── NaN hunters ──────────────────────────────────────────────────────────────


def test_check_numerics_raises_inside_the_block_and_is_off_after_it():
    with pytest.raises(tf.errors.InvalidArgumentError, match='op "Log"'), check_numerics():
        tf.math.log(tf.constant([-1.0, 1.0]))
    assert np.isnan(tf.math.log(tf.constant(-1.0)).numpy())


def test_a_dump_names_the_first_op_with_a_nan_in_a_gradient(tmp_path):
    @tf.function
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.where(x > 0, tf.math.log(x), 0.0))
        return tape.gradient(y, x)

    with dump_debug_info(tmp_path / "dump") as root:
        gradient(tf.constant([0.0, 1.0]))
    bad = nonfinite_ops(root)
    assert bad[0].op_type == "Log" and bad[0].neg_inf == 1 and bad[0].nan == 0
    first_nan = next(op for op in bad if op.nan)
    assert first_nan.elements == 2 and first_nan.nan == 1
    assert len(read_health(root)) > len(bad)
    assert np.isfinite(tf.math.log(tf.constant(2.0)).numpy())  # dumping is off again


def _op_callbacks_installed() -> bool:
    from tensorflow.python.framework import op_callbacks

    return op_callbacks.should_invoke_op_callbacks()


def test_check_numerics_and_dumping_are_switched_off_even_when_the_block_raises(tmp_path):
    assert not _op_callbacks_installed()
    with pytest.raises(RuntimeError), check_numerics():
        assert _op_callbacks_installed()
        raise RuntimeError("inside")
    assert not _op_callbacks_installed()
    with pytest.raises(RuntimeError), dump_debug_info(tmp_path / "dump"):
        assert _op_callbacks_installed()
        raise RuntimeError("inside")
    assert not _op_callbacks_installed()


def test_dumping_twice_into_one_folder_keeps_only_the_second_dump(tmp_path):
    with dump_debug_info(tmp_path) as first:
        tf.math.log(tf.constant([0.0]))
    with dump_debug_info(tmp_path) as second:  # the same folder twice crashes TensorFlow
        tf.math.sqrt(tf.constant([4.0]))
    assert second != first and not first.exists()
    assert [item.name for item in tmp_path.iterdir()] == [second.name]
    assert [op.op_type for op in read_health(second)] == ["Sqrt"]


def test_gradient_flow_draws_one_line_per_network_and_leaves_zeros_out():
    from gradlab.teaching.plots import gradient_flow

    figure = gradient_flow(
        {"a": {"dense_1": 1e-6, "dense_2": 1e-3}, "b": {"dense_1": 0.0, "dense_2": 2.0}},
        exploding=1e3,
    )
    axes = figure.axes[0]
    a_line, b_line = axes.lines[:2]
    np.testing.assert_allclose(a_line.get_ydata(), [1e-6, 1e-3])
    assert np.isnan(b_line.get_ydata()[0]) and b_line.get_ydata()[1] == 2.0
    assert [text.get_text() for text in axes.get_legend().get_texts()] == [
        "a",
        "b",
        "exploding (1000)",
    ]
