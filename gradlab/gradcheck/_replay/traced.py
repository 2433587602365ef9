"""``f`` traced once into a graph, so the checker can look inside it and run parts of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gradlab.gradcheck.problem import InputSpec
from gradlab.tfsupport.lazy import tf


class TracedObjective:
    """``f`` traced once (``tf.compat.v1.wrap_function``), its inputs as placeholders.

    Args:
        objective: the scalar function of the inputs that is checked.
        specs: the inputs' descriptions.
        dtypes: the dtype each input is fed to ``f`` in.
    """

    def __init__(
        self, objective: Callable[..., Any], specs: Sequence[InputSpec], dtypes: Sequence[str]
    ) -> None:
        signature = [
            tf.TensorSpec(spec.shape, dtype) for spec, dtype in zip(specs, dtypes, strict=True)
        ]

        def scalar(*inputs: Any) -> Any:
            return tf.reshape(tf.cast(objective(*inputs), tf.float64), [])

        self.wrapped = tf.compat.v1.wrap_function(scalar, signature)
        self.arguments = list(self.wrapped.inputs[: len(specs)])
        """The placeholder of each input, in order."""
        self.output = self.wrapped.outputs[0]
        """The scalar (float64) output."""

    def values_of(self, tensors: Sequence[Any], values: Sequence[Any]) -> dict[str, Any]:
        """The value of each of ``tensors`` (of the graph) when the inputs are ``values``.

        One call of a function pruned to what ``tensors`` need.
        """
        unique = list({tensor.name: tensor for tensor in tensors}.values())
        if not unique:
            return {}
        pruned = self.wrapped.prune(feeds=self.arguments, fetches=unique)
        results = pruned(*values)
        return {tensor.name: result for tensor, result in zip(unique, results, strict=True)}
