"""Module proxies that import on first use.

Exercise definitions and library modules refer to ``tf`` and ``keras`` at
module level, but commands such as ``hint`` or the lesson list must not pay the
ten-odd seconds TensorFlow takes to import. A :class:`LazyModule` imports its
module the first time one of its attributes is read.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for a module and imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def load(self) -> ModuleType:
        """Import (once) and return the real module."""
        return importlib.import_module(self._name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.load(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


tf = LazyModule("tensorflow")
keras = LazyModule("keras")
