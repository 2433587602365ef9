"""Exercises of lesson 3, TensorBoard: cases, hints and known mistakes.

Every check judges what was *really written*: the learner's function logs
into a fresh temporary directory (through a writer the check made, for 3.1 to
3.3) and the check reads the event files back with TensorBoard's own reader
(:mod:`gradlab.tensorboard`). For 3.4 and 3.5 the check writes a log the
learner's function must read.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from gradlab.course.checks.models import (
    known_function,
    regression_case,
    regressor,
)
from gradlab.course.exercise import Arguments, Case, Exercise, Mistake, numbered
from gradlab.tfsupport.lazy import keras, tf

NORM = "grad_norm/"
HIST = "grad_hist/"
LEARNING_RATE = 0.1

# ── temporary log directories ───────────────────────────────────────────────

_ROOT: list[Path] = []


def _new_log_dir() -> Path:
    """A fresh empty directory, removed when Python exits."""
    if not _ROOT:
        _ROOT.append(Path(tempfile.mkdtemp(prefix="gradlab-lesson03-")))
        atexit.register(shutil.rmtree, _ROOT[0], True)
    return Path(tempfile.mkdtemp(dir=_ROOT[0]))


@contextlib.contextmanager
def _own_summary_state() -> Iterator[None]:
    """Undo whatever the checked code does to the default writer and step.

    ``writer.set_as_default()`` or ``tf.summary.experimental.set_step`` in a
    learner's function must not leak into the next check.
    """
    from tensorflow.python.ops import summary_ops_v2

    state = summary_ops_v2._summary_state
    saved = (state.writer, state.step, state.is_recording)
    try:
        yield
    finally:
        state.writer, state.step, state.is_recording = saved


class NewWriter:
    """Stands in a case for ``tf.summary.create_file_writer(<temporary dir>)``.

    The check's ``run`` replaces it with a real writer just before the call.
    """

    def __repr__(self) -> str:
        return "tf.summary.create_file_writer(<a new temporary log directory>)"


# ── what a log directory holds ──────────────────────────────────────────────


def logged(logdir: str | Path, prefixes: tuple[str, ...] = (NORM, HIST)) -> dict:
    """The scalars and histograms written in ``logdir`` whose tags start with ``prefixes``.

    ``{tag: {"steps", "values"}}`` for a scalar; ``{tag: {"steps",
    "elements", "min", "max"}}`` for a histogram (one entry per step: how many
    numbers it holds and their range).
    """
    from gradlab.tensorboard import read_histograms, read_scalars

    found: dict = {}
    for tag, (steps, values) in read_scalars(logdir, run=".").items():
        if tag.startswith(prefixes) or tag in prefixes:
            found[tag] = {"steps": steps, "values": values}
    for tag, snapshots in read_histograms(logdir, run=".").items():
        if tag.startswith(prefixes):
            found[tag] = {
                "steps": np.array([s.step for s in snapshots], np.int64),
                "elements": np.array([s.counts.sum() for s in snapshots]),
                "min": np.array([s.edges[0] for s in snapshots]),
                "max": np.array([s.edges[-1] for s in snapshots]),
            }
    return dict(sorted(found.items()))


def _run_with_writer(prefixes: tuple[str, ...]):
    """A ``run=`` hook: call the function with a real writer, then read what it wrote.

    The log is read twice: when the function returns (what TensorBoard would
    show then) and after ``writer.close()``; they differ when the function left
    events in the writer's buffer.
    """

    def run(function, arguments: Arguments) -> dict:
        logdir = _new_log_dir()
        with _own_summary_state():
            writer = tf.summary.create_file_writer(str(logdir))
            values = [writer if isinstance(v, NewWriter) else v for v in arguments.values()]
            function(*values)
            on_return = logged(logdir, prefixes)
            writer.close()
        return {"on return": on_return, "after writer.close()": logged(logdir, prefixes)}

    return run


def _both_readings(written: dict) -> dict:
    return {"on return": written, "after writer.close()": written}


# ── 3.1: a scalar gradient at each step ─────────────────────────────────────


Curve = known_function("Curve", "first")


CURVES = (
    Curve("lambda x: 3 * x ** 2", lambda x: 3 * x**2, lambda x: 6 * x),
    Curve("tf.sin", lambda x: tf.sin(x), np.cos),
    Curve("lambda x: x ** 3 - 2 * x", lambda x: x**3 - 2 * x, lambda x: 3 * x**2 - 2),
)
POINTS = ([3.0, 1.0, -2.0, 0.5], [0.0, 0.5, 1.0, 1.5, 2.0], [-1.0, 2.0, 0.25])


def _slope_cases() -> list[Case]:
    return [
        Case(lambda f=f, xs=xs: {"f": f, "xs": list(xs), "writer": NewWriter()})
        for f, xs in zip(CURVES, POINTS, strict=True)
    ]


def _slope_truth(f, xs, writer) -> dict:
    series = {"steps": np.arange(len(xs)), "values": f.first(np.asarray(xs, np.float64))}
    return _both_readings({"slope": series})


def _slopes(f, xs, value_of=None):
    for x in xs:
        x = tf.Variable(x, dtype=tf.float32)
        with tf.GradientTape() as tape:
            y = f(x)
        yield y if value_of == "y" else tape.gradient(y, x)


def _slopes_without_default_writer(f, xs, writer):
    for step, slope in enumerate(_slopes(f, xs)):
        tf.summary.scalar("slope", slope, step=step)


def _slopes_without_flush(f, xs, writer):
    writer.set_as_default()
    for step, slope in enumerate(_slopes(f, xs)):
        tf.summary.scalar("slope", slope, step=step)


def _values_not_slopes(f, xs, writer):
    with writer.as_default():
        for step, value in enumerate(_slopes(f, xs, value_of="y")):
            tf.summary.scalar("slope", value, step=step)


def _steps_from_one(f, xs, writer):
    with writer.as_default():
        for step, slope in enumerate(_slopes(f, xs), start=1):
            tf.summary.scalar("slope", slope, step=step)


NO_DEFAULT_WRITER = (
    "no default writer",
    "tf.summary.scalar writes to the *default* writer, and without one it silently writes "
    "nothing (it returns False). Put the logging inside `with writer.as_default():`.",
)

# ── 3.2 and 3.3: a small Keras model ────────────────────────────────────────


_TRACES = [0]
"""How many times the current case's model was called while a graph was traced."""


