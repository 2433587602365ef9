"""Exercises of lesson 2, tf.gradients in graph mode: cases, hints and known mistakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.course.checks.models import known_function, uniform, uniform_tensor
from gradlab.course.exercise import Case, Exercise, Mistake, numbered
from gradlab.tfsupport.lazy import tf


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


# ── scalar functions of a tensor, with their gradients and Hessians ─────────


Field = known_function("Field", "gradient")


def _article_f(x):
    return 3 * x**2


# AutoGraph reads the source of the functions a tf.function calls: two lambdas on one
# line would make it warn, so the article's f is a named function.
ARTICLE = Field("lambda x: 3 * x ** 2", _article_f, lambda x: 6 * x)
FIELDS = (
    Field(
        "lambda x: tf.reduce_sum(tf.sin(x) * x ** 2)",
        lambda x: tf.reduce_sum(tf.sin(x) * x**2),
        lambda x: np.cos(x) * x**2 + 2 * x * np.sin(x),
    ),
    Field(
        "lambda x: tf.reduce_logsumexp(x)",
        lambda x: tf.reduce_logsumexp(x),
        lambda x: _softmax(x.ravel()).reshape(x.shape),
    ),
    Field(
        "lambda x: tf.reduce_mean(tf.exp(-x * x))",
        lambda x: tf.reduce_mean(tf.exp(-x * x)),
        lambda x: -2 * x * np.exp(-x * x) / x.size,
    ),
)


def _field_cases(as_tensor: bool) -> list[Case]:
    """The article's f at 3.0 (df/dx = 18), then three fields on tensors of other shapes."""
    convert = tf.constant if as_tensor else np.asarray

    def make(f: Field, values: np.ndarray) -> dict:
        return {"f": f, "x": convert(values)}

    article = np.array(3.0, dtype=np.float32)
    shaped = [(FIELDS[0], (4,)), (FIELDS[1], (2, 3)), (FIELDS[2], (5, 1))]
    return [
        Case(lambda: make(ARTICLE, article)),
        *(
            Case(lambda f=f, shape=shape, seed=seed: make(f, uniform(shape, seed)))
            for seed, (f, shape) in enumerate(shaped)
        ),
    ]


def _gradient_truth(f: Field, x) -> np.ndarray:
    return f.gradient(np.asarray(x, np.float64))


Curved = known_function("Curved", "hessian")


def _cubic_hessian(x: np.ndarray) -> np.ndarray:
    hessian = np.diag(6 * x)
    hessian[0, 1] += 1
    hessian[1, 0] += 1
    return hessian


def _logsumexp_hessian(x: np.ndarray) -> np.ndarray:
    s = _softmax(x)
    return np.diag(s) - np.outer(s, s)


_DIRECTION = np.array([0.5, -1.0, 0.25], dtype=np.float32)

CURVED = (
    Curved(
        "lambda x: tf.reduce_sum(x ** 3) + x[0] * x[1]",
        lambda x: tf.reduce_sum(x**3) + x[0] * x[1],
        _cubic_hessian,
    ),
    Curved(
        "lambda x: tf.reduce_logsumexp(x)", lambda x: tf.reduce_logsumexp(x), _logsumexp_hessian
    ),
    Curved(
        "lambda x: tf.exp(tf.tensordot(w, x, 1))  # w = [0.5, -1, 0.25]",
        lambda x: tf.exp(tf.tensordot(tf.constant(_DIRECTION), x, 1)),
        lambda x: np.exp(_DIRECTION @ x) * np.outer(_DIRECTION, _DIRECTION),
    ),
)


def _hessian_cases() -> list[Case]:
    sizes = (3, 4, 3)
    return [
        Case(lambda f=f, n=n, seed=seed: {"f": f, "x": uniform_tensor((n,), 10 + seed)})
        for seed, (f, n) in enumerate(zip(CURVED, sizes, strict=True))
    ]


# ── 2.2: vector functions and their vector–Jacobian products ────────────────


VectorFunction = known_function("VectorFunction", "vjp")


def _cumsum_vjp(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return 2 * x * np.cumsum(w[::-1])[::-1]  # ∂(Σ_{j≤i} x_j²)/∂x_j = 2x_j for every i ≥ j


def _softmax_vjp(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    s = _softmax(x)
    return s * (w - s @ w)


_MATRIX = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.2]], dtype=np.float32)


