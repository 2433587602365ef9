"""Import TensorFlow without its C++ start-up noise.

TensorFlow 2.21 logs through absl before absl is initialised, so its start-up
lines ("oneDNN custom operations are on", "Could not find cuda drivers", ...)
go straight to file descriptor 2 and ignore ``TF_CPP_MIN_LOG_LEVEL``. Python's
``sys.stderr`` never sees them, so the only way to keep them out of a
learner's terminal or notebook is to point descriptor 2 at the null device
while TensorFlow's package is executed.

:func:`install` adds an import hook that does exactly that, the first time
anything imports ``tensorflow``; it costs nothing until then, so importing
:mod:`gradlab` stays instant.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import sys
from collections.abc import Iterator

_QUIET_MODULES = ("tensorflow",)

TENSORFLOW_NOISE = (
    "absl::InitializeLog",
    "I0000",
    "E0000",
    "W0000",
    "oneDNN",
    "cuda",
    "cpu_feature_guard",
)
"""Text that only TensorFlow's C++ start-up lines contain: finding one means the noise got out."""


@contextlib.contextmanager
def silenced_fd2() -> Iterator[None]:
    """Send everything written to file descriptor 2 to the null device."""
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (some embedded interpreters): nothing to hide
        yield
        return
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietLoader(importlib.abc.Loader):
    """Wraps a module's real loader and runs it with descriptor 2 silenced."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        with silenced_fd2():
            self._loader.exec_module(module)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as usual, then swaps in :class:`_QuietLoader`."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in _QUIET_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Make the first ``import tensorflow`` in this process quiet.

    Also sets ``TF_CPP_MIN_LOG_LEVEL=3`` (unless the user chose a level): after
    start-up TensorFlow still honours it, and without it the first compiled
    function prints a "failed call to cuInit" line on a machine with no GPU.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, _QuietFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())


@contextlib.contextmanager
def tensorflow_warnings_hidden() -> Iterator[None]:
    """Hide TensorFlow's Python warnings (its ``tensorflow`` logger) inside the block.

    A check creates a fresh ``tf.function`` for every case, every known mistake and the
    learner's answer; TensorFlow counts those as one function retracing and warns
    about it, which is noise in a verdict. Errors are still shown.
    """
    logger = logging.getLogger("tensorflow")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)
