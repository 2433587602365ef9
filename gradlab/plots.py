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
