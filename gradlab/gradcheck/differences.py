"""Finite differences: for every element (replayed in batches) and along directions (eager).

Every numerical derivative here is a central difference
``(f(x + h) - f(x - h)) / (2h)`` where, to keep rounding out of the step, the
divisor is the difference of the two perturbed inputs *as they were stored*,
not the nominal ``2h``.

For every element, each input is first offered to the accelerator
(:mod:`gradlab.gradcheck._replay`), which replays only the part of ``f``
downstream of the input; an input it cannot take (it raises ``Unsupported``,
with the reason) runs in a compiled loop instead, and the report says which
evaluator ran for each input and why. The environment variable
:data:`REPLAY_VARIABLE` (``GRADLAB_REPLAY``) chooses how:

- ``on`` (the default): replay what can be replayed; if the replay fails in a
  way it did not foresee (a bug in a batched rule), fall back to the compiled
  loop and say so in the report;
- ``strict``: the same, but an unforeseen failure is raised (the test suite
  runs this way, so a bug in a rule fails a test instead of slowing checks);
- ``off``: never replay (to measure what the accelerator is worth).
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradlab.gradcheck._replay import Replay, Unsupported
from gradlab.gradcheck.errors import GradcheckError
from gradlab.gradcheck.problem import EPSILON, InputSpec
from gradlab.gradcheck.progress import Progress
from gradlab.tfsupport.lazy import tf
from gradlab.tfsupport.quiet import tensorflow_warnings_hidden


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
    not_replayed: dict[int, str] = field(default_factory=dict)
    """Why each of the other inputs was not replayed, by position."""


@dataclass
class DirectionalDifferences:
    """Numerical and analytical derivatives along some directions."""

    numerical: np.ndarray
    analytical: np.ndarray
    evaluations: int


def refuse_unusable_step(values: Sequence[Any], specs: Sequence[InputSpec], step: float) -> None:
    """Raise if ``x ± step`` is not finite, or keeps nothing of ``x``, for some element.

    Both make every difference meaningless (``f`` at infinity, or at ``±step``
    whatever ``x`` is), so the check would report a failure that says nothing
    about the gradient.
    """
    for value, spec in zip(values, specs, strict=True):
        base = as_float64(value).ravel()
        with np.errstate(over="ignore", invalid="ignore"):
            plus, minus = stored(base + step, value.dtype), stored(base - step, value.dtype)
        problem = None
        bad = np.flatnonzero(~(np.isfinite(plus) & np.isfinite(minus)))
        if bad.size:
            problem = f"is not finite in {value.dtype.name}"
        else:
            far = stored(np.array([step]), value.dtype)[0]
            bad = np.flatnonzero((base != 0) & (plus == far) & (minus == -far))
            if bad.size:
                problem = "rounds to ±delta: nothing of x is left in it"
        if problem is not None:
            flat = int(bad[0])
            index = [int(i) for i in np.unravel_index(flat, spec.shape)]
            raise GradcheckError(
                f"delta={step:g} is too large for {spec.label}: at element {index} "
                f"(x = {base[flat]:g}), x ± delta {problem}. A finite difference needs a "
                "step that is small next to x: leave delta=None for the default "
                f"({default_step(value.dtype.name):.2g} here), or a value "
                "like 1e-6 * |x|."
            )


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


REPLAY_VARIABLE = "GRADLAB_REPLAY"
"""The environment variable that sets the accelerator: ``on`` (default), ``strict`` or ``off``."""

REPLAY_SETTINGS = ("on", "strict", "off")


def replay_setting() -> str:
    """The accelerator's setting, from :data:`REPLAY_VARIABLE` (``on`` when unset)."""
    setting = os.environ.get(REPLAY_VARIABLE, "on").strip().lower() or "on"
    if setting not in REPLAY_SETTINGS:
        raise GradcheckError(
            f"{REPLAY_VARIABLE}={setting!r} is not one of {', '.join(REPLAY_SETTINGS)}"
        )
    return setting


