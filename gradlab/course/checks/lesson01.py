"""Exercises of lesson 1, GradientTape: cases, hints and known mistakes."""

from __future__ import annotations

import numpy as np

from gradlab.course.checks.models import (
    known_function,
    regression_case,
    uniform_tensor,
)
from gradlab.course.exercise import Case, Exercise, Mistake, numbered
from gradlab.tfsupport.lazy import keras, tf

Curve = known_function("Curve", "first", "second")


CURVES = (
    Curve("lambda x: 3 * x ** 2", lambda x: 3 * x**2, lambda x: 6 * x, lambda x: 6.0),
    Curve("lambda x: x ** 3", lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x),
    Curve("tf.sin", lambda x: tf.sin(x), np.cos, lambda x: -np.sin(x)),
    Curve(
        "lambda x: tf.exp(-x * x)",
        lambda x: tf.exp(-x * x),
        lambda x: -2 * x * np.exp(-x * x),
        lambda x: (4 * x * x - 2) * np.exp(-x * x),
    ),
)
POINTS = (3.0, 2.0, 0.5, -0.7)


def _point_cases() -> list[Case]:
    return [Case(lambda f=f, x=x: {"f": f, "x": x}) for f, x in zip(CURVES, POINTS, strict=True)]


Field = known_function("Field", "gradient")


FIELDS = (
    Field("lambda x: tf.reduce_sum(x ** 2)", lambda x: tf.reduce_sum(x**2), lambda x: 2 * x),
    Field(
        "lambda x: tf.reduce_mean(tf.sin(x) * x)",
        lambda x: tf.reduce_mean(tf.sin(x) * x),
        lambda x: (np.cos(x) * x + np.sin(x)) / x.size,
    ),
    Field(
        "lambda x: tf.reduce_logsumexp(x)",
        lambda x: tf.reduce_logsumexp(x),
        lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum(),
    ),
)
SHAPES = ((3,), (2, 3), (4, 1))
_tensor = uniform_tensor


def _field_cases() -> list[Case]:
    return [
        Case(lambda f=f, shape=shape, seed=seed: {"f": f, "x": _tensor(shape, seed)})
        for seed, (f, shape) in enumerate(zip(FIELDS, SHAPES, strict=True))
    ]


def _pair_cases() -> list[Case]:
    pairs = ((FIELDS[0], FIELDS[1]), (FIELDS[2], FIELDS[0]), (FIELDS[1], FIELDS[2]))
    return [
        Case(lambda f=f, g=g, shape=shape, seed=seed: {"f": f, "g": g, "x": _tensor(shape, seed)})
        for seed, ((f, g), shape) in enumerate(zip(pairs, SHAPES, strict=True))
    ]


# ── 1.5: a small Keras model ─────────────────────────────────────────────────


def _model_cases() -> list[Case]:
    return [
        Case(lambda seed=seed, batch=batch: regression_case(seed, batch))
        for seed, batch in ((0, 8), (1, 5), (2, 16))
    ]


def _model_loss_gradients(model, x, y, loss, key):
    with tf.GradientTape() as tape:
        value = loss(y, model(x))
    grads = tape.gradient(value, model.trainable_variables)
    return {key(v): g for v, g in zip(model.trainable_variables, grads, strict=True)}


def _by_path(variable) -> str:
    return variable.path


def _by_name(variable) -> str:
    return variable.name


def _summed_loss(y, prediction):
    return tf.reduce_sum((tf.reshape(y, (-1, 1)) - prediction) ** 2)


def _broadcast_loss(y, prediction):
    return tf.reduce_mean((y - prediction) ** 2)


