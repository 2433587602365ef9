"""Exercises of lesson 5, Jacobians, Hessians and forward mode: cases, hints, mistakes.

Every function used in a case carries its Jacobian (vector functions) or its
gradient and Hessian (scalar functions) in closed form, in NumPy: the
independent truth the reference solutions are compared with. The tests check
those closed forms against finite differences (``gradlab.gradcheck``).
"""

from __future__ import annotations

import numpy as np

from gradlab.course.checks.models import known_function, normal_data, seeded_model, uniform_tensor
from gradlab.course.exercise import Case, Exercise, Mistake, numbered
from gradlab.tfsupport.lazy import keras, tf


def _float64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


# ── vector functions R^n → R^m and their Jacobians ─────────────────────────


VectorFunction = known_function("VectorFunction", "jacobian", "inputs")


def _products_jacobian(x):
    x0, x1, x2 = x
    return np.array([[x1, x0, 0], [0, 0, np.cos(x2)], [2 * x0, 0, 0], [0, 1, -1]])


def _softmax_jacobian(x):
    s = np.exp(x - x.max())
    s /= s.sum()
    return np.diag(s) - np.outer(s, s)


def _paired_tanh_jacobian(x):
    first, second = x[:2], x[2:]
    slope = 1 - np.tanh(first * second) ** 2
    return np.hstack([np.diag(slope * second), np.diag(slope * first)])


def _cumulative_squares_jacobian(x):
    return np.tril(np.tile(2 * x, (len(x), 1)))


PRODUCTS = VectorFunction(
    "lambda x: tf.stack([x[0] * x[1], tf.sin(x[2]), x[0] ** 2, x[1] - x[2]])",
    lambda x: tf.stack([x[0] * x[1], tf.sin(x[2]), x[0] ** 2, x[1] - x[2]]),
    _products_jacobian,
    3,
)
SOFTMAX = VectorFunction("tf.nn.softmax", lambda x: tf.nn.softmax(x), _softmax_jacobian, 5)
PAIRED_TANH = VectorFunction(
    "lambda x: tf.tanh(x[:2] * x[2:])",
    lambda x: tf.tanh(x[:2] * x[2:]),
    _paired_tanh_jacobian,
    4,
)
CUMULATIVE_SQUARES = VectorFunction(
    "lambda x: tf.math.cumsum(x ** 2)",
    lambda x: tf.math.cumsum(x**2),
    _cumulative_squares_jacobian,
    4,
)
VECTOR_FUNCTIONS = (PRODUCTS, SOFTMAX, PAIRED_TANH, CUMULATIVE_SQUARES)


def _jacobian_cases() -> list[Case]:
    chosen = (PRODUCTS, PAIRED_TANH, SOFTMAX)  # the first is not square
    return [
        Case(lambda f=f, seed=seed: {"f": f, "x": uniform_tensor((f.inputs,), seed)})
        for seed, f in enumerate(chosen)
    ]


def _jvp_cases() -> list[Case]:
    chosen = (CUMULATIVE_SQUARES, PRODUCTS, PAIRED_TANH)  # the first is square, not symmetric
    return [
        Case(
            lambda f=f, seed=seed: {
                "f": f,
                "x": uniform_tensor((f.inputs,), seed),
                "v": uniform_tensor((f.inputs,), seed + 10),
            }
        )
        for seed, f in enumerate(chosen)
    ]


# ── scalar functions R^n → R with gradient and Hessian ─────────────────────


ScalarFunction = known_function("ScalarFunction", "gradient", "hessian", "inputs")


def _cubic(x):
    return tf.reduce_sum(x**3) + x[0] * x[1] * x[2]


def _cubic_gradient(x):
    x0, x1, x2 = x
    return 3 * x**2 + np.array([x1 * x2, x0 * x2, x0 * x1])


def _cubic_hessian(x):
    x0, x1, x2 = x
    return np.diag(6 * x) + np.array([[0, x2, x1], [x2, 0, x0], [x1, x0, 0]])


_BOWL = np.array(
    [[4.0, 1.0, 0.5, 0.0], [1.0, 3.0, 0.0, 0.5], [0.5, 0.0, 2.0, 0.3], [0.0, 0.5, 0.3, 1.0]]
)
_BOWL_CENTRE = np.array([1.0, -2.0, 0.5, 3.0])


