"""gradlab.gradcheck: verdicts on right and wrong gradients, precision, and refusals."""

import re
import time
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from gradlab.gradcheck import (
    DEFAULT_MAX_SECONDS,
    BudgetError,
    GradcheckDtypeError,
    GradcheckError,
    GradientShapeError,
    IndependentInputError,
    NondeterministicError,
    NonFiniteError,
    PrecisionWarning,
    check_gradients,
    numerical_gradient,
    progress,
)
from gradlab.gradcheck._replay import Replay, batched_ops
from gradlab.gradcheck.differences import REPLAY_VARIABLE, central_differences
from gradlab.gradcheck.problem import prepare

MODES = ["full", "fast"]


@pytest.fixture(autouse=True)
def strict_replay(monkeypatch):
    """A bug in a batched rule fails the test instead of falling back to the compiled loop."""
    monkeypatch.setenv(REPLAY_VARIABLE, "strict")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def report_row(report, label):
    """The line of ``str(report)`` that starts with ``label`` (e.g. ``"cost"``)."""
    rows = [line for line in str(report).splitlines() if line.strip().startswith(f"{label} ")]
    assert len(rows) == 1, f"no single {label!r} row in:\n{report}"
    return rows[0]


def tanh_layer_loss(rng):
    """A small smooth loss of a weight matrix and a bias, with its inputs."""
    x = tf.constant(rng.standard_normal((6, 4)))
    y = tf.constant(rng.standard_normal((6, 3)))

    def loss(w, b):
        return tf.reduce_mean((tf.tanh(x @ w + b) - y) ** 2)

    return loss, [tf.constant(rng.standard_normal((4, 3))), tf.constant(rng.standard_normal(3))]


def square_with_gradient(wrong_gradient):
    """x² (elementwise) whose custom gradient is ``wrong_gradient(x, dy)``."""

    @tf.custom_gradient
    def square(x):
        return x * x, lambda dy: wrong_gradient(x, dy)

    return square


def summed(function):
    return lambda x: tf.reduce_sum(function(x))