def _model_truth(model, x, y):
    """Back-propagation by hand, in NumPy, for tanh hidden layer + linear output."""
    w1, b1, w2, b2 = (np.asarray(v, dtype=np.float64) for v in model.get_weights())
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64).reshape(-1, 1)
    hidden = np.tanh(x @ w1 + b1)
    residual = hidden @ w2 + b2 - y
    d_out = 2 * residual / len(x)
    d_hidden = (d_out @ w2.T) * (1 - hidden**2)
    paths = [v.path for v in model.trainable_variables]
    grads = [x.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_out, d_out.sum(0)]
    return dict(zip(paths, grads, strict=True))


# ── 1.6: repairing a loss whose gradients are None ──────────────────────────


def _line_cases() -> list[Case]:
    def make(seed: int) -> dict:
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(12,)).astype("float32")
        y = (2 * x + 1 + 0.1 * rng.normal(size=12)).astype("float32")
        w, b = rng.normal(size=2)
        return {
            "w": tf.Variable(w, dtype=tf.float32, name="w"),
            "b": tf.Variable(b, dtype=tf.float32, name="b"),
            "x": tf.constant(x),
            "y": tf.constant(y),
        }

    return [Case(lambda seed=seed: make(seed)) for seed in (0, 1, 2)]


def _value_and_gradients(loss_fn, arguments):
    """Call ``loss_fn`` under a tape: its value and its gradients for ``w`` and ``b``."""
    with tf.GradientTape() as tape:
        value = loss_fn(*arguments.values())
    grads = tape.gradient(value, [arguments["w"], arguments["b"]])
    return {"loss": value, "dloss/dw": grads[0], "dloss/db": grads[1]}


def _line_truth(w, b, x, y):
    w, b = float(w.numpy()), float(b.numpy())
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    residual = w * x + b - y
    return {
        "loss": np.mean(residual**2),
        "dloss/dw": np.mean(2 * residual * x),
        "dloss/db": np.mean(2 * residual),
    }


def _watch_nothing(f, x):
    x = tf.constant(x) if not tf.is_tensor(x) else x
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x)


def _value_not_slope(f, x):
    return f(tf.constant(x) if not tf.is_tensor(x) else x)


def _tape_used_twice(f, g, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y, z = f(x), g(x)
    return tape.gradient(y, x), tape.gradient(z, x)


def _unwatched_pair(f, g, x):
    with tf.GradientTape(persistent=True) as tape:
        y, z = f(x), g(x)
    return tape.gradient(y, x), tape.gradient(z, x)


def _inner_outside_outer(f, x):
    x = tf.Variable(x)
    with tf.GradientTape() as outer:
        pass
    with tf.GradientTape() as inner:
        y = f(x)
    dy = inner.gradient(y, x)
    return outer.gradient(dy, x)


def _first_not_second(f, x):
    x = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x)


def _numpy_loss(w, b, x, y):
    prediction = w.numpy() * x + b.numpy()
    return tf.reduce_mean((prediction - y) ** 2)


def _numpy_bias(w, b, x, y):
    return tf.reduce_mean((w * x + b.numpy() - y) ** 2)


def _summed_line_loss(w, b, x, y):
    return tf.reduce_sum((w * x + b - y) ** 2)


FORGOT_WATCH = Mistake(
    "forgot tape.watch",
    "a tf.constant (or a Python float) is not recorded unless you call tape.watch(x) "
    "inside the tape, or make it a tf.Variable.",
    _watch_nothing,
)

