"""The two entry points: :func:`check_gradients` and :func:`numerical_gradient`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gradlab.gradcheck.compare import (
    GradientTolerance,
    absolute_errors,
    default_tolerance,
    relative_errors,
)
from gradlab.gradcheck.differences import (
    EPSILON,
    CentralDifferences,
    DirectionalDifferences,
    as_float64,
    central_differences,
    default_step,
    directional_differences,
    random_unit_directions,
    refuse_unusable_step,
    scalar_value,
)
from gradlab.gradcheck.errors import GradcheckError, GradientShapeError, IndependentInputError
from gradlab.gradcheck.problem import InputSpec, Problem, prepare, warn_about_precision
from gradlab.gradcheck.progress import DEFAULT_MAX_SECONDS
from gradlab.gradcheck.report import (
    GradcheckReport,
    InputReport,
    summarize_input,
    unmeasured_input,
)
from gradlab.tfsupport.lazy import tf

Mode = Literal["full", "fast"]


def numerical_gradient(
    f: Callable[..., Any],
    xs: Any,
    delta: float | None = None,
    *,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
) -> Any:
    """The gradient of ``f`` by central differences, for every element of every input.

    Args:
        f: a function of TensorFlow tensors. It is called as ``f(*xs)`` when
            ``xs`` is a list or tuple, ``f(**xs)`` when it is a dict, and
            ``f(xs)`` otherwise. If it returns a non-scalar tensor, the
            gradient is that of the sum of its elements, as
            ``tape.gradient`` gives.
        xs: the inputs (tensors, arrays, numbers or variables; variables are
            read once, their values are never changed).
        delta: the finite-difference step. Default: the cube root of machine
            epsilon of the precision ``f`` runs in (6.1e-06 in float64).
        max_seconds: the time budget (default 60 s; ``None`` for none), as
            for :func:`check_gradients` with ``mode="full"``.

    Returns:
        float64 NumPy arrays, one per input in the input's shape, arranged
        like ``xs`` (one array, a list, or a dict).

    Inputs are promoted to float64 when ``f`` accepts that (a
    :class:`~gradlab.gradcheck.PrecisionWarning` says when it does not). ``f``
    is traced once and its 2N evaluations run in batches: for each input, only
    the operations downstream of it run, eagerly, on a batch of perturbations
    (``f`` with operations the checker has no batched rule for is compiled
    with ``tf.function`` and run in a ``tf.while_loop`` instead).

    Raises:
        GradcheckDtypeError: an input is not a real floating-point tensor.
        NonFiniteError: an input, or ``f`` at the inputs, is NaN or infinite.
        NondeterministicError: ``f`` gives different values at the same point.
        BudgetError: the evaluations would take longer than ``max_seconds``.
        GradcheckError: ``delta`` is unusable, or ``f`` cannot be compiled.
    """
    _check_budget(max_seconds)
    problem = prepare(f, xs, reduction="sum", with_gradients=False)
    warn_about_precision(problem)
    step = _step(delta, problem)
    result = central_differences(
        problem.objective, problem.values, problem.specs, step, max_seconds=max_seconds
    )
    return problem.structure.rebuild(result.gradients)


def check_gradients(
    f: Callable[..., Any],
    xs: Any,
    *,
    mode: Mode = "full",
    delta: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    directions: int = 3,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
) -> GradcheckReport:
    """Compare the gradient TensorFlow computes for ``f`` with finite differences.

    Args:
        f: a function of TensorFlow tensors, called as ``f(*xs)`` (``xs`` a
            list or tuple), ``f(**xs)`` (a dict) or ``f(xs)``. It must compute
            from its arguments: to check a Keras model, pass its weights in
            and call ``model.stateless_call(weights, non_trainable, x)``. A
            non-scalar output is turned into the scalar ``sum(w * f(...))``
            with fixed random weights ``w``: a random projection of the
            Jacobian, which also catches a custom gradient that ignores the
            upstream gradient.
        xs: the inputs to differentiate with respect to.
        mode: ``"full"`` compares every element of every input (2N
            evaluations of ``f``, in batches: see :func:`numerical_gradient`);
            ``"fast"`` compares
            derivatives along ``directions`` random unit directions (2 eager
            evaluations per direction and one backward pass, whatever the
            size) and, on failure, re-checks each input alone to say which
            one is wrong.
        delta: finite-difference step; default the cube root of machine
            epsilon of the precision ``f`` runs in (6.1e-06 in float64).
        rtol: relative tolerance; default 1e-5 in float64 (1e-3 in float32).
        atol: absolute tolerance; default ``1e-8 * max(1, |f(x)|)`` in
            float64 (``1e-4 * ...`` in float32).
        seed: seeds the random directions and projection weights.
        directions: how many random directions ``"fast"`` uses.
        max_seconds: the time budget of a full check (default 60 s; ``None``
            for none). Its time can grow like N² (each of the 2N evaluations
            costs more as ``f`` grows: on an MLP evaluated without the
            replay, 10k elements take 2.7 s and 1M would take hours), so
            before the bulk of the work it times a trial of the first
            batches of each evaluator, projects the total, and raises
            :class:`~gradlab.gradcheck.BudgetError` (suggesting
            ``mode="fast"`` or a subset) if it is over budget. A check that
            runs longer than 5 s prints its progress to stderr every 5 s.

    Returns:
        A :class:`~gradlab.gradcheck.GradcheckReport`: ``.ok``,
        ``.max_abs_error``, ``.max_rel_error``, the worst value of each input,
        and a readable ``str()``.

    Inputs are promoted to float64 when ``f`` accepts that; otherwise a
    :class:`~gradlab.gradcheck.PrecisionWarning` says so and the tolerances
    follow the lower precision.

    Raises:
        GradcheckDtypeError: an input is not a real floating-point tensor.
        NonFiniteError: an input, or ``f`` at the inputs, is NaN or infinite.
        IndependentInputError: ``f`` does not change when an input changes
            (both gradients would be zero: the closure pitfall).
        NondeterministicError: ``f`` gives different values at the same
            point (``tf.random`` inside it): no verdict would mean anything.
            The message names the random operations in ``f``'s graph, and so
            the Keras layer they run in. (A Keras layer with a seed, such as
            ``Dropout(rate, seed=1)``, called through ``model.stateless_call``
            with fixed non-trainable values, is deterministic and checked.)
        BudgetError: a full check would take longer than ``max_seconds``.
        GradcheckError: TensorFlow finds no gradient path to an input that
            ``f`` does depend on, ``f`` cannot be compiled, or ``delta``,
            ``rtol`` or ``atol`` is unusable (NaN, negative, or a step so
            large that ``x ± delta`` is infinite or keeps nothing of ``x``).
    """
    if mode not in ("full", "fast"):
        raise ValueError(f"mode must be 'full' or 'fast', not {mode!r}")
    if mode == "fast" and (not isinstance(directions, int) or directions < 1):
        raise ValueError(f"directions must be a positive integer, not {directions!r}")
    _check_budget(max_seconds)
    started = time.perf_counter()
    problem = prepare(f, xs, reduction="random", seed=seed, with_gradients=True)
    gradients = analytical_gradients(problem, seed)
    warn_about_precision(problem)
    step = _step(delta, problem)
    tolerance = default_tolerance(problem.precision, problem.value, rtol, atol)
    if mode == "full":
        outcome = _check_every_element(problem, gradients, step, tolerance, max_seconds)
    else:
        outcome = _check_directions(problem, gradients, step, tolerance, directions, seed)
    return GradcheckReport(
        ok=outcome.ok,
        mode=mode,
        max_abs_error=outcome.max_abs_error,
        max_rel_error=outcome.max_rel_error,
        inputs=outcome.inputs,
        function=problem.function_name,
        output=problem.output_description,
        precision=problem.precision,
        step=step,
        rtol=tolerance.rtol,
        atol=tolerance.atol,
        compared=outcome.compared,
        values_compared=outcome.values_compared,
        values_failed=outcome.values_failed,
        cost=outcome.cost,
        projected=problem.projected,
        seconds=time.perf_counter() - started,
        notes=problem.notes + outcome.notes,
    )


def _step(delta: float | None, problem: Problem) -> float:
    if delta is None:
        return default_step(problem.precision)
    if isinstance(delta, bool) or not (
        isinstance(delta, (int, float)) and math.isfinite(delta) and delta > 0
    ):
        raise GradcheckError(f"delta must be a positive finite number, not {delta!r}")
    refuse_unusable_step(problem.values, problem.specs, float(delta))
    return float(delta)


def _check_budget(max_seconds: float | None) -> None:
    if max_seconds is None:
        return
    number = isinstance(max_seconds, (int, float)) and not isinstance(max_seconds, bool)
    if not number or not max_seconds > 0:
        raise GradcheckError(
            f"max_seconds must be a positive number of seconds or None, not {max_seconds!r}"
        )


def analytical_gradients(problem: Problem, seed: int) -> list[np.ndarray]:
    """The tape's gradient of each input as float64 arrays, refusing inputs ``f`` ignores.

    An input whose gradient is ``None`` or exactly zero is moved a little at
    random: if ``f`` stays exactly the same, a check would compare zero with
    zero and "pass", so :class:`IndependentInputError` is raised instead.
    """
    assert problem.gradients is not None
    arrays = []
    for spec, gradient in zip(problem.specs, problem.gradients, strict=True):
        if gradient is None or not np.any(as_float64(gradient)):
            changes = _f_changes_when_moved(problem, spec.position, seed)
            if not changes:
                raise IndependentInputError(_independent_message(spec, gradient is None))
            if gradient is None:
                raise GradcheckError(_no_gradient_path_message(spec))
        array = as_float64(gradient)
        if array.shape != tuple(spec.shape):
            raise GradientShapeError(_wrong_shape_message(spec, array.shape))
        arrays.append(array)
    return arrays


def _wrong_shape_message(spec: InputSpec, shape: tuple[int, ...]) -> str:
    return (
        f"the tape's gradient for {spec.label} has shape {_shape(shape)}, but the input has "
        f"shape {_shape(spec.shape)}: a gradient must have its input's shape. TensorFlow's "
        "own gradients always do, so look for a custom gradient (tf.custom_gradient's "
        "grad_fn, a registered gradient) that returns a reduced, broadcast or transposed value."
    )


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _f_changes_when_moved(problem: Problem, position: int, seed: int) -> bool:
    """Whether the objective changes at all when one input is moved a little at random.

    The move is tried in both directions: at a kink (relu of exactly 0) f can
    be flat on one side only.
    """
    value = problem.values[position]
    base = as_float64(value)
    scale = max(1e-3, 16 * EPSILON[value.dtype.name])
    noise = np.random.default_rng([seed, 3, position]).standard_normal(base.shape)
    for sign in (1, -1):
        moved = base + sign * scale * (1 + np.abs(base)) * noise
        values = list(problem.values)
        values[position] = tf.cast(tf.constant(moved), value.dtype)
        if scalar_value(problem.objective(*values)) != problem.value:
            return True
    return False


def _independent_message(spec: InputSpec, gradient_is_none: bool) -> str:
    gradient = "None" if gradient_is_none else "exactly zero"
    return (
        f"f does not depend on {spec.label}: moving it leaves f unchanged and its gradient "
        f"is {gradient}, so a check would compare zero with zero and pass. Did f read the "
        "weights from a closure (model(x), a tf.Variable, a global) instead of its "
        "arguments? Compute from the arguments you pass in, e.g. "
        "model.stateless_call(weights, model.non_trainable_variables, x)."
    )


def _no_gradient_path_message(spec: InputSpec) -> str:
    return (
        f"TensorFlow finds no gradient for {spec.label} (tape.gradient gives None), yet f "
        "changes when it changes: part of f runs outside TensorFlow's tape (NumPy, "
        ".numpy(), float(), a cast to an integer) or behind tf.stop_gradient."
    )


@dataclass
class _Outcome:
    """What one mode found, before it is dressed as a report."""

    inputs: tuple[InputReport, ...]
    ok: bool
    max_abs_error: float
    max_rel_error: float
    compared: str
    values_compared: int
    values_failed: int
    cost: str
    notes: tuple[str, ...] = ()


def _check_every_element(
    problem: Problem,
    gradients: list[np.ndarray],
    step: float,
    tolerance: GradientTolerance,
    max_seconds: float | None,
) -> _Outcome:
    result = central_differences(
        problem.objective, problem.values, problem.specs, step, max_seconds=max_seconds
    )
    inputs = tuple(
        summarize_input(spec, dtype, numerical, analytical, tolerance, per_element=True)
        for spec, dtype, numerical, analytical in zip(
            problem.specs, problem.run_dtypes, result.gradients, gradients, strict=True
        )
    )
    total = problem.total_size
    count = len(problem.specs)
    compared = (
        f"every element of {count} input{'s' if count > 1 else ''} ({total:,} values): "
        "tf.GradientTape against central differences"
    )
    cost = f"{result.evaluations:,} evaluations of f; {_how_batched(result, problem)}"
    return _Outcome(
        inputs=inputs,
        ok=all(item.ok for item in inputs),
        max_abs_error=max(item.max_abs_error for item in inputs),
        max_rel_error=max(item.max_rel_error for item in inputs),
        compared=compared,
        values_compared=total,
        values_failed=sum(item.failures for item in inputs),
        cost=cost,
    )


def _how_batched(result: CentralDifferences, problem: Problem) -> str:
    """Say which evaluator ran for each input (replayed or compiled) and, if compiled, why."""

    def labels(positions: list[int]) -> str:
        return ", ".join(problem.specs[i].label for i in positions)

    replayed = list(result.replayed)
    parts = []
    if replayed:
        parts.append(
            f"{labels(replayed)}: only the operations downstream of "
            f"{'it' if len(replayed) == 1 else 'each'}, batched, each perturbation kept to "
            "the column it changes while it stays there"
        )
    how = f"in batches of {result.batch}" if result.batch > 1 else "one at a time"
    by_reason: dict[str, list[int]] = {}
    for position, reason in sorted(result.not_replayed.items()):
        by_reason.setdefault(reason, []).append(position)
    for reason, positions in by_reason.items():
        parts.append(f"{labels(positions)}: compiled, {how} (not replayed: {reason})")
    return "; ".join(parts) + "; and 1 gradient"


def _check_directions(
    problem: Problem,
    gradients: list[np.ndarray],
    step: float,
    tolerance: GradientTolerance,
    count: int,
    seed: int,
) -> _Outcome:
    """Compare derivatives along random directions; on failure, check each input alone."""
    units = random_unit_directions(problem.specs, count, seed)
    several = len(problem.specs) > 1
    share = 1 / math.sqrt(len(problem.specs))
    together = [[unit * share for unit in direction] for direction in units]
    joint = directional_differences(problem.objective, problem.values, gradients, together, step)
    joint_failures = int(np.sum(~(tolerance.excess(joint.numerical, joint.analytical) <= 1)))
    evaluations = joint.evaluations
    notes: tuple[str, ...] = ()
    if not several:
        spec, dtype = problem.specs[0], problem.run_dtypes[0]
        inputs = (_summarize_directions(spec, dtype, joint, tolerance),)
    elif joint_failures == 0:
        inputs = tuple(
            unmeasured_input(spec, dtype)
            for spec, dtype in zip(problem.specs, problem.run_dtypes, strict=True)
        )
    else:
        inputs, extra = _check_each_input_alone(problem, gradients, units, step, tolerance)
        evaluations += extra
        if all(item.ok for item in inputs):
            notes = (
                "the check with all inputs perturbed together failed, but each input passes "
                "alone: the disagreement is close to the tolerance",
            )
    rechecked = several and joint_failures > 0
    measured = [item for item in inputs if item.compared]
    relative = relative_errors(joint.numerical, joint.analytical, floor=tolerance.atol)
    return _Outcome(
        inputs=inputs,
        ok=joint_failures == 0 and all(item.ok for item in inputs),
        max_abs_error=max(
            [float(absolute_errors(joint.numerical, joint.analytical).max())]
            + [item.max_abs_error for item in measured]
        ),
        max_rel_error=max([float(relative.max())] + [item.max_rel_error for item in measured]),
        compared=_directions_compared(count, several, rechecked),
        values_compared=count + (count * len(problem.specs) if rechecked else 0),
        values_failed=(joint_failures if several else 0) + sum(item.failures for item in inputs),
        cost=f"{evaluations:,} evaluations of f (eager) and 1 gradient",
        notes=notes,
    )


def _summarize_directions(
    spec: InputSpec, dtype: str, result: DirectionalDifferences, tolerance: GradientTolerance
) -> InputReport:
    return summarize_input(
        spec, dtype, result.numerical, result.analytical, tolerance, per_element=False
    )


def _check_each_input_alone(
    problem: Problem,
    gradients: list[np.ndarray],
    units: list[list[np.ndarray]],
    step: float,
    tolerance: GradientTolerance,
) -> tuple[tuple[InputReport, ...], int]:
    """Re-check every input along its own part of each direction, the others held still."""
    inputs, evaluations = [], 0
    for spec, dtype in zip(problem.specs, problem.run_dtypes, strict=True):
        only = [
            [unit if j == spec.position else None for j, unit in enumerate(direction)]
            for direction in units
        ]
        result = directional_differences(problem.objective, problem.values, gradients, only, step)
        evaluations += result.evaluations
        inputs.append(_summarize_directions(spec, dtype, result, tolerance))
    return tuple(inputs), evaluations


def _directions_compared(count: int, several: bool, rechecked: bool) -> str:
    how = ""
    if rechecked:
        how = ", all inputs perturbed together, then each input alone"
    elif several:
        how = ", all inputs perturbed together"
    plural = "s" if count > 1 else ""
    return (
        f"derivatives along {count} random unit direction{plural}{how}: "
        "tf.GradientTape against central differences"
    )
