"""The gradient-flow figure: each layer's gradient norm, input side first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def gradient_flow(
    norms: Mapping[str, float] | Mapping[str, Mapping[str, float]],
    *,
    title: str = "gradient norm per layer",
    vanishing: float | None = None,
    exploding: float | None = None,
) -> Figure:
    """The gradient norm of each layer, input side on the left, on a log scale.

    ``norms`` is ``{layer: norm}`` for one network, or ``{label: {layer: norm}}``
    to compare several networks (one line each, layers by position). Norms
    that are zero or missing leave a gap. ``vanishing`` / ``exploding`` draw
    dashed threshold lines.
    """
    import matplotlib.pyplot as plt

    series = _as_series(norms)
    figure, axes = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    longest: list[str] = []
    for label, values in series.items():
        layers = list(values)
        longest = layers if len(layers) > len(longest) else longest
        heights = np.array([values[layer] for layer in layers], dtype=np.float64)
        heights = np.where(heights > 0, heights, np.nan)
        axes.plot(range(1, len(layers) + 1), heights, marker="o", linewidth=2, label=label)
    for level, name, color in (
        (vanishing, "vanishing", "tab:blue"),
        (exploding, "exploding", "tab:red"),
    ):
        if level is not None:
            axes.axhline(
                level, linestyle="--", color=color, linewidth=1, label=f"{name} ({level:g})"
            )
    axes.set_yscale("log")
    axes.set_xlabel("layer (1 = nearest the input)")
    axes.set_ylabel("L2 norm of the layer's gradient")
    axes.set_xticks(range(1, len(longest) + 1))
    if len(series) == 1:
        axes.set_xticklabels([_short(layer) for layer in longest], rotation=30, ha="right")
    axes.set_title(title)
    axes.grid(alpha=0.3, which="both")
    if len(series) > 1 or vanishing is not None or exploding is not None:
        axes.legend()
    return figure


def _as_series(norms) -> dict[str, dict[str, float]]:
    first = next(iter(norms.values()), None)
    if isinstance(first, Mapping):
        return {str(label): dict(values) for label, values in norms.items()}
    return {"": dict(norms)}


def _short(layer: str) -> str:
    return layer.rpartition("/")[2] or layer
