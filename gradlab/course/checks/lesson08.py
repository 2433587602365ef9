"""Exercises of lesson 8, writing your own gradients: cases, hints and known mistakes."""

from __future__ import annotations

import math

import numpy as np

from gradlab.course.checks.models import normal_data, seeded_model
from gradlab.course.exercise import Case, Exercise, Labelled, Mistake, numbered
from gradlab.tfsupport.lazy import keras, tf

CUSTOM = "written with tf.custom_gradient"

# ── shared: how a check sees the method ─────────────────────────────────────


def uses_custom_gradient(function, *specs) -> bool:
    """Whether tracing ``function(*specs)`` makes a ``tf.custom_gradient`` op.

    In a graph, ``tf.custom_gradient`` wraps its outputs in an ``IdentityN``
    op whose gradient is overridden by a registered ``CustomGradient-N``
    function; autodiff through the same formula makes no such op.
    """
    traced = tf.function(function, autograph=False).get_concrete_function(*specs)
    graph_def = traced.graph.as_graph_def()
    nodes = [*graph_def.node, *(n for f in graph_def.library.function for n in f.node_def)]
    return any(
        node.op == "IdentityN"
        and node.attr["_gradient_op_type"].s.decode().startswith("CustomGradient")
        for node in nodes
    )


def _spec(x):
    return tf.TensorSpec(x.shape, x.dtype)