def _trace_counter(name: str):
    """A layer that passes its input through and counts the calls made while tracing.

    Python code in a ``tf.function`` runs once per trace, so the count is the
    number of times the function that calls the model was traced. (Defined on
    first use: declaring the exercises must not import Keras.)
    """

    class TraceCounter(keras.layers.Layer):
        def call(self, inputs):
            if not tf.executing_eagerly():
                _TRACES[0] += 1
            return inputs

    return TraceCounter(name=name)


def _counted_regressor():
    return regressor(_trace_counter("counter"))


def _model_case(seed: int, batch: int) -> dict:
    """A tanh-then-linear regressor with seeded weights, and a batch from a known line."""
    case = regression_case(seed, batch, _counted_regressor)
    y = case["x"].numpy() @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    _TRACES[0] = 0
    return {**case, "y": tf.constant(y.astype("float32"))}


def _numpy_gradients(weights, x, y) -> list[np.ndarray]:
    """Back-propagation by hand for tanh hidden layer + linear output, mean squared error."""
    w1, b1, w2, b2 = weights
    hidden = np.tanh(x @ w1 + b1)
    d_out = 2 * (hidden @ w2 + b2 - y) / len(x)
    d_hidden = (d_out @ w2.T) * (1 - hidden**2)
    return [x.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_out, d_out.sum(0)]


def _float64(model, x, y):
    weights = [np.asarray(w, np.float64) for w in model.get_weights()]
    return weights, np.asarray(x, np.float64), np.asarray(y, np.float64)


