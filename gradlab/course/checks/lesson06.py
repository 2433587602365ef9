"""Exercises of lesson 6, debugging gradients: cases, hints and known mistakes."""

from __future__ import annotations

import numpy as np

from gradlab.course.checks.models import known_function, normal_data, seeded_model
from gradlab.course.exercise import Case, Exercise, Mistake, numbered
from gradlab.tfsupport.lazy import keras, tf

# ── 6.1: gradient descent that keeps its variable ───────────────────────────


Loss = known_function("Loss", "value", "gradient")


def _regression_loss(seed: int) -> Loss:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=8)
    x32, y32 = tf.constant(x, tf.float32), tf.constant(y, tf.float32)
    return Loss(
        "lambda w: tf.reduce_mean((tf.linalg.matvec(x, w) - y) ** 2)",
        lambda w: tf.reduce_mean((tf.linalg.matvec(x32, w) - y32) ** 2),
        lambda w: np.mean((x @ w - y) ** 2),
        lambda w: 2 * x.T @ (x @ w - y) / len(y),
    )


_QUADRATIC = Loss(
    "lambda w: tf.reduce_sum((w - [1.0, -1.0]) ** 2)",
    lambda w: tf.reduce_sum((w - tf.constant([1.0, -1.0])) ** 2),
    lambda w: np.sum((w - np.array([1.0, -1.0])) ** 2),
    lambda w: 2 * (w - np.array([1.0, -1.0])),
)
_SCALAR = Loss(
    "lambda w: (w - 3.0) ** 2",
    lambda w: (w - 3.0) ** 2,
    lambda w: (w - 3.0) ** 2,
    lambda w: 2 * (w - 3.0),
)


def _descent_cases() -> list[Case]:
    def make(kind: int) -> dict:
        if kind == 0:
            loss, start = _regression_loss(0), np.zeros(3)
            return {"loss_fn": loss, "w": start, "learning_rate": 0.1, "steps": 5}
        if kind == 1:
            return {
                "loss_fn": _QUADRATIC,
                "w": np.array([0.0, 0.5]),
                "learning_rate": 0.2,
                "steps": 3,
            }
        return {"loss_fn": _SCALAR, "w": np.array(0.0), "learning_rate": 0.1, "steps": 4}

    def fresh(kind: int) -> dict:
        arguments = make(kind)
        arguments["w"] = tf.Variable(arguments["w"], dtype=tf.float32, name="w")
        return arguments

    return [Case(lambda kind=kind: fresh(kind)) for kind in range(3)]


def _run_descent(descend, arguments):
    """The losses ``descend`` returns, and the caller's variable after it ran."""
    losses = descend(*arguments.values())
    return {"losses": losses, "w afterwards": tf.convert_to_tensor(arguments["w"])}


def _descent_truth(loss_fn, w, learning_rate, steps):
    w = np.asarray(w.numpy(), dtype=np.float64)
    losses = []
    for _ in range(steps):
        losses.append(loss_fn.value(w))
        w = w - learning_rate * loss_fn.gradient(w)
    return {"losses": np.array(losses), "w afterwards": w}


def _rebinding_descent(loss_fn, w, learning_rate, steps):
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = loss_fn(w)
        w = w - learning_rate * tape.gradient(loss, w)
        losses.append(loss)
    return tf.stack(losses)


def _new_variable_descent(loss_fn, w, learning_rate, steps):
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = loss_fn(w)
        w = tf.Variable(w - learning_rate * tape.gradient(loss, w))
        losses.append(loss)
    return tf.stack(losses)


def _ascent(loss_fn, w, learning_rate, steps):
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = loss_fn(w)
        w.assign_add(learning_rate * tape.gradient(loss, w))
        losses.append(loss)
    return tf.stack(losses)


# ── 6.2: x log x with a finite gradient ──────────────────────────────────────


