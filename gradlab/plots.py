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
