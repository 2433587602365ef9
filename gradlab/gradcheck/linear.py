"""Inputs that ``f`` uses only through a matrix product: perturb the product, not the input.

If the one use of an input ``X`` in ``f`` is a matrix product ``Z = A @ X``,
then moving one element ``X[j, k]`` by ``d`` changes ``Z`` by ``d * A[:, j]``
in column ``k`` only: a rank-one change. So ``f`` at each perturbed ``X`` is
the rest of ``f`` (everything after the product) applied to ``Z`` plus that
change, and the product is computed once instead of once per perturbation.
For a dense layer's kernel that removes almost all the work of a full check.

This is exact algebra, not an approximation: the same values of ``f`` up to
rounding of the order of machine epsilon times ``|Z|``, which is what any two
ways of computing ``f`` differ by. Only TensorFlow's forward ``MatMul`` is
relied on, never a gradient, so the check stays independent of what it checks.

``f`` is traced once into a graph (``tf.compat.v1.wrap_function``); an input
qualifies when its only consumer there (past ``Identity`` ops) is a 2-D
``MatMul`` in float64 that reads it once. The graph's ops are then copied
(``import_graph_def``) with the product replaced by a batch of perturbed
products, which ``tf.vectorized_map`` evaluates together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlab.gradcheck.problem import InputSpec
from gradlab.lazy import tf

CHUNK_BYTES = 1 << 22
"""About how many bytes of perturbed products one call evaluates (4 MiB)."""

MAX_PRODUCT_SIZE = 1 << 17
"""Larger products are not copied per perturbation: their input is moved directly."""


@dataclass(frozen=True)
class ProductUse:
    """Where an input enters ``f``: the one matrix product that reads it."""

    position: int
    product: Any
    """The product's output tensor ``Z`` in the traced graph."""
    other: Any
    """The other operand of the product, as the graph holds it (before any transpose)."""
    input_on_left: bool
    """``Z = op(X) @ op(B)`` (True) or ``Z = op(A) @ op(X)`` (False)."""
    input_transposed: bool
    other_transposed: bool


class TracedObjective:
    """``f`` traced once into a graph, with its float64 inputs as placeholders."""

    def __init__(self, objective: Callable[..., Any], specs: Sequence[InputSpec]) -> None:
        signature = [tf.TensorSpec(spec.shape, tf.float64) for spec in specs]

        def scalar(*inputs: Any) -> Any:
            return tf.reshape(tf.cast(objective(*inputs), tf.float64), [])

        self.wrapped = tf.compat.v1.wrap_function(scalar, signature)
        self.arguments = list(self.wrapped.inputs[: len(specs)])
        self.output = self.wrapped.outputs[0]
        self.graph_def = self.wrapped.graph.as_graph_def()

    def replay(
        self, arguments: Sequence[Any], replace: Sequence[tuple[Any, Any]], fetches: Sequence[Any]
    ) -> list[Any]:
        """Copy ``f``'s ops into the current graph and return the copies of ``fetches``.

        ``arguments`` feed the inputs then the captured values (as
        ``wrapped.inputs`` lists them); ``replace`` pairs tensors of the traced
        graph with the tensors that stand in for them. Copying ops, rather than
        calling a function, lets ``tf.vectorized_map`` batch them directly.
        """
        mapping = {
            placeholder.name: value
            for placeholder, value in zip(self.wrapped.inputs, arguments, strict=True)
        }
        mapping.update({tensor.name: value for tensor, value in replace})
        return tf.graph_util.import_graph_def(
            self.graph_def,
            input_map=mapping,
            return_elements=[tensor.name for tensor in fetches],
            name="f",
        )

    def product_use(self, position: int) -> ProductUse | None:
        """How input ``position`` enters ``f``, if only through one 2-D float64 matrix product."""
        placeholder = self.arguments[position]
        if len(placeholder.shape) != 2:
            return None
        consumers = placeholder.consumers()
        while len(consumers) == 1 and consumers[0].type == "Identity":
            placeholder = consumers[0].outputs[0]
            consumers = placeholder.consumers()
        if len(consumers) != 1:
            return None
        op = consumers[0]
        if op.type != "MatMul" or op.get_attr("T") != tf.float64:
            return None
        product = op.outputs[0].shape
        if not product.is_fully_defined() or product.num_elements() > MAX_PRODUCT_SIZE:
            return None
        left, right = op.inputs[0], op.inputs[1]
        if (left is placeholder) == (right is placeholder):  # not read, or read twice (X @ X)
            return None
        on_left = left is placeholder
        transpose_a, transpose_b = op.get_attr("transpose_a"), op.get_attr("transpose_b")
        return ProductUse(
            position=position,
            product=op.outputs[0],
            other=right if on_left else left,
            input_on_left=on_left,
            input_transposed=transpose_a if on_left else transpose_b,
            other_transposed=transpose_b if on_left else transpose_a,
        )


def rank_one_values(
    traced: TracedObjective,
    use: ProductUse,
    values: Sequence[Any],
    displacements: np.ndarray,
) -> np.ndarray:
    """``f`` at each perturbation of one input, from rank-one changes of its product.

    ``displacements`` holds 2n numbers for the input's n elements (row-major):
    element ``j`` moved by ``displacements[2j]`` and by ``displacements[2j + 1]``.
    Returns the 2n values of ``f``.
    """
    shape = tuple(use.product.shape)
    columns = int(values[use.position].shape[1])
    total = displacements.size
    batch = int(min(total, max(4, CHUNK_BYTES // (8 * max(1, int(np.prod(shape)))))))
    chunk = _chunk_function(traced, use, columns, batch)
    moves = tf.constant(displacements, tf.float64)
    arguments = [*values, *traced.wrapped.captured_inputs]
    results = np.empty(total)
    for first in range(0, total, batch):
        start = min(first, total - batch)  # the last call overlaps the previous one
        out = chunk(tf.constant(start, tf.int32), moves, *arguments)
        results[start : start + batch] = out.numpy()
    return results


def _chunk_function(
    traced: TracedObjective, use: ProductUse, columns: int, batch: int
) -> Callable[..., Any]:
    """A compiled function: ``f`` at perturbations ``first .. first + batch - 1``."""

    def chunk(first: Any, moves: Any, *arguments: Any) -> Any:
        product, other = traced.replay(arguments, [], [use.product, use.other])
        which = first + tf.range(batch)
        move = tf.gather(moves, which)
        element = which // 2
        row, column = element // columns, element % columns
        # Z = op(A) @ op(X) or op(X) @ op(B); X[row, column] sits in op(X) at
        # (row, column), or at (column, row) if X is transposed.
        inner, outer = (column, row) if use.input_transposed else (row, column)
        operand = tf.transpose(other) if use.other_transposed else other
        if use.input_on_left:  # row `inner` of Z += move * row `outer` of op(B)
            u = tf.one_hot(inner, tf.shape(product)[0], dtype=tf.float64)
            v = tf.gather(operand, outer, axis=0)
        else:  # column `outer` of Z += move * column `inner` of op(A)
            u = tf.transpose(tf.gather(operand, inner, axis=1))
            v = tf.one_hot(outer, tf.shape(product)[1], dtype=tf.float64)
        moved = (
            product[tf.newaxis] + (move[:, tf.newaxis] * u)[:, :, tf.newaxis] * v[:, tf.newaxis]
        )
        return tf.vectorized_map(
            lambda z: traced.replay(arguments, [(use.product, z)], [traced.output])[0], moved
        )

    return tf.function(chunk, autograph=False)