def test_numerical_gradient_matches_closed_form(rng):
    x, y = rng.standard_normal(5), rng.standard_normal(5)

    def f(x, y):
        return tf.reduce_sum(tf.sin(x) * y**2)

    grad_x, grad_y = numerical_gradient(f, [tf.constant(x), tf.constant(y)])

    np.testing.assert_allclose(grad_x, np.cos(x) * y**2, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(grad_y, 2 * np.sin(x) * y, rtol=1e-8, atol=1e-10)


def test_numerical_gradient_mirrors_xs_and_sums_a_tensor_output():
    x = tf.constant([1.0, 2.0, 3.0])

    single = numerical_gradient(lambda x: x**2, x)
    mapping = numerical_gradient(lambda w: w**2, {"w": x})

    np.testing.assert_allclose(single, 2 * x.numpy(), rtol=1e-8)
    assert list(mapping) == ["w"]
    np.testing.assert_allclose(mapping["w"], single)


@pytest.mark.parametrize("mode", MODES)
def test_correct_gradients_pass(rng, mode):
    loss, weights = tanh_layer_loss(rng)

    report = check_gradients(loss, weights, mode=mode)

    assert report.ok, report
    assert report.max_rel_error < report.rtol
    assert ": ok" in str(report).splitlines()[0]


@pytest.mark.parametrize("mode", MODES)
def test_custom_gradient_off_by_a_factor_of_two_fails(mode):
    halved = square_with_gradient(lambda x, dy: dy * x)  # d(x²)/dx is 2x
    x = tf.constant([0.5, 1.0, 2.0, 3.0])

    report = check_gradients(summed(halved), [x], mode=mode)

    assert not report.ok
    worst = report.inputs[0].worst
    assert worst.numerical == pytest.approx(2 * worst.analytical, rel=1e-6)
    assert "factor of 2" in str(report)


@pytest.mark.parametrize("mode", MODES)
def test_sign_error_fails(mode):
    flipped = square_with_gradient(lambda x, dy: -2 * x * dy)
    x = tf.constant([0.5, 1.0, 2.0, 3.0])

    report = check_gradients(summed(flipped), [x], mode=mode)

    assert not report.ok
    worst = report.inputs[0].worst
    assert worst.analytical == pytest.approx(-worst.numerical, rel=1e-6)
    assert "sign error" in str(report)


def one_wrong_element_problem(rng, wrong_index):
    """A 100×100 input whose gradient is wrong at one element, and a correct small input."""

    def wrong_at_one_element(x, dy):
        gradient = 2 * x * dy
        return tf.tensor_scatter_nd_add(gradient, [wrong_index], tf.ones([1], gradient.dtype))

    square = square_with_gradient(wrong_at_one_element)

    def f(big, small):
        return tf.reduce_sum(square(big)) + tf.reduce_sum(small**3)

    return f, [tf.constant(rng.standard_normal((100, 100))), tf.constant(rng.standard_normal(5))]


def test_full_mode_finds_and_names_the_one_wrong_element_of_a_large_input(rng):
    wrong_index = (37, 61)
    f, xs = one_wrong_element_problem(rng, wrong_index)

    report = check_gradients(f, xs, mode="full")

    assert not report.ok
    big, small = report.inputs
    assert (big.failures, big.worst.index) == (1, wrong_index)
    assert small.ok
    assert "element [37, 61]" in str(report)


def test_fast_mode_flags_the_input_with_the_wrong_element(rng):
    f, xs = one_wrong_element_problem(rng, (37, 61))

    report = check_gradients(f, xs, mode="fast")

    assert not report.ok
    assert [item.position for item in report.failed_inputs] == [0]
    assert "mode='full'" in str(report)


def test_custom_gradient_that_ignores_the_upstream_gradient_fails():
    ignores_dy = square_with_gradient(lambda x, dy: 2 * x)

    report = check_gradients(ignores_dy, [tf.constant([0.5, 1.0, 2.0])])

    assert not report.ok
    assert report.projected
    assert "upstream gradient dy" in str(report)


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_a_custom_gradient_of_the_wrong_shape_is_named_not_a_crash(mode):
    summed = square_with_gradient(lambda x, dy: tf.reduce_sum(2 * x * dy))

    with pytest.raises(
        GradientShapeError, match=r"has shape \(\), but the input has shape \(3,\)"
    ):
        check_gradients(summed, [tf.constant([0.5, 1.0, 2.0], tf.float64)], mode=mode)


def test_float32_inputs_are_checked_in_float64_without_warning(rng):
    loss, weights = tanh_layer_loss(rng)
    weights32 = [tf.cast(w, tf.float32) for w in weights]

    with warnings.catch_warnings():
        warnings.simplefilter("error", PrecisionWarning)
        report = check_gradients(loss, weights32)

    assert report.ok, report
    assert report.precision == "float64"
    assert [(item.dtype, item.checked_in) for item in report.inputs] == [
        ("float32", "float64"),
        ("float32", "float64"),
    ]


def test_bfloat16_input_is_promoted_and_differentiated_correctly():
    x = tf.constant([1.0, 2.0, 3.0], tf.bfloat16)

    gradient = numerical_gradient(lambda x: tf.reduce_sum(x**3), x)

    np.testing.assert_allclose(gradient, 3 * tf.cast(x, tf.float64).numpy() ** 2, rtol=1e-8)


def test_float32_only_function_warns_and_checks_at_float32_precision(rng):
    matrix = tf.constant(rng.standard_normal((3, 2)), tf.float32)

    def float32_only(x):
        return tf.reduce_sum(tf.matmul(x, matrix) ** 2)

    with pytest.warns(PrecisionWarning, match="cannot run in float64"):
        report = check_gradients(float32_only, [tf.ones((4, 3))])

    assert report.ok, report
    assert report.precision == "float32"


def test_function_that_casts_to_float32_warns():
    with pytest.warns(PrecisionWarning, match="returns float32"):
        report = check_gradients(
            lambda x: tf.reduce_sum(tf.cast(x, tf.float32) ** 3), [tf.constant([1.0, 2.0])]
        )

    assert report.precision == "float32"


def test_integer_input_raises_naming_it():
    with pytest.raises(GradcheckDtypeError, match=r"input 1 has dtype int32") as raised:
        check_gradients(lambda x, n: x * tf.cast(n, x.dtype), [tf.ones(3), tf.constant(3)])

    assert isinstance(raised.value, TypeError)


def test_non_finite_input_raises_naming_it_and_the_element():
    xs = {"w": tf.ones(3), "b": tf.constant([1.0, np.nan, 2.0])}

    with pytest.raises(NonFiniteError, match=r"input 'b' is nan at element \[1\]"):
        check_gradients(lambda w, b: tf.reduce_sum(w * b), xs)


def test_input_f_does_not_depend_on_raises_naming_it():
    with pytest.raises(IndependentInputError, match=r"f does not depend on input 1\b"):
        check_gradients(lambda x, unused: tf.reduce_sum(x**2), [tf.ones(3), tf.ones(2)])


def test_input_behind_stop_gradient_raises_naming_it():
    with pytest.raises(GradcheckError, match=r"no gradient for input 0\b"):
        check_gradients(lambda x: tf.reduce_sum(tf.stop_gradient(x) ** 2), [tf.ones(3)])


def small_model(dtype):
    return keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="tanh", dtype=dtype),
            keras.layers.Dense(1, dtype=dtype),
        ]
    )


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_a_kink_flat_on_one_side_is_a_failed_check_not_an_independent_input(side):
    # relu(side * x) at x = 0: flat on one side, so one random move may not change f.
    report = check_gradients(lambda x: tf.nn.relu(side * x), tf.constant([0.0], tf.float64))

    assert not report.ok
    assert report.inputs[0].worst.numerical == pytest.approx(0.5 * side)