def _tanh_vjp(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    t = np.tanh(_MATRIX.astype(np.float64) @ x)
    return _MATRIX.T @ ((1 - t**2) * w)


VECTOR_FUNCTIONS = (
    VectorFunction(
        "lambda x: tf.math.cumsum(x ** 2)", lambda x: tf.math.cumsum(x**2), _cumsum_vjp
    ),
    VectorFunction("tf.nn.softmax", lambda x: tf.nn.softmax(x), _softmax_vjp),
    VectorFunction(
        "lambda x: tf.tanh(tf.linalg.matvec(A, x))  # A is 2×3",
        lambda x: tf.tanh(tf.linalg.matvec(tf.constant(_MATRIX), x)),
        _tanh_vjp,
    ),
)


def _weighted_cases() -> list[Case]:
    shapes = ((4, 4), (5, 5), (3, 2))  # (length of x, length of f(x))

    def make(f: VectorFunction, n: int, m: int, seed: int) -> dict:
        x, weights = uniform_tensor((n,), 20 + seed), uniform_tensor((m,), 30 + seed)
        return {"f": f, "x": x, "weights": weights}

    return [
        Case(lambda f=f, n=n, m=m, seed=seed: make(f, n, m, seed))
        for seed, (f, (n, m)) in enumerate(zip(VECTOR_FUNCTIONS, shapes, strict=True))
    ]


def _weighted_truth(f: VectorFunction, x, weights) -> np.ndarray:
    return f.vjp(np.asarray(x, np.float64), np.asarray(weights, np.float64))


# ── 2.3: a model with an intermediate, and its partial derivatives ──────────


# x -> (y, u): a scalar y computed from x and an intermediate u = u(x); partial_x is
# ∂y/∂x holding u fixed and partial_u is ∂y/∂u, in NumPy.
TwoStep = known_function("TwoStep", "partial_x", "partial_u")


def _sine_step(x):
    u = tf.sin(x)
    return tf.reduce_sum(x * u + u**2), u


def _square_step(x):
    u = x**2
    return tf.reduce_sum(tf.exp(-u) * x), u


def _tanh_step(x):
    u = tf.tanh(x)
    return tf.reduce_sum(u * x**3), u


TWO_STEPS = (
    TwoStep(
        "u = tf.sin(x); y = tf.reduce_sum(x * u + u ** 2)",
        _sine_step,
        np.sin,
        lambda x: x + 2 * np.sin(x),
    ),
    TwoStep(
        "u = x ** 2; y = tf.reduce_sum(tf.exp(-u) * x)",
        _square_step,
        lambda x: np.exp(-(x**2)),
        lambda x: -x * np.exp(-(x**2)),
    ),
    TwoStep(
        "u = tf.tanh(x); y = tf.reduce_sum(u * x ** 3)",
        _tanh_step,
        lambda x: 3 * x**2 * np.tanh(x),
        lambda x: x**3,
    ),
)


def _two_step_cases() -> list[Case]:
    shapes = ((3,), (2, 2), (4,))
    return [
        Case(
            lambda model=model, shape=shape, seed=seed: {
                "model": model,
                "x": uniform_tensor(shape, 40 + seed),
            }
        )
        for seed, (model, shape) in enumerate(zip(TWO_STEPS, shapes, strict=True))
    ]


def _partials_truth(model: TwoStep, x) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, np.float64)
    return model.partial_x(x), model.partial_u(x)


# ── 2.4: a v1 Graph and Session ─────────────────────────────────────────────

SYMBOLIC = (
    "returned a graph tensor, not its value: only Session.run turns a graph tensor into numbers"
)


def _session_result(function: Callable, arguments: dict) -> Any:
    """Call the answer; refuse a graph tensor, which cannot be compared with numbers."""
    result = function(*arguments.values())
    if any(tf.is_symbolic_tensor(item) for item in tf.nest.flatten(result)):
        raise TypeError(SYMBOLIC)
    return result


# ── 2.6: a traced gradient function, traced once ────────────────────────────

NOT_A_TF_FUNCTION = "it returned {kind}, not a tf.function (it has no tracing count)"


_LENGTHS = (2, 5, 9)


def _traced_use(function: Callable, arguments: dict) -> dict:
    """Make the gradient function, call it on vectors of three lengths, count its traces."""
    gradient = function(arguments["f"])
    gradients = [gradient(uniform_tensor((n,), 50 + n)) for n in _LENGTHS]
    count = getattr(gradient, "experimental_get_tracing_count", None)
    if count is None:
        raise TypeError(NOT_A_TF_FUNCTION.format(kind=type(gradient).__name__))
    return {"gradients": gradients, "traces": count()}


