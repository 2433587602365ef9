"""Diagnose the gradients of a loss: None (and why), non-finite, vanishing, exploding."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlab.diagnose.report import (
    Cause,
    GradientDiagnosis,
    SourceDiagnosis,
    Status,
    layer_of,
)
from gradlab.tfsupport.lazy import tf
from gradlab.tfsupport.variables import variable_label

DEFAULT_VANISHING = 1e-4
"""A gradient norm below this fraction of the largest one is vanishing."""
DEFAULT_VANISHING_FLOOR = 1e-12
"""A gradient norm below this is vanishing, whatever the others."""
DEFAULT_EXPLODING = 1e3
"""A gradient norm above this is exploding."""

_PROBE_SCALES = (1e-3, 0.1, 1.0)
"""Relative sizes of the random moves: small for smooth losses, large for step functions."""


@dataclass
class _Source:
    name: str
    value: Any
    kind: str  # "variable" or "input"


def diagnose(
    loss: Callable[..., Any],
    variables: Any = None,
    *,
    inputs: Any = (),
    watch_inputs: bool = False,
    gradients: Sequence[Any] | None = None,
    vanishing: float = DEFAULT_VANISHING,
    vanishing_floor: float = DEFAULT_VANISHING_FLOOR,
    exploding: float = DEFAULT_EXPLODING,
    seed: int = 0,
) -> GradientDiagnosis:
    """Compute (or take) the gradients of ``loss`` and say what is wrong with each.

    Args:
        loss: the loss, either a function of no arguments that reads its
            variables (a closure: ``lambda: mse(y, model(x))``), or a function
            called as ``loss(*variables, *inputs)``.
        variables: what you train, each expected to be a trainable
            ``tf.Variable`` (or Keras variable): a list, a dict ``{name:
            variable}``, or one variable. Default: for a closure, the
            trainable variables ``loss`` reads; for a function of ``inputs``
            only, none.
        inputs: tensors that are not variables but whose gradient you want
            (model inputs, constants), as a list, dict or one tensor.
        watch_inputs: whether the tape watches ``inputs`` (as ``tape.watch(x)``
            in your code would). Default False, like a plain tape.
        gradients: your tape's result for ``[*variables, *inputs]``; given,
            it is diagnosed instead of diagnose's own tape.
        vanishing: a gradient whose L2 norm is below this fraction of the
            largest norm is vanishing (default 1e-4).
        vanishing_floor: a norm below this is vanishing whatever the others
            (default 1e-12); an exactly zero gradient always is.
        exploding: a norm above this is exploding (default 1e3).
        seed: seeds the random moves used to tell NumPy from unused.

    Returns:
        A :class:`GradientDiagnosis`: per source its status (ok, None,
        non-finite, vanishing, exploding), its norm, the cause of a ``None``
        and what to try; per-layer norms; a readable ``str()``; a figure.

    How a ``None`` gradient's cause is decided, in this order:

    1. **integer dtype** — the source's dtype is not floating-point.
    2. **not watched** — a non-trainable variable; or an input tensor whose
       gradient exists as soon as a tape watches it (diagnose re-runs the loss
       with ``tape.watch``); or something that is not a tensor at all.
    3. **replaced by a tensor** — a plain ``tf.Tensor`` given among the
       *variables*: it has no ``trainable``/``assign``, the typical result of
       ``w = w - lr * g``.
    4. otherwise the tape really has no path. diagnose moves the source at
       random (assigning to a variable and restoring it, or passing a moved
       input) and re-evaluates the loss: if the loss changes it depends on the
       source through something the tape cannot see — **went through NumPy**
       (``.numpy()``, ``np.*``, ``float()``, or ``tf.stop_gradient``, a cast to
       an integer); if it never changes, the source is **unused**. When the
       source cannot be moved (an input read by a closure) or the loss is not
       deterministic, the cause is **no recorded path**.

    Telling causes apart calls ``loss`` a few more times per ``None``
    gradient, so it should have no side effects (call a model with
    ``training=False`` if its layers update statistics). Variables are always
    restored to their values, even if ``loss`` raises.
    """
    if variables is None and _takes_sources(loss) and _given(inputs):
        variables = []  # a function of its inputs only
    sources = _entries(variables, "variable", loss) + _entries(inputs, "input", None)
    call = _caller(loss)
    if gradients is None:
        value, grads = _gradients(call, sources, watch_inputs)
    else:
        grads = list(gradients)
        if len(grads) != len(sources):
            raise ValueError(
                f"got {len(grads)} gradients for {len(sources)} sources ([*variables, *inputs])"
            )
        value = call([s.value for s in sources])
    probe = _Probe(call, sources, seed)
    watched = watch_inputs and gradients is None
    verdicts = [
        _none_verdict(source, position, probe, watched) if grad is None else _numbers(source, grad)
        for position, (source, grad) in enumerate(zip(sources, grads, strict=True))
    ]
    verdicts = _judge_norms(verdicts, vanishing, vanishing_floor, exploding)
    return GradientDiagnosis(
        loss=_scalar(value),
        sources=tuple(verdicts),
        vanishing=vanishing,
        vanishing_floor=vanishing_floor,
        exploding=exploding,
    )


# ── sources ──────────────────────────────────────────────────────────────────


def _entries(collection: Any, kind: str, loss: Callable[..., Any] | None) -> list[_Source]:
    if collection is None:
        if loss is None or _takes_sources(loss):
            raise ValueError(
                "pass variables=...: diagnose can find them itself only when the loss "
                "is a function of no arguments"
            )
        return [_Source(n, v, kind) for n, v in zip(*_read_variables(loss), strict=True)]
    if isinstance(collection, Mapping):
        return [_Source(str(name), value, kind) for name, value in collection.items()]
    if not isinstance(collection, (list, tuple)):
        collection = [collection]
    names = _unique([_name_of(value, kind, i) for i, value in enumerate(collection)])
    return [_Source(n, v, kind) for n, v in zip(names, collection, strict=True)]


def _given(collection: Any) -> bool:
    if isinstance(collection, (Mapping, list, tuple)):
        return len(collection) > 0
    return collection is not None


def _read_variables(loss: Callable[[], Any]) -> tuple[list[str], list[Any]]:
    with tf.GradientTape() as tape:
        loss()
    found = list(tape.watched_variables())
    return _unique([_name_of(v, "variable", i) for i, v in enumerate(found)]), found


def _name_of(value: Any, kind: str, position: int) -> str:
    label = variable_label(value) if _is_variable(value) else None
    return label or f"{kind}s[{position}]"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}_{count}")
    return unique


def _is_variable(value: Any) -> bool:
    return hasattr(value, "assign") and hasattr(value, "trainable")


def _is_tensor(value: Any) -> bool:
    return _is_variable(value) or tf.is_tensor(value)


def _is_float(value: Any) -> bool:
    dtype = tf.as_dtype(value.dtype)
    return dtype.is_floating or dtype.is_complex


# ── calling the loss ─────────────────────────────────────────────────────────


def _takes_sources(loss: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(loss).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(
        p.kind is inspect.Parameter.VAR_POSITIONAL
        or (p.kind in positional and p.default is inspect.Parameter.empty)
        for p in parameters
    )


class _Caller:
    """Calls the loss with the sources' current values, or with none if it is a closure."""

    def __init__(self, loss: Callable[..., Any], passes_sources: bool) -> None:
        self.loss, self.passes_sources = loss, passes_sources

    def __call__(self, values: list[Any]) -> Any:
        return self.loss(*values) if self.passes_sources else self.loss()


