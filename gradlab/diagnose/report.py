"""What :func:`~gradlab.diagnose.diagnose` found: one verdict per source, and their sum."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class Status(str, Enum):
    """The state of one gradient."""

    OK = "ok"
    NONE = "None"
    NON_FINITE = "non-finite"
    VANISHING = "vanishing"
    EXPLODING = "exploding"

    def __str__(self) -> str:
        return self.value


class Cause(str, Enum):
    """Why a gradient is ``None``."""

    NOT_WATCHED = "not watched"
    INTEGER_DTYPE = "integer dtype"
    NUMPY = "went through NumPy"
    REPLACED_BY_TENSOR = "replaced by a tensor"
    UNUSED = "unused"
    NO_PATH = "no recorded path"
    """The tape has no path and the source cannot be moved to tell NumPy from unused."""

    def __str__(self) -> str:
        return self.value


FIXES = {
    Cause.NOT_WATCHED: "call tape.watch(x) inside the tape before using x, or make it a "
    "trainable tf.Variable",
    Cause.INTEGER_DTYPE: "differentiate with respect to a floating-point tensor "
    "(tf.Variable(3.0), not tf.Variable(3))",
    Cause.NUMPY: "keep every step a TensorFlow operation: no .numpy(), np.* or float() "
    "between the source and the loss (and no tf.stop_gradient or cast to an integer)",
    Cause.REPLACED_BY_TENSOR: "update variables in place with v.assign_sub(lr * g); "
    "v = v - lr * g rebinds the name to a plain tensor the tape does not watch",
    Cause.UNUSED: "the loss does not depend on it: drop it from the sources, or pass "
    "unconnected_gradients=tf.UnconnectedGradients.ZERO if zeros are what you want",
    Cause.NO_PATH: "pass the loss as a function of its sources, so diagnose can move this "
    "one and tell 'went through NumPy' from 'unused'",
}


ADVICE = {
    Status.NON_FINITE: "look for log, sqrt, division or tf.norm at 0, and tf.where with an "
    "infinite unused branch (mask the input too); tf.debugging.enable_check_numerics() "
    "names the first op that makes a NaN or an infinity",
    Status.VANISHING: "ReLU-like activations with He initialisation, normalisation layers or "
    "residual connections instead of a deep stack of sigmoid/tanh layers",
    Status.EXPLODING: "clip by the global norm (tf.clip_by_global_norm, or the optimizer's "
    "clipnorm=), lower the learning rate, or shrink the initial weights",
}


@dataclass(frozen=True)
class SourceDiagnosis:
    """The verdict on the gradient of one source (a variable or an input tensor).

    ``norm`` is the gradient's L2 norm (``None`` when the gradient is ``None``
    or not finite); ``cause`` is set only when ``status`` is :attr:`Status.NONE`;
    ``finding`` says what was seen, ``advice`` what to try.
    """

    name: str
    layer: str
    shape: tuple[int, ...]
    dtype: str
    status: Status
    norm: float | None
    cause: Cause | None = None
    finding: str = ""

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @property
    def verdict(self) -> str:
        """``"ok"``, ``"vanishing"``, ..., or ``"None (cause)"``."""
        return f"None ({self.cause})" if self.status is Status.NONE else str(self.status)

    @property
    def advice(self) -> str:
        """What to try ("" when the gradient is healthy)."""
        if self.cause is not None:
            return FIXES[self.cause]
        return ADVICE.get(self.status, "")

    @property
    def detail(self) -> str:
        """The verdict, what was seen and what to try, in one sentence."""
        if self.ok:
            return f"{self.name}: ok, norm {self.norm:.3e}"
        return f"{self.name}: {self.verdict}: {self.finding}; try: {self.advice}"

    def __str__(self) -> str:
        return self.detail

    def line(self, name_width: int = 0) -> str:
        """One row of the report: name, shape, norm, verdict and finding."""
        norm = " " * 14 if self.norm is None else f"norm {self.norm:.3e}"
        finding = f": {self.finding}" if self.finding and not self.ok else ""
        return f"{self.name:{name_width}}  {self.shape!s:10} {norm}  {self.verdict}{finding}"


@dataclass(frozen=True)
class GradientDiagnosis:
    """The gradients of one loss, source by source, with per-layer norms.

    ``sources`` keeps the order the sources were given in (for a model: input
    layer first). ``str(diagnosis)`` is a readable report; :meth:`figure`
    draws the per-layer norms on a log scale.
    """

    loss: float | None
    sources: tuple[SourceDiagnosis, ...]
    vanishing: float
    vanishing_floor: float
    exploding: float

    @property
    def ok(self) -> bool:
        """True when every gradient exists, is finite, and neither vanishes nor explodes."""
        return all(item.ok for item in self.sources)

    @property
    def problems(self) -> tuple[SourceDiagnosis, ...]:
        """The sources whose status is not OK, in order."""
        return tuple(item for item in self.sources if not item.ok)

    def __getitem__(self, name: str) -> SourceDiagnosis:
        for item in self.sources:
            if item.name == name:
                return item
        known = ", ".join(item.name for item in self.sources)
        raise KeyError(f"no source named {name!r}; the sources are {known}")

    @property
    def causes(self) -> dict[str, Cause]:
        """``{name: cause}`` for every source whose gradient is ``None``."""
        return {item.name: item.cause for item in self.sources if item.cause is not None}

    @property
    def statuses(self) -> dict[str, Status]:
        """``{name: status}`` for every source."""
        return {item.name: item.status for item in self.sources}

    def layer_norms(self) -> dict[str, float]:
        """The L2 norm of each layer's gradients taken together, in source order.

        A layer is a variable's path without its last part
        (``model/dense_1/kernel`` and ``model/dense_1/bias`` form
        ``model/dense_1``). Layers with a ``None`` or non-finite gradient are
        left out.
        """
        squares: dict[str, float] = {}
        skipped: set[str] = set()
        for item in self.sources:
            if item.norm is None:
                skipped.add(item.layer)
                continue
            squares[item.layer] = squares.get(item.layer, 0.0) + item.norm**2
        return {
            layer: math.sqrt(total) for layer, total in squares.items() if layer not in skipped
        }

    def figure(self, title: str | None = None) -> Figure:
        """The gradient-flow figure: each layer's gradient norm, log scale."""
        from gradlab.diagnose.figure import gradient_flow

        return gradient_flow(
            self.layer_norms(),
            title=title or "gradient norm per layer",
            vanishing=None,
            exploding=self.exploding,
        )

    def __str__(self) -> str:
        width = max((len(item.name) for item in self.sources), default=0)
        loss = "loss not computed" if self.loss is None else f"loss {self.loss:.6g}"
        count = len(self.problems)
        verdict = (
            "every gradient is healthy"
            if self.ok
            else f"{count} of {len(self.sources)} gradients need attention"
        )
        lines = [f"gradient diagnosis ({loss}): {verdict}"]
        lines += ["  " + item.line(width) for item in self.sources]
        advice: dict[str, list[str]] = {}
        for item in self.problems:
            advice.setdefault(f"{item.verdict.replace('None (', '').rstrip(')')}", []).append(
                item.name
            )
        if advice:
            lines.append("what to try:")
        for verdict_name, names in advice.items():
            first = next(item for item in self.problems if item.name == names[0])
            shown = ", ".join(names) if len(names) <= 4 else f"{names[0]} … {names[-1]}"
            lines.append(f"  {verdict_name} ({shown}): {first.advice}")
        lines.append(
            f"(vanishing: norm below {self.vanishing:g} × the largest or below "
            f"{self.vanishing_floor:g}; exploding: above {self.exploding:g})"
        )
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows str()
        printer.text(str(self))


def layer_of(name: str) -> str:
    """The layer a variable path belongs to: the path without its last part."""
    head, slash, _ = name.rpartition("/")
    return head if slash else name
