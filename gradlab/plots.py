"""The matplotlib figures the lessons show.

Each function takes plain arrays and returns a :class:`matplotlib.figure.Figure`;
computing the numbers is the lesson's job, drawing them is this module's.
"""

from __future__ import annotations

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