def _caller(loss: Callable[..., Any]) -> _Caller:
    if not callable(loss):
        raise TypeError(f"loss must be a function, got {type(loss).__name__}")
    return _Caller(loss, _takes_sources(loss))


def _differentiable(source: _Source) -> bool:
    return _is_tensor(source.value) and _is_float(source.value)


def _gradients(call: _Caller, sources: list[_Source], watch_inputs: bool):
    """The loss and its gradients as a plain tape gives them (integer sources: None)."""
    chosen = [s for s in sources if _differentiable(s)]
    with tf.GradientTape() as tape:
        if watch_inputs:
            for source in chosen:
                if source.kind == "input":
                    tape.watch(source.value)
        value = call([s.value for s in sources])
    found = tape.gradient(value, [s.value for s in chosen]) if chosen else []
    by_id = {id(s): g for s, g in zip(chosen, found, strict=True)}
    return value, [by_id.get(id(s)) for s in sources]


def _scalar(value: Any) -> float | None:
    try:
        return float(np.sum(np.asarray(value, dtype=np.float64)))
    except (TypeError, ValueError):
        return None


# ── why a gradient is None ───────────────────────────────────────────────────


class _Probe:
    """Answers "does the loss change when this source moves?" by moving it."""

    def __init__(self, call: _Caller, sources: list[_Source], seed: int) -> None:
        self.call, self.sources, self.seed = call, sources, seed

    def _loss(self, values: list[Any]) -> np.ndarray:
        return np.asarray(self.call(values), dtype=np.float64)

    def changes(self, position: int) -> bool | None:
        """True or False; None when the source cannot be moved or the loss is random."""
        source = self.sources[position]
        values = [s.value for s in self.sources]
        if not _is_variable(source.value) and not self.call.passes_sources:
            return None
        try:
            base = self._loss(values)
            if not np.array_equal(base, self._loss(values), equal_nan=True):
                return None  # the loss is not deterministic: moving proves nothing
            return any(
                not np.array_equal(base, self._moved(position, values, scale), equal_nan=True)
                for scale in _PROBE_SCALES
            )
        except Exception:  # a loss that breaks when moved tells us nothing either
            return None

    def _moved(self, position: int, values: list[Any], scale: float) -> np.ndarray:
        source = self.sources[position].value
        original = tf.convert_to_tensor(source)
        base = np.asarray(original, dtype=np.float64)
        noise = np.random.default_rng([self.seed, position, int(scale * 1000)]).standard_normal(
            base.shape
        )
        moved = tf.cast(base + scale * (1.0 + np.abs(base)) * noise, original.dtype)
        if not _is_variable(source):
            return self._loss([*values[:position], moved, *values[position + 1 :]])
        source.assign(moved)
        try:
            return self._loss(values)
        finally:
            source.assign(original)


