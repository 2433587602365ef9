"""Write per-variable gradient norms and histograms as TensorBoard summaries.

One call of :func:`log_gradients` writes, for every (gradient, variable) pair:

- ``grad_norm/<path>``: a scalar, the L2 norm of the gradient;
- ``grad_hist/<path>``: a histogram of the gradient's elements;

and once per call ``grad_global_norm``, the L2 norm of all the gradients
together (what ``tf.clip_by_global_norm`` looks at). ``<path>`` is the Keras 3
variable path (``v.path``, e.g. ``sequential/dense/kernel``) or, for a plain
``tf.Variable``, its name without the ``:0`` suffix.

Tags are exact: they do not pick up the caller's ``tf.name_scope``, so the
same variable gets the same tag in eager code, in a ``tf.function`` and in
Keras ``fit``.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gradlab.tensorboard.errors import GradientLoggingWarning, TensorBoardError
from gradlab.tfsupport.variables import variable_label

if TYPE_CHECKING:
    import tensorflow as tf
else:
    from gradlab.tfsupport.lazy import tf

NORM_PREFIX = "grad_norm"
"""Tag prefix of the per-variable gradient norm scalars."""

HISTOGRAM_PREFIX = "grad_hist"
"""Tag prefix of the per-variable gradient histograms."""

GLOBAL_NORM_TAG = "grad_global_norm"
"""Tag of the scalar holding the L2 norm of all gradients of one call together."""


def create_writer(logdir: str | os.PathLike[str]) -> tf.summary.SummaryWriter:
    """Create ``logdir`` if needed and return a summary file writer for it.

    Unlike ``tf.summary.create_file_writer``, a directory that cannot be
    created or written raises :class:`TensorBoardError` with the reason, before
    anything is logged.
    """
    path = ensure_writable_dir(logdir)
    return tf.summary.create_file_writer(str(path))


def ensure_writable_dir(logdir: str | os.PathLike[str]) -> Path:
    """Create ``logdir`` (and its parents) if needed and check it can be written.

    Returns the directory as a :class:`~pathlib.Path`; raises
    :class:`TensorBoardError` if it cannot be created or written.
    """
    path = Path(logdir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = error.strerror or str(error)
        raise TensorBoardError(f"cannot create log directory {path}: {reason}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise TensorBoardError(f"log directory {path} is not writable")
    return path


def variable_path(variable: Any) -> str:
    """The readable name a variable's tags are built from (see :func:`variable_label`).

    Raises :class:`TypeError` for something that is not a named variable.
    """
    label = variable_label(variable)
    if label is None:
        raise TypeError(
            f"expected a variable with a name or a path, got {type(variable).__name__}"
        )
    return label


def unique_variable_names(variables: Sequence[Any]) -> list[str]:
    """One distinct tag name per variable, in order: its path, made unique.

    Two variables with the same path (plain ``tf.Variable`` objects created
    without ``name=`` are all called ``Variable``) would write into one tag and
    mix their curves. The first keeps its path; each later one gets the first
    free ``_1``, ``_2``, ... suffix, numbered in list order, so the same list
    always gives the same names. A :class:`GradientLoggingWarning` says which.
    """
    paths = [variable_path(v) for v in variables]
    taken = set(paths)
    used: set[str] = set()
    names = []
    for path in paths:
        name = path if path not in used else _first_free_name(path, taken)
        if name != path:
            warnings.warn(
                f"two variables share the path {path!r}; the later one is logged as {name!r}. "
                "Give variables distinct names (tf.Variable(..., name=...)) for clearer tags.",
                GradientLoggingWarning,
                stacklevel=3,
            )
        taken.add(name)
        used.add(name)
        names.append(name)
    return names


def _first_free_name(path: str, taken: set[str]) -> str:
    number = 1
    while f"{path}_{number}" in taken:
        number += 1
    return f"{path}_{number}"


def log_gradients(
    grads_and_vars: Iterable[tuple[Any, Any]],
    step: int | tf.Tensor | tf.Variable | None = None,
    *,
    writer: tf.summary.SummaryWriter | None = None,
    histograms: bool = True,
    global_norm: bool = True,
    buckets: int | None = None,
) -> list[str]:
    """Write each gradient's L2 norm and histogram, and the global norm.

    Args:
        grads_and_vars: ``(gradient, variable)`` pairs, e.g.
            ``zip(tape.gradient(loss, model.trainable_variables),
            model.trainable_variables)``. A ``None`` gradient is skipped with a
            :class:`GradientLoggingWarning` naming its variable; a sparse
            ``tf.IndexedSlices`` gradient is densified.
        step: the summary step. Inside a ``tf.function`` pass an ``int64``
            tensor (a Python int there retraces the function for every new
            value, and warns). ``None`` uses ``tf.summary.experimental.get_step()``.
        writer: the writer to log to; ``None`` logs to the default writer
            (``with writer.as_default():``). With neither, nothing is written
            and a :class:`GradientLoggingWarning` says so.
        histograms: also write ``grad_hist/<path>`` histograms.
        global_norm: also write ``grad_global_norm``.
        buckets: histogram bucket count (TensorBoard's default, 30, if ``None``).

    Returns:
        The tags logged to, in order (empty if there was no writer); under
        ``tf.summary.record_if(False)`` nothing reaches them.

    Raises:
        TypeError: a gradient is not floating point (e.g. ``int32``), or the
            items are not ``(gradient, variable)`` pairs.
        ValueError: no ``step`` and no default step is set.

    Works eagerly and inside ``tf.function``; under ``tf.summary.record_if``
    it writes only when recording is on.
    """
    grads, variables = _present_gradients(grads_and_vars)
    names = unique_variable_names(variables)
    with writer.as_default() if writer is not None else contextlib.nullcontext():
        if not _has_default_writer():
            warnings.warn(
                "log_gradients: no summary writer, nothing was logged. Pass writer=... or call "
                "it inside `with writer.as_default():`.",
                GradientLoggingWarning,
                stacklevel=2,
            )
            return []
        step = _summary_step(step)
        with tf.name_scope(""):  # exact tags, whatever name scope the caller is in
            return list(_write_summaries(grads, names, step, histograms, global_norm, buckets))


def _present_gradients(grads_and_vars: Iterable[tuple[Any, Any]]) -> tuple[list, list]:
    """Split the pairs, dropping ``None`` gradients (with a warning) and checking dtypes."""
    grads, variables = [], []
    for pair in grads_and_vars:
        gradient, variable = _unpack_pair(pair)
        name = variable_path(variable)
        if gradient is None:
            warnings.warn(
                f"no gradient for variable {name!r} (it is None): skipped. Is the variable "
                "used in the loss, on the tape?",
                GradientLoggingWarning,
                stacklevel=3,
            )
            continue
        grads.append(_floating_tensor(gradient, name))
        variables.append(variable)
    return grads, variables


def _unpack_pair(pair: Any) -> tuple[Any, Any]:
    try:
        gradient, variable = pair
    except (TypeError, ValueError):
        raise TypeError(
            "log_gradients expects (gradient, variable) pairs, e.g. "
            f"zip(grads, model.trainable_variables); got an item of type {type(pair).__name__}"
        ) from None
    return gradient, variable


def _floating_tensor(gradient: Any, name: str) -> tf.Tensor:
    if isinstance(gradient, tf.IndexedSlices):
        gradient = tf.convert_to_tensor(gradient)
    gradient = tf.convert_to_tensor(gradient)
    if not gradient.dtype.is_floating:
        raise TypeError(
            f"the gradient for variable {name!r} has dtype {gradient.dtype.name}; gradients "
            "must be floating point (float16, bfloat16, float32 or float64)"
        )
    return gradient


def _has_default_writer() -> bool:
    """Whether a default summary writer is set (TensorFlow has no public test for it)."""
    from tensorflow.python.ops import summary_ops_v2

    has_default_writer = getattr(summary_ops_v2, "has_default_writer", None)
    return True if has_default_writer is None else bool(has_default_writer())


def _summary_step(step: Any) -> Any:
    if step is None:
        step = tf.summary.experimental.get_step()
    if step is None:
        raise ValueError(
            "log_gradients needs a step: pass step=... (an int64 tensor inside tf.function) "
            "or call tf.summary.experimental.set_step(...) first"
        )
    if isinstance(step, (int, np.integer)) and not tf.executing_eagerly():
        warnings.warn(
            f"log_gradients: the step is the Python int {int(step)} inside a tf.function; "
            "calling the function with a new int retraces it every time. Pass "
            "tf.constant(step, tf.int64) instead.",
            GradientLoggingWarning,
            stacklevel=3,
        )
    return tf.cast(step, tf.int64)


def _write_summaries(
    grads: list[tf.Tensor],
    names: list[str],
    step: tf.Tensor,
    histograms: bool,
    global_norm: bool,
    buckets: int | None,
) -> Iterator[str]:
    norms = []
    for gradient, name in zip(grads, names, strict=True):
        norm = l2_norm(gradient)
        norms.append(norm)
        yield _write_scalar(f"{NORM_PREFIX}/{name}", norm, step)
        if histograms:
            tag = f"{HISTOGRAM_PREFIX}/{name}"
            tf.summary.histogram(tag, gradient, step=step, buckets=buckets)
            yield tag
    if global_norm and norms:
        yield _write_scalar(GLOBAL_NORM_TAG, _global_norm(norms), step)


def _write_scalar(tag: str, value: tf.Tensor, step: tf.Tensor) -> str:
    tf.summary.scalar(tag, value, step=step)
    return tag


def l2_norm(gradient: tf.Tensor) -> tf.Tensor:
    """The L2 norm of all elements of ``gradient``, at least in float32."""
    if gradient.dtype in (tf.float16, tf.bfloat16):
        gradient = tf.cast(gradient, tf.float32)
    return tf.norm(tf.reshape(gradient, [-1]))


def _global_norm(norms: list[tf.Tensor]) -> tf.Tensor:
    squares = [tf.square(tf.cast(norm, tf.float64)) for norm in norms]
    return tf.sqrt(tf.add_n(squares))
