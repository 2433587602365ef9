"""Look inside a TensorFlow graph: which operations a gradient added, and which it uses.

``tf.gradients`` adds its operations to the graph under a name scope,
``gradients/`` by default. These helpers list them (:func:`gradient_ops`) and
find the ones a result actually depends on (:func:`ops_feeding`), so a lesson
can show the chain rule as the graph spells it out.
"""

from __future__ import annotations

from typing import Any

GRADIENT_SCOPE = "gradients"


def in_scope(op: Any, scope: str = GRADIENT_SCOPE) -> bool:
    """Whether ``op`` was created under the name scope ``scope`` (at any depth of nesting)."""
    return op.name.startswith(f"{scope}/") or f"/{scope}/" in op.name


def gradient_ops(graph: Any, scope: str = GRADIENT_SCOPE) -> list[Any]:
    """The operations of ``graph`` created under ``scope``, in the order they were added."""
    return [op for op in graph.get_operations() if in_scope(op, scope)]


def ops_feeding(tensor: Any, scope: str = GRADIENT_SCOPE) -> list[Any]:
    """The operations under ``scope`` that ``tensor`` depends on, in graph order.

    Walks the graph backwards from ``tensor`` through operation inputs (and
    control inputs); operations outside ``scope`` are crossed but not listed.
    """
    seen: set[str] = set()
    stack = [tensor.op]
    while stack:
        op = stack.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        stack.extend(source.op for source in op.inputs)
        stack.extend(op.control_inputs)
    return [op for op in gradient_ops(tensor.graph, scope) if op.name in seen]


def unused_gradient_ops(result: Any, scope: str = GRADIENT_SCOPE) -> list[Any]:
    """The operations under ``scope`` that ``result`` does not depend on."""
    used = {op.name for op in ops_feeding(result, scope)}
    return [op for op in gradient_ops(result.graph, scope) if op.name not in used]