def test_report_text_is_the_same_on_every_run(rng):
    loss, weights = tanh_layer_loss(rng)

    assert str(check_gradients(loss, weights)) == str(check_gradients(loss, weights))


def test_closure_pitfall_raises_naming_the_weight_and_the_cause(rng):
    model = small_model("float32")
    x = tf.constant(rng.standard_normal((5, 3)), tf.float32)

    def reads_weights_from_closure(kernel, bias, kernel_1, bias_1):
        return tf.reduce_mean(model(x) ** 2)

    with pytest.raises(IndependentInputError, match="closure") as raised:
        check_gradients(reads_weights_from_closure, model.trainable_variables)

    assert model.trainable_variables[0].path in str(raised.value)


@pytest.mark.parametrize("mode", MODES)
def test_keras_model_with_weights_passed_in_is_checked_in_float64(rng, mode):
    model = small_model("float64")
    x = tf.constant(rng.standard_normal((5, 3)))

    def loss(*weights):
        predictions, _ = model.stateless_call(list(weights), [], x)
        return tf.reduce_mean(predictions**2)

    with warnings.catch_warnings():
        warnings.simplefilter("error", PrecisionWarning)
        report = check_gradients(loss, model.trainable_variables, mode=mode)

    assert report.ok, report
    assert report.precision == "float64"


def test_failing_report_says_what_was_compared_and_what_to_try():
    halved = square_with_gradient(lambda x, dy: dy * x)

    text = str(check_gradients(summed(halved), {"x": tf.constant([1.0, 2.0])}))

    for heading in (
        "FAILED",
        "compared",
        "tolerance",
        "input 'x'",
        "worst element",
        "What to try",
    ):
        assert heading in text
    assert re.search(r"numerical 4\b.*analytical 2\b", text)


def test_compiled_batches_agree_with_one_at_a_time_including_a_partial_last_batch(rng):
    loss, weights = tanh_layer_loss(rng)  # 15 elements: 30 evaluations, batches of 7 leave 2
    problem = prepare(loss, weights, reduction="sum", with_gradients=False)
    args = (problem.objective, problem.values, problem.specs, 1e-5)

    one_by_one = central_differences(*args, 1, replay=False)
    batched = central_differences(*args, 7, replay=False)

    assert (one_by_one.batch, batched.batch) == (1, 7)
    assert batched.evaluations == 30
    for single, several in zip(one_by_one.gradients, batched.gradients, strict=True):
        np.testing.assert_allclose(several, single, rtol=1e-7, atol=1e-12)


def dense_layers(rng):
    """Two dense layers and a squared error, the target subtracted from either side."""
    x, y = tf.constant(rng.standard_normal((6, 4))), tf.constant(rng.standard_normal((6, 2)))

    def loss(w1, b1, w2, b2):
        hidden = tf.nn.bias_add(x @ w1, b1)
        out = tf.sigmoid(hidden) @ w2 + b2
        return tf.reduce_mean(tf.square(out - y)) + tf.reduce_sum((y - out) ** 3)

    return loss, [(4, 5), (5,), (5, 2), (2,)]


