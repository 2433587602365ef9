"""Run the part of ``f`` that follows one tensor on a whole batch of values of it, eagerly.

A full check evaluates ``f`` 2N times, each time with one number moved. Most
of ``f`` does not depend on that number: only the operations downstream of
the tensor that holds it do. :class:`BatchedReplay` finds those operations in
``f``'s traced graph and runs them once per batch, eagerly, the way
``tf.vectorized_map`` would but without tracing or compiling anything. Each
operation type has a rule saying how it runs on a batch
(:mod:`gradlab.gradcheck._replay.batched_ops`), and the operations that can keep a
change confined to one column or to a rank-one update do so
(:mod:`gradlab.gradcheck._replay.sparse_ops`).

An operation without a rule raises :class:`Unsupported` when the replay is
built, and the caller evaluates ``f`` another way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gradlab.gradcheck._replay.batched_ops import RULES, Node, Unsupported, Value
from gradlab.gradcheck._replay.sparse_ops import SPARSE_RULES, ColumnChange, RankOneChange
from gradlab.tfsupport.lazy import tf

__all__ = ["BatchedReplay", "ColumnChange", "RankOneChange", "Unsupported", "Value"]


class BatchedReplay:
    """The operations of a traced graph between one tensor and the output, ready to batch.

    Args:
        start: a tensor of the graph (an input of ``f``).
        output: the scalar output of the graph.

    Raises:
        Unsupported: an operation between the two has no batched rule, or
            the shapes of the tensors in between are not all known.
    """

    def __init__(self, start: Any, output: Any) -> None:
        self.start = start.name
        self.output = output.name
        operations = _operations_between(start, output)
        self.nodes = [Node(op) for op in operations]
        self.needed = _fixed_inputs(operations, start, output)
        """The tensors the replay reads that do not depend on ``start``."""
        self.item_size = max([_size(t) for op in operations for t in op.outputs] + [1])
        """The most elements one item of the batch can take in any tensor downstream."""
        self.footprint = 0
        """The most elements one item of the batch took in any tensor of the last call: less
        than :attr:`item_size` while perturbations stay a column or a rank-one change."""

    def __call__(self, start: Value | ColumnChange, fixed: dict[str, Any]) -> Any:
        """The output for every item of the batch ``start`` (values of the start tensor).

        ``fixed`` maps the name of every tensor in :attr:`needed` to its value.
        Returns a (batch,) tensor.
        """
        values: dict[str, Any] = {self.start: start}
        batch = start.tensor.shape[0] if isinstance(start, Value) else start.index.shape[0]
        largest = 0
        for node in self.nodes:
            operands = [values.get(name) or Value(fixed[name], False) for name in node.inputs]
            outputs, size = _run(node, operands)
            largest = max(largest, size)
            values.update(zip(node.outputs, outputs, strict=True))
        self.footprint = max(1, largest // max(1, batch))
        result = values.get(self.output)
        if result is None:  # the output does not depend on the start tensor
            return tf.fill([batch], tf.reshape(fixed[self.output], []))
        return _dense(result).tensor


def _batched_size(item: Any) -> int:
    """How many elements a batched value holds (0 for a fixed one)."""
    if isinstance(item, ColumnChange):
        return item.columns.shape.num_elements()
    if isinstance(item, RankOneChange):
        return item.u.shape.num_elements() + item.v.shape.num_elements()
    return item.tensor.shape.num_elements() if item.batched else 0


def _run(node: Node, operands: list[Any]) -> tuple[list[Any], int]:
    """The node's outputs (structured if a structured rule applies, else dense), and the
    most elements any batched operand or output held."""
    if any(not isinstance(operand, Value) for operand in operands):
        sparse_rule = SPARSE_RULES.get(node.type)
        outputs = sparse_rule(node, operands) if sparse_rule else None
        if outputs is not None:
            return outputs, max(_batched_size(item) for item in (*operands, *outputs))
        operands = [_dense(operand) for operand in operands]
    outputs = RULES[node.type](node, operands)
    return outputs, max(_batched_size(item) for item in (*operands, *outputs))


def _dense(value: Any) -> Value:
    return value if isinstance(value, Value) else value.dense()


def _operations_between(start: Any, output: Any) -> list[Any]:
    """The operations that read ``start`` (directly or not) and lead to ``output``, in order."""
    leads_to_output = _ancestors(output.op)
    downstream, reached = [], {start.name}
    for op in start.graph.get_operations():
        if op not in leads_to_output or not any(t.name in reached for t in op.inputs):
            continue
        if op.type not in RULES:
            raise Unsupported(f"no batched rule for {op.type}")
        downstream.append(op)
        reached.update(tensor.name for tensor in op.outputs)
    return downstream


def _ancestors(op: Any) -> set[Any]:
    seen, stack = {op}, [op]
    while stack:
        for tensor in stack.pop().inputs:
            if tensor.op not in seen:
                seen.add(tensor.op)
                stack.append(tensor.op)
    return seen


def _fixed_inputs(operations: Sequence[Any], start: Any, output: Any) -> list[Any]:
    """The tensors the operations read that do not depend on ``start`` (and the output,
    if it does not depend on ``start`` either)."""
    produced = {start.name} | {t.name for op in operations for t in op.outputs}
    needed: dict[str, Any] = {} if output.name in produced else {output.name: output}
    for op in operations:
        for tensor in op.inputs:
            if tensor.name not in produced:
                needed.setdefault(tensor.name, tensor)
    return list(needed.values())


def _size(tensor: Any) -> int:
    if not tensor.shape.is_fully_defined():
        raise Unsupported(f"the shape of {tensor.name} is not known when f is traced")
    return max(1, tensor.shape.num_elements())
