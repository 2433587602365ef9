"""A zoo of small real Keras models in float64, each a loss of weights passed in.

Every entry is a :class:`ZooEntry`: ``loss(*weights)`` computes a scalar loss
of the model on fixed data with ``model.stateless_call`` (the trainable
weights are the arguments; the non-trainable ones, moving statistics and
seed states, are fixed tensors read once), so the loss never closes over a
variable and never assigns one. The models are small enough for a full
gradient check in well under a second, and are shared by the zoo tests and
the peer benchmark (``benchmarks/gradcheck_peers.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

DTYPE = "float64"


@dataclass
class ZooEntry:
    """A Keras model, its loss as a function of its trainable weights, and those weights."""

    name: str
    model: keras.Model
    loss: Callable[..., Any]
    weights: dict[str, Any]
    """The trainable weights by variable path, in the model's order (``loss(**weights)``)."""

    @property
    def size(self) -> int:
        """Number of trainable parameters."""
        return sum(int(np.prod(w.shape)) for w in self.weights.values())


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, 21])


def _entry(
    name: str,
    model: keras.Model,
    x: Any,
    *,
    training: bool = False,
    seed: int = 0,
    loss_of: Callable[[Any, Any], Any] | None = None,
) -> ZooEntry:
    """The mean squared error of ``model`` on ``x`` against a fixed random target."""
    output_shape = tuple(model.compute_output_shape(tuple(x.shape)))
    target = tf.constant(_rng(seed + 1).standard_normal(output_shape))
    fixed = [tf.constant(v.numpy()) for v in model.non_trainable_variables]
    measure = loss_of or (lambda output, y: tf.reduce_mean((output - y) ** 2))

    def loss(**weights: Any) -> Any:
        output, _ = model.stateless_call(list(weights.values()), fixed, x, training=training)
        return measure(output, target)

    loss.__qualname__ = f"{name}_loss"
    weights = {v.path: tf.constant(v.numpy()) for v in model.trainable_variables}
    return ZooEntry(name, model, loss, weights)


def _data(shape: tuple[int, ...], seed: int = 0) -> Any:
    return tf.constant(_rng(seed).standard_normal(shape))


def _sequential(input_shape: tuple[int, ...], *layers: Any, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(input_shape, dtype=DTYPE), *layers])


def dense_stack() -> ZooEntry:
    """Two tanh Dense layers and a linear head."""
    model = _sequential(
        (6,),
        keras.layers.Dense(8, activation="tanh", dtype=DTYPE),
        keras.layers.Dense(8, activation="tanh", dtype=DTYPE),
        keras.layers.Dense(2, dtype=DTYPE),
    )
    return _entry("dense_stack", model, _data((5, 6)))


def conv2d() -> ZooEntry:
    """Conv2D, max pooling, Conv2D, average pooling and a Dense head."""
    model = _sequential(
        (8, 8, 2),
        keras.layers.Conv2D(4, 3, activation="relu", dtype=DTYPE),
        keras.layers.MaxPooling2D(2, dtype=DTYPE),
        keras.layers.Conv2D(3, 2, padding="same", activation="tanh", dtype=DTYPE),
        keras.layers.GlobalAveragePooling2D(dtype=DTYPE),
        keras.layers.Dense(2, dtype=DTYPE),
    )
    return _entry("conv2d", model, _data((3, 8, 8, 2)))


def conv1d() -> ZooEntry:
    """Conv1D, global average pooling and a Dense head."""
    model = _sequential(
        (10, 3),
        keras.layers.Conv1D(4, 3, activation="tanh", dtype=DTYPE),
        keras.layers.GlobalAveragePooling1D(dtype=DTYPE),
        keras.layers.Dense(2, dtype=DTYPE),
    )
    return _entry("conv1d", model, _data((3, 10, 3)))


def lstm() -> ZooEntry:
    """An LSTM over 4 steps and a Dense head."""
    model = _sequential(
        (4, 3), keras.layers.LSTM(4, dtype=DTYPE), keras.layers.Dense(1, dtype=DTYPE)
    )
    return _entry("lstm", model, _data((2, 4, 3)))


def gru() -> ZooEntry:
    """A GRU over 4 steps and a Dense head."""
    model = _sequential(
        (4, 3), keras.layers.GRU(4, dtype=DTYPE), keras.layers.Dense(1, dtype=DTYPE)
    )
    return _entry("gru", model, _data((2, 4, 3)))


