"""Time gradient checks of MLP losses: tf.test.compute_gradient against gradlab.gradcheck.

    python benchmarks/gradcheck.py                    # 1k, 10k and 50k parameters
    python benchmarks/gradcheck.py --sizes 10000      # one size
    python benchmarks/gradcheck.py --tf-subset 5000   # time TF on part of each input, extrapolate

Each loss is the mean squared error of a two-hidden-layer tanh MLP on a small
batch of synthetic data, in float64, as a plain Python function of its six
weight tensors. Every timing is a cold call, as a user makes it: tracing and
compilation included (nothing is cached between calls). Fast mode, which takes
milliseconds, is also given as the median of three calls, since a single call
that short is at the mercy of other processes on a shared machine.
``tf.test.compute_gradient`` is called as users call it, on the plain (eager)
function. "full, replay off" is full mode with its accelerator switched off
(``GRADLAB_REPLAY=off``: every input evaluated in the compiled loop), so the
"replay worth" column is what replaying ``f`` downstream of each input saves.
Full checks run without a time budget (``max_seconds=None``).

Errors: "max abs error" is the largest |numerical - analytical| over all
parameters, each tool's numerical gradient against the same analytical one.
For fast mode it is over directional derivatives.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# isort: off
import gradlab

gradlab.quiet_tensorflow()  # before TensorFlow is imported: no start-up noise

# isort: on
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gradlab.gradcheck import check_gradients  # noqa: E402
from gradlab.gradcheck.differences import REPLAY_VARIABLE  # noqa: E402

FEATURES = 16


@dataclass
class Problem:
    """An MLP loss and the weights to check it at."""

    loss: Callable[..., tf.Tensor]
    weights: list[tf.Tensor]

    @property
    def size(self) -> int:
        return sum(int(np.prod(w.shape)) for w in self.weights)


@dataclass
class Timing:
    seconds: float
    max_abs_error: float
    note: str = ""


def hidden_width(parameters: int) -> int:
    """The width w of both hidden layers that gives about ``parameters`` weights.

    The MLP has (FEATURES + 1) * w + (w + 1) * w + (w + 1) parameters.
    """
    a, b, c = 1.0, FEATURES + 3.0, 1.0 - parameters
    return max(1, round((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)))


def mlp_problem(parameters: int, batch: int, seed: int = 0) -> Problem:
    """A float64 MLP loss with about ``parameters`` weights, on ``batch`` examples."""
    rng = np.random.default_rng(seed)
    width = hidden_width(parameters)
    x = tf.constant(rng.standard_normal((batch, FEATURES)))
    y = tf.constant(rng.standard_normal((batch, 1)))
    shapes = [(FEATURES, width), (width,), (width, width), (width,), (width, 1), (1,)]
    weights = [tf.constant(rng.standard_normal(s) / math.sqrt(s[0])) for s in shapes]

    def loss(w1, b1, w2, b2, w3, b3):
        hidden = tf.tanh(x @ w1 + b1)
        hidden = tf.tanh(hidden @ w2 + b2)
        return tf.reduce_mean((hidden @ w3 + b3 - y) ** 2)

    return Problem(loss, weights)


def time_tensorflow(problem: Problem, subset: int | None) -> Timing:
    """``tf.test.compute_gradient`` on the whole problem, or on ``subset`` elements.

    With a subset, only the first ``subset`` elements of each input are
    perturbed (the others held fixed inside a wrapper), and the time is scaled
    by the fraction of elements covered.
    """
    if subset is None or subset >= problem.size:
        start = time.perf_counter()
        theoretical, numerical = tf.test.compute_gradient(problem.loss, problem.weights)
        seconds = time.perf_counter() - start
        error = max(
            float(np.max(np.abs(t - n))) for t, n in zip(theoretical, numerical, strict=True)
        )
        return Timing(seconds, error)
    seconds, errors, covered = 0.0, [], 0
    share = max(1, subset // len(problem.weights))
    for position, weight in enumerate(problem.weights):
        flat = tf.reshape(weight, [-1])
        count = min(share, int(flat.shape[0]))
        head, tail = flat[:count], flat[count:]

        def partial(head_values, position=position, tail=tail, shape=weight.shape):
            values = list(problem.weights)
            values[position] = tf.reshape(tf.concat([head_values, tail], 0), shape)
            return problem.loss(*values)

        start = time.perf_counter()
        theoretical, numerical = tf.test.compute_gradient(partial, [head])
        seconds += time.perf_counter() - start
        errors.append(float(np.max(np.abs(theoretical[0] - numerical[0]))))
        covered += count
    scale = problem.size / covered
    note = f"extrapolated from {covered:,} of {problem.size:,} elements"
    return Timing(seconds * scale, max(errors), note)


def time_gradlab(problem: Problem, mode: str, calls: int = 1, replay: str = "on") -> list[Timing]:
    """``calls`` consecutive ``check_gradients`` calls, the first one cold.

    Nothing is cached between calls (each traces and compiles afresh), so
    later calls only differ from the first by the noise of a shared machine.
    ``replay`` is the full check's accelerator setting (``"on"`` or ``"off"``).
    """
    timings = []
    previous = os.environ.get(REPLAY_VARIABLE)
    os.environ[REPLAY_VARIABLE] = replay
    try:
        for _ in range(calls):
            start = time.perf_counter()
            report = check_gradients(problem.loss, problem.weights, mode=mode, max_seconds=None)
            seconds = time.perf_counter() - start
            if not report.ok:
                raise SystemExit(f"the {mode} check of a correct gradient failed:\n{report}")
            timings.append(Timing(seconds, report.max_abs_error))
    finally:
        if previous is None:
            os.environ.pop(REPLAY_VARIABLE)
        else:
            os.environ[REPLAY_VARIABLE] = previous
    return timings


def parse_sizes(text: str) -> list[int]:
    """``"1k,10k,50000"`` -> ``[1000, 10000, 50000]``."""
    sizes = []
    for item in text.split(","):
        item = item.strip().lower()
        sizes.append(int(float(item[:-1]) * 1000) if item.endswith("k") else int(item))
    return sizes


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1k,10k,50k", help="parameter counts (default 1k,10k,50k)"
    )
    parser.add_argument("--batch", type=int, default=8, help="examples in the loss (default 8)")
    parser.add_argument(
        "--tf-subset",
        type=int,
        default=None,
        help="time tf.test.compute_gradient on this many elements per size and extrapolate",
    )
    args = parser.parse_args(argv)
    print(
        f"MLP losses ({FEATURES} features, two tanh hidden layers, batch {args.batch}, float64); "
        f"TensorFlow {tf.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs\n"
    )
    rows = [
        [
            "parameters",
            "tf.test.compute_gradient",
            "full",
            "speed-up",
            "full, replay off",
            "replay worth",
            "fast",
            "speed-up",
            "fast, median of 3",
            "speed-up",
            "max abs error: tf",
            "full",
            "fast",
        ]
    ]
    notes = []
    for size in parse_sizes(args.sizes):
        problem = mlp_problem(size, args.batch)
        reference = time_tensorflow(problem, args.tf_subset)
        (full,) = time_gradlab(problem, "full")
        (unreplayed,) = time_gradlab(problem, "full", replay="off")
        fasts = time_gradlab(problem, "fast", calls=3)
        fast = fasts[0]
        typical = sorted(item.seconds for item in fasts)[1]
        mark = "*" if reference.note else ""
        if reference.note:
            notes.append(f"* {problem.size:,} parameters: TensorFlow time {reference.note}")
        rows.append(
            [
                f"{problem.size:,}",
                f"{reference.seconds:.2f} s{mark}",
                f"{full.seconds:.3f} s",
                f"{reference.seconds / full.seconds:.0f}x",
                f"{unreplayed.seconds:.3f} s",
                f"{unreplayed.seconds / full.seconds:.1f}x",
                f"{fast.seconds * 1e3:.1f} ms",
                f"{reference.seconds / fast.seconds:.0f}x",
                f"{typical * 1e3:.1f} ms",
                f"{reference.seconds / typical:.0f}x",
                f"{reference.max_abs_error:.1e}",
                f"{full.max_abs_error:.1e}",
                f"{fast.max_abs_error:.1e}",
            ]
        )
        print(f"  measured {problem.size:,} parameters", file=sys.stderr, flush=True)
    print(format_table(rows))
    for note in notes:
        print(note)
    print(
        "\nfull and fast: the first call is cold (tracing and compilation included); "
        "'fast, median of 3' adds two more calls that do exactly the same work."
    )


if __name__ == "__main__":
    main()
