"""Turn the caller's ``f`` and ``xs`` into a problem the checker can run.

A :class:`Problem` holds the inputs (validated, promoted to float64 where
``f`` allows it), a scalar *objective* of them, its value, and, when asked for,
its analytical gradient from one ``tf.GradientTape`` pass.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlab.gradcheck.errors import (
    GradcheckDtypeError,
    GradcheckError,
    NondeterministicError,
    NonFiniteError,
    PrecisionWarning,
)
from gradlab.tfsupport.lazy import tf
from gradlab.tfsupport.variables import variable_label

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
"""The input dtypes the checker accepts."""

_PRECISION_ORDER = ("bfloat16", "float16", "float32", "float64")

EPSILON = {
    "float64": 2.0**-52,
    "float32": 2.0**-23,
    "float16": 2.0**-10,
    "bfloat16": 2.0**-7,
}
"""Machine epsilon of each floating-point dtype the checker accepts."""


@dataclass(frozen=True)
class InputSpec:
    """What the caller passed as one input: where, what it is called, its shape and dtype."""

    position: int
    key: str | None
    name: str | None
    shape: tuple[int, ...]
    dtype: str

    @property
    def label(self) -> str:
        """How messages refer to this input: ``input 0 ('dense/kernel')`` or ``input 'w'``."""
        if self.key is not None:
            return f"input {self.key!r}"
        if self.name:
            return f"input {self.position} ({self.name!r})"
        return f"input {self.position}"

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass(frozen=True)
class Structure:
    """How ``xs`` was given, so ``f`` is called the same way and results mirror it."""

    kind: str  # "single", "sequence" or "mapping"
    keys: tuple[str, ...] = ()

    def call(self, f: Callable[..., Any], values: Sequence[Any]) -> Any:
        """Call ``f`` with ``values`` laid out as the caller laid out ``xs``."""
        if self.kind == "mapping":
            return f(**dict(zip(self.keys, values, strict=True)))
        return f(*values)

    def rebuild(self, items: Sequence[Any]) -> Any:
        """Arrange one item per input as ``xs`` was arranged."""
        if self.kind == "single":
            return items[0]
        if self.kind == "mapping":
            return dict(zip(self.keys, items, strict=True))
        return list(items)


@dataclass
class Problem:
    """A checkable scalar function of float tensors, evaluated once at the inputs."""

    function_name: str
    structure: Structure
    specs: tuple[InputSpec, ...]
    values: tuple[Any, ...]
    objective: Callable[..., Any]
    output_description: str
    projected: bool
    precision: str
    value: float
    gradients: tuple[Any, ...] | None
    notes: tuple[str, ...]

    @property
    def run_dtypes(self) -> tuple[str, ...]:
        """The dtype each input is fed to ``f`` in (float64 unless ``f`` refused it)."""
        return tuple(v.dtype.name for v in self.values)

    @property
    def total_size(self) -> int:
        """Number of elements over all inputs."""
        return sum(spec.size for spec in self.specs)


def split_structure(xs: Any) -> tuple[Structure, list[Any]]:
    """Say how ``xs`` is laid out and list its items in order."""
    if isinstance(xs, Mapping):
        keys = tuple(str(key) for key in xs)
        return Structure("mapping", keys), list(xs.values())
    if isinstance(xs, (list, tuple)):
        return Structure("sequence"), list(xs)
    return Structure("single"), [xs]


def to_tensor(item: Any, label: str) -> Any:
    """Convert one input to a tensor, saying which input could not be converted."""
    try:
        return tf.convert_to_tensor(item)
    except (TypeError, ValueError) as error:
        raise GradcheckDtypeError(
            f"{label} cannot be converted to a tensor ({type(item).__name__}): {error}"
        ) from None


def check_float_dtype(tensor: Any, label: str) -> None:
    """Refuse integer, boolean, complex and string inputs, naming the input."""
    dtype = tensor.dtype.name
    if dtype in FLOAT_DTYPES:
        return
    if tensor.dtype.is_integer or tensor.dtype.is_bool:
        hint = (
            "Finite differences need a real-valued input: pass it as a float "
            "(e.g. tf.cast(x, tf.float64), or 3.0 rather than 3). If it is data rather "
            "than something to differentiate (labels, indices), let f read it from a "
            "closure instead of passing it in xs."
        )
    else:
        hint = "Only real floating-point inputs (float16, bfloat16, float32, float64) qualify."
    raise GradcheckDtypeError(f"{label} has dtype {dtype}. {hint}")


def check_finite(array: np.ndarray, label: str) -> None:
    """Refuse NaN or infinite values, naming the input and the first bad element."""
    bad = ~np.isfinite(array)
    if not bad.any():
        return
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    value = array[first] if array.ndim else array.item()
    where = f" at element {list(first)}" if first else ""
    raise NonFiniteError(
        f"{label} is {value}{where} ({int(bad.sum())} non-finite value(s)). "
        "Finite differences need finite numbers: check the inputs before checking gradients."
    )


def precision_of(dtypes: Sequence[str]) -> str:
    """The least precise of ``dtypes``."""
    return min(dtypes, key=_PRECISION_ORDER.index)


def candidate_dtypes(given: Sequence[str]) -> list[tuple[str, ...]]:
    """The dtypes to try the inputs in, best first: all float64, all float32, as given."""
    candidates = [tuple("float64" for _ in given)]
    if any(dtype in ("float16", "bfloat16") for dtype in given):
        candidates.append(tuple("float32" if d != "float64" else d for d in given))
    candidates.append(tuple(given))
    unique: list[tuple[str, ...]] = []
    for candidate in candidates:
        if candidate not in unique:
            unique.append(candidate)
    return unique


def projection_weights(shape: tuple[int, ...], dtype: Any, reduction: str, seed: int) -> Any:
    """Weights that turn ``f``'s output into a scalar: ones (a sum) or seeded random normals."""
    if reduction == "sum":
        return tf.ones(shape, dtype=dtype)
    weights = np.random.default_rng([seed, 1]).standard_normal(shape)
    return tf.constant(weights, dtype=dtype)


