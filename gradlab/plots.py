"""The matplotlib figures the lessons show.

Each function takes plain arrays and returns a :class:`matplotlib.figure.Figure`;
computing the numbers is the lesson's job, drawing them is this module's.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


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
