"""One readable label for a TensorFlow or Keras variable, used by every tool."""

from __future__ import annotations

from typing import Any


def variable_label(variable: Any) -> str | None:
    """A variable's readable name, or ``None`` if ``variable`` has none.

    A Keras 3 variable's ``path`` (``"sequential/dense/kernel"``); otherwise
    its ``name`` without the ``":0"`` device suffix (``tf.Variable(1.0,
    name="w")`` gives ``"w"``). ``None`` for anything with neither.
    """
    path = getattr(variable, "path", None)
    if isinstance(path, str) and path:
        return path
    name = getattr(variable, "name", None)
    if not isinstance(name, str) or not name:
        return None
    base, colon, index = name.rpartition(":")
    return base if colon and index.isdigit() else name
