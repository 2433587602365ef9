"""Finite differences: for every element (replayed in batches) and along directions (eager).

Every numerical derivative here is a central difference
``(f(x + h) - f(x - h)) / (2h)`` where, to keep rounding out of the step, the
divisor is the difference of the two perturbed inputs *as they were stored*,
not the nominal ``2h``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlab.gradcheck.errors import GradcheckError
from gradlab.gradcheck.problem import InputSpec
from gradlab.gradcheck.replayed import fixed_values, plan_inputs, replayed_values
from gradlab.gradcheck.traced import TracedObjective
from gradlab.tfsupport.lazy import tf
from gradlab.tfsupport.quiet import tensorflow_warnings_hidden

EPSILON = {
    "float64": 2.0**-52,
    "float32": 2.0**-23,
    "float16": 2.0**-10,
    "bfloat16": 2.0**-7,
}
"""Machine epsilon of each floating-point dtype the checker accepts."""


def default_step(precision: str) -> float:
    """The default finite-difference step for a computation in ``precision``.

    The cube root of machine epsilon (6.1e-06 in float64, 4.9e-03 in float32):
    it balances the truncation error of a central difference (which grows
    like step²) against rounding (which grows like epsilon / step).
    """
    return float(EPSILON[precision] ** (1.0 / 3.0))


def as_float64(value: Any) -> np.ndarray:
    """A tensor's values as a float64 NumPy array (exact for every accepted dtype)."""
    return np.asarray(tf.cast(value, tf.float64).numpy(), dtype=np.float64)


def scalar_value(value: Any) -> float:
    """The one number in a scalar or one-element tensor, as a Python float."""
    return float(as_float64(value).reshape(()))


def stored(values: np.ndarray, dtype: Any) -> np.ndarray:
    """``values`` rounded to ``dtype`` (as an input of that dtype would hold them), in float64."""
    return as_float64(tf.cast(tf.constant(values, tf.float64), dtype))


@dataclass
class CentralDifferences:
    """The numerical gradient of every input, and how it was computed."""

    gradients: list[np.ndarray]
    evaluations: int
    batch: int = 1
    """Perturbations evaluated per compiled step (1: one at a time; 0: none perturbed directly)."""
    replayed: tuple[int, ...] = ()
    """Inputs whose perturbations ran through a batched eager replay of ``f``'s graph."""


@dataclass
class DirectionalDifferences:
    """Numerical and analytical derivatives along some directions."""

    numerical: np.ndarray
    analytical: np.ndarray
    evaluations: int