COMPILED_BATCH_BYTES = 1 << 19
"""About how many bytes of perturbed inputs one compiled batch holds (512 KiB).

Each perturbation of the compiled loop is a full copy of the inputs; keeping a
batch of them in cache is where the batched products run fastest. (The
replay's bound, ``_replay.batches.REPLAY_BATCH_BYTES``, is 64 times larger: it
bounds memory, since a replayed perturbation is one column, not a copy.)"""

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
    ``batch × total_size`` values; keeping that near :data:`COMPILED_BATCH_BYTES`
    keeps the batch in cache, where the batched matrix products run fastest.
    """
    if total_size < WORTH_BATCHING:
        return 1
    return int(min(MAX_BATCH, max(4, COMPILED_BATCH_BYTES // (8 * max(1, total_size)))))


SEGMENT_BATCHES = 64
"""Compiled batches per call of the compiled loop: between calls, progress is counted."""

LOOP_SEGMENT = 512
"""Evaluations per call of the one-at-a-time compiled loop."""


def _segment_length(batch: int, total: int) -> int:
    """How many perturbations one call of the compiled loop evaluates (even, ≤ ``total``)."""
    wanted = batch * SEGMENT_BATCHES if batch > 1 else LOOP_SEGMENT
    return min(total, wanted + wanted % 2)


def _of_flat_pieces(
    objective: Callable[..., Any], specs: Sequence[InputSpec], dtypes: Sequence[str]
) -> Callable[[Sequence[Any]], Any]:
    """``objective`` as a function of the inputs' flat pieces, giving a float64 scalar."""

    def evaluate(flats: Sequence[Any]) -> Any:
        inputs = [
            tf.cast(tf.reshape(flat, spec.shape), dtype)
            for flat, spec, dtype in zip(flats, specs, dtypes, strict=True)
        ]
        return tf.reshape(tf.cast(objective(*inputs), tf.float64), [])

    return evaluate


def _batched_differences(
    objective: Callable[..., Any],
    specs: Sequence[InputSpec],
    dtypes: Sequence[str],
    batch: int,
) -> Callable[..., Any]:
    """A function of (flat inputs, some perturbed values, where they start) giving ``f`` at each.

    The perturbed values are a run of the 2N: value ``k`` of the whole
    sequence is element ``k // 2`` (counted over all inputs) at ``x + h``
    (``k`` even) or ``x - h`` (``k`` odd), and the run starts at ``first``. A
    ``tf.while_loop`` takes them ``batch`` at a time: each input is copied
    ``batch`` times, each copy gets its perturbed value written in, and ``f``
    runs on the whole batch at once with ``tf.vectorized_map``, which turns
    its operations into batched ones (a matrix product becomes one product
    with ``batch`` times as many columns). Per-operation overhead is paid
    once per batch instead of once per evaluation.
    """
    sizes = [spec.size for spec in specs]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    rows = tf.range(batch)
    evaluate = _of_flat_pieces(objective, specs, dtypes)

    def perturbed_copies(flats: Sequence[Any], perturbed: Any, first: Any, start: Any) -> list:
        count = tf.shape(perturbed)[0]
        which = tf.minimum(start + rows, count - 1)  # the last batch repeats the last value
        element = (first + which) // 2
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

    def run(flat: Any, perturbed: Any, first: Any) -> Any:
        flats = tf.split(flat, sizes) if len(sizes) > 1 else [flat]
        count = tf.shape(perturbed)[0]
        chunks = (count + batch - 1) // batch

        def body(chunk: Any, results: Any) -> tuple[Any, Any]:
            copies = perturbed_copies(flats, perturbed, first, chunk * batch)
            values = tf.vectorized_map(evaluate, tuple(copies))
            return chunk + 1, results.write(chunk, values)

        _, results = tf.while_loop(
            lambda chunk, _: chunk < chunks,
            body,
            (tf.constant(0), tf.TensorArray(tf.float64, chunks, element_shape=[batch])),
        )
        return tf.reshape(results.stack(), [-1])[:count]

    return run