def _upstream(x, scale: float = 1.0, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Fixed random weights w: checks differentiate sum(w * f(x)), so upstream is w, not ones.

    ``shape`` defaults to the shape of x; the dtype is always x's.
    """
    shape = tuple(x.shape) if shape is None else shape
    rng = np.random.default_rng(int(np.prod(shape)))
    signs = rng.choice([-1.0, 1.0], size=shape)
    return (scale * signs * rng.uniform(0.3, 2.0, size=shape)).astype(x.dtype.name)


def _value_and_gradient(function, x, weights, *extra):
    """``function(x, *extra)`` and the gradient of ``sum(weights * function(x, *extra))``."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = function(x, *extra)
        total = tf.reduce_sum(weights * value)
    return value, tape.gradient(total, x)


def _finite_differences_agree(function, x) -> bool:
    """Whether ``gradlab.gradcheck`` passes ``function`` at x (False for a misshapen gradient)."""
    from gradlab.gradcheck import check_gradients

    _, gradient = _value_and_gradient(function, x, 1.0)
    if gradient is None or gradient.shape != x.shape:
        return False  # the checker assumes the gradient has x's shape
    return check_gradients(function, x).ok


def _custom_gradient(forward, backward):
    """``forward`` with ``backward(x, y, upstream)`` as its gradient, decorated when called.

    (Declaring the exercises must not import TensorFlow: ``list`` stays fast.)
    """

    def function(x):
        @tf.custom_gradient
        def with_gradient(x):
            y = forward(x)
            return y, lambda upstream: backward(x, y, upstream)

        return with_gradient(x)

    return function


# ── 8.1: a stable log-cosh with a custom gradient ───────────────────────────


def _cosh_cases() -> list[Case]:
    def make(seed: int, fixed: tuple[float, ...], size: int, dtype: str) -> dict:
        rng = np.random.default_rng(seed)
        values = np.concatenate([fixed, 4 * rng.normal(size=size)])
        return {"x": tf.constant(values, dtype=dtype)}

    specs = (
        (0, (0.0, 100.0, -100.0, 1.0), 3, "float32"),
        (1, (-0.5, 30.0, 95.0), 4, "float32"),
        (2, (0.0, 800.0, -2.0), 3, "float64"),
    )
    return [Case(lambda spec=spec: make(*spec)) for spec in specs]


_MODERATE = (-2.5, -0.7, 0.3, 1.2, 3.0)


def _run_log_cosh(log_cosh, arguments):
    """Value and weighted gradient at the case's points, a finite-difference check, the method."""
    x = arguments["x"]
    value, gradient = _value_and_gradient(log_cosh, x, _upstream(x))
    moderate = tf.constant(_MODERATE, tf.float64)
    return {
        "value": value,
        "gradient": gradient,
        "finite differences agree at moderate x": _finite_differences_agree(log_cosh, moderate),
        CUSTOM: uses_custom_gradient(log_cosh, _spec(x)),
    }


def _log_cosh_truth(x):
    x64 = np.asarray(x, np.float64)
    return {
        "value": np.logaddexp(x64, -x64) - math.log(2.0),
        "gradient": _upstream(x) * np.tanh(x64),
        "finite differences agree at moderate x": True,
        CUSTOM: True,
    }


def _stable_log_cosh(x):
    magnitude = tf.abs(x)
    return magnitude + tf.math.softplus(-2.0 * magnitude) - math.log(2.0)


_log_cosh_without_upstream = _custom_gradient(_stable_log_cosh, lambda x, y, dy: tf.tanh(x))
_log_cosh_summed_gradient = _custom_gradient(
    _stable_log_cosh, lambda x, y, dy: tf.reduce_sum(dy * tf.tanh(x))
)
_log_cosh_overflowing = _custom_gradient(
    lambda x: tf.math.log(tf.cosh(x)), lambda x, y, dy: dy * tf.tanh(x)
)


# ── 8.2 and 8.3: identities with a different backward pass ──────────────────


def _identity_cases(parameter: str, values: tuple[float, ...]) -> list[Case]:
    def make(seed: int, shape: tuple[int, ...], value: float) -> dict:
        x = np.random.default_rng([seed, 8]).normal(scale=2.0, size=shape)
        return {"x": tf.constant(x.astype("float32")), parameter: value}

    shapes = ((5,), (2, 3), (4,))
    return [
        Case(lambda seed=seed, shape=shape, value=value: make(seed, shape, value))
        for seed, (shape, value) in enumerate(zip(shapes, values, strict=True))
    ]


def _run_identity(function, arguments):
    """The value and the gradient of sum(w * function(x, parameter)), with |w| up to 6."""
    x, parameter = arguments.values()
    value, gradient = _value_and_gradient(function, x, _upstream(x, scale=3.0), parameter)
    return {"value": value, "gradient": gradient}


def _clip_truth(x, limit):
    return {"value": np.asarray(x), "gradient": np.clip(_upstream(x, scale=3.0), -limit, limit)}


def _identity_with(backward):
    """An identity whose gradient is ``backward(upstream, parameter)``, written correctly."""

    def function(x, parameter):
        @tf.custom_gradient
        def identity(x):
            return tf.identity(x), lambda upstream: backward(upstream, parameter)

        return identity(x)

    return function


def _clipped_value(x, limit):
    return tf.clip_by_value(x, -limit, limit)


_clipped_by_norm = _identity_with(lambda upstream, limit: tf.clip_by_norm(upstream, limit))
_clip_without_upstream = _identity_with(
    lambda upstream, limit: tf.clip_by_value(tf.ones_like(upstream), -limit, limit)
)


def _decorated_two_arguments(x, limit):
    @tf.custom_gradient
    def clip(x, limit):
        return tf.identity(x), lambda upstream: tf.clip_by_value(upstream, -limit, limit)

    return clip(x, limit)


def _reverse_truth(x, scale):
    return {"value": np.asarray(x), "gradient": -scale * _upstream(x, scale=3.0)}


_not_reversed = _identity_with(lambda upstream, scale: scale * upstream)
_reversed_without_scale = _identity_with(lambda upstream, scale: -upstream)
_reverse_without_upstream = _identity_with(lambda upstream, scale: -scale * tf.ones_like(upstream))


def _negated_value(x, scale):
    @tf.custom_gradient
    def negate(x):
        return -x, lambda upstream: -scale * upstream

    return negate(x)


# ── 8.4: a dense tanh layer with a custom gradient for its variables ────────

# A graph passes `variables` sorted by name: "bias" sorts before "kernel" (the reverse
# of reading order), "offset" after it, so neither fixed order passes every case.
_LAYERS = ((0, 4, 3, 2, "bias"), (1, 5, 2, 4, "bias"), (2, 3, 4, 3, "offset"))


def _layer_case(seed: int, batch: int, inputs: int, units: int, bias_name: str) -> dict:
    x, kernel, bias = normal_data(seed, (batch, inputs), (inputs, units), (units,))
    return {
        "x": tf.constant(x, tf.float64),
        "kernel": tf.Variable(kernel.astype("float64"), name="kernel"),
        "bias": tf.Variable(0.5 * bias.astype("float64"), name=bias_name),
    }


def _layer_cases() -> list[Case]:
    return [Case(lambda spec=spec: _layer_case(*spec)) for spec in _LAYERS]


def _run_layer(dense_tanh, arguments):
    """Inside a tf.function (where ``variables`` is sorted by name): value, three gradients."""
    x, kernel, bias = arguments.values()
    weights = tf.constant(_upstream(x, shape=(x.shape[0], kernel.shape[1])))

    def layer(x):
        return dense_tanh(x, kernel, bias)

    @tf.function(autograph=False)
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            total = tf.reduce_sum(weights * y)
        return y, tape.gradient(total, [x, kernel, bias])

    y, (grad_x, grad_kernel, grad_bias) = run(x)
    return {
        "value": y,
        "gradient for x": grad_x,
        "gradient for kernel": grad_kernel,
        "gradient for bias": grad_bias,
        "finite differences agree for x": _finite_differences_agree(layer, x),
        CUSTOM: uses_custom_gradient(layer, _spec(x)),
    }


def _layer_truth(x, kernel, bias):
    x64, k64, b64 = (np.asarray(v, np.float64) for v in (x, kernel, bias))
    y = np.tanh(x64 @ k64 + b64)
    pre = _upstream(x, shape=y.shape) * (1 - y * y)
    return {
        "value": y,
        "gradient for x": pre @ k64.T,
        "gradient for kernel": x64.T @ pre,
        "gradient for bias": pre.sum(0),
        "finite differences agree for x": True,
        CUSTOM: True,
    }


def _layer_with(backward, *, order: str = "variables", variables_keyword: bool = True):
    """dense_tanh whose grad is ``backward(x, y, upstream, kernel)`` → (dx, dkernel, dbias).

    The variables' gradients follow ``order``: "variables" (the order of the
    ``variables`` argument, as they must), "reading" (kernel, then bias: the order
    the layer reads them) or "bias first" (what sorting "bias" and "kernel" gives).
    """

    def dense_tanh(x, kernel, bias):
        @tf.custom_gradient
        def layer(x):
            y = tf.tanh(x @ kernel + bias)

            def grad(upstream, variables=None):
                grad_x, grad_kernel, grad_bias = backward(x, y, upstream, kernel)
                if order == "reading":
                    return grad_x, [grad_kernel, grad_bias]
                if order == "bias first":
                    return grad_x, [grad_bias, grad_kernel]
                by_variable = {kernel.ref(): grad_kernel, bias.ref(): grad_bias}
                return grad_x, [by_variable[v.ref()] for v in variables]

            if variables_keyword:
                return y, grad
            return y, lambda upstream: grad(upstream)[0]

        return layer(x)

    return dense_tanh


def _layer_gradients(x, y, upstream, kernel):
    pre = upstream * (1 - y * y)
    return pre @ tf.transpose(kernel), tf.transpose(x) @ pre, tf.reduce_sum(pre, axis=0)


def _without_upstream(x, y, upstream, kernel):
    return _layer_gradients(x, y, tf.ones_like(upstream), kernel)


def _transposed_kernel_gradient(x, y, upstream, kernel):
    grad_x, grad_kernel, grad_bias = _layer_gradients(x, y, upstream, kernel)
    return grad_x, tf.transpose(grad_kernel), grad_bias


def _autodiff_layer(x, kernel, bias):
    return tf.tanh(x @ kernel + bias)


# ── 8.5: unscaling the gradients of a scaled loss ───────────────────────────

TINY = 1e-7


class ScaledLoss(Labelled):
    """A float32 loss computed by float16 layers, with its float64 twin for the truth."""

    def __init__(self, label, function, exact) -> None:
        super().__init__(label, function)
        self.exact = exact


def _mixed_model(width: int):
    return keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(width, activation="tanh", dtype="mixed_float16", name="hidden"),
            keras.layers.Dense(1, dtype="mixed_float16", name="output"),
        ],
        name=f"mixed_{width}",
    )


