"""Compare a learner's answer with the reference: structure, shape, dtype, values.

:func:`compare` returns ``None`` when they agree, or a :class:`Mismatch` that
says where they differ and how: the *kind* decides the verdict (a wrong value
is a failed answer; a wrong type, structure, shape or dtype means the answer
is not the kind of value the exercise asks for).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlab.course.describe import describe

WRONG_KIND = frozenset({"type", "structure", "shape", "dtype"})


@dataclass(frozen=True)
class Mismatch:
    """Where and how an answer differs from the expected one."""

    kind: str  # "type", "structure", "shape", "dtype" or "value"
    where: str  # "" for the whole answer, else e.g. "['dense/kernel']" or "[1]"
    detail: str
    max_error: float | None = None
    index: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Tolerance:
    """How close values must be, and whether dtypes must match exactly."""

    rtol: float = 1e-5
    atol: float = 1e-6
    exact_dtype: bool = True


def compare(got: Any, expected: Any, tolerance: Tolerance, where: str = "") -> Mismatch | None:
    """The first difference between ``got`` and ``expected``, or ``None``."""
    if expected is None:
        if got is None:
            return None
        return Mismatch("type", where, f"expected None, got {describe(got)}")
    if got is None:
        return Mismatch("type", where, "got None where a value was expected")
    if isinstance(expected, Mapping):
        return _compare_mappings(got, expected, tolerance, where)
    if isinstance(expected, (list, tuple)):
        return _compare_sequences(got, expected, tolerance, where)
    return _compare_arrays(got, expected, tolerance, where)


def _compare_mappings(got, expected, tolerance, where) -> Mismatch | None:
    if not isinstance(got, Mapping):
        return Mismatch("type", where, f"expected a dict, got {type(got).__name__}")
    missing = [key for key in expected if key not in got]
    extra = [key for key in got if key not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if extra:
            parts.append(f"unexpected keys {extra}")
        return Mismatch("structure", where, "; ".join(parts))
    for key in expected:
        found = compare(got[key], expected[key], tolerance, f"{where}[{key!r}]")
        if found:
            return found
    return None


def _compare_sequences(got, expected, tolerance, where) -> Mismatch | None:
    if not isinstance(got, (list, tuple)):
        return Mismatch("type", where, f"expected a list of {len(expected)}, got {describe(got)}")
    if len(got) != len(expected):
        return Mismatch("structure", where, f"expected {len(expected)} items, got {len(got)}")
    for position, (item, wanted) in enumerate(zip(got, expected, strict=True)):
        found = compare(item, wanted, tolerance, f"{where}[{position}]")
        if found:
            return found
    return None


def as_array(value: Any) -> np.ndarray | None:
    """``value`` as a NumPy array, or ``None`` if it is not numeric."""
    if isinstance(value, (str, bytes, Mapping, list, tuple)) or callable(value):
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    return array if array.dtype.kind in "biufc" else None


def _compare_arrays(got, expected, tolerance, where) -> Mismatch | None:
    want = np.asarray(expected)
    have = as_array(got)
    if have is None:
        return Mismatch("type", where, f"expected a tensor, got {describe(got)}")
    if have.shape != want.shape:
        return Mismatch("shape", where, f"expected shape {want.shape}, got shape {have.shape}")
    if not _dtypes_agree(got, have, want, tolerance.exact_dtype):
        return Mismatch("dtype", where, f"expected dtype {want.dtype}, got dtype {have.dtype}")
    return _compare_values(have, want, tolerance, where)


def _dtypes_agree(got, have: np.ndarray, want: np.ndarray, exact: bool) -> bool:
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        return want.dtype.kind in "iuf" and (want.dtype.kind == "f" or isinstance(got, int))
    if exact:
        return have.dtype == want.dtype
    return have.dtype.kind == want.dtype.kind


def _compare_values(have, want, tolerance, where) -> Mismatch | None:
    have64, want64 = have.astype(np.float64), want.astype(np.float64)
    close = np.isclose(have64, want64, rtol=tolerance.rtol, atol=tolerance.atol, equal_nan=True)
    if close.all():
        return None
    error = np.where(close, 0.0, np.abs(have64 - want64))
    error = np.where(np.isnan(error), np.inf, error)
    flat = int(np.argmax(error))
    index = tuple(int(i) for i in np.unravel_index(flat, want.shape)) if want.ndim else ()
    worst = float(error.reshape(-1)[flat]) if error.size else 0.0
    detail = f"{int((~close).sum())} of {close.size} values differ"
    return Mismatch("value", where, detail, worst, index)