def _difference_loop(
    objective: Callable[..., Any], specs: Sequence[InputSpec], dtypes: Sequence[str]
) -> Callable[..., Any]:
    """Like :func:`_batched_differences`, one evaluation per loop step (no batching).

    The fallback for an ``f`` that ``tf.vectorized_map`` cannot batch.
    """
    sizes = [spec.size for spec in specs]
    last = sum(sizes) - 1
    evaluate = _of_flat_pieces(objective, specs, dtypes)

    def run(flat: Any, perturbed: Any, first: Any) -> Any:
        count = tf.shape(perturbed)[0]

        def body(k: Any, values: Any) -> tuple[Any, Any]:
            # the padding after the last value re-evaluates the last element
            where = tf.reshape(tf.minimum((first + k) // 2, last), [1, 1])
            buffer = tf.tensor_scatter_nd_update(flat, where, tf.reshape(perturbed[k], [1]))
            pieces = tf.split(buffer, sizes) if len(sizes) > 1 else [buffer]
            return k + 1, values.write(k, evaluate(pieces))

        _, values = tf.while_loop(
            lambda k, _: k < count,
            body,
            (tf.constant(0), tf.TensorArray(tf.float64, count)),
        )
        return values.stack()

    return run


def _compiled(run: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Callable[..., Any], Any]:
    """``run`` traced once with ``tf.function``, and its value at ``args``.

    AutoGraph is off (it makes the first trace several times slower) unless
    ``f`` needs it: Python ``if``/``while`` on tensor values. (XLA is not
    used: compiling ``f`` with it costs about as much as it saves.) Later
    calls with arguments of the same shapes reuse the trace.
    """
    try:
        function = tf.function(run, autograph=False)
        return function, function(*args)
    except tf.errors.OperatorNotAllowedInGraphError:
        function = tf.function(run, autograph=True)
        return function, function(*args)


def _first_segment(
    objective: Callable[..., Any],
    specs: Sequence[InputSpec],
    dtypes: Sequence[str],
    args: tuple[Any, ...],
    batch: int,
) -> tuple[Callable[..., Any], Any, int]:
    """The compiled loop, its values on the first run of perturbations, and its batch size.

    Batched with ``tf.vectorized_map`` when ``batch > 1`` and ``f`` allows it,
    else one evaluation at a time (batch 1).
    """
    if batch > 1:
        try:
            run = _batched_differences(objective, specs, dtypes, batch)
            function, values = _compiled(run, args)
            return function, values, batch
        except Exception:  # f runs, but not batched: evaluate one at a time
            pass
    function, values = _compiled(_difference_loop(objective, specs, dtypes), args)
    return function, values, 1


def _evaluate_perturbations(
    objective: Callable[..., Any],
    specs: Sequence[InputSpec],
    dtypes: Sequence[str],
    flat: np.ndarray,
    perturbed: np.ndarray,
    batch: int,
    done: Done,
) -> tuple[np.ndarray, int]:
    """``f`` at every perturbation (compiled), and the batch size used (1 if not batched).

    The perturbations go through the compiled loop a run at a time (every run
    padded to the same length, so the loop is traced once), and ``done`` is
    told after each run (and may stop the loop there).
    """
    total = perturbed.size
    segment = _segment_length(batch, total)
    flat_tensor = tf.constant(flat, tf.float64)
    results = np.empty(total)
    function = None
    for first in range(0, total, segment):
        piece = perturbed[first : first + segment]
        padded = np.concatenate([piece, np.repeat(piece[-1:], segment - piece.size)])
        args = (flat_tensor, tf.constant(padded, tf.float64), tf.constant(first, tf.int32))
        if function is None:
            function, values, batch = _first_segment(objective, specs, dtypes, args, batch)
        else:
            values = function(*args)
        results[first : first + piece.size] = as_float64(values)[: piece.size]
        if not done(piece.size):
            break
    return results, batch


def central_differences(
    objective: Callable[..., Any],
    values: Sequence[Any],
    specs: Sequence[InputSpec],
    step: float,
    batch: int | None = None,
    *,
    replay: bool | None = None,
    max_seconds: float | None = None,
) -> CentralDifferences:
    """The numerical gradient of ``objective`` with respect to every element of ``values``.

    No Python work per element: each input's 2N evaluations run in batches.
    By default only the operations of ``f`` downstream of the input run,
    eagerly, on a batch of perturbations, each kept as the one column it
    changes for as long as the operations allow (the accelerator,
    :mod:`gradlab.gradcheck._replay`). Inputs that cannot be replayed, or all
    of them with ``replay=False`` (default: as :data:`REPLAY_VARIABLE` says),
    run in one compiled loop, ``batch`` perturbations at a time (default: see
    :func:`batch_size`; ``1`` evaluates them one by one).

    Raises:
        BudgetError: the evaluations would take more than ``max_seconds``
            (judged on a trial of each evaluator's first few batches;
            ``None``: no budget).
    """
    setting = replay_setting()
    if replay is None:
        replay = setting != "off"
    # The checker traces new functions and falls back from vectorizing on purpose:
    # TensorFlow's warnings about both are meant for its own users, not for a check.
    with tensorflow_warnings_hidden():
        return _central_differences(
            objective, values, specs, step, batch, replay, setting, max_seconds
        )


def _central_differences(
    objective: Callable[..., Any],
    values: Sequence[Any],
    specs: Sequence[InputSpec],
    step: float,
    batch: int | None,
    replay: bool,
    setting: str,
    max_seconds: float | None,
) -> CentralDifferences:
    """Replay the inputs that can be replayed, and move the others in a compiled loop.

    With a budget, each evaluator first runs a trial of a few batches (the
    first warms up, the others are timed; a small input is finished by then),
    the time the rest would take is projected from those paces and judged,
    and only then does the rest run.
    """
    check = _FullCheck(objective, values, specs, step, batch, max_seconds)
    if replay:
        check.try_replaying(setting)
    else:
        check.reasons = dict.fromkeys(range(len(specs)), _switched_off(setting))
    compiled = sorted(check.reasons)
    trial = check.try_compiling(compiled) if compiled else None
    if max_seconds is not None:
        left = [item.seconds_left for item in [*check.trials.values(), trial] if item]
        check.progress.judge(sum(left))
    check.finish_replaying(setting)
    late = sorted(set(check.reasons) - set(compiled))  # found only past their trial
    for positions, known in ((compiled, trial), (late, None)):
        if positions:
            check.finish_compiling(positions, known)
    check.progress.finish()
    return check.result()


class _FullCheck:
    """The 2N evaluations of one full check: which evaluator takes each input, and the values.

    ``at[j]`` holds ``f`` at element ``j`` (counted over all inputs) moved to
    ``x + h`` and to ``x - h``.
    """

    def __init__(
        self,
        objective: Callable[..., Any],
        values: Sequence[Any],
        specs: Sequence[InputSpec],
        step: float,
        batch: int | None,
        max_seconds: float | None,
    ) -> None:
        self.objective, self.values, self.specs, self.batch = objective, values, specs, batch
        self.flat, self.plus, self.minus = perturbed_elements(values, specs, step)
        self.pairs = np.stack([self.plus, self.minus], axis=1)  # row j: at x + h, at x - h
        self.at = np.empty((self.flat.size, 2))
        self.bounds = np.cumsum([0] + [spec.size for spec in specs])
        self.progress = Progress(self.at.size, self.flat.size, max_seconds)
        self.budgeted = max_seconds is not None
        self.trials: dict[int, _Trial] = {}
        """The replayed inputs' trials, by position."""
        self.reasons: dict[int, str] = {}
        """Why each input that is compiled was not replayed, by position."""
        self.used_batch = 0
        self._engine: Replay | None = None

    def rows(self, positions: Sequence[int]) -> np.ndarray:
        """The indices (in ``at``) of the elements of the inputs at ``positions``."""
        return np.concatenate([np.arange(self.bounds[i], self.bounds[i + 1]) for i in positions])

    def _replayer(self, position: int) -> Callable[[Done], np.ndarray]:
        if self._engine is None:
            self._engine = Replay(self.objective, self.values, self.specs)
        rows = self.rows([position])
        return functools.partial(
            self._engine.evaluate, position, self.flat[rows], self.pairs[rows].ravel()
        )

    def try_replaying(self, setting: str) -> None:
        """Run each input's replay trial (all of it without a budget), or note why it cannot."""
        for position, spec in enumerate(self.specs):
            run = self._replayer(position)
            trial, reason = _replay_guarded(
                lambda run=run, count=2 * spec.size: _trial(
                    run, count, self.progress, self.budgeted
                ),
                setting,
            )
            if reason is None:
                self.trials[position] = trial
            else:
                self.reasons[position] = reason

    def finish_replaying(self, setting: str) -> None:
        """Replay the rest of every input whose trial did not finish it, and keep the values."""
        for position, trial in list(self.trials.items()):
            if trial.values is None:
                run = self._replayer(position)
                trial.values, reason = _replay_guarded(
                    lambda run=run: run(self.progress.advance), setting
                )
                if reason is not None:
                    self.reasons[position] = reason
                    del self.trials[position]
                    continue
            self.at[self.rows([position])] = trial.values

    def _compiler(self, positions: list[int]) -> Callable[[Done], tuple[np.ndarray, int]]:
        rows = self.rows(positions)
        return functools.partial(
            _move_directly,
            self.objective,
            self.values,
            self.specs,
            [value.dtype.name for value in self.values],
            positions,
            self.flat[rows],
            self.pairs[rows].ravel(),
            self.batch,
        )

    def try_compiling(self, positions: list[int]) -> _Trial:
        """The compiled loop's trial for the inputs at ``positions`` (all of it if unbudgeted)."""
        count = 2 * sum(self.specs[i].size for i in positions)
        return _trial(self._compiler(positions), count, self.progress, self.budgeted)

    def finish_compiling(self, positions: list[int], trial: _Trial | None) -> None:
        """Compile the inputs at ``positions`` (unless ``trial`` did it all); keep the values."""
        if trial is None or trial.values is None:
            trial = _Trial(self._compiler(positions)(self.progress.advance))
        self.at[self.rows(positions)], self.used_batch = trial.values

    def result(self) -> CentralDifferences:
        """The derivatives, and how they were computed."""
        derivatives = (self.at[:, 0] - self.at[:, 1]) / (self.plus - self.minus)
        return CentralDifferences(
            split_like(derivatives, self.specs),
            self.at.size,
            self.used_batch,
            tuple(sorted(self.trials)),
            self.reasons,
        )


Done = Callable[[int], bool]
"""Told after each batch how many evaluations it made; returning False stops the evaluator."""


@dataclass
class _Trial:
    """What a trial of an evaluator gave: its result if it finished, else the time left."""

    values: Any = None
    seconds_left: float = 0.0


TIMED_BATCHES = 3
"""Batches a trial times after its first: the pace is the fastest of them (a shared
machine only ever slows a batch down)."""


def _trial(run: Callable[[Done], Any], count: int, progress: Progress, budgeted: bool) -> _Trial:
    """Run an evaluator of ``count`` evaluations for a few batches (all of it if unbudgeted).

    The first batch warms up (traces, plans, computes what is shared), so the
    pace is timed on the next :data:`TIMED_BATCHES`.
    """
    if not budgeted:
        return _Trial(run(progress.advance))
    stamps: list[tuple[float, int]] = []

    def done(evaluations: int) -> bool:
        stamps.append((time.perf_counter(), evaluations))
        return len(stamps) < 1 + TIMED_BATCHES

    result = run(done)
    if sum(evaluations for _, evaluations in stamps) >= count:
        progress.advance(count)
        return _Trial(result)
    timed = itertools.pairwise(stamps)
    pace = min((after - before) / evaluations for (before, _), (after, evaluations) in timed)
    return _Trial(None, pace * count)


def _switched_off(setting: str) -> str:
    if setting == "off":
        return f"switched off by {REPLAY_VARIABLE}=off"
    return "switched off by replay=False"


def _replay_guarded(attempt: Callable[[], Any], setting: str) -> tuple[Any, str | None]:
    """``attempt()`` (a use of the accelerator), or None and why it cannot be used.

    Catches ``Unsupported`` (the accelerator's own "not this input", with its
    reason); anything else escaping the accelerator is a bug in it, raised
    when :data:`REPLAY_VARIABLE` is ``strict`` and otherwise reported as the
    reason the input was compiled instead.
    """
    try:
        return attempt(), None
    except Unsupported as reason:
        return None, str(reason)
    except GradcheckError:
        raise
    except Exception as error:
        if setting == "strict":
            raise
        return None, (
            f"the replay failed unexpectedly ({type(error).__name__}: {error}); "
            "this is a gradlab bug, please report it"
        )


def _move_directly(
    objective: Callable[..., Any],
    values: Sequence[Any],
    specs: Sequence[InputSpec],
    dtypes: Sequence[str],
    positions: list[int],
    flat: np.ndarray,
    perturbed: np.ndarray,
    batch: int | None,
    done: Done,
) -> tuple[np.ndarray, int]:
    """``f`` at ``x ± h`` for every element of the inputs at ``positions``, as (n, 2).

    ``flat`` holds those n elements, ``perturbed`` their 2n perturbed values
    (``x + h`` and ``x - h`` of element ``j`` at ``2j`` and ``2j + 1``).
    Also returns the batch size used.
    """
    if batch is None:
        batch = min(batch_size(flat.size), 2 * flat.size)
    sub_objective = _holding_others_fixed(objective, values, positions)
    try:
        result, used = _evaluate_perturbations(
            sub_objective,
            [specs[i] for i in positions],
            [dtypes[i] for i in positions],
            flat,
            perturbed,
            batch,
            done,
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
    return result.reshape(-1, 2), used


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
