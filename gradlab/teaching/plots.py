"""The matplotlib figures the lessons show.

Each function takes plain arrays and returns a :class:`matplotlib.figure.Figure`;
computing the numbers is the lesson's job, drawing them is this module's.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from gradlab.diagnose.figure import gradient_flow

__all__ = [
    "curves",
    "eigenvalue_spectrum",
    "error_vs_step",
    "function_and_gradient",
    "gradient_flow",
    "gradient_norms_per_layer",
    "matrix_images",
    "replica_gradient_norms",
    "seconds_per_call",
]


def function_and_gradient(
    x: np.ndarray, y: np.ndarray, dy_dx: np.ndarray, *, label: str = "f(x)"
) -> Figure:
    """A function and its derivative on a shared x axis, zero line marked."""
    figure, axes = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    axes.plot(x, y, label=label, linewidth=2)
    axes.plot(x, dy_dx, label=f"d{label}/dx (GradientTape)", linestyle="--", linewidth=2)
    axes.axhline(0.0, color="0.6", linewidth=0.8)
    axes.set_xlabel("x")
    axes.legend()
    axes.grid(alpha=0.3)
    return figure


def error_vs_step(
    steps: np.ndarray,
    errors: dict[str, np.ndarray],
    *,
    marks: dict[str, float] | None = None,
    title: str = "finite-difference error against step size",
) -> Figure:
    """Log-log curves of a finite-difference error against the step ``h``.

    ``errors`` maps a label ("central, float64") to one error per step; an
    error of exactly zero (the difference happened to be exact) is left out,
    since a log axis cannot show it. Labels ending in the same ", suffix" (a
    dtype) share a colour; labels containing "one-sided" are dashed. ``marks``
    draws a dotted vertical line at each labelled step (e.g. the step a rule
    of thumb recommends).
    """
    figure, axes = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    groups = list(dict.fromkeys(label.rpartition(", ")[2] for label in errors))
    for label, values in errors.items():
        values = np.asarray(values, dtype=np.float64)
        shown = np.where(values > 0, values, np.nan)
        style = "--" if "one-sided" in label else "-"
        color = f"C{groups.index(label.rpartition(', ')[2]) % 10}"
        axes.loglog(steps, shown, style, color=color, label=label, linewidth=1.8)
    for label, step in (marks or {}).items():
        axes.axvline(step, color="0.5", linestyle=":", linewidth=1)
        axes.annotate(
            label,
            (step, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
            color="0.35",
        )
    axes.set_xlabel("step h")
    axes.set_ylabel("|numerical - exact derivative|")
    axes.set_title(title)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3, which="both")
    return figure


def gradient_norms_per_layer(
    panels: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], *, log_scale: bool = True
) -> Figure:
    """Gradient norms against the training step: one panel per run, one line per variable.

    ``panels`` maps a panel title to ``{label: (steps, norms)}``, e.g. the
    ``grad_norm/...`` entries of :func:`gradlab.tensorboard.read_scalars`
    (whose values unpack as ``steps, norms``). Panels share the y axis, so
    runs can be compared; ``log_scale`` suits norms that span decades.
    """
    figure, axes = plt.subplots(
        1, len(panels), figsize=(4.8 * len(panels), 3.6), sharey=True, layout="constrained"
    )
    for ax, (title, lines) in zip(np.atleast_1d(axes), panels.items(), strict=True):
        for label, (steps, norms) in lines.items():
            ax.plot(steps, norms, label=label, linewidth=1.5)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if log_scale:
            ax.set_yscale("log")
        ax.legend(fontsize="small")
    np.atleast_1d(axes)[0].set_ylabel("gradient L2 norm")
    return figure


def curves(
    x: np.ndarray,
    series: Mapping[str, np.ndarray],
    *,
    xlabel: str = "x",
    title: str | None = None,
) -> Figure:
    """Several named curves on a shared x axis (the first solid, the rest dashed)."""
    figure, axes = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    for position, (label, y) in enumerate(series.items()):
        axes.plot(x, y, label=label, linewidth=2, linestyle="-" if position == 0 else "--")
    axes.axhline(0.0, color="0.6", linewidth=0.8)
    axes.set_xlabel(xlabel)
    if title:
        axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3)
    return figure


def seconds_per_call(timings: Mapping[str, float], *, title: str | None = None) -> Figure:
    """A horizontal bar per way of doing something, its time per call on a log axis."""
    labels = list(timings)
    seconds = np.array([timings[label] for label in labels], dtype=float)
    figure, axes = plt.subplots(figsize=(6.4, 0.6 * len(labels) + 1.2), layout="constrained")
    bars = axes.barh(labels, seconds * 1e3, color="tab:blue")
    axes.bar_label(bars, labels=[_duration(value) for value in seconds], padding=4)
    axes.set_xscale("log")
    axes.set_xlim(right=seconds.max() * 1e3 * 20)
    axes.invert_yaxis()
    axes.set_xlabel("milliseconds per call (log scale)")
    if title:
        axes.set_title(title)
    axes.grid(alpha=0.3, axis="x")
    return figure


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def matrix_images(
    matrices: dict[str, np.ndarray],
    *,
    row_label: str = "output",
    column_label: str = "input",
    block: tuple[int, int] | None = None,
) -> Figure:
    """Matrices (Jacobians, Hessians) side by side as images: zero white, sign by colour.

    Each panel has its own symmetric colour scale, so its zeros are always white.
    ``block=(rows, columns)`` draws grid lines every ``rows`` rows and ``columns``
    columns, e.g. between the examples of a batch Jacobian.
    """
    figure, all_axes = plt.subplots(
        1, len(matrices), figsize=(4.2 * len(matrices), 3.9), layout="constrained", squeeze=False
    )
    for axes, (title, matrix) in zip(all_axes[0], matrices.items(), strict=True):
        matrix = np.asarray(matrix)
        limit = float(np.abs(matrix).max()) or 1.0
        image = axes.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
        if block is not None:
            for row in range(block[0], matrix.shape[0], block[0]):
                axes.axhline(row - 0.5, color="0.4", linewidth=0.8)
            for column in range(block[1], matrix.shape[1], block[1]):
                axes.axvline(column - 0.5, color="0.4", linewidth=0.8)
        axes.set_title(title, fontsize=10)
        axes.set_xlabel(column_label)
        axes.set_ylabel(row_label)
        figure.colorbar(image, ax=axes, shrink=0.8)
    return figure


def eigenvalue_spectrum(eigenvalues: np.ndarray, *, title: str) -> Figure:
    """Eigenvalues of a symmetric matrix, sorted, on a log scale (negative ones marked)."""
    values = np.sort(np.asarray(eigenvalues, dtype=np.float64))[::-1]
    positions = np.arange(1, len(values) + 1)
    positive = values > 0
    figure, axes = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    axes.semilogy(positions[positive], values[positive], "o", label="positive")
    if (~positive).any():
        axes.semilogy(positions[~positive], -values[~positive], "x", label="negative (|λ|)")
    axes.set_xlabel("eigenvalue, largest first")
    axes.set_ylabel("λ")
    axes.set_title(title)
    axes.grid(alpha=0.3, which="both")
    axes.legend()
    return figure


def replica_gradient_norms(
    steps: np.ndarray,
    replica_norms: dict[str, np.ndarray],
    reduced_norms: np.ndarray,
    *,
    variable: str = "",
) -> Figure:
    """Per-replica gradient norms (thin lines) and the all-reduced one (thick) over steps."""
    figure, axes = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    for name, norms in replica_norms.items():
        axes.plot(steps, norms, linewidth=1, alpha=0.8, label=name)
    axes.plot(steps, reduced_norms, color="black", linewidth=2.5, label="all-reduced (SUM)")
    axes.set_xlabel("step")
    axes.set_ylabel(f"gradient norm{f' of {variable}' if variable else ''}")
    axes.legend(fontsize="small", ncols=2)
    axes.grid(alpha=0.3)
    return figure