def _traced_cases() -> list[Case]:
    return [Case(lambda f=f: {"f": f}) for f in FIELDS]


def _traced_truth(f: Field) -> dict:
    vectors = [uniform((n,), 50 + n).astype(np.float64) for n in _LENGTHS]
    return {"gradients": [f.gradient(x) for x in vectors], "traces": 1}


# ── known mistakes: their answers ───────────────────────────────────────────


def _eagerly(f, x):
    return tf.gradients(f(x), x)[0]


def _gradient_list(f, x):
    return tf.function(lambda x: tf.gradients(f(x), x))(x)


def _value_not_gradient(f, x):
    return f(x)


def _gradient_of_sum(f, x, weights):
    return tf.function(lambda x: tf.gradients(f(x), x)[0])(x)


def _weighted_afterwards(f, x, weights):
    return weights * _gradient_of_sum(f, x, weights)


def _weighted_eagerly(f, x, weights):
    return tf.gradients(f(x), x, grad_ys=weights)[0]


def _total_not_partial(model, x):
    def total(x):
        y, u = model(x)
        return tuple(tf.gradients(y, [x, u]))

    return tf.function(total)(x)


def _stop_gradient_instead(model, x):
    def stopped_after_building(x):
        y, u = model(x)
        held = tf.stop_gradient(u)  # a new tensor: y was built from u, not from it
        return tuple(tf.gradients(y, [x, held]))

    return tf.function(stopped_after_building)(x)


def _partials_eagerly(model, x):
    y, u = model(x)
    return tuple(tf.gradients(y, [x, u], stop_gradients=[u]))


def _session_eagerly(f, x):
    x = tf.constant(x)
    return tf.gradients(f(x), x)[0]


def _session_graph(f, x):
    graph = tf.Graph()
    with graph.as_default():
        x_in = tf.compat.v1.placeholder(tf.float32, shape=x.shape)
        return graph, x_in, tf.gradients(f(x_in), x_in)


def _session_tensor(f, x):
    _, _, gradients = _session_graph(f, x)
    return gradients[0]


def _session_list(f, x):
    graph, x_in, gradients = _session_graph(f, x)
    with tf.compat.v1.Session(graph=graph) as session:
        return session.run(gradients, feed_dict={x_in: x})


def _hessian_eagerly(f, x):
    return tf.hessians(f(x), x)[0]


def _gradient_of_gradient(f, x):
    @tf.function
    def twice(x):
        gradient = tf.gradients(f(x), x)[0]
        return tf.gradients(gradient, x)[0]

    return twice(x)


def _hessian_list(f, x):
    return tf.function(lambda x: tf.hessians(f(x), x))(x)


def _traced_per_shape(f):
    return tf.function(lambda x: tf.gradients(f(x), x)[0])


def _reduce_retracing(f):
    return tf.function(lambda x: tf.gradients(f(x), x)[0], reduce_retracing=True)


def _plain_python(f):
    return lambda x: tf.gradients(f(x), x)[0]


def _eager_mistake(answer: Callable) -> Mistake:
    return Mistake(
        "called tf.gradients eagerly",
        "tf.gradients (and tf.hessians) only work while a graph is being built: call them "
        "inside a function decorated with @tf.function, or under "
        "`with tf.Graph().as_default():`. Called eagerly they raise this RuntimeError.",
        answer,
    )


def _list_mistake(answer: Callable, api: str) -> Mistake:
    return Mistake(
        f"returned the list from {api}",
        f"{api}(ys, xs) returns a list with one tensor per source in xs, even for one "
        "source: take its element [0].",
        answer,
    )