def perturbed_elements(
    values: Sequence[Any], specs: Sequence[InputSpec], step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every element of every input, flattened, stored at ``x + step`` and at ``x - step``.

    Raises if the step is too small for an input's precision (``x ± step``
    rounds back to the same number, so the difference would divide by zero).
    """
    bases, pluses, minuses = [], [], []
    for value, spec in zip(values, specs, strict=True):
        base = as_float64(value).ravel()
        plus, minus = stored(base + step, value.dtype), stored(base - step, value.dtype)
        flat = np.flatnonzero(plus == minus)
        if flat.size:
            index = [int(i) for i in np.unravel_index(int(flat[0]), spec.shape)]
            remedy = "Use a larger delta" + (
                " (or float64 inputs)." if value.dtype != tf.float64 else "."
            )
            raise GradcheckError(
                f"the step {step:.3g} is too small for {spec.label} ({value.dtype.name}): "
                f"x + step and x - step round to the same number at element {index}. {remedy}"
            )
        bases.append(base)
        pluses.append(plus)
        minuses.append(minus)
    return np.concatenate(bases), np.concatenate(pluses), np.concatenate(minuses)


CHUNK_BYTES = 1 << 19
"""About how many bytes of perturbed inputs one batch holds (512 KiB: it stays in cache)."""

MAX_BATCH = 256
"""The most perturbations evaluated in one batch."""

WORTH_BATCHING = 1024
"""In the compiled loop, fewer elements than this are moved one at a time:
batching them (tracing ``tf.vectorized_map``) costs more than it saves, about
0.1 s against some 50 µs per evaluation."""


def batch_size(total_size: int) -> int:
    """How many perturbations to evaluate per batch for inputs of ``total_size`` elements.

    1 (one at a time) below :data:`WORTH_BATCHING` elements. Otherwise each
    perturbation is a full copy of the inputs, so the batch holds
    ``batch × total_size`` values; keeping that near :data:`CHUNK_BYTES`
    keeps the batch in cache, where the batched matrix products run fastest.
    """
    if total_size < WORTH_BATCHING:
        return 1
    return int(min(MAX_BATCH, max(4, CHUNK_BYTES // (8 * max(1, total_size)))))


def _batched_differences(
    objective: Callable[..., Any],
    specs: Sequence[InputSpec],
    dtypes: Sequence[str],
    batch: int,
) -> Callable[..., Any]:
    """A function of (flat inputs, perturbed values) giving ``f`` at every perturbation.

    ``perturbed`` holds 2N values: element ``j`` (counted over all inputs)
    at ``x + h`` (index ``2j``) and at ``x - h`` (index ``2j + 1``). A
    ``tf.while_loop`` takes them ``batch`` at a time: each input is copied
    ``batch`` times, each copy gets its perturbed value written in, and ``f``
    runs on the whole batch at once with ``tf.vectorized_map``, which turns
    its operations into batched ones (a matrix product becomes one product
    with ``batch`` times as many columns). Per-operation overhead is paid
    once per batch instead of once per evaluation.
    """
    sizes = [spec.size for spec in specs]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    total = 2 * sum(sizes)
    chunks = -(-total // batch)
    rows = tf.range(batch)

    def evaluate(*flats: Any) -> Any:
        inputs = [
            tf.cast(tf.reshape(flat, spec.shape), dtype)
            for flat, spec, dtype in zip(flats, specs, dtypes, strict=True)
        ]
        return tf.reshape(tf.cast(objective(*inputs), tf.float64), [])

    def perturbed_copies(flats: Sequence[Any], perturbed: Any, first: Any) -> list[Any]:
        which = tf.minimum(first + rows, total - 1)  # the last batch repeats the last value
        element = which // 2
        values = tf.gather(perturbed, which)
        copies = []
        for flat, offset, size in zip(flats, offsets, sizes, strict=True):
            local = element - offset
            inside = (local >= 0) & (local < size)
            local = tf.clip_by_value(local, 0, size - 1)
            update = tf.where(inside, values, tf.gather(flat, local))
            tiled = tf.tile(flat[tf.newaxis], [batch, 1])
            where = tf.stack([rows, local], axis=1)
            copies.append(tf.tensor_scatter_nd_update(tiled, where, update))
        return copies

    def run(flat: Any, perturbed: Any) -> Any:
        flats = tf.split(flat, sizes) if len(sizes) > 1 else [flat]

        def body(chunk: Any, results: Any) -> tuple[Any, Any]:
            copies = perturbed_copies(flats, perturbed, chunk * batch)
            values = tf.vectorized_map(lambda args: evaluate(*args), tuple(copies))
            return chunk + 1, results.write(chunk, values)

        _, results = tf.while_loop(
            lambda chunk, _: chunk < chunks,
            body,
            (tf.constant(0), tf.TensorArray(tf.float64, chunks, element_shape=[batch])),
        )
        return tf.reshape(results.stack(), [-1])[:total]

    return run


def _difference_loop(
    objective: Callable[..., Any], specs: Sequence[InputSpec], dtypes: Sequence[str]
) -> Callable[[Any, Any], Any]:
    """Like :func:`_batched_differences`, one evaluation per loop step (no batching).

    The fallback for an ``f`` that ``tf.vectorized_map`` cannot batch.
    """
    sizes = [spec.size for spec in specs]
    total = 2 * sum(sizes)

    def evaluate(buffer: Any) -> Any:
        pieces = tf.split(buffer, sizes) if len(sizes) > 1 else [buffer]
        inputs = [
            tf.cast(tf.reshape(piece, spec.shape), dtype)
            for piece, spec, dtype in zip(pieces, specs, dtypes, strict=True)
        ]
        return tf.reshape(tf.cast(objective(*inputs), tf.float64), [])

    def run(flat: Any, perturbed: Any) -> Any:
        def body(k: Any, values: Any) -> tuple[Any, Any]:
            where = tf.reshape(k // 2, [1, 1])
            buffer = tf.tensor_scatter_nd_update(flat, where, tf.reshape(perturbed[k], [1]))
            return k + 1, values.write(k, evaluate(buffer))

        _, values = tf.while_loop(
            lambda k, _: k < total,
            body,
            (tf.constant(0), tf.TensorArray(tf.float64, total)),
        )
        return values.stack()

    return run


def _run_compiled(run: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Trace ``run`` once with ``tf.function`` and call it.

    AutoGraph is off (it makes the first trace several times slower) unless
    ``f`` needs it: Python ``if``/``while`` on tensor values. (XLA is not
    used: compiling ``f`` with it costs about as much as it saves.)
    """
    try:
        return tf.function(run, autograph=False)(*args)
    except tf.errors.OperatorNotAllowedInGraphError:
        return tf.function(run, autograph=True)(*args)


