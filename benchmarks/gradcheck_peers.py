"""Time gradlab.gradcheck against its peers: torch.autograd.gradcheck and jax's check_grads.

    python benchmarks/gradcheck_peers.py                  # MLPs of 1k, 10k, 50k, and the zoo
    python benchmarks/gradcheck_peers.py --sizes 10k --no-zoo
    python benchmarks/gradcheck_peers.py --torch-full-max 10k   # skip torch full above 10k

The MLPs are those of ``benchmarks/gradcheck.py`` (same weights, same data),
written once more in torch and in jax for their checkers, all in float64.
Each tool is timed cold (its first call in this process: tracing,
compilation and dispatch caches included) and warm (a second, identical
call). ``torch.autograd.gradcheck`` runs in full (every element) and in
``fast_mode`` (one random projection); ``jax.test_util.check_grads`` checks
reverse mode along random directions, like gradlab's fast mode. The zoo rows
(``tests/keras_zoo.py``: real Keras layers) compare gradlab with
``tf.test.compute_gradient``; torch and jax have no copy of those models.

torch and jax are optional (``uv sync --group peers``); a peer that is not
installed shows as "not installed".
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import gradcheck as mlp  # benchmarks/gradcheck.py: the MLPs, the table, gradlab quiet
import numpy as np
import tensorflow as tf

from gradlab.gradcheck import check_gradients

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the zoo lives in tests/
from tests.keras_zoo import ZOO

ABSENT = "not installed"


def cold_and_warm(run: Callable[[], object]) -> tuple[float, float]:
    """Seconds of a first and a second identical call of ``run``."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def gradlab_times(loss: Callable, weights, mode: str) -> tuple[float, float]:
    def run():
        report = check_gradients(loss, weights, mode=mode, max_seconds=None)
        if not report.ok:
            raise SystemExit(f"gradlab's {mode} check of a correct gradient failed:\n{report}")

    return cold_and_warm(run)


