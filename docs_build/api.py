"""The API reference page: every gradlab module, documented from its docstrings.

The modules a learner calls come first, in :data:`FOR_LEARNERS` order; every
other module of the package follows under "Course machinery", found on disk,
so a module added later appears without editing the site.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

import gradlab

FOR_LEARNERS = (
    "gradlab",
    "gradlab.gradcheck",
    "gradlab.gradient_checker",
    "gradlab.tensorboard",
    "gradlab.plots",
)
# Per-lesson exercise declarations are data, described on each lesson's page.
NOT_DOCUMENTED = ("gradlab.checks",)


def machinery_modules() -> list[str]:
    """The package's other modules, by name, without importing them."""
    folder = Path(gradlab.__file__).parent
    names = sorted(f"gradlab.{info.name}" for info in pkgutil.iter_modules([str(folder)]))
    return [
        name
        for name in names
        if name not in FOR_LEARNERS
        and name not in NOT_DOCUMENTED
        and not name.split(".")[-1].startswith("_")
    ]


def _entry(module: str) -> str:
    return f"::: {module}\n"


def page() -> str:
    """The Markdown of ``api.md``, for mkdocstrings to expand."""
    parts = [
        "# API reference",
        "Generated from gradlab's docstrings. The first modules are the ones lessons and "
        "learners call; the rest is the course machinery behind `python -m gradlab.lesson`.",
        "## For learners",
        *map(_entry, FOR_LEARNERS),
        "## Course machinery",
        *map(_entry, machinery_modules()),
    ]
    return "\n\n".join(parts)
