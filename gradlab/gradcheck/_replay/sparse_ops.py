"""Batches that differ from one fixed tensor in a structured way, and the operations that keep it.

Moving one element of a dense layer's kernel changes one column of the
layer's product; an activation applied to it still changes only that
column; the next product turns it into a rank-one change. Keeping those
changes in that form, instead of materialising a whole copy of the tensor per
perturbation, makes each perturbation cost a column instead of a matrix
until the change spreads everywhere. Then the batch is made dense
(:meth:`ColumnChange.dense`, :meth:`RankOneChange.dense`) and the ordinary
batched rules of :mod:`gradlab.gradcheck._replay.batched_ops` take over.

Every rule here is exact algebra on the same forward operations; none uses
a gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gradlab.gradcheck._replay.batched_ops import ELEMENTWISE, UNARY, Node, Value, pass_through
from gradlab.tfsupport.lazy import tf


@dataclass(frozen=True)
class ColumnChange:
    """Item ``i`` is ``base`` with its last-axis column ``index[i]`` replaced by ``columns[i]``."""

    base: Any
    """The fixed tensor, shape (..., n)."""
    index: Any
    """(batch,) int32: which column each item changes."""
    columns: Any
    """(batch, ...): each item's new column (``base``'s shape without its last axis)."""

    def dense(self) -> Value:
        """Every item written out in full: (batch, ..., n)."""
        n = self.base.shape[-1]
        rank = len(self.base.shape)
        old = _column(self.base, self.index)
        mask = tf.reshape(
            tf.one_hot(self.index, n, dtype=self.base.dtype), [-1] + [1] * (rank - 1) + [n]
        )
        return Value(self.base[tf.newaxis] + mask * (self.columns - old)[..., tf.newaxis], True)


@dataclass(frozen=True)
class RankOneChange:
    """Item ``i`` is the matrix ``base + outer(u[i], v[i])``."""

    base: Any
    """The fixed (m, n) matrix."""
    u: Any
    """(batch, m)."""
    v: Any
    """(batch, n)."""

    def dense(self) -> Value:
        """Every item written out in full: (batch, m, n)."""
        outer = self.u[:, :, tf.newaxis] * self.v[:, tf.newaxis, :]
        return Value(self.base[tf.newaxis] + outer, True)


SparseRule = Callable[[Node, list[Any]], "list[Any] | None"]


def _column(tensor: Any, index: Any) -> Any:
    """Column ``index[i]`` (last axis) of ``tensor`` for each ``i``: (batch, ...)."""
    return tf.gather(_columns_first(tensor), index)


def _columns_first(tensor: Any) -> Any:
    """``tensor`` with its last axis moved to the front, so columns are gathered on axis 0."""
    rank = len(tensor.shape)
    return tf.transpose(tensor, [rank - 1, *range(rank - 1)]) if rank > 1 else tensor


def _unary(function: Callable[[Any], Any]) -> SparseRule:
    def rule(node: Node, operands: list[Any]) -> list[Any] | None:
        (change,) = operands
        if not isinstance(change, ColumnChange):
            return None
        base = node.memo("base", [change.base], lambda: function(change.base))
        return [ColumnChange(base, change.index, function(change.columns))]

    return rule


def _elementwise(function: Callable[..., Any]) -> SparseRule:
    """Changes (all column changes sharing one index, or one rank-one change under an
    addition) with fixed operands that do not widen the changed tensor."""

    def rule(node: Node, operands: list[Any]) -> list[Any] | None:
        if any(isinstance(item, Value) and item.batched for item in operands):
            return None
        changes = [item for item in operands if not isinstance(item, Value)]
        if len(changes) == 1 and isinstance(changes[0], RankOneChange):
            return _shifted_rank_one(node, operands, changes[0])
        if node.squares(operands):
            return _unary(tf.square)(node, operands[:1])
        if not all(isinstance(item, ColumnChange) for item in changes):
            return None
        index, shape = changes[0].index, changes[0].base.shape
        if any(item.index is not index or item.base.shape != shape for item in changes):
            return None
        wholes = [
            item.base if isinstance(item, ColumnChange) else _fixed_whole(node, i, item, shape)
            for i, item in enumerate(operands)
        ]
        if any(whole is None for whole in wholes):
            return None
        base = node.memo("base", wholes, lambda: function(*wholes))
        if base.shape != shape:
            return None
        columns = [
            item.columns
            if isinstance(item, ColumnChange)
            else _fixed_column(node, i, whole, index)
            for i, (item, whole) in enumerate(zip(operands, wholes, strict=True))
        ]
        return [ColumnChange(base, index, function(*columns))]

    return rule


def _fixed_whole(node: Node, position: int, value: Value, shape: Any) -> Any:
    """A fixed operand broadcast to the changed tensor's shape (None if it would widen it)."""
    if len(value.tensor.shape) > len(shape):
        return None
    return node.memo(
        f"whole{position}", [value.tensor], lambda: tf.broadcast_to(value.tensor, shape)
    )


