"""How each TensorFlow operation runs on operands with a leading batch dimension.

Each rule takes a :class:`Node` (an operation of ``f``'s traced graph) and
its operands, each a :class:`Value` that is either batched (one item per
perturbation, stacked on axis 0) or the same for the whole batch, and
returns the operation's outputs for every item, eagerly. A matrix product of
a batch with a fixed matrix becomes one larger product; a reduction's axes
move by one; a broadcasting operation gets its batched operands' ranks
aligned.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlab.tfsupport.lazy import tf


def _same(old: Sequence[Any], new: Sequence[Any]) -> bool:
    return len(old) == len(new) and all(a is b for a, b in zip(old, new, strict=True))


class Node:
    """One operation of the traced graph, with what the rules read from it looked up once."""

    def __init__(self, op: Any) -> None:
        self.op = op
        self.type: str = op.type
        self.inputs: list[str] = [tensor.name for tensor in op.inputs]
        self.outputs: list[str] = [tensor.name for tensor in op.outputs]
        self.output_dtypes = [tensor.dtype for tensor in op.outputs]
        self._attributes: dict[str, Any] = {}
        self._constants: dict[int, list[int]] = {}
        self._memo: dict[str, tuple[tuple[Any, ...], Any]] = {}

    def attr(self, name: str) -> Any:
        """The operation's attribute ``name``."""
        if name not in self._attributes:
            self._attributes[name] = self.op.get_attr(name)
        return self._attributes[name]

    def memo(self, key: str, inputs: Sequence[Any], compute: Callable[[], Any]) -> Any:
        """``compute()``, reused while it is asked for with the very same ``inputs``.

        The batches of one check share their fixed tensors, so what depends
        on those alone is computed for the first batch only.
        """
        cached = self._memo.get(key)
        if cached is not None and _same(cached[0], inputs):
            return cached[1]
        result = compute()
        self._memo[key] = (tuple(inputs), result)
        return result

    def squares(self, values: Sequence[Value]) -> bool:
        """Whether this is ``Pow`` with a fixed exponent of exactly 2 (``x ** 2``).

        ``tf.square`` gives the same correctly rounded result ten times faster.
        """
        exponent = values[1]
        if self.type != "Pow" or not isinstance(exponent, Value) or exponent.batched:
            return False
        return self.memo(
            "squares", [exponent.tensor], lambda: bool(np.all(exponent.tensor.numpy() == 2))
        )

    def channels_last(self) -> bool:
        """Whether a ``BiasAdd`` adds along the last axis (NHWC), as broadcasting does."""
        return self.attr("data_format") in (b"NHWC", "NHWC")

    def integers(self, position: int, value: Value) -> list[int]:
        """A fixed operand (axes, a shape, a permutation) as a list of ints, read once."""
        if value.batched:
            raise Unsupported(f"{self.type} with a batched operand {position} (axes or shape)")
        if position not in self._constants:
            flat = value.tensor.numpy().reshape(-1)
            self._constants[position] = [int(item) for item in flat]
        return self._constants[position]


class Unsupported(Exception):
    """``f``'s graph holds an operation the batched replay has no rule for."""


@dataclass(frozen=True)
class Value:
    """A tensor during the replay: batched (leading batch dimension) or the same for all."""

    tensor: Any
    batched: bool

    @property
    def rank(self) -> int:
        """The rank of one item of the batch."""
        return len(self.tensor.shape) - int(self.batched)


Rule = Callable[[Node, list[Value]], list[Value]]


def _batched(tensor: Any) -> list[Value]:
    return [Value(tensor, True)]


def _aligned(values: Sequence[Value]) -> list[Any]:
    """The operands, batched ones given ones after the batch axis so all broadcast alike."""
    rank = max(value.rank for value in values)
    tensors = []
    for value in values:
        tensor = value.tensor
        if value.batched:
            for _ in range(rank - value.rank):
                tensor = tf.expand_dims(tensor, 1)
        tensors.append(tensor)
    return tensors


def _elementwise(function: Callable[..., Any]) -> Rule:
    """A rule for a broadcasting elementwise operation."""

    def rule(node: Node, values: list[Value]) -> list[Value]:
        if node.squares(values):
            return _batched(tf.square(values[0].tensor))
        return _batched(function(*_aligned(values)))

    return rule