_DECLARED = [
    Exercise(
        function="graph_gradient",
        title="A gradient with tf.gradients, inside tf.function",
        hint="Where must tf.gradients run for there to be a graph to walk backwards? "
        "And what does it return when you give it a single source?",
        cases=lambda: _field_cases(as_tensor=True),
        truth=_gradient_truth,
        mistakes=(
            _eager_mistake(_eagerly),
            _list_mistake(_gradient_list, "tf.gradients"),
            Mistake(
                "returned f(x), not its gradient",
                "the gradient has the shape of x; f(x) is a single number.",
                _value_not_gradient,
            ),
        ),
    ),
    Exercise(
        function="gradient_in_session",
        title="A gradient in a tf.compat.v1 Graph and Session",
        hint="Which graph must be the default while you create the placeholder and call "
        "tf.gradients? And what turns the gradient tensor into numbers?",
        cases=lambda: _field_cases(as_tensor=False),
        truth=_gradient_truth,
        run=_session_result,
        mistakes=(
            _eager_mistake(_session_eagerly),
            Mistake(
                "returned the graph tensor, not its value",
                "a tensor of a tf.Graph holds no numbers; return "
                "session.run(gradient, feed_dict={placeholder: x}).",
                _session_tensor,
            ),
            Mistake(
                "returned Session.run's list",
                "session.run(tf.gradients(...)) returns a list with one array per source; "
                "run the gradient tensor itself, tf.gradients(...)[0].",
                _session_list,
            ),
        ),
    ),
    Exercise(
        function="weighted_gradient",
        title="A weighted gradient (a vector–Jacobian product) with grad_ys",
        hint="When ys is a vector, tf.gradients starts the backward pass from a tensor of "
        "ones. Which argument replaces those ones with your weights?",
        cases=_weighted_cases,
        truth=_weighted_truth,
        mistakes=(
            Mistake(
                "forgot grad_ys",
                "without grad_ys every output of f gets weight 1 (the gradient of the sum); "
                "pass grad_ys=weights.",
                _gradient_of_sum,
            ),
            Mistake(
                "multiplied by the weights afterwards",
                "weights * gradient weights the inputs, not the outputs; the weights must "
                "enter the backward pass at the outputs: grad_ys=weights.",
                _weighted_afterwards,
            ),
            _eager_mistake(_weighted_eagerly),
        ),
    ),
    Exercise(
        function="partial_derivatives",
        title="Partial derivatives with stop_gradients",
        hint="y was already built from u. Which argument of tf.gradients treats u as a "
        "constant for this one differentiation, without rebuilding y?",
        cases=_two_step_cases,
        truth=_partials_truth,
        mistakes=(
            Mistake(
                "total derivative, not the partial",
                "tf.gradients(y, x) follows every path from x to y, including the one "
                "through u; pass stop_gradients=[u] to hold u fixed.",
                _total_not_partial,
            ),
            Mistake(
                "tf.stop_gradient where stop_gradients was asked",
                "tf.stop_gradient(u) makes a new tensor; y was built from the old u, so y's "
                "total derivative is unchanged and y does not depend on the new tensor at "
                "all (None). Pass stop_gradients=[u] to tf.gradients instead.",
                _stop_gradient_instead,
            ),
            _eager_mistake(_partials_eagerly),
        ),
    ),
    Exercise(
        function="hessian_matrix",
        title="A Hessian with tf.hessians",
        hint="Differentiating a gradient with tf.gradients again gives the gradient of its "
        "sum, one number per input. Which function builds the whole n × n matrix?",
        cases=_hessian_cases,
        truth=lambda f, x: f.hessian(np.asarray(x, np.float64)),
        rtol=1e-4,
        atol=1e-5,
        mistakes=(
            Mistake(
                "differentiated the gradient with tf.gradients",
                "tf.gradients(gradient, x) is the gradient of the sum of the gradient: the "
                "row sums of the Hessian. tf.hessians(y, x) builds the whole matrix.",
                _gradient_of_gradient,
            ),
            _list_mistake(_hessian_list, "tf.hessians"),
            _eager_mistake(_hessian_eagerly),
        ),
    ),
    Exercise(
        function="gradient_function",
        title="A gradient function traced once",
        hint="A tf.function traces again for each new input shape. What can you tell it, "
        "when you create it, about the shapes it will be called with?",
        cases=_traced_cases,
        truth=_traced_truth,
        run=_traced_use,
        time_limit=20.0,
        mistakes=(
            Mistake(
                "traced once per input length",
                "a plain @tf.function traces a new graph for each new shape; give it "
                "input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float32)].",
                _traced_per_shape,
            ),
            Mistake(
                "reduce_retracing still traces twice",
                "reduce_retracing=True relaxes the shape only after a second shape has "
                "arrived; an input_signature with shape [None] traces once, up front.",
                _reduce_retracing,
            ),
            _eager_mistake(_plain_python),
        ),
    ),
]
EXERCISES = numbered(__name__, _DECLARED)