def _evaluate_perturbations(
    objective: Callable[..., Any],
    specs: Sequence[InputSpec],
    dtypes: Sequence[str],
    args: tuple[Any, ...],
    batch: int,
) -> tuple[Any, int]:
    """``f`` at every perturbation, and the batch size used (1 if ``f`` cannot be batched)."""
    if batch > 1:
        try:
            run = _batched_differences(objective, specs, dtypes, batch)
            return _run_compiled(run, args), batch
        except Exception:  # f runs, but not batched: evaluate one at a time
            pass
    return _run_compiled(_difference_loop(objective, specs, dtypes), args), 1


def central_differences(
    objective: Callable[..., Any],
    values: Sequence[Any],
    specs: Sequence[InputSpec],
    step: float,
    batch: int | None = None,
    *,
    replay: bool = True,
) -> CentralDifferences:
    """The numerical gradient of ``objective`` with respect to every element of ``values``.

    No Python work per element: each input's 2N evaluations run in batches.
    By default (``replay``) only the operations of ``f`` downstream of the
    input run, eagerly, on a batch of perturbations, each kept as the one
    column it changes for as long as the operations allow (see
    :mod:`gradlab.gradcheck.replayed`). Inputs that cannot be replayed (an
    operation without a batched rule), or all of them with ``replay=False``,
    run in one compiled loop, ``batch`` perturbations at a time (default: see
    :func:`batch_size`; ``1`` evaluates them one by one).
    """
    # The checker traces new functions and falls back from vectorizing on purpose:
    # TensorFlow's warnings about both are meant for its own users, not for a check.
    with tensorflow_warnings_hidden():
        return _central_differences(objective, values, specs, step, batch, replay)


def _central_differences(
    objective: Callable[..., Any],
    values: Sequence[Any],
    specs: Sequence[InputSpec],
    step: float,
    batch: int | None,
    replay: bool,
) -> CentralDifferences:
    """Replay the inputs that can be replayed, and move the others in a compiled loop."""
    dtypes = [value.dtype.name for value in values]
    flat, plus, minus = perturbed_elements(values, specs, step)
    bounds = np.cumsum([0] + [spec.size for spec in specs])
    at = np.empty((flat.size, 2))
    pairs = np.stack([plus, minus], axis=1)  # row j: element j at x + h, at x - h
    replayed = (
        _replay_inputs(objective, values, specs, dtypes, flat, pairs.ravel(), bounds)
        if replay
        else {}
    )
    for position, values_of_f in replayed.items():
        at[bounds[position] : bounds[position + 1]] = values_of_f
    used_batch = 0
    rest = [i for i in range(len(specs)) if i not in replayed]
    if rest:
        pick = np.concatenate([np.arange(bounds[i], bounds[i + 1]) for i in rest])
        at[pick], used_batch = _move_directly(
            objective, values, specs, dtypes, rest, flat[pick], pairs[pick].ravel(), batch
        )
    derivatives = (at[:, 0] - at[:, 1]) / (plus - minus)
    return CentralDifferences(split_like(derivatives, specs), at.size, used_batch, tuple(replayed))


def _replay_inputs(
    objective: Callable[..., Any],
    values: Sequence[Any],
    specs: Sequence[InputSpec],
    dtypes: Sequence[str],
    flat: np.ndarray,
    perturbed: np.ndarray,
    bounds: np.ndarray,
) -> dict[int, np.ndarray]:
    """``f`` at the perturbations of every input that can be replayed, by position."""
    try:
        traced = TracedObjective(objective, specs, dtypes)
        plans = plan_inputs(traced, range(len(specs)))
        fixed = fixed_values(traced, list(plans.values()), values)
    except Exception:  # f cannot be traced or run this way: every input is compiled instead
        return {}
    results = {}
    for position, plan in plans.items():
        part = slice(bounds[position], bounds[position + 1])
        twice = slice(2 * bounds[position], 2 * bounds[position + 1])
        try:
            values_of_f = replayed_values(
                plan, fixed, values[position], flat[part], perturbed[twice]
            )
        except Exception:  # anything unexpected: this input is compiled instead
            continue
        results[position] = values_of_f
    return results


