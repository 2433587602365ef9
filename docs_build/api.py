"""The API reference page: every gradlab module, documented from its docstrings.

The page follows the package's layers: the tools an engineer imports, the
helpers the lessons use, the course engine, and the TensorFlow plumbing. Each
layer's modules are found on disk, so a module added later appears without
editing the site.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

import gradlab

LAYERS = (
    ("Tools for your own code", ("gradlab.gradcheck", "gradlab.tensorboard", "gradlab.diagnose")),
    ("Teaching helpers", ("gradlab.teaching",)),
    ("Course engine", ("gradlab.course",)),
    ("TensorFlow plumbing", ("gradlab.tfsupport",)),
)
# Per-lesson exercise declarations are data, described on each lesson's page.
NOT_DOCUMENTED = ("gradlab.course.checks",)


def modules_under(package: str) -> list[str]:
    """``package`` and its public modules, by name, without importing them."""
    folder = Path(gradlab.__file__).parent.joinpath(*package.split(".")[1:])
    found = [package]
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda info: info.name):
        name = f"{package}.{info.name}"
        if info.name.startswith("_") or name in NOT_DOCUMENTED:
            continue
        found += modules_under(name) if info.ispkg else [name]
    return found


def _entry(module: str) -> str:
    return f"::: {module}\n"


def page() -> str:
    """The Markdown of ``api.md``, for mkdocstrings to expand."""
    parts = [
        "# API reference",
        "Generated from gradlab's docstrings, layer by layer: the tools you can use in your "
        "own code, the helpers the lessons use, and the course engine behind "
        "`python -m gradlab.lesson`.",
        _entry("gradlab"),
    ]
    for title, packages in LAYERS:
        parts.append(f"## {title}")
        for package in packages:
            parts += map(_entry, modules_under(package))
    return "\n\n".join(parts)