_DECLARED = [
    Exercise(
        function="slope_at",
        title="The derivative at a point",
        hint="x arrives as a Python float. What must it become, inside the tape, for the "
        "tape to record what f does to it?",
        cases=_point_cases,
        truth=lambda f, x: f.first(x),
        mistakes=(
            FORGOT_WATCH,
            Mistake(
                "returned f(x), not its derivative",
                "tape.gradient(y, x) is the derivative; y itself is the function's value.",
                _value_not_slope,
            ),
        ),
    ),
    Exercise(
        function="gradient_wrt_constant",
        title="The gradient with respect to a constant tensor",
        hint="A tape records operations on variables by itself. What does it need to be "
        "told about a tf.constant, and when?",
        cases=_field_cases,
        truth=lambda f, x: f.gradient(np.asarray(x, np.float64)),
        mistakes=(
            FORGOT_WATCH,
            Mistake(
                "returned f(x), not its gradient",
                "the gradient has the shape of x; f(x) is a single number.",
                _value_not_slope,
            ),
        ),
    ),
    Exercise(
        function="two_gradients",
        title="Two gradients from one recording",
        hint="How many times may an ordinary tape answer tape.gradient? Which argument of "
        "tf.GradientTape changes that?",
        cases=_pair_cases,
        truth=lambda f, g, x: (
            f.gradient(np.asarray(x, np.float64)),
            g.gradient(np.asarray(x, np.float64)),
        ),
        mistakes=(
            Mistake(
                "used a non-persistent tape twice",
                "a tape forgets its recording after one gradient() call; create it with "
                "tf.GradientTape(persistent=True) to ask twice.",
                _tape_used_twice,
            ),
            FORGOT_WATCH,
        ),
    ),
    Exercise(
        function="second_derivative",
        title="A second derivative with nested tapes",
        hint="The first derivative is itself a computation. Which tape must be recording "
        "while you compute it, so that you can differentiate it again?",
        cases=_point_cases,
        truth=lambda f, x: f.second(x),
        mistakes=(
            Mistake(
                "computed the first derivative outside the outer tape",
                "call inner.gradient(...) while the outer tape is still recording, "
                "i.e. inside its with-block.",
                _inner_outside_outer,
            ),
            Mistake(
                "returned the first derivative",
                "differentiate the first derivative once more with the outer tape.",
                _first_not_second,
            ),
        ),
    ),
    Exercise(
        function="loss_gradients_by_name",
        title="A Keras model's gradients, by variable",
        hint="Which attribute of a Keras 3 variable tells hidden/kernel from output/kernel? "
        "And which shape does y have next to model(x)?",
        cases=_model_cases,
        truth=_model_truth,
        rtol=1e-4,
        atol=1e-5,
        mistakes=(
            Mistake(
                "keyed by variable.name",
                "every Dense layer has a 'kernel' and a 'bias', so names collide; use "
                "variable.path ('regressor/hidden/kernel').",
                lambda model, x, y: _model_loss_gradients(
                    model, x, y, keras.losses.MeanSquaredError(), _by_name
                ),
            ),
            Mistake(
                "summed instead of averaged",
                "the mean squared error divides by the batch size: tf.reduce_mean, or "
                "keras.losses.MeanSquaredError().",
                lambda model, x, y: _model_loss_gradients(model, x, y, _summed_loss, _by_path),
            ),
            Mistake(
                "broadcast (N,) against (N,1)",
                "y has shape (N,) and model(x) has shape (N, 1): y - model(x) is an (N, N) "
                "matrix. Reshape y to (N, 1), or let keras.losses.MeanSquaredError() "
                "match the shapes.",
                lambda model, x, y: _model_loss_gradients(model, x, y, _broadcast_loss, _by_path),
            ),
        ),
    ),
    Exercise(
        function="mse",
        title="Repair a loss whose gradients are None",
        hint="Which call in broken_mse turns a variable into a plain NumPy number the tape "
        "cannot follow?",
        cases=_line_cases,
        truth=_line_truth,
        run=_value_and_gradients,
        mistakes=(
            Mistake(
                "the gradients are still None",
                "the loss still goes through .numpy(): keep every step a TensorFlow "
                "operation on w and b themselves.",
                _numpy_loss,
            ),
            Mistake(
                "b still goes through NumPy",
                "dloss/db is None because b.numpy() is a constant to the tape; use b.",
                _numpy_bias,
            ),
            Mistake(
                "summed instead of averaged",
                "broken_mse takes the mean of the squared residuals (tf.reduce_mean).",
                _summed_line_loss,
            ),
        ),
    ),
]
EXERCISES = numbered(__name__, _DECLARED)