def _probability_cases() -> list[Case]:
    def make(seed: int, shape: tuple[int, ...]) -> dict:
        rng = np.random.default_rng(seed)
        values = rng.uniform(0.05, 2.0, size=shape)
        values.reshape(-1)[:: max(2, values.size // 3)] = 0.0
        return {"p": tf.constant(values, dtype=tf.float32)}

    return [
        Case(lambda seed=seed, shape=shape: make(seed, shape))
        for seed, shape in ((0, (5,)), (1, (2, 3)), (2, (7,)))
    ]


def _value_and_gradient(function, arguments):
    """``function(x)`` and the gradient of ``sum(function(x))``, under one tape."""
    (x,) = arguments.values()
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = function(x)
    return {"value": value, "gradient": tape.gradient(value, x)}


def _x_log_x_truth(p):
    p = np.asarray(p, dtype=np.float64)
    safe = np.where(p > 0, p, 1.0)
    return {
        "value": np.where(p > 0, p * np.log(safe), 0.0),
        "gradient": np.where(p > 0, np.log(safe) + 1, 0.0),
    }


def _single_where(p):
    return tf.where(p > 0, p * tf.math.log(p), tf.zeros_like(p))


def _epsilon_inside_log(p):
    return p * tf.math.log(p + 1e-6)


# ── 6.3: gradient norm per layer ─────────────────────────────────────────────

_STACKS = {0: ("sigmoid", 4, 8), 1: ("tanh", 3, 6), 2: ("sigmoid", 6, 5)}


def _stack(activation: str, depth: int, width: int):
    """``depth`` hidden Dense layers of ``width`` units, then one output unit."""
    layers = [keras.Input((3,))]
    layers += [
        keras.layers.Dense(width, activation=activation, name=f"hidden_{i + 1}")
        for i in range(depth)
    ]
    return keras.Sequential([*layers, keras.layers.Dense(1, name="output")], name="stack")


def _stack_case(seed: int) -> dict:
    x, y = normal_data(seed, (10, 3), (10, 1))
    model = seeded_model(_stack, seed, *_STACKS[seed])
    return {"model": model, "x": tf.constant(x), "y": tf.constant(y)}


def _stack_cases() -> list[Case]:
    return [Case(lambda seed=seed: _stack_case(seed)) for seed in _STACKS]


_ACTIVATIONS = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda a: a * (1 - a)),
    "tanh": (np.tanh, lambda a: 1 - a**2),
    "linear": (lambda z: z, lambda a: np.ones_like(a)),
}


def _layer_norms_truth(model, x, y):
    """Back-propagation by hand, in float64 NumPy, through a stack of Dense layers."""
    activations = [np.asarray(x, np.float64)]
    for layer in model.layers:
        kernel, bias = (np.asarray(v, np.float64) for v in layer.get_weights())
        forward, _ = _ACTIVATIONS[layer.activation.__name__]
        activations.append(forward(activations[-1] @ kernel + bias))
    delta = 2 * (activations[-1] - np.asarray(y, np.float64)) / activations[-1].size
    norms = {}
    for index in reversed(range(len(model.layers))):
        layer = model.layers[index]
        _, derivative = _ACTIVATIONS[layer.activation.__name__]
        delta = delta * derivative(activations[index + 1])
        kernel_grad, bias_grad = activations[index].T @ delta, delta.sum(0)
        norms[layer.name] = np.sqrt(np.sum(kernel_grad**2) + np.sum(bias_grad**2))
        delta = delta @ np.asarray(layer.get_weights()[0], np.float64).T
    return {layer.name: norms[layer.name] for layer in model.layers}


def _gradients_by_path(model, x, y, loss):
    with tf.GradientTape() as tape:
        value = loss(y, model(x))
    grads = tape.gradient(value, model.trainable_variables)
    return dict(zip((v.path for v in model.trainable_variables), grads, strict=True))


def _mse(y, prediction):
    return keras.losses.MeanSquaredError()(y, prediction)


def _sse(y, prediction):
    return tf.reduce_sum((y - prediction) ** 2)


def _per_layer(model, grads, combine):
    return {
        layer.name: combine([grads[v.path] for v in layer.trainable_variables])
        for layer in model.layers
    }


def _norm_per_variable(model, x, y):
    return {path: tf.norm(g) for path, g in _gradients_by_path(model, x, y, _mse).items()}


def _summed_norms(model, x, y):
    grads = _gradients_by_path(model, x, y, _mse)
    return _per_layer(model, grads, lambda gs: tf.add_n([tf.norm(g) for g in gs]))


def _kernel_only(model, x, y):
    grads = _gradients_by_path(model, x, y, _mse)
    return _per_layer(model, grads, lambda gs: tf.norm(gs[0]))


def _summed_loss_norms(model, x, y):
    grads = _gradients_by_path(model, x, y, _sse)
    return _per_layer(model, grads, tf.linalg.global_norm)


# ── 6.4: clipping by the global norm ─────────────────────────────────────────


def _gradient_list_cases() -> list[Case]:
    def make(seed: int, shapes, scale: float, max_norm: float) -> dict:
        rng = np.random.default_rng(seed)
        grads = [tf.constant(scale * rng.normal(size=s), dtype=tf.float32) for s in shapes]
        return {"grads": grads, "max_norm": max_norm}

    specs = (
        (0, ((3,), (2, 2)), 10.0, 1.0),
        (1, ((4,), (2, 3), (1,)), 0.1, 5.0),
        (2, ((2, 3), (3,), (5,)), 3.0, 2.5),
    )
    return [Case(lambda spec=spec: make(*spec)) for spec in specs]