def _move_directly(
    objective: Callable[..., Any],
    values: Sequence[Any],
    specs: Sequence[InputSpec],
    dtypes: Sequence[str],
    positions: list[int],
    flat: np.ndarray,
    perturbed: np.ndarray,
    batch: int | None,
) -> tuple[np.ndarray, int]:
    """``f`` at ``x ± h`` for every element of the inputs at ``positions``, as (n, 2).

    ``flat`` holds those n elements, ``perturbed`` their 2n perturbed values
    (``x + h`` and ``x - h`` of element ``j`` at ``2j`` and ``2j + 1``).
    """
    if batch is None:
        batch = min(batch_size(flat.size), 2 * flat.size)
    sub_objective = _holding_others_fixed(objective, values, positions)
    args = (tf.constant(flat, tf.float64), tf.constant(perturbed, tf.float64))
    try:
        result, used = _evaluate_perturbations(
            sub_objective,
            [specs[i] for i in positions],
            [dtypes[i] for i in positions],
            args,
            batch,
        )
    except GradcheckError:
        raise
    except Exception as error:
        raise GradcheckError(
            "the full check compiles f with tf.function, and that failed "
            f"({type(error).__name__}: {error}). Write f with TensorFlow operations "
            "only (no .numpy(), no NumPy on tensors), or use mode='fast', which runs "
            "f eagerly."
        ) from error
    return as_float64(result).reshape(-1, 2), used


def _holding_others_fixed(
    objective: Callable[..., Any], values: Sequence[Any], positions: Sequence[int]
) -> Callable[..., Any]:
    """``objective`` of the inputs at ``positions`` only, the others held at ``values``."""
    if list(positions) == list(range(len(values))):
        return objective

    def of_some(*chosen: Any) -> Any:
        inputs = list(values)
        for position, value in zip(positions, chosen, strict=True):
            inputs[position] = value
        return objective(*inputs)

    return of_some


def split_like(flat: np.ndarray, specs: Sequence[InputSpec]) -> list[np.ndarray]:
    """Cut a flat array into one array per input, each in that input's shape."""
    bounds = np.cumsum([spec.size for spec in specs])[:-1]
    return [
        piece.reshape(spec.shape)
        for piece, spec in zip(np.split(flat, bounds), specs, strict=True)
    ]


def random_unit_directions(
    specs: Sequence[InputSpec], count: int, seed: int
) -> list[list[np.ndarray]]:
    """``count`` random directions, each a list holding one unit-norm array per input."""
    rng = np.random.default_rng([seed, 2])
    directions = []
    for _ in range(count):
        per_input = []
        for spec in specs:
            direction = rng.standard_normal(spec.shape)
            per_input.append(direction / np.linalg.norm(direction))
        directions.append(per_input)
    return directions


def displaced_pair(
    base: np.ndarray, offset: np.ndarray, dtype: Any
) -> tuple[Any, Any, np.ndarray]:
    """``base ± offset`` as tensors of ``dtype``, and their difference as stored.

    In float64 the arithmetic stays in NumPy (no extra TensorFlow ops): the
    fast check spends most of its time on small eager calls.
    """
    up, down = base + offset, base - offset
    if dtype == tf.float64:
        return tf.constant(up), tf.constant(down), up - down
    up_tensor = tf.cast(tf.constant(up), dtype)
    down_tensor = tf.cast(tf.constant(down), dtype)
    return up_tensor, down_tensor, as_float64(up_tensor) - as_float64(down_tensor)


def directional_differences(
    objective: Callable[..., Any],
    values: Sequence[Any],
    gradients: Sequence[np.ndarray],
    directions: Sequence[Sequence[np.ndarray | None]],
    step: float,
) -> DirectionalDifferences:
    """Numerical and analytical derivatives of ``objective`` along each direction.

    Each direction holds one array per input (``None`` leaves that input
    alone). Runs ``f`` eagerly, twice per direction. The analytical value is
    ``gradient · (x⁺ - x⁻) / (2h)`` with the perturbed inputs as stored, so
    both sides see exactly the same displacement.
    """
    bases = [as_float64(value) for value in values]
    numerical, analytical = [], []
    for direction in directions:
        ups, downs, slope = list(values), list(values), 0.0
        for position, unit in enumerate(direction):
            if unit is None:
                continue
            dtype = values[position].dtype
            up, down, displacement = displaced_pair(bases[position], step * unit, dtype)
            slope += float(np.vdot(gradients[position], displacement))
            ups[position], downs[position] = up, down
        rise = scalar_value(objective(*ups)) - scalar_value(objective(*downs))
        numerical.append(rise / (2 * step))
        analytical.append(slope / (2 * step))
    return DirectionalDifferences(np.array(numerical), np.array(analytical), 2 * len(directions))