def _paths(model) -> list[str]:
    return [v.path for v in model.trainable_variables]


def _model_gradient_cases() -> list[Case]:
    return [
        Case(
            lambda seed=seed, batch=batch, step=step: {
                **_model_case(seed, batch),
                "step": step,
                "writer": NewWriter(),
            }
        )
        for seed, batch, step in ((0, 8, 0), (1, 5, 7), (2, 16, 3))
    ]


def _model_gradient_truth(model, x, y, step, writer) -> dict:
    weights, x, y = _float64(model, x, y)
    written = {}
    for path, gradient in zip(_paths(model), _numpy_gradients(weights, x, y), strict=True):
        written[NORM + path] = {
            "steps": np.array([step]),
            "values": _one(np.linalg.norm(gradient)),
        }
        written[HIST + path] = {
            "steps": np.array([step]),
            "elements": _one(gradient.size),
            "min": _one(gradient.min()),
            "max": _one(gradient.max()),
        }
    return _both_readings(dict(sorted(written.items())))


def _one(value) -> np.ndarray:
    return np.array([value], np.float64)


def _tape_gradients(model, x, y):
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x))
    return tape.gradient(loss, model.trainable_variables)


def _log_model(model, grads, step, key=_paths, what="gradient"):
    for variable, name, gradient in zip(model.trainable_variables, key(model), grads, strict=True):
        tf.summary.scalar(NORM + name, tf.norm(gradient), step=step)
        tf.summary.histogram(HIST + name, gradient if what == "gradient" else variable, step=step)


def _keyed_by_name(model, x, y, step, writer):
    with writer.as_default():
        _log_model(model, _tape_gradients(model, x, y), step, key=_names)


def _names(model) -> list[str]:
    return [v.name for v in model.trainable_variables]


def _model_without_default_writer(model, x, y, step, writer):
    _log_model(model, _tape_gradients(model, x, y), step)


def _histogram_of_weights(model, x, y, step, writer):
    with writer.as_default():
        _log_model(model, _tape_gradients(model, x, y), step, what="weights")


# ── 3.3: logging inside tf.function ─────────────────────────────────────────


def _train_cases() -> list[Case]:
    return [
        Case(
            lambda seed=seed, batch=batch, steps=steps: {
                **_model_case(seed, batch),
                "steps": steps,
                "writer": NewWriter(),
            }
        )
        for seed, batch, steps in ((3, 8, 3), (4, 6, 4))
    ]


def _run_training(function, arguments: Arguments) -> dict:
    observed = _run_with_writer((NORM,))(function, arguments)
    return {"traces": _TRACES[0], **observed}


def _train_truth(model, x, y, steps, writer) -> dict:
    weights, x, y = _float64(model, x, y)
    norms: dict[str, list[float]] = {NORM + path: [] for path in _paths(model)}
    for _ in range(steps):
        grads = _numpy_gradients(weights, x, y)
        for tag, gradient in zip(norms, grads, strict=True):
            norms[tag].append(np.linalg.norm(gradient))
        weights = [w - LEARNING_RATE * g for w, g in zip(weights, grads, strict=True)]
    written = {tag: {"steps": np.arange(steps), "values": np.array(v)} for tag, v in norms.items()}
    return {"traces": 1, **_both_readings(dict(sorted(written.items())))}


def _make_train_step(model, writer, *, traced=True):
    optimizer = keras.optimizers.SGD(learning_rate=LEARNING_RATE)

    def train_step(x, y, step):
        with writer.as_default():
            grads = _tape_gradients(model, x, y)
            for variable, gradient in zip(model.trainable_variables, grads, strict=True):
                tf.summary.scalar(NORM + variable.path, tf.norm(gradient), step=step)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    return tf.function(train_step) if traced else train_step


def _python_int_step(model, x, y, steps, writer):
    train_step = _make_train_step(model, writer)
    for step in range(steps):
        train_step(x, y, step)