def make_objective(
    f: Callable[..., Any], structure: Structure, weights: Any | None
) -> Callable[..., Any]:
    """The scalar function of the inputs that is checked: ``f``, or ``sum(weights * f)``.

    With no weights the output is returned as ``f`` gives it (a scalar, or a
    one-element tensor): no extra eager op per call.
    """

    def objective(*values: Any) -> Any:
        output = structure.call(f, values)
        if not tf.is_tensor(output):
            output = tf.convert_to_tensor(output)
        if weights is None:
            return output
        return tf.reduce_sum(tf.cast(weights, output.dtype) * output)

    return objective


def describe_output(shape: tuple[int, ...], dtype: str, reduction: str) -> str:
    """Say what scalar was differentiated, for the report."""
    if not shape or int(np.prod(shape)) == 1:
        return f"a scalar ({dtype})"
    if reduction == "sum":
        return f"shape {shape} ({dtype}); the gradient is that of its sum, as tape.gradient gives"
    return (
        f"shape {shape} ({dtype}); compared the gradient of sum(w * f(...)) for fixed random "
        "weights w, a random projection of the Jacobian"
    )


@dataclass
class _Attempt:
    values: tuple[Any, ...]
    output_shape: tuple[int, ...]
    output_dtype: str
    value: Any
    gradients: tuple[Any, ...] | None
    objective: Callable[..., Any]


def _evaluate(
    f: Callable[..., Any],
    structure: Structure,
    values: tuple[Any, ...],
    reduction: str,
    seed: int,
    with_gradients: bool,
) -> _Attempt:
    """Run ``f`` once (eagerly, under a tape if gradients are wanted)."""
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        for value in values:
            tape.watch(value)
        output = tf.convert_to_tensor(structure.call(f, values))
        if output.dtype.name not in FLOAT_DTYPES:
            raise GradcheckDtypeError(
                f"f returns dtype {output.dtype.name}; it must return real floating-point values"
            )
        shape = tuple(output.shape)
        scalar = not shape or int(np.prod(shape)) == 1
        weights = None if scalar else projection_weights(shape, output.dtype, reduction, seed)
        objective = make_objective(f, structure, weights)
        value = tf.reshape(output, []) if scalar else tf.reduce_sum(weights * output)
    gradients = None
    if with_gradients:
        try:
            raw = tape.gradient(value, list(values), unconnected_gradients="none")
        except LookupError as error:  # an op without a registered gradient
            raise GradcheckError(f"TensorFlow cannot differentiate f: {error}") from None
        gradients = tuple(None if g is None else tf.convert_to_tensor(g) for g in raw)
    return _Attempt(values, shape, output.dtype.name, value, gradients, objective)


