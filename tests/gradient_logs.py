"""Gradients with a known truth, for the gradlab.tensorboard tests.

A two-layer linear network (``Dense(4)`` then ``Dense(1)``, no activation)
under a mean squared error has gradients numpy can write down by hand, so
every logged norm and histogram can be checked against numbers that owe
nothing to TensorFlow's gradient machinery.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gradlab.tensorboard import create_writer, log_gradients

INPUTS = 3
HIDDEN = 4
VARIABLE_PATHS = [
    "linear/hidden/kernel",
    "linear/hidden/bias",
    "linear/output/kernel",
    "linear/output/bias",
]


def make_model(seed: int = 0) -> keras.Sequential:
    """The linear network, with seeded weights; its variables have ``VARIABLE_PATHS``."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((INPUTS,)),
            keras.layers.Dense(HIDDEN, name="hidden", bias_initializer="glorot_uniform"),
            keras.layers.Dense(1, name="output", bias_initializer="glorot_uniform"),
        ],
        name="linear",
    )


def make_data(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` seeded float32 examples ``(x, y)`` with ``x`` of shape ``(count, 3)``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, INPUTS)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    return x, y


def numpy_gradients(weights: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Gradients of ``mean((prediction - y) ** 2)`` for the linear network, by hand.

    ``weights`` and the result are ``[hidden kernel, hidden bias, output
    kernel, output bias]``, the order of ``model.trainable_variables``.
    """
    w1, b1, w2, b2 = (np.asarray(w, dtype=np.float64) for w in weights)
    x, y = x.astype(np.float64), y.astype(np.float64)
    hidden = x @ w1 + b1
    d_prediction = 2.0 * (hidden @ w2 + b2 - y) / y.size
    d_hidden = d_prediction @ w2.T
    return [x.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_prediction, d_prediction.sum(0)]


def log_training(logdir: str | Path, steps: int = 3, batch: int = 8) -> dict[str, list]:
    """Train the network for ``steps`` SGD steps in a ``tf.function``, logging gradients.

    Each step ``s`` (0, 1, ...) uses the next ``batch`` examples and logs with
    an int64 tensor step. Returns the true gradients, ``{path: [gradient at
    step 0, at step 1, ...]}``, computed by :func:`numpy_gradients`.
    """
    model = make_model()
    x, y = make_data(steps * batch)
    optimizer = keras.optimizers.SGD(learning_rate=0.05)
    writer = create_writer(logdir)

    @tf.function
    def train_step(x_batch, y_batch, step):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x_batch) - y_batch))
        grads = tape.gradient(loss, model.trainable_variables)
        log_gradients(zip(grads, model.trainable_variables, strict=True), step, writer=writer)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    expected: dict[str, list] = {path: [] for path in VARIABLE_PATHS}
    for step in range(steps):
        rows = slice(step * batch, (step + 1) * batch)
        truth = numpy_gradients(model.get_weights(), x[rows], y[rows])
        for path, gradient in zip(VARIABLE_PATHS, truth, strict=True):
            expected[path].append(gradient)
        train_step(x[rows], y[rows], tf.constant(step, tf.int64))
    writer.close()
    return expected