def mlp_data(problem: mlp.Problem, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """The x and y of ``mlp.mlp_problem`` (same seed, same draws)."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((batch, mlp.FEATURES)), rng.standard_normal((batch, 1))


def torch_times(problem: mlp.Problem, batch: int, fast: bool) -> tuple[float, float] | None:
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    x, y = (torch.from_numpy(a) for a in mlp_data(problem, batch))
    weights = [torch.from_numpy(w.numpy().copy()).requires_grad_(True) for w in problem.weights]

    def loss(w1, b1, w2, b2, w3, b3):
        hidden = torch.tanh(torch.tanh(x @ w1 + b1) @ w2 + b2)
        return torch.mean((hidden @ w3 + b3 - y) ** 2)

    def run():
        if not torch.autograd.gradcheck(loss, weights, fast_mode=fast):
            raise SystemExit("torch.autograd.gradcheck failed on a correct gradient")

    return cold_and_warm(run)


def jax_times(problem: mlp.Problem, batch: int) -> tuple[float, float] | None:
    if importlib.util.find_spec("jax") is None:
        return None
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.test_util import check_grads

    x, y = (jnp.asarray(a) for a in mlp_data(problem, batch))
    weights = [jnp.asarray(w.numpy()) for w in problem.weights]

    def loss(w1, b1, w2, b2, w3, b3):
        hidden = jnp.tanh(jnp.tanh(x @ w1 + b1) @ w2 + b2)
        return jnp.mean((hidden @ w3 + b3 - y) ** 2)

    return cold_and_warm(lambda: check_grads(loss, weights, order=1, modes=["rev"]))


def tensorflow_times(loss: Callable, weights: dict) -> tuple[float, float]:
    keys = list(weights)

    def positional(*values):
        return loss(**dict(zip(keys, values, strict=True)))

    return cold_and_warm(lambda: tf.test.compute_gradient(positional, list(weights.values())))


def pair(times: tuple[float, float] | None) -> str:
    if times is None:
        return ABSENT
    return f"{seconds(times[0])} / {seconds(times[1])}"


def seconds(value: float) -> str:
    return f"{value * 1e3:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratio(slow: tuple[float, float] | None, fast: tuple[float, float]) -> str:
    """How many times longer ``slow`` took than ``fast``, cold / warm."""
    if slow is None:
        return ""
    return f"{slow[0] / fast[0]:.1f}x / {slow[1] / fast[1]:.1f}x"


HEADER = [
    "problem",
    "parameters",
    "gradlab full",
    "gradlab fast",
    "torch full",
    "torch fast_mode",
    "jax check_grads",
    "tf.test.compute_gradient",
    "full vs torch full",
    "fast vs torch fast_mode",
]


def mlp_row(size: int, batch: int, torch_full_max: int) -> list[str]:
    problem = mlp.mlp_problem(size, batch)
    full = gradlab_times(problem.loss, problem.weights, "full")
    fast = gradlab_times(problem.loss, problem.weights, "fast")
    torch_fast = torch_times(problem, batch, True)  # first: on the first MLP, torch's cold start
    torch_full = torch_times(problem, batch, False) if problem.size <= torch_full_max else None
    skipped = torch_full is None and importlib.util.find_spec("torch") is not None
    return [
        f"MLP (tanh, H={mlp.hidden_width(size)})",
        f"{problem.size:,}",
        pair(full),
        pair(fast),
        "skipped (--torch-full-max)" if skipped else pair(torch_full),
        pair(torch_fast),
        pair(jax_times(problem, batch)),
        "see benchmarks/gradcheck.py",
        ratio(torch_full, full),
        ratio(torch_fast, fast),
    ]


def zoo_row(name: str) -> list[str]:
    entry = ZOO[name]()
    full = gradlab_times(entry.loss, entry.weights, "full")
    reference = tensorflow_times(entry.loss, entry.weights)
    fast = gradlab_times(entry.loss, entry.weights, "fast")
    return [
        f"zoo: {name}",
        f"{entry.size:,}",
        pair(full),
        pair(fast),
        "",
        "",
        "",
        f"{pair(reference)} ({reference[0] / full[0]:.0f}x full)",
        "",
        "",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1k,10k,50k", help="MLP parameter counts")
    parser.add_argument("--batch", type=int, default=8, help="examples in each MLP loss")
    parser.add_argument(
        "--torch-full-max",
        default="1000k",
        help="largest MLP torch's full gradcheck runs on (it grows like N²)",
    )
    parser.add_argument("--no-zoo", action="store_true", help="MLPs only")
    args = parser.parse_args(argv)
    (torch_full_max,) = mlp.parse_sizes(args.torch_full_max)
    versions = [f"TensorFlow {tf.__version__}"]
    for name in ("torch", "jax"):
        if importlib.util.find_spec(name) is not None:
            versions.append(f"{name} {__import__(name).__version__}")
    print(f"float64, {', '.join(versions)}, {os.cpu_count()} CPUs; each cell: cold / warm\n")
    rows = [HEADER]
    for size in mlp.parse_sizes(args.sizes):
        rows.append(mlp_row(size, args.batch, torch_full_max))
        print(f"  measured the MLP of {size:,}", file=sys.stderr, flush=True)
    for name in [] if args.no_zoo else ZOO:
        rows.append(zoo_row(name))
        print(f"  measured zoo: {name}", file=sys.stderr, flush=True)
    print(mlp.format_table(rows))
    print(
        "\ncold: a tool's first call on that problem in this process. gradlab traces f afresh "
        "on every call, so its cold and warm calls do the same work; torch's and jax's first "
        "call pays a one-time start (dispatch, compilation), so their cold cell on the first "
        "MLP holds it (torch fast_mode runs before torch full) and later rows are warm."
    )


if __name__ == "__main__":
    main()
