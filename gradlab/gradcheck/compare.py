"""Comparing numerical with analytical derivatives: errors, tolerances, a diagnosis."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradlab.gradcheck.errors import GradcheckError

DEFAULT_RTOL = {"float64": 1e-5, "float32": 1e-3, "float16": 5e-2, "bfloat16": 1e-1}
"""Default relative tolerance for each precision the check can run at."""

DEFAULT_ATOL = {"float64": 1e-8, "float32": 1e-4, "float16": 5e-2, "bfloat16": 1e-1}
"""Default absolute tolerance per unit of ``|f(x)|`` (finite differences lose digits in
proportion to the size of ``f``), for each precision."""


@dataclass(frozen=True)
class GradientTolerance:
    """When a compared value passes.

    It passes when ``|numerical - analytical| <= atol + rtol * max(|numerical|, |analytical|)``.
    """

    rtol: float
    atol: float

    def allowed(self, numerical: np.ndarray, analytical: np.ndarray) -> np.ndarray:
        """The largest error each value may have."""
        return self.atol + self.rtol * np.maximum(np.abs(numerical), np.abs(analytical))

    def excess(self, numerical: np.ndarray, analytical: np.ndarray) -> np.ndarray:
        """How many times over its allowance each value's error is (> 1 fails)."""
        return absolute_errors(numerical, analytical) / self.allowed(numerical, analytical)


def default_tolerance(
    precision: str, f_value: float, rtol: float | None, atol: float | None
) -> GradientTolerance:
    """The tolerance to use: the caller's, else the defaults for ``precision``.

    The default ``atol`` is ``DEFAULT_ATOL[precision] * max(1, |f(x)|)``.
    """
    if rtol is None:
        rtol = DEFAULT_RTOL[precision]
    if atol is None:
        atol = DEFAULT_ATOL[precision] * max(1.0, abs(f_value))
    check_tolerances(rtol, atol)
    return GradientTolerance(float(rtol), float(atol))


def check_tolerances(rtol: object, atol: object) -> None:
    """Refuse tolerances that are not finite numbers >= 0, or are both 0.

    NaN must be refused explicitly: every comparison with it is false, so
    ``rtol < 0`` lets it through, and then no value could ever pass.
    """
    if not (_usable(rtol) and _usable(atol)) or rtol + atol == 0:  # type: ignore[operator]
        raise GradcheckError(
            f"tolerances must be finite numbers >= 0 and not both 0 (rtol={rtol!r}, atol={atol!r})"
        )


def _usable(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return math.isfinite(value) and value >= 0


def absolute_errors(numerical: np.ndarray, analytical: np.ndarray) -> np.ndarray:
    """``|numerical - analytical|``, infinite wherever either side is not finite."""
    numerical = np.asarray(numerical, dtype=np.float64)
    analytical = np.asarray(analytical, dtype=np.float64)
    finite = np.isfinite(numerical) & np.isfinite(analytical)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(finite, np.abs(numerical - analytical), np.inf)


def relative_errors(
    numerical: np.ndarray, analytical: np.ndarray, floor: float = 0.0
) -> np.ndarray:
    """``|numerical - analytical| / max(|numerical|, |analytical|, floor)``.

    ``floor`` keeps values that are both (nearly) zero from dividing noise by
    noise; two exact zeros have relative error 0.
    """
    errors = absolute_errors(numerical, analytical)
    scale = np.maximum(np.maximum(np.abs(numerical), np.abs(analytical)), floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(errors == 0, 0.0, errors / scale)
    return np.where(np.isnan(relative), np.inf, relative)


def _constant_ratio(numerical: np.ndarray, analytical: np.ndarray) -> float | None:
    """``analytical / numerical`` if it is the same (within 1%) on every value, else None."""
    usable = (numerical != 0) & np.isfinite(numerical) & np.isfinite(analytical)
    if not usable.any():
        return None
    ratios = analytical[usable] / numerical[usable]
    middle = float(np.median(ratios))
    if middle == 0 or np.max(np.abs(ratios - middle)) > 0.01 * abs(middle):
        return None
    return middle


def _ratio_findings(numerical: np.ndarray, analytical: np.ndarray) -> list[str]:
    """A sign error or a constant factor, if ``analytical / numerical`` shows one.

    One failing value always has a "constant" ratio, so then only the telling
    ratios (-1, 2, 1/2) are reported.
    """
    ratio = _constant_ratio(numerical, analytical)
    if ratio is None:
        return []
    if abs(ratio + 1) < 0.01:
        return ["sign error: analytical = -numerical on every failing value"]
    doubled = min(abs(ratio - 2), abs(ratio - 0.5)) < 0.01
    if numerical.size < 2 and not doubled:
        return []
    classic = " (a factor of 2 is the classic slip: d(x²)/dx = 2x)" if doubled else ""
    return [
        f"analytical ≈ {ratio:.4g} × numerical on every failing value: a constant factor "
        f"is wrong{classic}"
    ]


def diagnose(
    numerical: np.ndarray,
    analytical: np.ndarray,
    failing: np.ndarray,
    excess: np.ndarray,
    *,
    per_element: bool,
    describe_index: Callable[[int], str],
) -> list[str]:
    """Name the likely mistake behind the failing values of one input.

    ``numerical``, ``analytical``, ``failing`` and ``excess`` are flat arrays
    over the compared values; ``per_element`` says they are the input's
    elements (full mode) rather than directional derivatives (fast mode).
    """
    bad_numerical, bad_analytical = numerical[failing], analytical[failing]
    findings = []
    if not np.all(np.isfinite(bad_analytical)):
        findings.append("the analytical gradient has NaN or infinite values")
    if not np.all(np.isfinite(bad_numerical)):
        findings.append(
            "f is NaN or infinite at a perturbed point: a singularity lies within delta"
        )
    if np.all(bad_analytical == 0) and np.any(bad_numerical != 0):
        findings.append(
            "the analytical gradient is exactly zero where the numerical one is not: the "
            "path from this input to the output is cut (tf.stop_gradient, a custom gradient "
            "returning zeros, a round trip through NumPy or an integer)"
        )
    findings.extend(_ratio_findings(bad_numerical, bad_analytical))
    count = int(failing.sum())
    if per_element and count <= 10 and count <= 0.01 * failing.size:
        places = ", ".join(describe_index(i) for i in np.flatnonzero(failing)[:5])
        findings.append(
            f"only {count} of {failing.size:,} elements disagree ({places}): look for an "
            "indexing, slicing or scatter bug at those positions"
        )
    finite_excess = excess[failing & np.isfinite(excess)]
    if finite_excess.size and finite_excess.max() < 10 and not findings:
        findings.append(
            "the disagreement is under 10× the tolerance: it may be finite-difference "
            "noise, or a kink (relu, abs, max, a branch) within delta of the inputs; try "
            "another point or delta before suspecting the gradient"
        )
    return findings
