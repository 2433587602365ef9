"""plots.curves and plots.seconds_per_call draw what they are given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from gradlab.teaching import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_curves_draws_one_labelled_line_per_series_the_first_solid():
    x = np.linspace(0, 1, 5)
    figure = plots.curves(x, {"f": x**2, "df/dx": 2 * x}, title="t")
    axes = figure.axes[0]
    lines = [line for line in axes.get_lines() if line.get_label() in {"f", "df/dx"}]
    assert [line.get_label() for line in lines] == ["f", "df/dx"]
    assert [line.get_linestyle() for line in lines] == ["-", "--"]
    np.testing.assert_allclose(lines[1].get_ydata(), 2 * x)
    assert axes.get_title() == "t"


def test_seconds_per_call_draws_bars_in_milliseconds_on_a_log_axis_with_readable_labels():
    figure = plots.seconds_per_call({"fast": 2e-5, "slow": 0.15, "slower": 1.5})
    axes = figure.axes[0]
    widths = [patch.get_width() for patch in axes.patches]
    np.testing.assert_allclose(widths, [0.02, 150.0, 1500.0])
    assert axes.get_xscale() == "log"
    labels = [text.get_text() for text in axes.texts]
    assert labels == ["20 µs", "150 ms", "1.5 s"]