def _loss_case(seed: int, width: int, scale: float) -> dict:
    model = seeded_model(_mixed_model, seed, width)
    x, y = normal_data(seed, (8, 3), (8, 1))
    weights = [np.asarray(w, np.float64) for w in model.get_weights()]

    def loss():
        residual = tf.cast(model(x), tf.float32) - y
        return TINY * tf.reduce_mean(residual**2)

    def exact() -> list[np.ndarray]:
        values = [tf.constant(w) for w in weights]
        with tf.GradientTape() as tape:
            tape.watch(values)
            kernel1, bias1, kernel2, bias2 = values
            hidden = tf.tanh(tf.constant(x, tf.float64) @ kernel1 + bias1)
            residual = hidden @ kernel2 + bias2 - tf.constant(y, tf.float64)
            total = TINY * tf.reduce_mean(residual**2)
        return [g.numpy() for g in tape.gradient(total, values)]

    label = f"lambda: {TINY:g} * mean((model(x) - y)²)  (model: Dense layers in mixed_float16)"
    return {
        "loss_fn": ScaledLoss(label, loss, exact),
        "variables": model.trainable_variables,
        "scale": scale,
    }


def _loss_cases() -> list[Case]:
    specs = ((0, 4, 2.0**15), (1, 3, 2.0**12), (2, 5, 2.0**14))
    return [Case(lambda spec=spec: _loss_case(*spec)) for spec in specs]