def products_in_every_layout(rng):
    """Four matrices, each read by one product, in the four layouts; one read twice."""
    a, b = tf.constant(rng.standard_normal((5, 4))), tf.constant(rng.standard_normal((3, 5)))

    def loss(right, right_t, left, left_t, square):
        z1 = tf.tanh(a @ right)  # (5, 3): a @ X
        z2 = tf.tanh(tf.matmul(a, right_t, transpose_b=True))  # (5, 3): a @ Xᵀ
        z3 = tf.sin(left @ b)  # (2, 5): X @ b
        z4 = tf.sin(tf.matmul(left_t, b, transpose_a=True, transpose_b=True))  # (2, 3): Xᵀ @ bᵀ
        twice = tf.reduce_sum(tf.tanh(square @ square)) + tf.reduce_sum(tf.exp(square) * square)
        return tf.reduce_sum(z1 * z2) + tf.reduce_sum(z3**2) + tf.reduce_sum(tf.exp(z4)) + twice

    return loss, [(4, 3), (3, 4), (2, 3), (5, 2), (3, 3)]


def activations(rng):
    a = tf.constant(rng.standard_normal((3, 4)))

    def loss(x):
        z = a @ x
        parts = [
            tf.nn.relu(z),
            tf.nn.relu6(z),
            tf.nn.elu(z),
            tf.nn.selu(z),
            tf.nn.leaky_relu(z, 0.1),
            tf.nn.softplus(z),
            tf.nn.softsign(z),
            tf.math.log1p(tf.exp(z)),
            tf.sqrt(z * z + 1),
            tf.math.erf(z),
            tf.cos(z) / (2 + tf.sin(z)),
            tf.where(z > 0, z, 0.5 * z),
            tf.maximum(z, 0.2) - tf.minimum(z, -0.2),
            tf.math.squared_difference(z, 1.0),
            tf.math.divide_no_nan(z, z * z + 1),
            tf.pow(tf.constant(1.5, tf.float64), z),  # the changed tensor as an exponent
        ]
        return tf.reduce_sum(tf.add_n(parts))

    return loss, [(4, 5)]


def shapes_and_reductions(rng):
    a = tf.constant(rng.standard_normal((3, 4)))

    def loss(x):
        z = tf.reshape(a @ x, [3, 2, 3])
        z = tf.transpose(z, [2, 0, 1])
        z = tf.expand_dims(z, -1) * tf.expand_dims(z, 2)  # (3, 3, 2, 2)
        z = tf.squeeze(tf.reduce_max(z, axis=-1, keepdims=True), axis=-1)
        row = tf.reduce_mean(z, axis=[0, -1]) + tf.reduce_min(z, axis=[1, 2])
        return tf.reduce_sum(row * tf.reduce_prod(tf.tanh(z), axis=2))

    return loss, [(4, 6)]


def softmax_and_batched_products(rng):
    labels = tf.constant(np.eye(4)[[0, 2, 1]])
    a = tf.constant(rng.standard_normal((2, 3, 5)))

    def loss(x, stack):
        logits = tf.reduce_sum(tf.matmul(a, stack), axis=0) @ x  # (2, 3, 5), then (3, 4)
        cross = tf.nn.softmax_cross_entropy_with_logits(labels, logits)
        return tf.reduce_sum(cross) + tf.reduce_sum(
            tf.nn.log_softmax(logits) * tf.nn.softmax(logits)
        )

    return loss, [(5, 4), (5, 5)]


def keras_classifier(rng):
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="relu", dtype="float64"),
            keras.layers.Dense(3, activation="softmax", dtype="float64"),
        ]
    )
    x = rng.standard_normal((5, 3))
    y = np.eye(3)[[0, 1, 2, 1, 0]]
    loss_function = keras.losses.CategoricalCrossentropy()

    def loss(*weights):
        prediction, _ = model.stateless_call(list(weights), [], x)
        return loss_function(y, prediction)

    return loss, [tuple(v.shape) for v in model.trainable_variables]


