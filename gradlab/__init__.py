"""gradlab: see and verify gradients in TensorFlow 2.

The package has three layers, each a folder:

- :mod:`gradlab.course` — the engine a learner drives: ``python -m gradlab.lesson``,
  lesson discovery, running and checking exercises, notebooks, progress.
- :mod:`gradlab.gradcheck`, :mod:`gradlab.tensorboard`, :mod:`gradlab.diagnose` —
  the tools an engineer imports into their own code. Importing them changes
  nothing else in the process.
- :mod:`gradlab.teaching` — the helpers the lessons use: figures, graph
  inspection, device splitting, the second article's ``gradient_checker`` API.

:mod:`gradlab.tfsupport` is the TensorFlow plumbing they share (lazy import,
quiet start-up, variable labels). Importing :mod:`gradlab` is instant and
changes nothing: TensorFlow is imported only when something needs it, and its
start-up noise is hidden only when :func:`quiet_tensorflow` asks for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__version__ = "2.21.0"
__all__ = ["__version__", "check", "quiet_tensorflow"]

_TEACHING = ("plots", "graphs", "devices", "gradient_checker")


def check(exercise: str, function: Callable[..., Any]) -> None:
    """Check one exercise in a notebook and print ✓ or ✗ with the reason.

    ``exercise`` is its id, ``"1.2"`` for lesson 1, exercise 2; ``function``
    is your function. Never raises, so "Run All" always reaches the end.
    """
    from gradlab.course.judge import check_in_notebook

    check_in_notebook(exercise, function)


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ start-up noise out of this process's output.

    The lessons call it first thing; so do the command line and the docs
    build. A program that only uses gradlab's tools never needs it.
    """
    from gradlab.tfsupport.quiet import install

    install()


def __getattr__(name: str) -> Any:
    # ``from gradlab import plots`` (the lessons' spelling) finds the teaching helpers.
    if name in _TEACHING:
        return importlib.import_module(f"gradlab.teaching.{name}")
    raise AttributeError(f"module 'gradlab' has no attribute {name!r}")