def attention() -> ZooEntry:
    """Self-attention with two heads."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3, 4), dtype=DTYPE)
    outputs = keras.layers.MultiHeadAttention(2, 2, dtype=DTYPE)(inputs, inputs)
    model = keras.Model(inputs, outputs)
    return _entry("attention", model, _data((2, 3, 4)))


def batch_norm() -> ZooEntry:
    """Dense, BatchNormalization in training mode (batch statistics), tanh."""
    model = _sequential(
        (4,),
        keras.layers.Dense(5, dtype=DTYPE),
        keras.layers.BatchNormalization(dtype=DTYPE),
        keras.layers.Activation("tanh", dtype=DTYPE),
        keras.layers.Dense(1, dtype=DTYPE),
    )
    return _entry("batch_norm", model, _data((6, 4)), training=True)


def layer_norm() -> ZooEntry:
    """Dense, LayerNormalization, Dense."""
    model = _sequential(
        (4,),
        keras.layers.Dense(5, dtype=DTYPE),
        keras.layers.LayerNormalization(dtype=DTYPE),
        keras.layers.Dense(2, dtype=DTYPE),
    )
    return _entry("layer_norm", model, _data((6, 4)))


def embedding() -> ZooEntry:
    """Embedding (IndexedSlices gradients), average over the sequence, Dense."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5,), dtype="int32")
    hidden = keras.layers.Embedding(12, 4, dtype=DTYPE)(inputs)
    hidden = keras.layers.GlobalAveragePooling1D(dtype=DTYPE)(hidden)
    model = keras.Model(inputs, keras.layers.Dense(2, dtype=DTYPE)(hidden))
    ids = tf.constant(_rng(0).integers(0, 12, (4, 5)), tf.int32)
    return _entry("embedding", model, ids)


def dropout() -> ZooEntry:
    """Dense, Dropout(0.5) in training mode with a fixed seed, Dense."""
    model = _sequential(
        (4,),
        keras.layers.Dense(6, activation="tanh", dtype=DTYPE),
        keras.layers.Dropout(0.5, seed=7, dtype=DTYPE),
        keras.layers.Dense(1, dtype=DTYPE),
    )
    return _entry("dropout", model, _data((5, 4)), training=True)


def residual() -> ZooEntry:
    """A residual block: x + Dense(relu(Dense(x))), then LayerNormalization."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), dtype=DTYPE)
    branch = keras.layers.Dense(6, activation="relu", dtype=DTYPE)(inputs)
    branch = keras.layers.Dense(4, dtype=DTYPE)(branch)
    added = keras.layers.Add(dtype=DTYPE)([inputs, branch])
    model = keras.Model(inputs, keras.layers.LayerNormalization(dtype=DTYPE)(added))
    return _entry("residual", model, _data((5, 4)))


@tf.custom_gradient
def _smooth_clip(x: Any) -> Any:
    """``x / (1 + x²)`` with its derivative written by hand."""
    square = 1.0 + x * x

    def gradient(upstream: Any) -> Any:
        return upstream * (1.0 - x * x) / (square * square)

    return x / square, gradient


class SmoothClip(keras.layers.Layer):
    """A layer whose gradient is a hand-written ``tf.custom_gradient``."""

    def call(self, inputs: Any) -> Any:
        return _smooth_clip(inputs)


def custom_gradient() -> ZooEntry:
    """Dense, a custom-gradient activation, Dense."""
    model = _sequential(
        (4,),
        keras.layers.Dense(5, dtype=DTYPE),
        SmoothClip(dtype=DTYPE),
        keras.layers.Dense(1, dtype=DTYPE),
    )
    return _entry("custom_gradient", model, _data((5, 4)))


def _huber(output: Any, target: Any) -> Any:
    error = output - target
    small = tf.abs(error) <= 0.5
    return tf.reduce_mean(tf.where(small, 0.5 * error**2, 0.5 * (tf.abs(error) - 0.25)))


def where_loss() -> ZooEntry:
    """A Dense stack under a Huber loss written with ``tf.where``."""
    model = _sequential(
        (4,),
        keras.layers.Dense(6, activation="tanh", dtype=DTYPE),
        keras.layers.Dense(3, dtype=DTYPE),
    )
    return _entry("where_loss", model, _data((5, 4)), loss_of=_huber)


ZOO: dict[str, Callable[[], ZooEntry]] = {
    "dense_stack": dense_stack,
    "conv2d": conv2d,
    "conv1d": conv1d,
    "lstm": lstm,
    "gru": gru,
    "attention": attention,
    "batch_norm": batch_norm,
    "layer_norm": layer_norm,
    "embedding": embedding,
    "dropout": dropout,
    "residual": residual,
    "custom_gradient": custom_gradient,
    "where_loss": where_loss,
}
"""Every zoo entry by name, built on demand (each builds a fresh model)."""