def _bowl(x):
    a = tf.constant(_BOWL, dtype=x.dtype)
    shifted = x - tf.constant(_BOWL_CENTRE, dtype=x.dtype)
    return 0.5 * tf.reduce_sum(shifted * tf.linalg.matvec(a, shifted)) + tf.reduce_sum(
        tf.math.log(tf.cosh(x))
    )


def _bowl_gradient(x):
    return _BOWL @ (x - _BOWL_CENTRE) + np.tanh(x)


def _bowl_hessian(x):
    return _BOWL + np.diag(1 - np.tanh(x) ** 2)


def _rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _rosenbrock_gradient(x):
    x0, x1 = x
    return np.array([-2 * (1 - x0) - 400 * x0 * (x1 - x0**2), 200 * (x1 - x0**2)])


def _rosenbrock_hessian(x):
    x0, x1 = x
    return np.array([[2 - 400 * x1 + 1200 * x0**2, -400 * x0], [-400 * x0, 200.0]])


def _logsumexp_gradient(x):
    p = np.exp(x - x.max())
    return p / p.sum()


def _logsumexp_hessian(x):
    p = _logsumexp_gradient(x)
    return np.diag(p) - np.outer(p, p)


CUBIC = ScalarFunction(
    "lambda x: tf.reduce_sum(x ** 3) + x[0] * x[1] * x[2]",
    _cubic,
    _cubic_gradient,
    _cubic_hessian,
    3,
)
BOWL = ScalarFunction(
    "bowl: 0.5 (x - c)ᵀ A (x - c) + Σ log cosh x",
    _bowl,
    _bowl_gradient,
    _bowl_hessian,
    4,
)
ROSENBROCK = ScalarFunction(
    "lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2",
    _rosenbrock,
    _rosenbrock_gradient,
    _rosenbrock_hessian,
    2,
)
LOGSUMEXP = ScalarFunction(
    "tf.reduce_logsumexp",
    lambda x: tf.reduce_logsumexp(x),
    _logsumexp_gradient,
    _logsumexp_hessian,
    5,
)
SCALAR_FUNCTIONS = (CUBIC, BOWL, ROSENBROCK, LOGSUMEXP)


def _scalar_cases(chosen, with_direction: bool = False) -> list[Case]:
    def make(f, seed):
        arguments = {"f": f, "x": uniform_tensor((f.inputs,), seed, -1.0, 1.0)}
        if with_direction:
            arguments["v"] = uniform_tensor((f.inputs,), seed + 10)
        return arguments

    return [Case(lambda f=f, seed=seed: make(f, seed)) for seed, f in enumerate(chosen)]


def _newton_truth(f, x):
    x = _float64(x)
    return x - np.linalg.solve(f.hessian(x), f.gradient(x))


# ── per-example Jacobians of a small Keras model ───────────────────────────


def _mlp(features: int, hidden: int, outputs: int):
    """A tanh MLP (batch-independent: no layer mixes examples)."""
    return keras.Sequential(
        [
            keras.Input((features,)),
            keras.layers.Dense(hidden, activation="tanh", name="hidden"),
            keras.layers.Dense(outputs, name="output"),
        ],
        name="mlp",
    )


def _model_case(seed: int, batch: int, features: int, hidden: int, outputs: int) -> dict:
    """The MLP with seeded weights, and a batch of inputs."""
    (x,) = normal_data(seed, (batch, features))
    return {"model": seeded_model(_mlp, seed, features, hidden, outputs), "x": tf.constant(x)}


def _model_cases() -> list[Case]:
    shapes = ((0, 4, 3, 5, 2), (1, 6, 2, 4, 3), (2, 3, 4, 3, 1))
    return [Case(lambda shape=shape: _model_case(*shape)) for shape in shapes]


def _model_truth(model, x):
    """dy_b/dx_b = W2ᵀ diag(1 - h_b²) W1ᵀ for y = tanh(x W1 + b1) W2 + b2."""
    w1, b1, w2, _ = (_float64(w) for w in model.get_weights())
    hidden = np.tanh(_float64(x) @ w1 + b1)
    slope = 1 - hidden**2
    return np.einsum("ho,bh,dh->bod", w2, slope, w1)


# ── mistakes ───────────────────────────────────────────────────────────────