def _attempt_in(
    f: Callable[..., Any],
    structure: Structure,
    tensors: Sequence[Any],
    dtypes: tuple[str, ...],
    reduction: str,
    seed: int,
    with_gradients: bool,
) -> _Attempt:
    values = tuple(tf.cast(t, dtype) for t, dtype in zip(tensors, dtypes, strict=True))
    return _evaluate(f, structure, values, reduction, seed, with_gradients)


def _first_working_attempt(
    f: Callable[..., Any],
    structure: Structure,
    tensors: Sequence[Any],
    given: tuple[str, ...],
    reduction: str,
    seed: int,
    with_gradients: bool,
) -> tuple[_Attempt, str | None]:
    """Run ``f`` in the most precise dtypes it accepts; also say why better ones failed."""
    refusals: list[str] = []
    candidates = candidate_dtypes(given)
    for dtypes in candidates:
        try:
            attempt = _attempt_in(f, structure, tensors, dtypes, reduction, seed, with_gradients)
        except GradcheckError:
            raise
        except Exception as error:
            if dtypes == candidates[-1]:
                raise  # f fails on the inputs exactly as given: that is f's own error
            refusals.append(f"on {dtypes[0]} inputs f raised {type(error).__name__}: {error}")
            continue
        reason = "; ".join(refusals) if refusals else None
        return attempt, reason
    raise AssertionError("unreachable: the last candidate either returns or raises")


def _precision_note(attempt: _Attempt, precision: str, refused: str | None) -> str | None:
    """Explain, if so, why the check cannot run in float64."""
    if precision == "float64":
        return None
    if refused is None:
        return (
            f"f returns {attempt.output_dtype} even when given float64 inputs, so it computes "
            f"(at least partly) in {precision}: the check runs at {precision} precision. Keras "
            "layers and losses compute in their own dtype: build them with dtype='float64' "
            "to check in float64."
        )
    short = refused if len(refused) < 300 else refused[:297] + "..."
    return (
        f"f cannot run in float64 ({short}); the check runs at {precision} precision, "
        "so expect errors of that size and loose tolerances."
    )


def refuse_nondeterminism(attempt: _Attempt, value: float, precision: str) -> None:
    """Evaluate ``f`` a second time at the same point; raise if the value moved.

    A tolerance of a few units in the last place leaves room for a reduction
    whose order varies between runs; ``tf.random`` inside ``f`` moves the
    value far more than that. The message names the random operations found
    in ``f``'s graph: their names carry the Keras layer (or name scope) they
    run in.
    """
    again = float(tf.cast(tf.reshape(attempt.objective(*attempt.values), []), tf.float64))
    allowed = 64 * EPSILON[precision] * max(1.0, abs(value))
    if abs(again - value) <= allowed:
        return
    raise NondeterministicError(
        f"f is not deterministic: called twice at the same inputs it gave {value!r}, then "
        f"{again!r}. Something random runs inside it (tf.random.*, dropout in training mode, "
        f"a random augmentation){_random_operations_named(attempt)}, and finite differences "
        "would measure that noise instead of the gradient, so no verdict would mean anything. "
        "Make f a function of its inputs: draw the random values once outside f and let it "
        "read them, or use tf.random.stateless_* with a fixed seed inside it (e.g. "
        "tf.random.stateless_normal(shape, seed=[1, 2])); for a Keras layer, give it a seed "
        "(Dropout(rate, seed=1)) and call model.stateless_call(weights, "
        "non_trainable_values, x, training=True) with the non-trainable values fixed."
    )


_RANDOM_OP_WORDS = ("Random", "Rng", "Multinomial", "TruncatedNormal", "StatefulUniform")
"""Parts of the names of TensorFlow's stateful random operation types."""

MAX_NAMED_OPERATIONS = 3


def _random_operations_named(attempt: _Attempt) -> str:
    """``": op names"`` for the stateful random operations in ``f``'s graph ("" if none found)."""
    names = random_operations(attempt.objective, attempt.values)
    if not names:
        return ""
    shown = ", ".join(repr(name) for name in names[:MAX_NAMED_OPERATIONS])
    more = len(names) - MAX_NAMED_OPERATIONS
    return f" (random operations in f: {shown}{f' and {more} more' if more > 0 else ''})"