def images_slices_and_stacks(rng):
    images = tf.constant(rng.standard_normal((2, 6, 6, 2)))
    kernel = tf.constant(rng.standard_normal((2, 2, 3, 2)))
    table = tf.constant(rng.standard_normal((7, 3)))

    def loss(filters, x):
        z = tf.nn.conv2d(images, filters, 1, "VALID")  # the filters change: (2, 4, 4, 3)
        z = tf.nn.max_pool2d(tf.tanh(z), 2, 2, "VALID") + tf.nn.avg_pool2d(z, 2, 2, "SAME")
        z = tf.nn.conv2d(z, kernel, 1, "SAME")  # the images change: (2, 2, 2, 2)
        rows = tf.gather(x, [4, 0, 4, 2]) @ tf.transpose(table)  # (4, 7)
        stacked = tf.stack([rows[:, -1], table[:4, 0], rows[:, 2]], 1)  # a fixed piece too
        pieces = tf.concat([rows[:, 1:4], table[:4, :1], stacked], 1)  # (4, 7)
        mixed = tf.einsum("ij,kj->ik", pieces[:, ::2], tf.reshape(z, [4, 4])[::2])
        return tf.reduce_sum(tf.sin(mixed)) + tf.reduce_sum(z[..., 1] ** 2)

    return loss, [(3, 3, 2, 3), (5, 3)]


REPLAYED = {
    "dense layers": dense_layers,
    "products in every layout": products_in_every_layout,
    "activations": activations,
    "shapes and reductions": shapes_and_reductions,
    "softmax and batched products": softmax_and_batched_products,
    "a Keras classifier": keras_classifier,
    "images, slices and stacks": images_slices_and_stacks,
}


@pytest.mark.parametrize("name", REPLAYED)
def test_replaying_f_downstream_of_each_input_gives_the_values_compiling_f_gives(rng, name):
    loss, shapes = REPLAYED[name](rng)
    xs = [tf.constant(rng.standard_normal(shape)) for shape in shapes]
    problem = prepare(loss, xs, reduction="sum", with_gradients=False)
    args = (problem.objective, problem.values, problem.specs, 1e-5)

    replayed = central_differences(*args)
    compiled = central_differences(*args, 1, replay=False)

    assert replayed.replayed == tuple(range(len(xs)))
    assert compiled.replayed == ()
    for by_replay, by_compiling in zip(replayed.gradients, compiled.gradients, strict=True):
        np.testing.assert_allclose(by_replay, by_compiling, rtol=1e-7, atol=1e-9)


def test_a_wide_layers_kernel_is_replayed_in_batches_sized_by_its_column_not_the_layer(rng):
    x = tf.constant(rng.standard_normal((8, 4)))

    def loss(kernel, head):
        return tf.reduce_sum(tf.tanh(x @ kernel) @ head)

    xs = [tf.constant(rng.standard_normal((4, 1500))), tf.constant(rng.standard_normal((1500, 1)))]
    problem = prepare(loss, xs, reduction="sum", with_gradients=False)
    base = problem.values[0].numpy().ravel()
    batches = []

    Replay(problem.objective, problem.values, problem.specs).evaluate(
        0, base, np.repeat(base, 2) + 1e-5, lambda count: batches.append(count) or True
    )

    # 12,000 perturbations, each one column of 8 values while it stays a column; sized by the
    # layer's (8, 1500) values instead they took 35 calls.
    assert sum(batches) == 12_000
    assert len(batches) <= 2


def test_an_input_read_by_an_operation_without_a_batched_rule_is_compiled_instead(rng):
    a = tf.constant(rng.standard_normal((3, 4)))

    def loss(x, w):
        return tf.reduce_sum(tf.tanh(a @ w) * tf.math.cumsum(x, axis=0))

    xs = [tf.constant(rng.standard_normal((3, 5))), tf.constant(rng.standard_normal((4, 5)))]
    problem = prepare(loss, xs, reduction="sum", with_gradients=False)

    result = central_differences(problem.objective, problem.values, problem.specs, 1e-5)
    report = str(check_gradients(loss, xs))

    assert result.replayed == (1,)
    assert "input 1: only the operations downstream of it" in report
    assert "input 0: compiled" in report


def test_full_report_says_how_each_input_was_evaluated(rng):
    x = tf.constant(rng.standard_normal((6, 4)))

    def loss(kernel, bias):
        return tf.reduce_sum(tf.tanh(x @ kernel + bias) ** 2)

    xs = [tf.constant(rng.standard_normal((4, 300))), tf.constant(rng.standard_normal(300))]

    cost = report_row(check_gradients(loss, xs), "cost")

    assert cost.startswith(
        "  cost       3,000 evaluations of f; input 0, input 1: only the operations downstream"
    )