def _unary(function: Callable[[Any], Any]) -> Rule:
    """A rule for an operation applied to each element (or each last-axis row) alone."""

    def rule(node: Node, values: list[Value]) -> list[Value]:
        return _batched(function(values[0].tensor))

    return rule


def _cast(node: Node, values: list[Value]) -> list[Value]:
    return _batched(tf.cast(values[0].tensor, node.attr("DstT")))


def _leaky_relu(node: Node, values: list[Value]) -> list[Value]:
    return _batched(tf.nn.leaky_relu(values[0].tensor, alpha=node.attr("alpha")))


def _bias_add(node: Node, values: list[Value]) -> list[Value]:
    if not node.channels_last():
        raise Unsupported("BiasAdd in NCHW layout")
    return _elementwise(tf.add)(node, values)


def _matmul(node: Node, values: list[Value]) -> list[Value]:
    a, b = values
    transpose_a, transpose_b = node.attr("transpose_a"), node.attr("transpose_b")
    if a.batched and not b.batched and not transpose_a:
        # (batch, m, k) @ (k, n) is one (batch * m, k) @ (k, n) product.
        batch, rows, inner = a.tensor.shape
        flat = tf.reshape(a.tensor, [batch * rows, inner])
        product = tf.matmul(flat, b.tensor, transpose_b=transpose_b)
        return _batched(tf.reshape(product, [batch, rows, -1]))
    return _batched(
        tf.linalg.matmul(a.tensor, b.tensor, transpose_a=transpose_a, transpose_b=transpose_b)
    )


def _batch_matmul(node: Node, values: list[Value]) -> list[Value]:
    a, b = _aligned(values)
    return _batched(
        tf.linalg.matmul(a, b, adjoint_a=node.attr("adj_x"), adjoint_b=node.attr("adj_y"))
    )


def _reduction(function: Callable[..., Any]) -> Rule:
    def rule(node: Node, values: list[Value]) -> list[Value]:
        data, axes = values
        if data.rank == 0:
            return _batched(data.tensor)
        shifted = [axis % data.rank + 1 for axis in node.integers(1, axes)]
        return _batched(function(data.tensor, shifted, keepdims=node.attr("keep_dims")))

    return rule


def _reshape(node: Node, values: list[Value]) -> list[Value]:
    data, shape = values
    return _batched(tf.reshape(data.tensor, [data.tensor.shape[0], *node.integers(1, shape)]))


def _transpose(node: Node, values: list[Value]) -> list[Value]:
    data, permutation = values
    order = [0] + [axis + 1 for axis in node.integers(1, permutation)]
    return _batched(tf.transpose(data.tensor, order))


def _expand_dims(node: Node, values: list[Value]) -> list[Value]:
    data, axis = values
    (where,) = node.integers(1, axis)
    return _batched(tf.expand_dims(data.tensor, where + 1 if where >= 0 else where))


def _squeeze(node: Node, values: list[Value]) -> list[Value]:
    (data,) = values
    axes = list(node.attr("squeeze_dims"))
    if not axes:
        axes = [axis for axis, size in enumerate(data.tensor.shape[1:]) if size == 1]
    return _batched(tf.squeeze(data.tensor, [axis % data.rank + 1 for axis in axes]))


def _item_shape(function: Callable[[list[int]], Any]) -> Rule:
    """Shape, Size and Rank of one item: the same for the whole batch."""

    def rule(node: Node, values: list[Value]) -> list[Value]:
        shape = list(values[0].tensor.shape[1:])
        return [Value(tf.constant(function(shape), node.output_dtypes[0]), False)]

    return rule


def pass_through(node: Node, values: list[Any]) -> list[Any]:
    """The rule for Identity-like operations: the operands, unchanged, as the outputs."""
    return list(values)


def _softmax_cross_entropy(node: Node, values: list[Value]) -> list[Value]:
    """Both operands are 2-D: fold the batch into their rows, then unfold both outputs."""
    features, labels = _aligned(values)
    shape = tf.broadcast_dynamic_shape(tf.shape(features), tf.shape(labels))
    classes = shape[-1]
    loss, backprop = tf.raw_ops.SoftmaxCrossEntropyWithLogits(
        features=tf.reshape(tf.broadcast_to(features, shape), [-1, classes]),
        labels=tf.reshape(tf.broadcast_to(labels, shape), [-1, classes]),
    )
    return [Value(tf.reshape(loss, shape[:-1]), True), Value(tf.reshape(backprop, shape), True)]