def _clip_truth(grads, max_norm):
    arrays = [np.asarray(g, np.float64) for g in grads]
    norm = np.sqrt(sum(np.sum(a**2) for a in arrays))
    return [a * min(1.0, max_norm / norm) for a in arrays]


def _clip_each(grads, max_norm):
    return [tf.clip_by_norm(g, max_norm) for g in grads]


def _clip_values(grads, max_norm):
    return [tf.clip_by_value(g, -max_norm, max_norm) for g in grads]


def _clip_pair(grads, max_norm):
    return tf.clip_by_global_norm(grads, max_norm)


def _always_rescale(grads, max_norm):
    norm = tf.linalg.global_norm(grads)
    return [g * max_norm / norm for g in grads]


# ── 6.5: a stable softplus with a custom gradient ────────────────────────────


def _softplus_cases() -> list[Case]:
    def make(seed: int, fixed: tuple[float, ...], size: int) -> dict:
        rng = np.random.default_rng(seed)
        values = np.concatenate([fixed, 10 * rng.normal(size=size)])
        return {"x": tf.constant(values, dtype=tf.float32)}

    return [
        Case(lambda seed=seed, fixed=fixed, size=size: make(seed, fixed, size))
        for seed, fixed, size in (
            (0, (0.0, 100.0, -100.0), 3),
            (1, (1.0, -1.0, 30.0), 4),
            (2, (0.0, 89.0, -89.0, 0.5), 2),
        )
    ]


def _upstream(x) -> np.ndarray:
    """Fixed random weights: the check differentiates sum(w * softplus(x))."""
    size = int(np.prod(x.shape))
    return np.random.default_rng(size).uniform(0.5, 2.0, size=tuple(x.shape)).astype("float32")


def _weighted_value_and_gradient(function, arguments):
    """``function(x)`` and the gradient of ``sum(w * function(x))`` for fixed weights ``w``."""
    (x,) = arguments.values()
    weights = tf.constant(_upstream(x))
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = function(x)
        total = tf.reduce_sum(weights * value)
    return {"value": value, "gradient": tape.gradient(total, x)}


def _softplus_truth(x):
    x64 = np.asarray(x, np.float64)
    return {"value": np.logaddexp(0.0, x64), "gradient": _upstream(x) / (1 + np.exp(-x64))}


def _naive_softplus(x):
    return tf.math.log(1.0 + tf.exp(x))


def _stable_forward_autodiff(x):
    return tf.maximum(x, 0.0) + tf.math.log1p(tf.exp(-tf.abs(x)))


def _custom_gradient(forward, backward):
    """``forward`` with ``backward`` as its gradient, decorated only when called.

    (Declaring the exercises must not import TensorFlow: ``list`` stays fast.)
    """

    def function(x):
        @tf.custom_gradient
        def with_gradient(x):
            return forward(x), lambda upstream: backward(x, upstream)

        return with_gradient(x)

    return function


_forgot_upstream = _custom_gradient(_stable_forward_autodiff, lambda x, upstream: tf.sigmoid(x))
_clipped_forward = _custom_gradient(
    lambda x: tf.math.log1p(tf.exp(tf.minimum(x, 20.0))),
    lambda x, upstream: upstream * tf.sigmoid(x),
)