def _fixed_column(node: Node, position: int, whole: Any, index: Any) -> Any:
    first = node.memo(f"columns{position}", [whole], lambda: _columns_first(whole))
    return tf.gather(first, index)


def _shifted_rank_one(node: Node, operands: list[Any], change: RankOneChange) -> list[Any] | None:
    """A rank-one change plus (or minus) a fixed tensor: the same change of a shifted base."""
    if node.type not in ("Add", "AddV2", "BiasAdd", "Sub") or len(operands) != 2:
        return None
    first = operands[0] is change
    fixed = operands[1] if first else operands[0]
    shape = change.base.shape
    if len(fixed.tensor.shape) > len(shape):
        return None
    function = tf.add if node.type != "Sub" else tf.subtract
    pair = [change.base, fixed.tensor] if first else [fixed.tensor, change.base]
    base = node.memo("base", pair, lambda: function(*pair))
    if base.shape != shape:
        return None
    u = change.u if first or node.type != "Sub" else -change.u
    return [RankOneChange(base, u, change.v)]


def _matmul(node: Node, operands: list[Any]) -> list[Any] | None:
    a, b = operands
    transpose_a, transpose_b = node.attr("transpose_a"), node.attr("transpose_b")
    if isinstance(a, Value) and isinstance(b, Value):
        return None
    if isinstance(b, Value) and not b.batched and not transpose_a:
        right = node.memo(
            "right", [b.tensor], lambda: tf.transpose(b.tensor) if transpose_b else b.tensor
        )
        base = node.memo("base", [a.base, right], lambda: a.base @ right)
        if isinstance(a, ColumnChange):  # column k of A changes: outer(change, row k of B)
            change = a.columns - _fixed_column(node, 0, a.base, a.index)
            return [RankOneChange(base, change, tf.gather(right, a.index))]
        return [RankOneChange(base, a.u, a.v @ right)]
    if isinstance(a, Value) and not a.batched and not transpose_b:
        left = node.memo(
            "left", [a.tensor], lambda: tf.transpose(a.tensor) if transpose_a else a.tensor
        )
        base = node.memo("base", [left, b.base], lambda: left @ b.base)
        left_t = node.memo("left_t", [left], lambda: tf.transpose(left))
        if isinstance(b, ColumnChange):  # column k of B changes: column k of the product
            return [ColumnChange(base, b.index, b.columns @ left_t)]
        return [RankOneChange(base, b.u @ left_t, b.v)]
    return None


def _bias_add(node: Node, operands: list[Any]) -> list[Any] | None:
    if not node.channels_last():
        return None
    return _elementwise(tf.add)(node, operands)


def _cast(node: Node, operands: list[Any]) -> list[Any] | None:
    return _unary(lambda tensor: tf.cast(tensor, node.attr("DstT")))(node, operands)


_ROW_WISE = {"Softmax", "LogSoftmax"}  # they mix a row's columns: a column change spreads

SPARSE_RULES: dict[str, SparseRule] = {
    **{name: _unary(f) for name, f in UNARY.items() if name not in _ROW_WISE},
    **{name: _elementwise(f) for name, f in ELEMENTWISE.items()},
    "MatMul": _matmul,
    "BiasAdd": _bias_add,
    "Cast": _cast,
    "Identity": pass_through,
    "IdentityN": pass_through,
}
"""Operations that keep a structured change structured (returning None: they cannot here)."""
