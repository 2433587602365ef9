"""Time a later call of ``tape.jacobian``: eager against inside ``tf.function``.

    python benchmarks/jacobians.py                  # batches of 4, 16 and 64 rows
    python benchmarks/jacobians.py --rows 4 --repeats 20

Lesson 5 says eager ``tape.jacobian`` pays for tracing on every call (its
``pfor`` builds a new ``tf.function`` each time) while a ``tf.function`` traces
once. The suite checks the tracing itself (tests/test_lesson05_jacobians.py);
this prints what it costs on this machine: the Jacobian of ``tanh(x @ W)`` for
``x`` of shape (rows, 8), each time the best of ``--repeats`` calls after a
first call that is not timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import gradlab

gradlab.quiet_tensorflow()  # before TensorFlow is imported

# isort: split
import tensorflow as tf  # noqa: E402

from gradlab.tfsupport.quiet import tensorflow_warnings_hidden  # noqa: E402

FEATURES = 8


def jacobian_of(weights: tf.Tensor) -> Callable[[tf.Tensor], tf.Tensor]:
    """The function ``x ↦ d tanh(x @ weights) / dx``, computed with ``tape.jacobian``."""

    def jacobian(x: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.tanh(x @ weights)
        return tape.jacobian(y, x)

    return jacobian


def later_call(function: Callable[[tf.Tensor], tf.Tensor], x: tf.Tensor, repeats: int) -> float:
    """The best time of ``repeats`` calls after a first, untimed one (which may trace)."""
    function(x)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function(x).numpy()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    weights = tf.random.normal((FEATURES, FEATURES), seed=4)
    print(
        f"TensorFlow {tf.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs; best of {options.repeats} later calls"
    )
    print(f"{'x shape':>10} {'eager':>11} {'tf.function':>12} {'ratio':>7}")
    for rows in options.rows:
        x = tf.random.normal((rows, FEATURES), seed=3)
        jacobian = jacobian_of(weights)
        with tensorflow_warnings_hidden():
            eager = later_call(jacobian, x, options.repeats)
            compiled = later_call(tf.function(jacobian), x, options.repeats)
        shape = f"({rows}, {FEATURES})"
        print(
            f"{shape:>10} {eager * 1e3:8.1f} ms {compiled * 1e3:9.2f} ms {eager / compiled:6.0f}×"
        )


if __name__ == "__main__":
    main()