def _nhwc(node: Node) -> None:
    if node.attr("data_format") not in (b"NHWC", "NHWC"):
        raise Unsupported(f"{node.type} in NCHW layout")


def _folded(function: Callable[[Any], Any], batched: Any) -> Any:
    """``function`` of a batch of images: the batch folded into the images' own N axis."""
    batch, images, *rest = batched.shape
    output = function(tf.reshape(batched, [batch * images, *rest]))
    return tf.reshape(output, [batch, images, *output.shape[1:]])


def _conv2d(node: Node, values: list[Value]) -> list[Value]:
    """A batch of images is one convolution of ``batch × N`` images; a batch of filters
    is one convolution with ``batch × out`` output channels."""
    _nhwc(node)
    images, filters = values

    def convolve(x: Any, w: Any) -> Any:
        return tf.raw_ops.Conv2D(
            input=x,
            filter=w,
            strides=node.attr("strides"),
            padding=node.attr("padding"),
            explicit_paddings=node.attr("explicit_paddings"),
            data_format="NHWC",
            dilations=node.attr("dilations"),
        )

    if images.batched and filters.batched:
        raise Unsupported("Conv2D whose image and filter both depend on the input")
    if images.batched:
        return _batched(_folded(lambda x: convolve(x, filters.tensor), images.tensor))
    batch, height, width, depth, out = filters.tensor.shape
    stacked = tf.reshape(tf.transpose(filters.tensor, [1, 2, 3, 0, 4]), [height, width, depth, -1])
    output = convolve(images.tensor, stacked)
    split = tf.reshape(output, [*output.shape[:3], batch, out])
    return _batched(tf.transpose(split, [3, 0, 1, 2, 4]))


def _pool(function: Callable[..., Any], operand: str) -> Rule:
    """A rule for a pooling raw op whose image argument is called ``operand``."""

    def rule(node: Node, values: list[Value]) -> list[Value]:
        _nhwc(node)
        attributes = {name: node.attr(name) for name in ("ksize", "strides", "padding")}

        def pool(x: Any) -> Any:
            return function(**{operand: x}, data_format="NHWC", **attributes)

        return _batched(_folded(pool, values[0].tensor))

    return rule


def _einsum(node: Node, values: list[Value]) -> list[Value]:
    """The batch becomes one more index, on the batched operands and the output."""
    equation = node.attr("equation")
    equation = equation.decode() if isinstance(equation, bytes) else equation
    if "..." in equation or "->" not in equation:
        raise Unsupported(f"Einsum {equation!r} (ellipsis or implicit output)")
    letter = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in equation)
    operands, output = equation.split("->")
    specs = [
        letter + spec if value.batched else spec
        for spec, value in zip(operands.split(","), values, strict=True)
    ]
    batched = f"{','.join(specs)}->{letter}{output}"
    return _batched(tf.einsum(batched, *(value.tensor for value in values)))


def _gather(node: Node, values: list[Value]) -> list[Value]:
    params, indices, axis = values
    if indices.batched or node.attr("batch_dims") != 0:
        raise Unsupported("GatherV2 with changing indices or batch_dims")
    (where,) = node.integers(2, axis)
    return _batched(tf.gather(params.tensor, indices.tensor, axis=where % params.rank + 1))


def _all_batched(values: Sequence[Value]) -> list[Any]:
    """The operands, the fixed ones repeated for every item of the batch."""
    batch = next(value.tensor.shape[0] for value in values if value.batched)
    return [
        value.tensor
        if value.batched
        else tf.tile(value.tensor[tf.newaxis], [batch] + [1] * value.rank)
        for value in values
    ]


def _concat(node: Node, values: list[Value]) -> list[Value]:
    *pieces, axis = values
    (where,) = node.integers(len(pieces), axis)
    return _batched(tf.concat(_all_batched(pieces), where % pieces[0].rank + 1))


def _pack(node: Node, values: list[Value]) -> list[Value]:
    axis = node.attr("axis") % (values[0].rank + 1) + 1
    return _batched(tf.stack(_all_batched(values), axis))