def _unscaled_truth(loss_fn, variables, scale):
    return loss_fn.exact()


def _gradients(loss_fn, variables, multiplier, divisor):
    with tf.GradientTape() as tape:
        loss = loss_fn() * multiplier
    return [g / divisor for g in tape.gradient(loss, variables)]


def _unscaled_no_scaling(loss_fn, variables, scale):
    return _gradients(loss_fn, variables, 1.0, 1.0)


def _scaled_not_unscaled(loss_fn, variables, scale):
    return _gradients(loss_fn, variables, scale, 1.0)


def _scaled_outside_the_tape(loss_fn, variables, scale):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    return tape.gradient(loss * scale, variables)


# ── 8.6: which element of a custom gradient is wrong? ───────────────────────


class Planted(Labelled):
    """A function whose custom gradient is wrong at one element, and where."""

    def __init__(self, label: str, function, bug_at: tuple[int, ...]) -> None:
        super().__init__(label, function)
        self.bug_at = bug_at


def _planted(label: str, forward, derivative, shape, bug_at) -> Planted:
    """``forward`` (elementwise) with ``upstream * derivative`` off by 30 % at ``bug_at``."""
    factor = np.ones(shape)
    factor[bug_at] = 1.3

    def backward(x, y, upstream):
        return upstream * derivative(x) * tf.constant(factor, x.dtype)

    return Planted(label, _custom_gradient(forward, backward), bug_at)


def _planted_cases() -> list[Case]:
    specs = (
        (
            "tanh(x)² (a tf.custom_gradient)",
            lambda x: tf.tanh(x) ** 2,
            lambda x: 2 * tf.tanh(x) * (1 - tf.tanh(x) ** 2),
            (3, 4),
            (2, 1),
        ),
        (
            "x·exp(-x) (a tf.custom_gradient)",
            lambda x: x * tf.exp(-x),
            lambda x: (1 - x) * tf.exp(-x),
            (4, 2),
            (0, 1),
        ),
        (
            "sin(x)·x (a tf.custom_gradient)",
            lambda x: tf.sin(x) * x,
            lambda x: tf.cos(x) * x + tf.sin(x),
            (2, 5),
            (1, 3),
        ),
    )

    def make(seed: int, label, forward, derivative, shape, bug_at) -> dict:
        x = np.random.default_rng([seed, 86]).uniform(-1.5, 1.5, size=shape)
        return {"f": _planted(label, forward, derivative, shape, bug_at), "x": tf.constant(x)}

    return [
        Case(lambda seed=seed, spec=spec: make(seed, *spec)) for seed, spec in enumerate(specs)
    ]


def _planted_truth(f, x):
    return f.bug_at


def _flat_index(f, x):
    from gradlab.gradcheck import check_gradients

    index = check_gradients(f, x).inputs[0].worst.index
    return int(np.ravel_multi_index(index, tuple(x.shape)))


def _fast_mode_index(f, x):
    from gradlab.gradcheck import check_gradients

    return check_gradients(f, x, mode="fast").inputs[0].worst.index


