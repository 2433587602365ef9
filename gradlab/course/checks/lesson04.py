"""Exercises of lesson 4, finite-difference checking: cases, hints and known mistakes."""

from __future__ import annotations

import numpy as np

from gradlab.course.checks.lesson01 import CURVES, FIELDS
from gradlab.course.checks.models import (
    known_function,
    regression_case,
    uniform_tensor,
)
from gradlab.course.exercise import Case, Exercise, Mistake, numbered
from gradlab.tfsupport.lazy import keras, tf

# ── 4.1: a central difference ───────────────────────────────────────────────

POINTS_AND_STEPS = ((3.0, 1e-2), (2.0, 1e-4), (0.5, 1e-3), (-0.7, 1e-3))


def _point_cases() -> list[Case]:
    return [
        Case(lambda f=f, x=x, h=h: {"f": f, "x": x, "h": h})
        for f, (x, h) in zip(CURVES, POINTS_AND_STEPS, strict=True)
    ]


def _one_sided(f, x, h):
    x = tf.constant(x, tf.float64)
    return (f(x + h) - f(x)) / h


def _over_h(f, x, h):
    x = tf.constant(x, tf.float64)
    return (f(x + h) - f(x - h)) / h


def _python_floats(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


# ── 4.2: a numerical gradient, element by element ───────────────────────────

GRADIENT_SHAPES = ((3,), (2, 3), (4, 1))


def _field_cases() -> list[Case]:
    return [
        Case(
            lambda f=f, shape=shape, seed=seed: {
                "f": f,
                "x": uniform_tensor(shape, seed, dtype="float64"),
                "h": 1e-3,
            }
        )
        for seed, (f, shape) in enumerate(zip(FIELDS, GRADIENT_SHAPES, strict=True))
    ]


def _each_element(f, x, h, slope):
    """Apply ``slope(f, base, step, h)`` to a one-element step at every position of x."""
    base = x.numpy()
    gradient = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        step = np.zeros_like(base)
        step[index] = h
        gradient[index] = slope(f, base, step, h)
    return gradient


def _one_sided_gradient(f, x, h):
    return _each_element(
        f,
        x,
        h,
        lambda f, base, step, h: float(f(tf.constant(base + step)) - f(tf.constant(base))) / h,
    )


def _gradient_over_h(f, x, h):
    return _each_element(
        f,
        x,
        h,
        lambda f, base, step, h: (
            float(f(tf.constant(base + step)) - f(tf.constant(base - step))) / h
        ),
    )


def _all_elements_at_once(f, x, h):
    base = x.numpy()
    rise = float(f(tf.constant(base + h)) - f(tf.constant(base - h)))
    return np.full_like(base, rise / (2 * h))


# ── 4.3: a relative error that behaves near zero ────────────────────────────


def _relative_cases() -> list[Case]:
    def first() -> dict:
        return {
            "numerical": np.array([1.0, 1e-12, 0.0, 3.0, -2.0]),
            "analytical": np.array([1.0 + 1e-9, -1e-12, 0.0, 0.0, 2.0]),
            "floor": 1e-10,
        }

    def second() -> dict:
        rng = np.random.default_rng(4)
        numerical = rng.normal(size=(3, 4))
        analytical = numerical + 1e-6 * rng.normal(size=(3, 4))
        numerical[0, 1] = analytical[0, 1] = 0.0
        analytical[2, 3] = 0.0
        numerical[1, 2] = 0.0
        return {"numerical": numerical, "analytical": analytical, "floor": 1e-8}

    def third() -> dict:
        return {
            "numerical": np.array([[2e6, -3.0], [0.0, 1e-7]]),
            "analytical": np.array([[2e6 + 1.0, 3.0], [1e-7, 0.0]]),
            "floor": 1e-6,
        }

    return [Case(first), Case(second), Case(third)]


def _relative_truth(numerical, analytical, floor):
    """The definition, one element at a time, in plain Python."""
    flat = [
        abs(n - a) / max(abs(n), abs(a), floor)
        for n, a in zip(numerical.ravel().tolist(), analytical.ravel().tolist(), strict=True)
    ]
    return np.array(flat).reshape(numerical.shape)


def _over_analytical(numerical, analytical, floor):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(numerical - analytical) / np.abs(analytical)


def _without_floor(numerical, analytical, floor):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(numerical - analytical) / np.maximum(np.abs(numerical), np.abs(analytical))


def _over_sum(numerical, analytical, floor):
    scale = np.maximum(np.abs(numerical) + np.abs(analytical), floor)
    return np.abs(numerical - analytical) / scale


# ── 4.4: a model's loss as a function of one variable ───────────────────────


def _model_cases() -> list[Case]:
    return [
        Case(lambda seed=seed, batch=batch, i=i: {**regression_case(seed, batch), "index": i})
        for seed, batch, i in ((0, 8, 0), (1, 5, 3), (2, 16, 2))
    ]


def _moved_value(current: np.ndarray, index: int) -> np.ndarray:
    """The variable's value moved by a fixed random amount (the same for every answer)."""
    noise = np.random.default_rng([index, 4]).normal(size=current.shape)
    return (current + 0.5 * noise).astype(np.float32)


def _call_the_loss(loss_of_variable, arguments):
    """Build the learner's loss, call it at the variable's value and at a moved value."""
    model, index = arguments["model"], arguments["index"]
    loss = loss_of_variable(*arguments.values())
    if not callable(loss):
        return loss
    variable = model.trainable_variables[index]
    current = tf.constant(variable.numpy())
    moved = tf.constant(_moved_value(variable.numpy(), index))
    at_current = loss(current)
    with tf.GradientTape() as tape:
        tape.watch(moved)
        at_moved = loss(moved)
    return {
        "loss(current value)": at_current,
        "loss(moved value)": at_moved,
        "gradient at the moved value": tape.gradient(at_moved, moved),
        "the variable afterwards": tf.constant(variable.numpy()),
    }


def _loss_truth(model, x, y, index):
    """Forward and backward pass of tanh hidden layer + linear output, in NumPy."""
    original = [np.asarray(w, np.float64) for w in model.get_weights()]
    x64 = np.asarray(x, np.float64)
    y64 = np.asarray(y, np.float64).reshape(-1, 1)

    def loss_and_gradients(weights):
        w1, b1, w2, b2 = weights
        hidden = np.tanh(x64 @ w1 + b1)
        residual = hidden @ w2 + b2 - y64
        d_out = 2 * residual / len(x64)
        d_hidden = (d_out @ w2.T) * (1 - hidden**2)
        grads = [x64.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_out, d_out.sum(0)]
        return float(np.mean(residual**2)), grads

    moved = list(original)
    moved[index] = _moved_value(original[index].astype(np.float32), index).astype(np.float64)
    at_current, _ = loss_and_gradients(original)
    at_moved, gradients = loss_and_gradients(moved)
    return {
        "loss(current value)": at_current,
        "loss(moved value)": at_moved,
        "gradient at the moved value": gradients[index],
        "the variable afterwards": original[index],
    }


def _reading_the_model(model, x, y, index):
    mse = keras.losses.MeanSquaredError()

    def loss(value):
        return mse(y, model(x))

    return loss


def _assigning_the_value(model, x, y, index):
    mse = keras.losses.MeanSquaredError()

    def loss(value):
        model.trainable_variables[index].assign(value)
        return mse(y, model(x))

    return loss


def _broadcasting_loss(model, x, y, index):
    values = [v.value for v in model.trainable_variables]

    def loss(value):
        weights = list(values)
        weights[index] = value
        prediction, _ = model.stateless_call(weights, model.non_trainable_variables, x)
        return tf.reduce_mean((y - prediction) ** 2)

    return loss


# ── 4.5: which custom gradient is wrong? ────────────────────────────────────


Candidate = known_function("Candidate", "correct")


def _with_gradient(forward, backward):
    """``forward`` with ``backward(x, y, upstream)`` as its tf.custom_gradient."""

    @tf.custom_gradient
    def function(x):
        y = forward(x)
        return y, lambda upstream: backward(x, y, upstream)

    return function


def _difference_backward(x, y, upstream):
    padded = tf.pad(upstream, [[1, 1]])
    gradient = padded[:-1] - padded[1:]
    return tf.concat([gradient[:-1], tf.zeros([1], gradient.dtype)], axis=0)


def _candidates() -> dict[str, Candidate]:
    specs = {
        "softplus": (tf.math.softplus, lambda x, y, dy: dy * tf.sigmoid(x), True),
        "square": (lambda x: x * x, lambda x, y, dy: dy * x, False),
        "cube": (lambda x: x**3, lambda x, y, dy: 3 * x * x, False),
        "sine": (tf.sin, lambda x, y, dy: dy * tf.cos(x), True),
        "tanh": (tf.tanh, lambda x, y, dy: dy * (y * y - 1), False),
        "exp": (tf.exp, lambda x, y, dy: dy * y, True),
        "differences": (lambda x: x[1:] - x[:-1], _difference_backward, False),
        "sum_of_squares": (
            lambda x: tf.reduce_sum(x * x),
            lambda x, y, dy: dy * 2 * x,
            True,
        ),
    }
    return {
        name: Candidate(f"{name} (a tf.custom_gradient)", _with_gradient(forward, backward), ok)
        for name, (forward, backward, ok) in specs.items()
    }


CANDIDATE_SETS = (
    ("softplus", "square", "cube", "sine"),
    ("tanh", "exp", "differences", "sum_of_squares"),
)


def _candidate_cases() -> list[Case]:
    def make(names: tuple[str, ...], seed: int) -> dict:
        every = _candidates()
        x = np.random.default_rng(seed).normal(size=(6,))
        return {"functions": {name: every[name] for name in names}, "x": tf.constant(x)}

    return [
        Case(lambda names=names, seed=seed: make(names, seed))
        for seed, names in enumerate(CANDIDATE_SETS)
    ]


def _candidate_truth(functions, x):
    return {name: f.correct for name, f in functions.items()}


def _sum_only(functions, x):
    from gradlab.gradcheck import numerical_gradient

    verdicts = {}
    for name, f in functions.items():

        def total(x, f=f):
            return tf.reduce_sum(f(x))

        with tf.GradientTape() as tape:
            tape.watch(x)
            value = total(x)
        analytical = tape.gradient(value, x).numpy()
        numerical = numerical_gradient(total, x)
        verdicts[name] = bool(np.allclose(analytical, numerical, rtol=1e-5, atol=1e-7))
    return verdicts


def _inverted(functions, x):
    from gradlab.gradcheck import check_gradients

    return {name: not check_gradients(f, x).ok for name, f in functions.items()}


_DECLARED = [
    Exercise(
        function="central_difference",
        title="A central difference",
        hint="Which two points, symmetric around x, do you evaluate f at, and how far apart "
        "are they? In which dtype must x be when you hand it to f?",
        cases=_point_cases,
        truth=lambda f, x, h: f.first(x),
        rtol=1e-7,
        atol=1e-9,
        mistakes=(
            Mistake(
                "one-sided difference",
                "(f(x + h) - f(x)) / h has an error proportional to h; the central "
                "difference (f(x + h) - f(x - h)) / (2h) cancels it, leaving h².",
                _one_sided,
            ),
            Mistake(
                "divided by h instead of 2h",
                "x + h and x - h are 2h apart: divide their difference in f by 2 * h.",
                _over_h,
            ),
            Mistake(
                "computed in float32",
                "f received Python floats, and TensorFlow turns Python floats into float32 "
                "tensors. Make x a float64 tensor first: tf.constant(x, tf.float64).",
                _python_floats,
            ),
        ),
    ),
    Exercise(
        function="numerical_gradient_of",
        title="A numerical gradient, element by element",
        hint="For element i, which tensor differs from x only at position i, by h? How many "
        "evaluations of f does each element need?",
        cases=_field_cases,
        truth=lambda f, x, h: f.gradient(np.asarray(x, np.float64)),
        rtol=1e-7,
        atol=1e-9,
        mistakes=(
            Mistake(
                "one-sided difference",
                "move element i both ways, x + h·eᵢ and x - h·eᵢ, and divide by 2h.",
                _one_sided_gradient,
            ),
            Mistake(
                "divided by h instead of 2h",
                "x + h·eᵢ and x - h·eᵢ are 2h apart: divide by 2 * h.",
                _gradient_over_h,
            ),
            Mistake(
                "moved every element at once",
                "x + h moves all elements together: that is the derivative along the "
                "all-ones direction, not a partial derivative. Move one element at a time.",
                _all_elements_at_once,
            ),
        ),
    ),
    Exercise(
        function="relative_error",
        title="A relative error that behaves near zero",
        hint="What should the denominator be when the analytical value is 0 but the numerical "
        "one is not? And when both are 0?",
        cases=_relative_cases,
        truth=_relative_truth,
        rtol=1e-9,
        atol=0.0,
        mistakes=(
            Mistake(
                "divided by |analytical| only",
                "the analytical gradient is the suspect, not the truth, and where it is "
                "wrongly 0 you divide by 0: divide by max(|numerical|, |analytical|, floor).",
                _over_analytical,
            ),
            Mistake(
                "no floor",
                "where both values are 0 you compute 0 / 0 = NaN: take the maximum with "
                "floor too.",
                _without_floor,
            ),
            Mistake(
                "divided by |numerical| + |analytical|",
                "the usual definition divides by the larger magnitude, max(|n|, |a|, floor); "
                "the sum halves the error of a sign flip, from 2 to 1.",
                _over_sum,
            ),
        ),
    ),
    Exercise(
        function="loss_of_variable",
        title="A model's loss as a function of one variable",
        hint="Does your loss ever use its argument? Which Keras 3 model method runs the model "
        "with weights you pass in, without touching its variables?",
        cases=_model_cases,
        truth=_loss_truth,
        run=_call_the_loss,
        rtol=1e-4,
        atol=1e-5,
        mistakes=(
            Mistake(
                "read the model's variables (the closure pitfall)",
                "model(x) reads the model's own variables, so the loss ignores its argument "
                "and its gradient is None (a check would compare zeros with zeros). Compute "
                "from the argument: model.stateless_call(weights, "
                "model.non_trainable_variables, x).",
                _reading_the_model,
            ),
            Mistake(
                "assigned the value to the variable",
                "variable.assign(value) changes the model and is not differentiable, so the "
                "gradient with respect to value is None. Use model.stateless_call instead.",
                _assigning_the_value,
            ),
            Mistake(
                "broadcast (N,) against (N,1)",
                "y has shape (N,) and the prediction (N, 1): y - prediction is an (N, N) "
                "matrix. Use keras.losses.MeanSquaredError(), or reshape y to (N, 1).",
                _broadcasting_loss,
            ),
        ),
    ),
    Exercise(
        function="gradient_is_correct",
        title="Which custom gradient is wrong?",
        hint="What does check_gradients(f, x) return, and which attribute of it is the verdict? "
        "Why would checking only the gradient of tf.reduce_sum(f(x)) miss one of the bugs?",
        cases=_candidate_cases,
        truth=_candidate_truth,
        time_limit=20.0,
        mistakes=(
            Mistake(
                "checked the gradient of the sum only",
                "the gradient of sum(f(x)) feeds an upstream gradient of ones, so a backward "
                "pass that ignores its upstream gradient looks right. check_gradients weights "
                "f's outputs at random to catch that.",
                _sum_only,
            ),
            Mistake(
                "True for the wrong ones",
                "True means the gradient is right: return report.ok as it is.",
                _inverted,
            ),
        ),
    ),
]
EXERCISES = numbered(__name__, _DECLARED)
