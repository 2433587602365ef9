"""Short, readable descriptions of values and calls for check messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

_SHOW_ELEMENTS = 6


def describe(value: Any) -> str:
    """``value`` as a learner would want to read it in a failure message."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{key!r}: {describe(item)}" for key, item in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(item) for item in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    distributed = _describe_distributed(value)
    if distributed is not None:
        return distributed
    kind = _tensor_kind(value)
    if kind is not None:
        return _describe_array(kind, np.asarray(value), value)
    if isinstance(value, np.ndarray | np.generic):
        return _describe_array("np.array", np.asarray(value), value)
    if hasattr(value, "trainable_variables") and hasattr(value, "name"):
        return f"{type(value).__name__}(name={value.name!r})"
    if callable(value) and not hasattr(value, "label"):
        return getattr(value, "__name__", type(value).__name__)
    return repr(value)


def describe_call(function: str, arguments: Mapping[str, Any]) -> str:
    """``function(name=value, ...)`` with each value described."""
    inside = ", ".join(f"{name}={describe(value)}" for name, value in arguments.items())
    return f"{function}({inside})"


def _describe_distributed(value: Any) -> str | None:
    """A ``tf.distribute`` strategy or per-replica value in one line, not its long repr."""
    if not type(value).__module__.startswith("tensorflow.python.distribute"):
        return None
    replicas = getattr(value, "num_replicas_in_sync", None)
    if isinstance(replicas, int):
        return f"{type(value).__name__}({replicas} replicas)"
    parts = getattr(value, "values", None)
    if isinstance(parts, tuple):
        return f"{type(value).__name__}({', '.join(describe(part) for part in parts)})"
    return None


def _tensor_kind(value: Any) -> str | None:
    module = type(value).__module__
    if not (module.startswith("tensorflow") or module.startswith("keras")):
        return None
    if hasattr(value, "assign"):
        return "tf.Variable"
    if hasattr(value, "numpy") and hasattr(value, "dtype"):
        return "tf.Tensor"
    return None


def _describe_array(kind: str, array: np.ndarray, original: Any) -> str:
    dtype = getattr(getattr(original, "dtype", None), "name", None) or array.dtype.name
    if array.ndim == 0:
        return f"{kind}({_number(array.item())}, {dtype})"
    shape = f"shape={tuple(array.shape)}"
    if array.size <= _SHOW_ELEMENTS:
        values = np.array2string(array, precision=6, separator=", ").replace("\n", "")
        return f"{kind}({values}, {shape}, {dtype})"
    return f"{kind}({shape}, {dtype})"


def _number(value: Any) -> str:
    if not isinstance(value, float):
        return repr(value)
    text = f"{value:.6g}"
    return text if any(mark in text for mark in ".eni") else f"{text}.0"