def _none_verdict(source: _Source, position: int, probe: _Probe, watched: bool):
    cause, seen = _none_cause(source, position, probe, watched)
    return SourceDiagnosis(
        name=source.name,
        layer=layer_of(source.name),
        shape=_shape(source.value),
        dtype=_dtype(source.value),
        status=Status.NONE,
        norm=None,
        cause=cause,
        finding=seen,
    )


def _none_cause(source: _Source, position: int, probe: _Probe, watched: bool):
    value = source.value
    if not _is_tensor(value):
        return Cause.NOT_WATCHED, f"it is a {type(value).__name__}, not a tensor"
    if not _is_float(value):
        return Cause.INTEGER_DTYPE, f"its dtype is {_dtype(value)}, which has no gradient"
    if _is_variable(value) and not value.trainable:
        return Cause.NOT_WATCHED, "a variable with trainable=False is not watched by a tape"
    if not _is_variable(value):
        if source.kind == "variable":
            return (
                Cause.REPLACED_BY_TENSOR,
                "it is a tf.Tensor (no .trainable, no .assign), not a variable",
            )
        if not watched and _connected_when_watched(probe, position):
            return Cause.NOT_WATCHED, "with tape.watch the gradient exists"
    changes = probe.changes(position)
    if changes:
        return Cause.NUMPY, "the loss changes when it moves, but the tape has no path to it"
    if changes is None:
        return Cause.NO_PATH, "the tape has no path, and it could not be moved to say why"
    return Cause.UNUSED, "the loss does not change when it moves"


def _connected_when_watched(probe: _Probe, position: int) -> bool:
    target = probe.sources[position].value
    values = [s.value for s in probe.sources]
    with tf.GradientTape() as tape:
        tape.watch(target)
        value = probe.call(values)
    return tape.gradient(value, target) is not None


# ── numbers ──────────────────────────────────────────────────────────────────


def _shape(value: Any) -> tuple[int, ...]:
    shape = getattr(value, "shape", None)
    if shape is None:
        return tuple(np.shape(value))
    return tuple(int(d) if d is not None else -1 for d in shape)


def _dtype(value: Any) -> str:
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return type(value).__name__
    return getattr(dtype, "name", str(dtype))


def _numbers(source: _Source, grad: Any) -> SourceDiagnosis:
    array = np.asarray(tf.convert_to_tensor(grad))
    if array.dtype.kind == "c":
        array = np.abs(array)
    array = array.astype(np.float64)
    common = {
        "name": source.name,
        "layer": layer_of(source.name),
        "shape": _shape(source.value),
        "dtype": _dtype(source.value),
    }
    nan, inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
    if nan or inf:
        return SourceDiagnosis(
            **common,
            status=Status.NON_FINITE,
            norm=None,
            finding=f"{nan} NaN and {inf} infinite of {array.size} values",
        )
    return SourceDiagnosis(**common, status=Status.OK, norm=float(np.linalg.norm(array)))


def _judge_norms(verdicts, vanishing: float, floor: float, exploding: float):
    norms = [v.norm for v in verdicts if v.norm is not None]
    largest = max(norms, default=0.0)
    largest_name = next((v.name for v in verdicts if v.norm == largest), "")
    judged = []
    for verdict in verdicts:
        norm = verdict.norm
        if norm is None:
            judged.append(verdict)
        elif norm > exploding:
            judged.append(_restate(verdict, Status.EXPLODING, _exploding_finding(norm, exploding)))
        elif norm == 0.0 or norm < floor or norm < vanishing * largest:
            finding = _vanishing_finding(norm, largest, largest_name)
            judged.append(_restate(verdict, Status.VANISHING, finding))
        else:
            judged.append(verdict)
    return judged


def _restate(verdict: SourceDiagnosis, status: Status, finding: str) -> SourceDiagnosis:
    return SourceDiagnosis(
        name=verdict.name,
        layer=verdict.layer,
        shape=verdict.shape,
        dtype=verdict.dtype,
        status=status,
        norm=verdict.norm,
        finding=finding,
    )


def _vanishing_finding(norm: float, largest: float, largest_name: str) -> str:
    if norm == 0.0:
        return "exactly zero (a dead ReLU, a saturated unit?)"
    return f"{norm / largest:.1e} × the largest ({largest_name})"


def _exploding_finding(norm: float, exploding: float) -> str:
    return f"above {exploding:g}"
