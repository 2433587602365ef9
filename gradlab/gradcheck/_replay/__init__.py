"""The full check's accelerator (private): ``f`` replayed downstream of one input.

One door, :class:`Replay`: ``Replay(objective, values, specs).evaluate(position,
...)`` returns ``f`` at every perturbation of one input, or raises
:class:`Unsupported` with the reason it cannot (an operation without a batched
rule, a shape unknown when ``f`` is traced, ``f`` that cannot be traced into a
graph, a batch that does not fit in memory). Nothing else here is meant to be
imported from outside this package.

How it works: ``f`` is traced once into a graph (:mod:`.traced`); for each
input, the operations downstream of it are found (:mod:`.downstream`) and run
eagerly on batches of perturbations (:mod:`.batches`), each operation by its
batched rule (:mod:`.batched_ops`), keeping a perturbation as the one column or
rank-one change it makes for as long as the operations allow (:mod:`.sparse_ops`).

Which failures become :class:`Unsupported` is decided here, where they happen,
because the place tells whether it is a gradlab bug: an exception while
*tracing* ``f`` runs only the caller's code and TensorFlow's graph building,
and a TensorFlow error while computing the part of ``f`` no perturbation
changes runs only ``f``'s own graph, so both are ``f``'s limits, not bugs;
``tf.errors.ResourceExhaustedError`` during the replay means the batch did not
fit in memory. Any other exception raised while the rules run, including a
TensorFlow ``InvalidArgumentError`` (which is how a rule that gets a shape
wrong fails, eagerly), is a bug in a rule and is left to propagate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradlab.gradcheck._replay.batched_ops import Unsupported
from gradlab.gradcheck._replay.batches import (
    InputPlan,
    fixed_values,
    plan_inputs,
    replayed_values,
)
from gradlab.gradcheck._replay.traced import TracedObjective
from gradlab.tfsupport.lazy import tf

__all__ = ["Replay", "Unsupported"]


class Replay:
    """``f`` ready to be replayed downstream of any of its inputs.

    Args:
        objective: the scalar function of the inputs that is checked.
        values: the inputs, as tensors in the dtypes ``f`` runs in.
        specs: the inputs' descriptions (``shape`` is read).

    ``f`` is traced, and every input planned, on the first :meth:`evaluate`.
    """

    def __init__(
        self, objective: Callable[..., Any], values: Sequence[Any], specs: Sequence[Any]
    ) -> None:
        self._objective = objective
        self._values = list(values)
        self._specs = list(specs)
        self._plans: dict[int, InputPlan | Unsupported] | None = None
        self._fixed: dict[str, Any] = {}

    def evaluate(
        self,
        position: int,
        base: np.ndarray,
        perturbed: np.ndarray,
        done: Callable[[int], bool] = lambda count: True,
    ) -> np.ndarray:
        """``f`` at each perturbation of input ``position``, as (elements, 2).

        ``base`` holds the input's elements (flat, float64), ``perturbed``
        their 2n perturbed values (``x + h`` of element ``j`` at ``2j``,
        ``x - h`` at ``2j + 1``). Row ``j`` of the result is ``f`` at both.
        ``done(k)`` is called after each batch of ``k`` evaluations; when it
        returns False the evaluation stops there (the rows not reached are
        left unset).

        Raises:
            Unsupported: this input cannot be replayed; the message says why.
        """
        plan = self._plan(position)
        try:
            return replayed_values(
                plan, self._fixed, self._values[position], base, perturbed, done
            )
        except tf.errors.ResourceExhaustedError as error:
            raise Unsupported(f"a batch did not fit in memory ({error.message})") from None

    def _plan(self, position: int) -> InputPlan:
        if self._plans is None:
            self._plans = self._plan_all()
        plan = self._plans[position]
        if isinstance(plan, Unsupported):
            raise plan
        return plan

    def _plan_all(self) -> dict[int, InputPlan | Unsupported]:
        dtypes = [value.dtype.name for value in self._values]
        try:
            traced = TracedObjective(self._objective, self._specs, dtypes)
        except Exception as error:  # the caller's f, under graph building: f's limit
            reason = Unsupported(f"f cannot be traced into a graph ({_short(error)})")
            return dict.fromkeys(range(len(self._specs)), reason)
        plans = plan_inputs(traced, range(len(self._specs)))
        usable = [plan for plan in plans.values() if isinstance(plan, InputPlan)]
        try:
            self._fixed = fixed_values(traced, usable, self._values)
        except tf.errors.OpError as error:  # f's own graph, no rule involved
            reason = Unsupported(f"f's graph does not run as traced ({_short(error)})")
            return dict.fromkeys(range(len(self._specs)), reason)
        return plans


def _short(error: BaseException) -> str:
    text = f"{type(error).__name__}: {getattr(error, 'message', None) or error}"
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return first if len(first) <= 160 else first[:157] + "..."
