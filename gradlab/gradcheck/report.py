"""The result of a gradient check: numbers to test against and a text to act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gradlab.gradcheck.compare import (
    GradientTolerance,
    absolute_errors,
    diagnose,
    relative_errors,
)
from gradlab.gradcheck.problem import InputSpec


@dataclass(frozen=True)
class ElementComparison:
    """One compared value: where it is, both derivatives and how far apart they are.

    In full mode ``index`` is the element's index in its input; in fast mode
    it is ``(d,)`` for the ``d``-th random direction.
    """

    where: str
    index: tuple[int, ...]
    numerical: float
    analytical: float
    abs_error: float
    rel_error: float
    excess: float
    """How many times over the tolerance the error is (above 1 fails)."""

    def __str__(self) -> str:
        return (
            f"{self.where}: numerical {self.numerical:.7g}, analytical {self.analytical:.7g} "
            f"(abs error {self.abs_error:.1e}, rel error {self.rel_error:.1e})"
        )


@dataclass(frozen=True)
class InputReport:
    """The verdict for one input.

    ``compared`` counts the values compared for this input: its elements in
    full mode, random directions in fast mode (0 when a fast check passed with
    all inputs perturbed together, so this input was not measured on its own;
    then ``max_abs_error``, ``max_rel_error`` and ``worst`` are ``None``).
    """

    position: int
    name: str | None
    label: str
    shape: tuple[int, ...]
    dtype: str
    checked_in: str
    ok: bool
    compared: int
    failures: int
    unit: str
    """What was compared: ``"elements"`` (full mode) or ``"directions"`` (fast mode)."""
    max_abs_error: float | None
    max_rel_error: float | None
    worst: ElementComparison | None
    findings: tuple[str, ...] = ()


@dataclass(frozen=True)
class GradcheckReport:
    """What :func:`~gradlab.gradcheck.check_gradients` compared, and the verdict.

    ``ok`` is true when every compared value satisfies
    ``|numerical - analytical| <= atol + rtol * max(|numerical|, |analytical|)``.
    ``max_rel_error`` is the largest
    ``|numerical - analytical| / max(|numerical|, |analytical|, atol)``.
    ``inputs`` holds one :class:`InputReport` per input, each with its worst
    value; ``str(report)`` is a readable summary with what to try on failure.
    """

    ok: bool
    mode: str
    max_abs_error: float
    max_rel_error: float
    inputs: tuple[InputReport, ...]
    function: str
    output: str
    precision: str
    step: float
    rtol: float
    atol: float
    compared: str
    values_compared: int
    values_failed: int
    cost: str
    seconds: float
    """How long the check took (not in ``str(report)``, which is the same on every run)."""
    projected: bool = False
    """True when ``f`` returns a tensor, checked through a random projection."""
    notes: tuple[str, ...] = field(default=())

    @property
    def worst(self) -> dict[str, ElementComparison | None]:
        """The worst value of each input, keyed by the input's label."""
        return {item.label: item.worst for item in self.inputs}

    @property
    def failed_inputs(self) -> tuple[InputReport, ...]:
        """The inputs whose gradient disagrees with finite differences."""
        return tuple(item for item in self.inputs if not item.ok)

    def advice(self) -> list[str]:
        """What to try next, most specific first (empty when the check passed)."""
        if self.ok:
            return []
        lines = []
        for item in self.failed_inputs:
            lines.extend(f"{item.label}: {finding}" for finding in item.findings)
            if not item.findings:
                lines.append(
                    f"{item.label}: compare the analytical formula with the numerical values "
                    "above; if f has kinks (relu, abs, max) near the inputs, move away from them"
                )
        if self.projected:
            lines.append(
                "f returns a tensor, whose elements the check weights at random: a "
                "tf.custom_gradient that ignores or mishandles the upstream gradient dy "
                "fails this way (return dy * local_derivative)"
            )
        if self.mode == "fast":
            labels = ", ".join(item.label for item in self.failed_inputs) or "the inputs"
            lines.append(
                f"run check_gradients(f, xs, mode='full') to see which elements of {labels} "
                "disagree"
            )
        if self.precision != "float64":
            lines.append(
                f"the check ran in {self.precision}: small disagreements are expected at that "
                "precision; make f run in float64, or loosen rtol/atol"
            )
        return lines

    def assert_ok(self) -> None:
        """Raise ``AssertionError`` with this report's text unless the check passed (for tests)."""
        if not self.ok:
            raise AssertionError(str(self))

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        lines = [
            f"Gradient check of {self.function} (mode={self.mode!r}): {verdict}",
            f"  compared   {self.compared}",
            f"  output     {self.output}",
            f"  precision  {self.precision}, finite-difference step {self.step:.3g}",
            f"  tolerance  |numerical - analytical| <= {self.atol:.1e} + {self.rtol:.1e} "
            "* max(|numerical|, |analytical|)",
            f"  result     {self.values_failed:,} of {self.values_compared:,} values out of "
            "tolerance; "
            f"max abs error {self.max_abs_error:.1e}, max rel error {self.max_rel_error:.1e}",
            f"  cost       {self.cost}",
        ]
        lines.extend(f"  note       {note}" for note in self.notes)
        lines.append("")
        lines.extend(_describe_input(item) for item in self.inputs)
        advice = self.advice()
        if advice:
            lines.append("")
            lines.append("What to try:")
            lines.extend(f"  - {line}" for line in advice)
        return "\n".join(lines)