def _transposed_jacobian(f, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tf.transpose(tape.jacobian(y, x))


def _gradient_of_sum(f, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


def _unwatched_jacobian(f, x):
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.jacobian(y, x)


def _full_batch_jacobian(model, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)
    return tape.jacobian(y, x)


def _transposed_per_example(model, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)
    return tf.transpose(tape.batch_jacobian(y, x), [0, 2, 1])


def _one_tape_hessian(f, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
        gradient = tape.gradient(y, x)
    return tape.jacobian(gradient, x)


def _inner_gradient_outside_outer(f, x):
    with tf.GradientTape() as outer:
        outer.watch(x)
    with tf.GradientTape() as inner:
        inner.watch(x)
        y = f(x)
    gradient = inner.gradient(y, x)
    return outer.jacobian(gradient, x)


def _gradient_and_hessian(f, x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        gradient = inner.gradient(y, x)
    return gradient, outer.jacobian(gradient, x)


def _gradient_descent_step(f, x):
    gradient, _ = _gradient_and_hessian(f, x)
    return x - gradient


def _multiplied_by_hessian(f, x):
    gradient, hessian = _gradient_and_hessian(f, x)
    return x - tf.linalg.matvec(hessian, gradient)


def _newton_step_uphill(f, x):
    gradient, hessian = _gradient_and_hessian(f, x)
    return x + tf.linalg.solve(hessian, gradient[:, None])[:, 0]


def _vector_jacobian_product(f, x, v):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x, output_gradients=v)


def _primal_output(f, x, v):
    with tf.autodiff.ForwardAccumulator(x, v):
        y = f(x)
    return y


def _gradient_not_hvp(f, x, v):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


def _directional_derivative(f, x, v):
    with tf.autodiff.ForwardAccumulator(x, v) as accumulator:
        y = f(x)
    return accumulator.jvp(y)


def _gradient_after_accumulator(f, x, v):
    with tf.autodiff.ForwardAccumulator(x, v) as accumulator, tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    gradient = tape.gradient(y, x)
    return accumulator.jvp(gradient)


TRANSPOSED = Mistake(
    "transposed Jacobian",
    "tape.jacobian(y, x) has shape y.shape + x.shape: row i holds the derivatives of "
    "output y[i]. Do not transpose it.",
    _transposed_jacobian,
)

_DECLARED = [
    Exercise(
        function="jacobian_of",
        title="The Jacobian of a vector function",
        hint="tape.gradient of a vector gives one vector: the gradient of the sum. Which tape "
        "method keeps each output separate, and which tensor must the tape watch?",
        cases=_jacobian_cases,
        truth=lambda f, x: f.jacobian(_float64(x)),
        rtol=1e-5,
        atol=1e-6,
        mistakes=(
            TRANSPOSED,
            Mistake(
                "gradient of the sum, not the Jacobian",
                "tape.gradient(y, x) adds the rows of the Jacobian together; "
                "tape.jacobian(y, x) keeps them.",
                _gradient_of_sum,
            ),
            Mistake(
                "forgot tape.watch",
                "x is a tf.constant: call tape.watch(x) inside the tape before computing f(x).",
                _unwatched_jacobian,
            ),
        ),
    ),
    Exercise(
        function="per_example_jacobians",
        title="Per-example Jacobians with batch_jacobian",
        hint="The full tape.jacobian(y, x) has shape (B, m, B, n) and is mostly zeros here. "
        "Which tape method returns only the (B, m, n) blocks that pair example b with itself?",
        cases=_model_cases,
        truth=_model_truth,
        rtol=1e-4,
        atol=1e-5,
        mistakes=(
            Mistake(
                "full jacobian instead of batch_jacobian",
                "tape.jacobian(y, x) differentiates every output by every example: shape "
                "(B, m, B, n). tape.batch_jacobian(y, x) keeps only example b by example b.",
                _full_batch_jacobian,
            ),
            Mistake(
                "gradient of the sum, not per-example Jacobians",
                "tape.gradient(y, x) sums over the model's outputs; each example needs its "
                "(m, n) Jacobian: tape.batch_jacobian(y, x).",
                _gradient_of_sum,
            ),
            Mistake(
                "transposed per-example Jacobians",
                "batch_jacobian(y, x)[b] has shape (m, n): outputs first, inputs second. "
                "Do not transpose it.",
                _transposed_per_example,
            ),
        ),
    ),
    Exercise(
        function="hessian_of",
        title="A Hessian with nested tapes",
        hint="The Hessian is the Jacobian of the gradient. Which tape must be recording while "
        "the gradient is computed, and how many times is each tape asked?",
        cases=lambda: _scalar_cases((CUBIC, BOWL, LOGSUMEXP)),
        truth=lambda f, x: f.hessian(_float64(x)),
        rtol=1e-4,
        atol=1e-4,
        mistakes=(
            Mistake(
                "used a non-persistent tape twice",
                "one ordinary tape answers one gradient() or jacobian() call. Nest two tapes: "
                "the inner one gives the gradient, the outer one its Jacobian.",
                _one_tape_hessian,
            ),
            Mistake(
                "computed the gradient outside the outer tape",
                "the outer tape can only differentiate what it recorded: call "
                "inner.gradient(...) inside the outer tape's with-block.",
                _inner_gradient_outside_outer,
            ),
            Mistake(
                "returned the gradient",
                "the gradient is the first derivative, shape (n,); the Hessian is its "
                "Jacobian, shape (n, n).",
                _gradient_of_sum,
            ),
        ),
    ),
    Exercise(
        function="newton_step",
        title="One Newton step",
        hint="Newton's method moves to the minimum of the local quadratic model: which linear "
        "system in the Hessian H and the gradient g does the step solve?",
        cases=lambda: _scalar_cases((BOWL, CUBIC, ROSENBROCK)),
        truth=_newton_truth,
        rtol=1e-4,
        atol=1e-4,
        mistakes=(
            Mistake(
                "a gradient-descent step",
                "x - g ignores the curvature; Newton's step is x - H⁻¹ g.",
                _gradient_descent_step,
            ),
            Mistake(
                "multiplied by the Hessian instead of solving",
                "the step is H⁻¹ g: solve H d = g (tf.linalg.solve), do not multiply H g.",
                _multiplied_by_hessian,
            ),
            Mistake(
                "stepped uphill",
                "Newton's step subtracts: x - H⁻¹ g.",
                _newton_step_uphill,
            ),
        ),
    ),
    Exercise(
        function="jacobian_vector_product",
        title="A Jacobian-vector product in forward mode",
        hint="tf.autodiff.ForwardAccumulator takes the point and a direction (primals and "
        "tangents). What must run inside it, and which of its methods gives J v?",
        cases=_jvp_cases,
        truth=lambda f, x, v: f.jacobian(_float64(x)) @ _float64(v),
        rtol=1e-5,
        atol=1e-6,
        mistakes=(
            Mistake(
                "VJP instead of JVP",
                "tape.gradient(y, x, output_gradients=v) is vᵀ J, a vector-Jacobian product "
                "(reverse mode). J v pushes v forward: tf.autodiff.ForwardAccumulator(x, v).",
                _vector_jacobian_product,
            ),
            Mistake(
                "returned f(x), not its JVP",
                "the accumulator computes f(x) as usual; its derivative along v is "
                "accumulator.jvp(y).",
                _primal_output,
            ),
        ),
    ),
    Exercise(
        function="hessian_vector_product",
        title="A Hessian-vector product without the Hessian",
        hint="H v is the derivative of the gradient along v. Which tool gives a derivative "
        "along a direction, and which must be inside which?",
        cases=lambda: _scalar_cases((BOWL, CUBIC, LOGSUMEXP), with_direction=True),
        truth=lambda f, x, v: f.hessian(_float64(x)) @ _float64(v),
        rtol=1e-4,
        atol=1e-4,
        mistakes=(
            Mistake(
                "returned the gradient",
                "the gradient g is the first derivative; H v is g's derivative along v.",
                _gradient_not_hvp,
            ),
            Mistake(
                "directional derivative of f, not of its gradient",
                "accumulator.jvp(f(x)) is gᵀ v, one number. Compute the gradient with a tape "
                "inside the accumulator, then take accumulator.jvp(gradient).",
                _directional_derivative,
            ),
            Mistake(
                "took the gradient after the accumulator closed",
                "the accumulator only pushes v through operations run inside its with-block: "
                "call tape.gradient(...) there too.",
                _gradient_after_accumulator,
            ),
        ),
    ),
]
EXERCISES = numbered(__name__, _DECLARED)