def _not_traced(model, x, y, steps, writer):
    train_step = _make_train_step(model, writer, traced=False)
    for step in range(steps):
        train_step(x, y, tf.constant(step, tf.int64))


# ── 3.4 and 3.5: reading a log back ─────────────────────────────────────────

VARIABLES = ("mlp/dense/kernel", "mlp/dense/bias", "mlp/dense_1/kernel")


class WrittenLog(str):
    """A log directory (it *is* its path) that remembers the norms written into it."""

    norms: dict[str, np.ndarray]
    steps: np.ndarray

    def __repr__(self) -> str:
        shown = ", ".join(map(str, self.steps[:3]))
        return f"<log dir: grad_norm/ of {len(self.norms)} variables at steps {shown}, ...>"


def write_norm_log(seed: int, first_step: int, every: int, count: int) -> WrittenLog:
    """A log of growing gradient norms, as ``GradientTensorBoard(every_n_steps=every)`` writes.

    Per-variable norms ``grad_norm/<path>`` grow by a seeded random factor per
    logged step (exploding gradients); ``grad_global_norm`` and histograms are
    written too, as :func:`gradlab.tensorboard.log_gradients` would.
    """
    rng = np.random.default_rng(seed)
    steps = first_step + every * np.arange(count)
    growth = rng.uniform(1.1, 1.6, size=(len(VARIABLES), 1))
    norms = rng.uniform(0.05, 0.5, size=(len(VARIABLES), 1)) * growth ** np.arange(count)
    logdir = _new_log_dir()
    writer = tf.summary.create_file_writer(str(logdir))
    with _own_summary_state(), writer.as_default():
        for position, step in enumerate(steps):
            step = int(step)
            for path, series in zip(VARIABLES, norms, strict=True):
                tf.summary.scalar(NORM + path, series[position], step=step)
                tf.summary.histogram(HIST + path, rng.normal(size=8) * series[position], step=step)
            total = np.sqrt(np.sum(norms[:, position] ** 2))
            tf.summary.scalar("grad_global_norm", total, step=step)
    writer.close()
    log = WrittenLog(str(logdir))
    log.norms = {
        path: series.astype(np.float32) for path, series in zip(VARIABLES, norms, strict=True)
    }
    log.steps = steps.astype(np.int64)
    return log


_LOGS = ((0, 1, 5, 10), (1, 0, 1, 6), (2, 3, 2, 8))


def _read_cases() -> list[Case]:
    return [
        Case(lambda spec=spec, path=path: {"logdir": write_norm_log(*spec), "path": path})
        for spec, path in zip(_LOGS, VARIABLES, strict=True)
    ]


def _read_truth(logdir: WrittenLog, path: str):
    return logdir.steps, logdir.norms[path]