def test_full_mode_names_the_wrong_element_of_a_kernel_moved_through_its_product(rng):
    x = tf.constant(rng.standard_normal((6, 4)))

    @tf.custom_gradient
    def tanh_wrong_in_column_2(z):
        y = tf.tanh(z)

        def gradient(dy):
            right = dy * (1 - y * y)
            return (
                right
                + tf.one_hot(2, 300, dtype=z.dtype) * tf.one_hot(0, 6, dtype=z.dtype)[:, None]
            )

        return y, gradient

    def loss(kernel):
        return tf.reduce_sum(tanh_wrong_in_column_2(x @ kernel))

    report = check_gradients(loss, [tf.constant(rng.standard_normal((4, 300)))])

    assert not report.ok
    assert report.inputs[0].worst.index[1] == 2
    assert report.inputs[0].failures == 4
    assert "input 0: only the operations downstream of it" in str(report)


def test_an_input_that_is_compiled_says_why_it_was_not_replayed(rng):
    a = tf.constant(rng.standard_normal((3, 4)))

    def loss(x, w):
        return tf.reduce_sum(tf.tanh(a @ w) * tf.math.cumsum(x, axis=0))

    xs = [tf.constant(rng.standard_normal((3, 5))), tf.constant(rng.standard_normal((4, 5)))]

    cost = report_row(check_gradients(loss, xs), "cost")

    assert "input 0: compiled, one at a time (not replayed: no batched rule for Cumsum)" in cost


def test_replay_switched_off_compiles_every_input_and_gives_the_same_verdict(rng, monkeypatch):
    loss, weights = tanh_layer_loss(rng)
    replayed = check_gradients(loss, weights)
    monkeypatch.setenv(REPLAY_VARIABLE, "off")

    compiled = check_gradients(loss, weights)

    assert compiled.ok and replayed.ok
    assert "input 0, input 1: compiled" in compiled.cost
    assert f"not replayed: switched off by {REPLAY_VARIABLE}=off" in compiled.cost
    assert "only the operations downstream" in replayed.cost


def broken_mean_rule(node, values):
    raise TypeError("a bug in the Mean rule")


def test_a_bug_in_a_batched_rule_is_raised_in_strict_mode(rng, monkeypatch):
    monkeypatch.setitem(batched_ops.RULES, "Mean", broken_mean_rule)
    loss, weights = tanh_layer_loss(rng)

    with pytest.raises(TypeError, match="a bug in the Mean rule"):
        check_gradients(loss, weights)


def test_a_bug_in_a_batched_rule_is_reported_not_silent_outside_strict_mode(rng, monkeypatch):
    monkeypatch.setitem(batched_ops.RULES, "Mean", broken_mean_rule)
    monkeypatch.setenv(REPLAY_VARIABLE, "on")
    loss, weights = tanh_layer_loss(rng)

    report = check_gradients(loss, weights)

    assert report.ok, report
    assert "the replay failed unexpectedly (TypeError: a bug in the Mean rule)" in report.cost
    assert "gradlab bug" in report_row(report, "cost")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "tolerances", [{"rtol": float("nan")}, {"atol": float("nan")}, {"rtol": -1.0}]
)
def test_a_nan_tolerance_is_refused_like_a_negative_one(mode, tolerances):
    with pytest.raises(GradcheckError, match="tolerances must be finite numbers >= 0"):
        check_gradients(
            lambda x: tf.reduce_sum(x**2), tf.constant([1.0, 2.0]), mode=mode, **tolerances
        )


@pytest.mark.parametrize("mode", MODES)
def test_a_delta_that_leaves_nothing_of_x_is_an_error_not_a_failed_report(mode):
    with pytest.raises(GradcheckError, match=r"delta=1e\+300 is too large for input 0") as raised:
        check_gradients(
            lambda x: tf.reduce_sum(x**2), tf.constant([1.0, 2.0]), mode=mode, delta=1e300
        )

    assert "nothing of x is left" in str(raised.value)


def test_a_delta_that_makes_x_plus_delta_infinite_is_an_error(rng):
    matrix = tf.constant(rng.standard_normal((3, 2)), tf.float32)

    def float32_only(x):
        return tf.reduce_sum(tf.matmul(x, matrix) ** 2)

    with (
        pytest.warns(PrecisionWarning),
        pytest.raises(GradcheckError, match=r"x ± delta is not finite in float32"),
    ):
        numerical_gradient(float32_only, tf.ones((4, 3)), delta=1e39)