_DECLARED = [
    Exercise(
        function="descend",
        title="Gradient descent that keeps its variable",
        hint="After the first step, is w still the tf.Variable you were given? Which "
        "method changes a variable's value without creating a new object?",
        cases=_descent_cases,
        truth=_descent_truth,
        run=_run_descent,
        rtol=1e-4,
        atol=1e-5,
        mistakes=(
            Mistake(
                "replaced the variable by a tensor",
                "w = w - learning_rate * grad binds w to a plain tf.Tensor, which the next "
                "tape does not watch, so the next gradient is None; update in place with "
                "w.assign_sub(learning_rate * grad).",
                _rebinding_descent,
            ),
            Mistake(
                "made a new variable at every step",
                "tf.Variable(w - learning_rate * grad) trains a copy: the caller's w never "
                "changes. Update the variable you were given with w.assign_sub(...).",
                _new_variable_descent,
            ),
            Mistake(
                "climbed instead of descending",
                "gradient descent subtracts the gradient: w.assign_sub, not w.assign_add.",
                _ascent,
            ),
        ),
    ),
    Exercise(
        function="x_log_x",
        title="A finite gradient for p·log(p), without changing its value",
        hint="tf.where picks values, but its gradient still flows into both branches. "
        "What could you feed tf.math.log where p == 0, so that the branch you throw away "
        "stays finite?",
        cases=_probability_cases,
        truth=_x_log_x_truth,
        run=_value_and_gradient,
        mistakes=(
            Mistake(
                "a single tf.where",
                "the value is right but the gradient is NaN where p == 0: log(0) is -inf, "
                "and the zero gradient tf.where sends to the unused branch times an "
                "infinite derivative is NaN. Mask the input too: "
                "safe = tf.where(p > 0, p, 1.0), then tf.where(p > 0, p * log(safe), 0).",
                _single_where,
            ),
            Mistake(
                "added an epsilon inside the log",
                "log(p + eps) changes the value everywhere and gives a large finite "
                "gradient, log(eps), at p == 0; the double tf.where keeps the value exact.",
                _epsilon_inside_log,
            ),
        ),
    ),
    Exercise(
        function="layer_gradient_norms",
        title="The gradient norm of each layer",
        hint="Each Dense layer owns two variables. How do you combine two gradient "
        "tensors into one norm, as if they were one long vector?",
        cases=_stack_cases,
        truth=_layer_norms_truth,
        rtol=1e-4,
        atol=1e-7,
        exact_dtype=False,
        mistakes=(
            Mistake(
                "one norm per variable",
                "the answer is keyed by layer.name, one number per layer: combine its "
                "kernel and bias gradients (tf.linalg.global_norm).",
                _norm_per_variable,
            ),
            Mistake(
                "added the kernel and bias norms",
                "norms do not add: the layer's norm is sqrt(|g_kernel|² + |g_bias|²), "
                "which tf.linalg.global_norm computes.",
                _summed_norms,
            ),
            Mistake(
                "left out the bias",
                "a layer's gradient includes its bias: take the norm over all of "
                "layer.trainable_variables.",
                _kernel_only,
            ),
            Mistake(
                "summed instead of averaged",
                "the loss is the mean squared error (keras.losses.MeanSquaredError()), "
                "not the sum, so every gradient is batch-size times too large.",
                _summed_loss_norms,
            ),
        ),
    ),
    Exercise(
        function="clip_gradients",
        title="Clip gradients by their global norm",
        hint="Should each tensor be scaled on its own, or should all of them be scaled by "
        "one common factor? When is that factor 1?",
        cases=_gradient_list_cases,
        truth=_clip_truth,
        rtol=1e-5,
        atol=1e-6,
        mistakes=(
            Mistake(
                "clipped each tensor separately",
                "clipping each gradient to max_norm on its own (tf.clip_by_norm, or "
                "Keras's clipnorm=) changes the update's direction and lets the total "
                "norm exceed max_norm; scale all of them by one factor: "
                "tf.clip_by_global_norm (Keras: global_clipnorm=).",
                _clip_each,
            ),
            Mistake(
                "clipped the values",
                "tf.clip_by_value caps each element, which changes the direction; clip "
                "the norm of all gradients together with tf.clip_by_global_norm.",
                _clip_values,
            ),
            Mistake(
                "returned the pair from tf.clip_by_global_norm",
                "tf.clip_by_global_norm returns (clipped_list, global_norm): return only "
                "the list.",
                _clip_pair,
            ),
            Mistake(
                "rescaled even below the limit",
                "gradients whose global norm is already at most max_norm must come back "
                "unchanged: the factor is min(1, max_norm / global_norm).",
                _always_rescale,
            ),
        ),
    ),
    Exercise(
        function="softplus",
        title="A stable softplus with a custom gradient",
        hint="For large x, log(1 + eˣ) is x plus a tiny correction. What is the derivative "
        "of softplus, and which function computes it without overflowing? Remember to "
        "multiply by the upstream gradient.",
        cases=_softplus_cases,
        truth=_softplus_truth,
        run=_weighted_value_and_gradient,
        rtol=1e-5,
        atol=1e-6,
        mistakes=(
            Mistake(
                "log(1 + exp(x)) overflows",
                "exp(x) is inf in float32 above x ≈ 88, so the value is inf and the "
                "gradient NaN: compute max(x, 0) + log1p(exp(-|x|)) instead.",
                _naive_softplus,
            ),
            Mistake(
                "autodiff through max(x, 0) at 0",
                "the stable formula is right, but its kinks at 0 cancel only on paper: "
                "autodiff gives 1 there instead of 0.5. Return upstream * tf.sigmoid(x) "
                "from a tf.custom_gradient.",
                _stable_forward_autodiff,
            ),
            Mistake(
                "the custom gradient ignores the upstream gradient",
                "grad(upstream) must return upstream * (the local derivative); without it "
                "the chain rule breaks as soon as softplus is not the last operation.",
                _forgot_upstream,
            ),
            Mistake(
                "the custom gradient changed the forward value",
                "a custom gradient replaces only the backward pass: the function must still "
                "return log(1 + eˣ) (100 at x = 100, not 20). Clipping x changes the value.",
                _clipped_forward,
            ),
        ),
    ),
]
EXERCISES = numbered(__name__, _DECLARED)