def _describe_input(item: InputReport) -> str:
    dtypes = item.dtype
    if item.checked_in != item.dtype:
        dtypes += f", checked in {item.checked_in}"
    head = f"  {item.label}  shape {item.shape}  {dtypes}: "
    if item.compared == 0:
        return head + "ok (checked together with the other inputs)"
    if item.ok:
        head += f"ok (max rel error {item.max_rel_error:.1e})"
    else:
        head += f"FAILED ({item.failures:,} of {item.compared:,} {item.unit})"
    if item.worst is None:
        return head
    return head + f"\n      worst {item.worst}"


def element_name(index: tuple[int, ...]) -> str:
    """``element [3, 7]``, or ``the only element`` for a scalar input."""
    return f"element {list(index)}" if index else "the only element"


def summarize_input(
    spec: InputSpec,
    checked_in: str,
    numerical: np.ndarray,
    analytical: np.ndarray,
    tolerance: GradientTolerance,
    *,
    per_element: bool,
) -> InputReport:
    """Compare one input's values and pick its worst one.

    In full mode the arrays have the input's shape; in fast mode they hold one
    directional derivative per random direction.
    """
    numerical = np.asarray(numerical, dtype=np.float64).ravel()
    analytical = np.asarray(analytical, dtype=np.float64).ravel()
    absolute = absolute_errors(numerical, analytical)
    relative = relative_errors(numerical, analytical, floor=tolerance.atol)
    excess = absolute / tolerance.allowed(numerical, analytical)
    failing = ~(excess <= 1)
    locate: Callable[[int], tuple[int, ...]]
    if per_element:

        def locate(flat: int) -> tuple[int, ...]:
            return tuple(int(i) for i in np.unravel_index(flat, spec.shape))

        def describe(flat: int) -> str:
            return element_name(locate(flat))

    else:

        def locate(flat: int) -> tuple[int, ...]:
            return (flat,)

        def describe(flat: int) -> str:
            return f"direction {flat + 1} of {numerical.size}"

    worst = int(np.nanargmax(np.where(np.isnan(excess), np.inf, excess)))
    findings = (
        diagnose(
            numerical,
            analytical,
            failing,
            excess,
            per_element=per_element,
            describe_index=describe,
        )
        if failing.any()
        else []
    )
    return InputReport(
        **_identity(spec, checked_in),
        ok=not failing.any(),
        compared=numerical.size,
        failures=int(failing.sum()),
        unit="elements" if per_element else "directions",
        max_abs_error=float(absolute.max()),
        max_rel_error=float(relative.max()),
        worst=ElementComparison(
            where=describe(worst),
            index=locate(worst),
            numerical=float(numerical[worst]),
            analytical=float(analytical[worst]),
            abs_error=float(absolute[worst]),
            rel_error=float(relative[worst]),
            excess=float(excess[worst]),
        ),
        findings=tuple(findings),
    )


def _identity(spec: InputSpec, checked_in: str) -> dict:
    """The fields that say which input a report is about and how it was checked."""
    return {
        "position": spec.position,
        "name": spec.key or spec.name,
        "label": spec.label,
        "shape": spec.shape,
        "dtype": spec.dtype,
        "checked_in": checked_in,
    }


def unmeasured_input(spec: InputSpec, checked_in: str) -> InputReport:
    """An input that passed a fast check together with the others, not measured alone."""
    return InputReport(
        **_identity(spec, checked_in),
        ok=True,
        compared=0,
        failures=0,
        unit="directions",
        max_abs_error=None,
        max_rel_error=None,
        worst=None,
    )