def _summary_iterator_values(logdir, path):
    """Hand-parsing the event file and reading ``simple_value``, as TF1 tutorials do."""
    steps, values = [], []
    for event_file in sorted(Path(logdir).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                if value.tag == NORM + path:
                    steps.append(event.step)
                    values.append(value.simple_value)
    return np.array(steps, np.int64), np.array(values)


def _counted_steps(logdir, path):
    from gradlab.tensorboard import read_scalars

    _steps, values = read_scalars(logdir, run=".")[NORM + path]
    return np.arange(len(values)), values


_THRESHOLD_CASES = ((0, 1, 5, 10, 1.0), (1, 0, 1, 6, 0.8), (2, 3, 2, 8, 2.0), (0, 1, 5, 10, 100.0))


def _threshold_cases() -> list[Case]:
    return [
        Case(lambda s=spec, t=threshold: {"logdir": write_norm_log(*s), "threshold": t})
        for *spec, threshold in _THRESHOLD_CASES
    ]


def _threshold_truth(logdir: WrittenLog, threshold: float):
    above = np.stack(list(logdir.norms.values())) > threshold
    positions = np.flatnonzero(above.any(axis=0))
    return int(logdir.steps[positions[0]]) if positions.size else None


def _first_above(series: dict, threshold: float, position: bool = False):
    firsts = []
    for steps, values in series.values():
        above = np.flatnonzero(values > threshold)
        if above.size:
            firsts.append(int(above[0]) if position else int(steps[above[0]]))
    return min(firsts) if firsts else None


def _with_global_norm(logdir, threshold):
    from gradlab.tensorboard import read_scalars

    scalars = read_scalars(logdir, run=".")
    return _first_above(scalars, threshold)


def _position_not_step(logdir, threshold):
    from gradlab.tensorboard import read_scalars

    scalars = read_scalars(logdir, run=".")
    norms = {tag: s for tag, s in scalars.items() if tag.startswith(NORM)}
    return _first_above(norms, threshold, position=True)


# ── 3.6: the norm of a sparse gradient ──────────────────────────────────────

# (indices, rows of the table, width of a row): repeats, none, all one row, a mixture
_SPARSE = (([3, 3, 7], 10, 4), ([0, 1, 2], 5, 3), ([5, 5, 5, 2], 8, 2), ([1, 4, 1, 4, 0], 6, 3))


def _sparse_cases() -> list[Case]:
    return [
        Case(lambda spec=spec, seed=seed: {"gradient": _indexed_slices(*spec, seed=seed)})
        for seed, spec in enumerate(_SPARSE)
    ]


def _indexed_slices(indices: list[int], rows: int, width: int, seed: int):
    values = np.random.default_rng(seed).normal(size=(len(indices), width)).astype(np.float32)
    return _described_slices_class()(
        tf.constant(values), tf.constant(indices, tf.int64), tf.constant([rows, width], tf.int64)
    )


@functools.cache
def _described_slices_class() -> type:
    """``tf.IndexedSlices`` that a failure message shows by its parts, not its address.

    Made on first use, so that declaring the exercises imports no TensorFlow.
    """

    class DescribedSlices(tf.IndexedSlices):
        def __repr__(self) -> str:
            return (
                f"tf.IndexedSlices(indices={self.indices.numpy().tolist()}, values float32 "
                f"{tuple(self.values.shape)}, dense_shape={self.dense_shape.numpy().tolist()})"
            )

    return DescribedSlices


def _sparse_truth(gradient) -> np.float32:
    dense = np.zeros(gradient.dense_shape.numpy(), np.float64)
    np.add.at(dense, gradient.indices.numpy(), gradient.values.numpy())
    return np.float32(np.linalg.norm(dense))


def _norm_of_values(gradient):
    return tf.norm(gradient.values)


def _squared_norm(gradient):
    return tf.reduce_sum(tf.square(tf.convert_to_tensor(gradient)))


_DECLARED = [
    Exercise(
        function="log_slopes",
        title="Log a gradient at each step",
        hint="tf.summary.scalar has no writer argument: where does it write? And what "
        "happens to what it wrote before the writer is flushed?",
        cases=_slope_cases,
        truth=_slope_truth,
        run=_run_with_writer(("slope",)),
        mistakes=(
            Mistake(*NO_DEFAULT_WRITER, _slopes_without_default_writer),
            Mistake(
                "missing flush",
                "the writer keeps events in a buffer; nothing was in the file when your "
                "function returned. Call writer.flush() at the end, or log inside "
                "`with writer.as_default():`, which flushes when the block ends.",
                _slopes_without_flush,
            ),
            Mistake(
                "logged f(x), not its slope",
                "tape.gradient(y, x) is the slope; y is the function's value.",
                _values_not_slopes,
            ),
            Mistake(
                "counted steps from 1",
                "the i-th point (counting from 0) is step i: enumerate(xs) gives it.",
                _steps_from_one,
            ),
        ),
    ),
    Exercise(
        function="log_model_gradients",
        title="Norms and histograms for every variable",
        hint="Two Dense layers both have a variable called 'kernel'. Which attribute of a "
        "Keras 3 variable is unique, and what does TensorBoard do with two series under "
        "one tag?",
        cases=_model_gradient_cases,
        truth=_model_gradient_truth,
        run=_run_with_writer((NORM, HIST)),
        rtol=1e-4,
        atol=1e-6,
        mistakes=(
            Mistake(
                "tags that collide (keyed by variable.name)",
                "every Dense layer has a 'kernel' and a 'bias', so grad_norm/kernel mixes two "
                "variables' curves; build tags from variable.path.",
                _keyed_by_name,
            ),
            Mistake(*NO_DEFAULT_WRITER, _model_without_default_writer),
            Mistake(
                "histogram of the weights, not the gradients",
                "tf.summary.histogram(tag, gradient, step=step): pass the gradient, not the "
                "variable it belongs to.",
                _histogram_of_weights,
            ),
        ),
    ),
    Exercise(
        function="train_with_logging",
        title="Logging inside tf.function with a tensor step",
        hint="A tf.function is traced again for every new Python value of an argument. "
        "What kind of value can change at every step without a new trace?",
        cases=_train_cases,
        truth=_train_truth,
        run=_run_training,
        rtol=1e-4,
        atol=1e-6,
        time_limit=30.0,
        mistakes=(
            Mistake(
                "Python int step (retraced at every step)",
                "each new Python int is a new signature, so the function was traced once "
                "per step (slow, and a new graph each time). Pass "
                "tf.constant(step, tf.int64) instead.",
                _python_int_step,
            ),
            Mistake(
                "not in a tf.function",
                "the training step ran eagerly (no traces). Decorate it with @tf.function "
                "and make the writer default inside it.",
                _not_traced,
            ),
        ),
    ),
    Exercise(
        function="read_norms",
        title="Read logged norms back into arrays",
        hint="Which steps were logged: every step from 0, or the ones stored with each "
        "value? And how are TF2 summaries stored: simple_value, or tensors?",
        cases=_read_cases,
        truth=_read_truth,
        exact_dtype=False,
        mistakes=(
            Mistake(
                "read simple_value (TF2 stores tensors)",
                "TF2 summaries keep their value in value.tensor, so simple_value is 0.0. "
                "Use gradlab.tensorboard.read_scalars (TensorBoard's own reader).",
                _summary_iterator_values,
            ),
            Mistake(
                "assumed steps 0, 1, 2, ...",
                "the log holds the step of each value (here every few steps, not from 0): "
                "return the steps that were read, not a count.",
                _counted_steps,
            ),
        ),
    ),
    Exercise(
        function="first_step_above",
        title="Find when a gradient norm explodes, from the logs alone",
        hint="Which tags hold per-variable norms, and which one is the norm of all "
        "gradients together? And is a position in the array a step?",
        cases=_threshold_cases,
        truth=_threshold_truth,
        mistakes=(
            Mistake(
                "counted grad_global_norm",
                "the global norm is the norm of all gradients together and is always at "
                "least as big as each one; look only at the grad_norm/ tags.",
                _with_global_norm,
            ),
            Mistake(
                "returned the position, not the step",
                "a log may hold every 5th step starting from 1: return steps[i], not i.",
                _position_not_step,
            ),
        ),
    ),
    Exercise(
        function="sparse_gradient_norm",
        title="The norm of a sparse gradient",
        hint="A row read twice appears twice in .values. Is that row's gradient one of the "
        "two, or their sum? And is the norm of a sum the same as the norm of its parts?",
        cases=_sparse_cases,
        truth=_sparse_truth,
        mistakes=(
            Mistake(
                "norm of .values (repeated rows not summed)",
                "a row read twice has two entries in .values, and its gradient is their sum; "
                "sum the repeated rows first (tf.unique and tf.math.unsorted_segment_sum), "
                "or densify with tf.convert_to_tensor, then take the norm.",
                _norm_of_values,
            ),
            Mistake(
                "squared norm (no square root)",
                "the L2 norm is the square root of the sum of squares: tf.norm does both.",
                _squared_norm,
            ),
        ),
    ),
]
EXERCISES = numbered(__name__, _DECLARED)