def _largest_gradient(f, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(f(x))
    gradient = np.abs(tape.gradient(total, x).numpy())
    return tuple(int(i) for i in np.unravel_index(np.argmax(gradient), gradient.shape))


_DECLARED = [
    Exercise(
        function="log_cosh",
        title="A stable log-cosh with a custom gradient",
        hint="For large |x|, cosh(x) overflows but log(cosh(x)) is about |x| - log 2: which "
        "exact rewriting uses softplus? What is the derivative of log(cosh(x)), and what must "
        "grad(upstream) multiply it by?",
        cases=_cosh_cases,
        truth=_log_cosh_truth,
        run=_run_log_cosh,
        rtol=1e-5,
        atol=1e-6,
        time_limit=20.0,
        mistakes=(
            Mistake(
                "no tf.custom_gradient",
                "the values and the gradient are right, but TensorFlow differentiated your "
                "formula for you: the exercise asks for the gradient written by hand. Decorate "
                "log_cosh with @tf.custom_gradient and return (value, grad).",
                _stable_log_cosh,
            ),
            Mistake(
                "the custom gradient ignores the upstream gradient",
                "grad(upstream) must return upstream * tanh(x): the chain rule multiplies "
                "the local derivative by the gradient arriving from above.",
                _log_cosh_without_upstream,
            ),
            Mistake(
                "a gradient of the wrong shape",
                "grad(upstream) must return one value per element of x (the shape of x); "
                "a reduce_sum collapsed it to a scalar.",
                _log_cosh_summed_gradient,
            ),
            Mistake(
                "log(cosh(x)) overflows",
                "cosh(x) is inf above |x| ≈ 89 in float32 (710 in float64), so the value is "
                "inf: compute |x| + softplus(-2|x|) - log(2) instead.",
                _log_cosh_overflowing,
            ),
        ),
    ),
    Exercise(
        function="clip_gradient",
        title="An identity that clips its gradient",
        hint="Which function of x returns x unchanged? Which of its two passes should "
        "tf.clip_by_value act on, and to which argument does the decorator belong when "
        "limit is not a tensor to differentiate?",
        cases=lambda: _identity_cases("limit", (1.0, 0.5, 2.0)),
        truth=_clip_truth,
        run=_run_identity,
        mistakes=(
            Mistake(
                "clipped the value, not the gradient",
                "the forward pass must return x unchanged; only grad(upstream) clips: "
                "tf.clip_by_value(upstream, -limit, limit).",
                _clipped_value,
            ),
            Mistake(
                "clipped the gradient's norm",
                "tf.clip_by_norm scales the whole upstream gradient; the exercise clips each "
                "element to [-limit, limit] with tf.clip_by_value.",
                _clipped_by_norm,
            ),
            Mistake(
                "the custom gradient ignores the upstream gradient",
                "clip upstream itself: the gradient arriving from above is what is clipped.",
                _clip_without_upstream,
            ),
            Mistake(
                "decorated a function of x and limit",
                "tf.custom_gradient wants one gradient per argument, so with limit as an "
                "argument grad must return two. Decorate an inner function of x alone, "
                "which reads limit from the enclosing function.",
                _decorated_two_arguments,
            ),
        ),
    ),
    Exercise(
        function="reverse_gradient",
        title="Gradient reversal with a scale",
        hint="What does the forward pass return? Which sign and which factor does "
        "grad(upstream) put in front of upstream?",
        cases=lambda: _identity_cases("scale", (0.5, 2.0, 1.5)),
        truth=_reverse_truth,
        run=_run_identity,
        mistakes=(
            Mistake(
                "wrong sign in the reversal",
                "the gradient was multiplied by +scale: reversal multiplies by -scale.",
                _not_reversed,
            ),
            Mistake(
                "forgot the scale",
                "grad(upstream) returned -upstream: multiply by -scale.",
                _reversed_without_scale,
            ),
            Mistake(
                "the custom gradient ignores the upstream gradient",
                "return -scale * upstream, not -scale alone: the gradient arriving from "
                "above must pass through, reversed.",
                _reverse_without_upstream,
            ),
            Mistake(
                "reversed the value too",
                "the forward pass is the identity (return x, e.g. tf.identity(x)); only the "
                "backward pass is reversed.",
                _negated_value,
            ),
        ),
    ),
    Exercise(
        function="dense_tanh",
        title="A dense tanh layer whose custom gradient covers its variables",
        hint="Which keyword argument does grad need when the forward pass reads variables? "
        "In which order does TensorFlow list them, and how can you look each one up "
        "instead of assuming the order?",
        cases=_layer_cases,
        truth=_layer_truth,
        run=_run_layer,
        rtol=1e-7,
        atol=1e-9,
        time_limit=20.0,
        mistakes=(
            Mistake(
                "grad_vars in the wrong order",
                "the gradients came back in the order you read the variables, but grad_vars "
                "must follow the `variables` list TensorFlow passes in (sorted by name in a "
                "graph, in no fixed order eagerly): look each one up, e.g. "
                "[by_variable[v.ref()] for v in variables].",
                _layer_with(_layer_gradients, order="reading"),
            ),
            Mistake(
                "grad_vars in a fixed order, bias first",
                "bias then kernel is the order of `variables` only while the names sort that "
                "way (a graph sorts by name; eagerly the order is not fixed): here the bias "
                "is named 'offset'. Look each variable up: [by_variable[v.ref()] for v in "
                "variables].",
                _layer_with(_layer_gradients, order="bias first"),
            ),
            Mistake(
                "grad does not accept `variables`",
                "the forward pass reads kernel and bias, so TensorFlow calls "
                "grad(upstream, variables=[...]) and wants (grad_x, grad_vars) back.",
                _layer_with(_layer_gradients, variables_keyword=False),
            ),
            Mistake(
                "the custom gradient ignores the upstream gradient",
                "start from upstream * (1 - y²): every gradient, for x and for the variables, "
                "carries the upstream gradient.",
                _layer_with(_without_upstream),
            ),
            Mistake(
                "a kernel gradient of the wrong shape",
                "the kernel's gradient must have the kernel's shape (inputs, units): "
                "tf.transpose(x) @ (upstream * (1 - y²)), not its transpose.",
                _layer_with(_transposed_kernel_gradient),
            ),
            Mistake(
                "no tf.custom_gradient",
                "the values and gradients are right, but TensorFlow differentiated the layer "
                "for you: write the backward pass with @tf.custom_gradient.",
                _autodiff_layer,
            ),
        ),
    ),
    Exercise(
        function="wrong_element",
        title="Find the wrong element of a custom gradient",
        hint="Which mode of check_gradients compares every element? Where in its report is "
        "the worst element of the first input, and what is its index?",
        cases=_planted_cases,
        truth=_planted_truth,
        time_limit=20.0,
        mistakes=(
            Mistake(
                "a flat index",
                "return the element's index in x, one integer per dimension, as the report "
                "gives it (worst.index), not its position in the flattened tensor.",
                _flat_index,
            ),
            Mistake(
                "checked in fast mode",
                "mode='fast' compares random directions, so its worst index numbers a "
                "direction, not an element: use the default mode='full'.",
                _fast_mode_index,
            ),
            Mistake(
                "the largest gradient, not the wrong one",
                "the biggest gradient is not the wrong one: compare with finite differences "
                "(check_gradients) and take the worst element.",
                _largest_gradient,
            ),
        ),
    ),
    Exercise(
        function="unscaled_gradients",
        title="Loss scaling by hand",
        hint="Where must the multiplication by scale happen for the tape to see it? What do "
        "the gradients of scale × loss need before they are the gradients of loss?",
        cases=_loss_cases,
        truth=_unscaled_truth,
        rtol=2e-2,
        atol=1e-10,
        exact_dtype=False,
        time_limit=20.0,
        mistakes=(
            Mistake(
                "no loss scaling",
                "in float16 these tiny gradients underflow (to 0, or to a multiple of 6e-8, "
                "float16's smallest step): multiply the loss by scale inside the tape, then "
                "divide the gradients by scale.",
                _unscaled_no_scaling,
            ),
            Mistake(
                "scaling the loss but not unscaling",
                "the gradients of scale × loss are scale times too large: divide each one "
                "by scale before returning it.",
                _scaled_not_unscaled,
            ),
            Mistake(
                "the loss or its scaling ran outside the tape",
                "every gradient is None: the tape records only what runs inside its `with` "
                "block, so the scaled loss has no recorded path to the variables. Call "
                "loss_fn() and multiply by scale inside the block.",
                _scaled_outside_the_tape,
            ),
        ),
    ),
]

EXERCISES = numbered(__name__, _DECLARED)
