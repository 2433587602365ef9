"""``f`` at every perturbation of an input, by replaying the part of ``f`` the input affects.

For each input, :class:`~gradlab.gradcheck._replay.downstream.BatchedReplay` takes the
operations downstream of it in ``f``'s traced graph, and a batch of
perturbations runs through them eagerly: no tracing, no compiling, and the
part of ``f`` that does not depend on the input runs once. A perturbation
moves one element, so it changes one column of the input: it enters the
replay as that column (a
:class:`~gradlab.gradcheck._replay.sparse_ops.ColumnChange`), and stays that small
for as long as the operations allow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlab.gradcheck._replay.downstream import BatchedReplay, ColumnChange, Unsupported, Value
from gradlab.gradcheck._replay.traced import TracedObjective
from gradlab.tfsupport.lazy import tf

REPLAY_BATCH_BYTES = 1 << 25
"""About how many bytes the largest batched tensor of one replay call holds (32 MiB).

It bounds memory, not cache use: a replayed tensor holds one column or one
item per perturbation, so large batches are what make replaying pay. (The
compiled loop's bound, ``differences.COMPILED_BATCH_BYTES``, is 64 times
smaller because each of its perturbations is a full copy of the inputs.)"""


FIRST_BATCH = 64
"""Perturbations in an input's first replay call, which measures what one of them takes."""


@dataclass(frozen=True)
class InputPlan:
    """How one input's perturbations are evaluated."""

    replay: BatchedReplay

    def batch_size(self, evaluations: int) -> int:
        """How many perturbations one replay call evaluates: as many as fit in
        :data:`REPLAY_BATCH_BYTES`, in batches of equal size.

        Until a call has measured what one perturbation takes, the bound is the
        largest dense tensor downstream; after it, what the perturbations really
        held (a column or a rank-one change is far smaller while it lasts: on a
        1,500-wide hidden layer the bound alone made batches 30 times too small).
        """
        item_size = self.replay.footprint or self.replay.item_size
        largest = max(1, REPLAY_BATCH_BYTES // (8 * item_size))
        batches = -(-evaluations // largest)
        return -(-evaluations // batches)


def plan_inputs(
    traced: TracedObjective, positions: Sequence[int]
) -> dict[int, InputPlan | Unsupported]:
    """A plan for each input at ``positions``, or why that input cannot be replayed."""
    plans: dict[int, InputPlan | Unsupported] = {}
    for position in positions:
        try:
            plans[position] = InputPlan(BatchedReplay(traced.arguments[position], traced.output))
        except Unsupported as reason:
            plans[position] = reason
    return plans


def fixed_values(
    traced: TracedObjective, plans: Sequence[InputPlan], values: Sequence[Any]
) -> dict[str, Any]:
    """The value of every tensor the plans read that no perturbation changes."""
    known = {
        placeholder.name: value
        for placeholder, value in zip(traced.arguments, values, strict=True)
    }
    wanted = [tensor for plan in plans for tensor in plan.replay.needed]
    missing = [tensor for tensor in wanted if tensor.name not in known]
    return {**known, **traced.values_of(missing, values)}


def replayed_values(
    plan: InputPlan,
    fixed: dict[str, Any],
    value: Any,
    base: np.ndarray,
    perturbed: np.ndarray,
    done: Callable[[int], bool],
) -> np.ndarray:
    """``f`` at each of the input's perturbations, as (elements, 2): at ``x + h``, ``x - h``.

    ``base`` holds the input's elements (flat, float64) and ``perturbed``
    their 2n perturbed values, ``x + h`` and ``x - h`` of element ``j`` at
    ``2j`` and ``2j + 1``. ``done(k)`` is called after each batch of ``k``
    evaluations; if it returns False, the rest is left unevaluated.
    """
    total = perturbed.size
    results = np.empty(total)
    start, batch = 0, min(total, plan.batch_size(total), FIRST_BATCH)
    while start < total:
        which = np.arange(start, start + batch)
        starts = _starts(value, base, which, perturbed[which])
        results[start : start + batch] = plan.replay(starts, fixed).numpy()
        if not done(batch):
            break
        start += batch
        batch = plan.batch_size(max(1, total - start))  # sized by what the last call measured
    return results.reshape(-1, 2)


def _starts(value: Any, base: np.ndarray, which: np.ndarray, perturbed: np.ndarray) -> Any:
    """The input at each perturbation in ``which``: one changed column each (rank 0: a value)."""
    elements = which // 2
    if not value.shape:
        return Value(tf.cast(tf.constant(perturbed), value.dtype), True)
    shape = tuple(value.shape)
    grid = base.reshape(shape)
    last = elements % shape[-1]
    columns = np.moveaxis(grid[..., last], -1, 0).copy()  # (batch, ...): each column as it was
    rest = np.unravel_index(elements // shape[-1], shape[:-1]) if len(shape) > 1 else ()
    columns[(np.arange(which.size), *rest)] = perturbed
    return ColumnChange(
        value,
        tf.constant(last, tf.int32),
        tf.cast(tf.constant(columns), value.dtype),
    )