def random_operations(objective: Callable[..., Any], values: Sequence[Any]) -> list[str]:
    """The names of the stateful random operations in ``objective``'s graph, traced once.

    Keras puts each layer's operations in a name scope of the layer's name,
    so the names say which layer draws random numbers. An ``objective`` that
    cannot be traced gives an empty list.
    """
    signature = [tf.TensorSpec(value.shape, value.dtype) for value in values]
    try:
        graph = tf.function(objective, autograph=False).get_concrete_function(*signature).graph
    except Exception:  # f runs eagerly only: its randomness cannot be located, just seen
        return []
    return [
        op.name
        for op in graph.get_operations()
        if op.op_def.is_stateful and any(word in op.type for word in _RANDOM_OP_WORDS)
    ]


def validated_inputs(structure: Structure, items: list[Any]) -> tuple[list[InputSpec], list[Any]]:
    """Each input as a tensor with its description, refusing what cannot be checked.

    Raises (naming the input) for an input that is not a real floating-point
    tensor, is empty, or holds NaN or infinite values.
    """
    if not items:
        raise GradcheckError("xs is empty: pass the tensors to differentiate with respect to")
    specs, tensors = [], []
    for position, item in enumerate(items):
        key = structure.keys[position] if structure.kind == "mapping" else None
        provisional = InputSpec(position, key, variable_label(item), (), "")
        tensor = to_tensor(item, provisional.label)
        check_float_dtype(tensor, provisional.label)
        spec = InputSpec(position, key, provisional.name, tuple(tensor.shape), tensor.dtype.name)
        if spec.size == 0:
            raise GradcheckError(f"{spec.label} is empty (shape {spec.shape}): nothing to check")
        check_finite(tf.cast(tensor, tf.float64).numpy(), spec.label)
        specs.append(spec)
        tensors.append(tensor)
    return specs, tensors


def warn_about_precision(problem: Problem, stacklevel: int = 3) -> None:
    """Issue the :class:`PrecisionWarning` for a problem that cannot run in float64."""
    for note in problem.notes:
        warnings.warn(note, PrecisionWarning, stacklevel=stacklevel)


def prepare(
    f: Callable[..., Any],
    xs: Any,
    *,
    reduction: str,
    seed: int = 0,
    with_gradients: bool,
) -> Problem:
    """Validate ``xs``, find the most precise dtype ``f`` runs in, and evaluate ``f`` once.

    ``reduction`` says how a non-scalar output becomes the scalar that is
    differentiated: ``"sum"`` (as ``tape.gradient`` does) or ``"random"``
    (a seeded random projection, which also catches a custom gradient that
    ignores its upstream gradient). If ``f`` cannot run in float64, the
    reason is in ``notes``, and :func:`warn_about_precision` issues it.
    """
    if not callable(f):
        raise GradcheckError(f"f must be callable, got {type(f).__name__}")
    structure, items = split_structure(xs)
    specs, tensors = validated_inputs(structure, items)
    given = tuple(spec.dtype for spec in specs)
    attempt, refused = _first_working_attempt(
        f, structure, tensors, given, reduction, seed, with_gradients
    )
    value = float(tf.cast(attempt.value, tf.float64).numpy())
    if not np.isfinite(value):
        raise NonFiniteError(
            f"f is {value} at the given inputs: finite differences need a finite value. "
            "Look for log or sqrt of 0 or a negative, a division by 0, or an overflow."
        )
    run_dtypes = [v.dtype.name for v in attempt.values]
    precision = precision_of([*run_dtypes, attempt.output_dtype])
    refuse_nondeterminism(attempt, value, precision)
    note = _precision_note(attempt, precision, refused)
    return Problem(
        function_name=getattr(f, "__qualname__", None) or type(f).__name__,
        structure=structure,
        specs=tuple(specs),
        values=attempt.values,
        objective=attempt.objective,
        output_description=describe_output(attempt.output_shape, attempt.output_dtype, reduction),
        projected=reduction == "random" and int(np.prod(attempt.output_shape)) != 1,
        precision=precision,
        value=value,
        gradients=attempt.gradients,
        notes=(note,) if note else (),
    )