@pytest.mark.parametrize("mode", MODES)
def test_a_random_f_is_refused_as_non_deterministic_in_both_modes(mode):
    def noisy(x):
        return tf.reduce_sum(x**2 * (1 + 0.01 * tf.random.normal(x.shape, dtype=x.dtype)))

    with pytest.raises(NondeterministicError, match="not deterministic") as raised:
        check_gradients(noisy, tf.constant([1.0, 2.0, 3.0]), mode=mode)

    assert "tf.random.stateless_" in str(raised.value)


def test_a_stateless_random_f_is_deterministic_and_checked(rng):
    def seeded(x):
        noise = tf.random.stateless_normal(x.shape, seed=[1, 2], dtype=x.dtype)
        return tf.reduce_sum(x**2 * (1 + 0.01 * noise))

    assert check_gradients(seeded, tf.constant(rng.standard_normal(4))).ok


def wide_mlp_loss(width):
    """An MLP loss with about ``width ** 2`` weights: its full check is quadratic."""
    rng = np.random.default_rng(0)
    x, y = tf.constant(rng.standard_normal((8, 16))), tf.constant(rng.standard_normal((8, 1)))
    shapes = [(16, width), (width, width), (width, 1)]
    weights = [tf.constant(rng.standard_normal(s) / np.sqrt(s[0])) for s in shapes]

    def loss(w1, w2, w3):
        return tf.reduce_mean((tf.tanh(tf.tanh(x @ w1) @ w2) @ w3 - y) ** 2)

    return loss, weights


@pytest.mark.parametrize(
    ("replay", "max_seconds", "budget"),
    [("off", DEFAULT_MAX_SECONDS, "1 min 0 s"), ("strict", 5, "5.0 s")],
)
def test_a_full_check_over_budget_is_refused_quickly_suggesting_fast_mode(
    monkeypatch, replay, max_seconds, budget
):
    # a million weights: about 25 s replayed, hours compiled
    monkeypatch.setenv(REPLAY_VARIABLE, replay)
    loss, weights = wide_mlp_loss(1000)
    started = time.perf_counter()

    with pytest.raises(
        BudgetError, match=rf"would take about .* over the budget of {budget}"
    ) as error:
        check_gradients(loss, weights, mode="full", max_seconds=max_seconds)

    assert time.perf_counter() - started < 30
    assert "mode='fast'" in str(error.value) and "max_seconds=None" in str(error.value)
    assert check_gradients(loss, weights, mode="fast").ok


@pytest.mark.parametrize("max_seconds", [0, -1.0, float("nan"), "60"])
def test_an_unusable_budget_is_refused(max_seconds):
    with pytest.raises(GradcheckError, match="max_seconds must be a positive number"):
        check_gradients(lambda x: tf.reduce_sum(x**2), tf.ones(2), max_seconds=max_seconds)


def three_inputs(rng):
    """A loss of three inputs, 1,015 elements: several batches on either evaluator."""
    loss, weights = tanh_layer_loss(rng)

    def f(w, b, z):
        return loss(w, b) + tf.reduce_sum(z**2)

    return f, [*weights, tf.constant(rng.standard_normal((40, 25)))]


@pytest.mark.parametrize("replay", ["strict", "off"])
def test_a_long_check_prints_progress_to_stderr_and_a_short_one_prints_nothing(
    rng, monkeypatch, capsys, replay
):
    monkeypatch.setenv(REPLAY_VARIABLE, replay)
    f, xs = three_inputs(rng)

    check_gradients(f, xs)
    assert capsys.readouterr().err == ""

    monkeypatch.setattr(progress, "FIRST_REPORT_AFTER", 0.0)
    monkeypatch.setattr(progress, "REPORT_EVERY", 0.0)
    check_gradients(f, xs, max_seconds=None)  # no trial: every batch is counted as it ends

    lines = capsys.readouterr().err.splitlines()
    assert re.match(r"gradcheck: [\d,]+ of 2,030 evaluations of f \(\d+%\) after ", lines[0])
    assert lines[-1].startswith("gradcheck: 2,030 evaluations of f done in ")