def _strided_slice(node: Node, values: list[Value]) -> list[Value]:
    """The batch axis is taken whole: one more full slice in front."""
    data, begin, end, strides = values
    masks = [node.attr(name) for name in ("begin_mask", "end_mask", "ellipsis_mask")]
    masks += [node.attr(name) for name in ("new_axis_mask", "shrink_axis_mask")]
    begin_mask, end_mask, ellipsis, new_axis, shrink = (mask << 1 for mask in masks)
    return _batched(
        tf.strided_slice(
            data.tensor,
            [0, *node.integers(1, begin)],
            [0, *node.integers(2, end)],
            [1, *node.integers(3, strides)],
            begin_mask=begin_mask | 1,
            end_mask=end_mask | 1,
            ellipsis_mask=ellipsis,
            new_axis_mask=new_axis,
            shrink_axis_mask=shrink,
        )
    )


UNARY = {
    "Identity": tf.identity,
    "StopGradient": tf.identity,  # the forward value is all a finite difference sees
    "Neg": tf.negative,
    "Abs": tf.abs,
    "Sign": tf.sign,
    "Square": tf.square,
    "Sqrt": tf.sqrt,
    "Rsqrt": tf.math.rsqrt,
    "Reciprocal": tf.math.reciprocal,
    "Exp": tf.exp,
    "Expm1": tf.math.expm1,
    "Log": tf.math.log,
    "Log1p": tf.math.log1p,
    "Sin": tf.sin,
    "Cos": tf.cos,
    "Tan": tf.tan,
    "Tanh": tf.tanh,
    "Sigmoid": tf.sigmoid,
    "Erf": tf.math.erf,
    "Relu": tf.nn.relu,
    "Relu6": tf.nn.relu6,
    "Elu": tf.nn.elu,
    "Selu": tf.nn.selu,
    "Softplus": tf.math.softplus,
    "Softsign": tf.nn.softsign,
    "Softmax": tf.nn.softmax,
    "LogSoftmax": tf.nn.log_softmax,
    "ZerosLike": tf.zeros_like,
    "OnesLike": tf.ones_like,
}

ELEMENTWISE = {
    "Add": tf.add,
    "AddV2": tf.add,
    "Sub": tf.subtract,
    "Mul": tf.multiply,
    "RealDiv": tf.divide,
    "Div": tf.divide,
    "DivNoNan": tf.math.divide_no_nan,
    "Maximum": tf.maximum,
    "Minimum": tf.minimum,
    "Pow": tf.pow,
    "SquaredDifference": tf.math.squared_difference,
    "Xlogy": tf.math.xlogy,
    "Xdivy": tf.math.xdivy,
    "Atan2": tf.atan2,
    "Greater": tf.greater,
    "GreaterEqual": tf.greater_equal,
    "Less": tf.less,
    "LessEqual": tf.less_equal,
    "Equal": tf.equal,
    "NotEqual": tf.not_equal,
    "SelectV2": tf.where,
    "AddN": lambda *terms: functools.reduce(tf.add, terms),
}

RULES: dict[str, Rule] = {
    **{name: _unary(function) for name, function in UNARY.items()},
    **{name: _elementwise(function) for name, function in ELEMENTWISE.items()},
    "Cast": _cast,
    "LeakyRelu": _leaky_relu,
    "BiasAdd": _bias_add,
    "MatMul": _matmul,
    "BatchMatMulV2": _batch_matmul,
    "BatchMatMulV3": _batch_matmul,
    "Sum": _reduction(tf.reduce_sum),
    "Mean": _reduction(tf.reduce_mean),
    "Max": _reduction(tf.reduce_max),
    "Min": _reduction(tf.reduce_min),
    "Prod": _reduction(tf.reduce_prod),
    "Reshape": _reshape,
    "Transpose": _transpose,
    "ExpandDims": _expand_dims,
    "Squeeze": _squeeze,
    "Shape": _item_shape(lambda shape: shape),
    "Size": _item_shape(lambda shape: int(np.prod(shape))),
    "Rank": _item_shape(len),
    "IdentityN": pass_through,
    "SoftmaxCrossEntropyWithLogits": _softmax_cross_entropy,
    "Conv2D": _conv2d,
    "MaxPool": _pool(tf.raw_ops.MaxPool, "input"),
    "AvgPool": _pool(tf.raw_ops.AvgPool, "value"),
    "Einsum": _einsum,
    "GatherV2": _gather,
    "ConcatV2": _concat,
    "Pack": _pack,
    "StridedSlice": _strided_slice,
}
"""How each operation type runs on batched operands."""
