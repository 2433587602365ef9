"""Build lesson files for tests: pristine copies, pasted solutions, planted bugs; run them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from gradlab.course.catalogue import Lesson
from gradlab.course.source import function_source, functions_in

ROOT = Path(__file__).resolve().parent.parent


def replace_function(text: str, name: str, new_source: str) -> str:
    """``text`` with the function ``name`` (and its decorators) replaced by ``new_source``."""
    function = functions_in(text)[name]
    lines = text.splitlines(keepends=True)
    start = min([function.lineno, *(d.lineno for d in function.decorator_list)]) - 1
    return "".join([*lines[:start], new_source.rstrip("\n") + "\n", *lines[function.end_lineno :]])


def with_solutions(target: Lesson) -> str:
    """The lesson file with every exercise replaced by its reference solution."""
    text = target.path.read_text(encoding="utf-8")
    reference = target.solution_path.read_text(encoding="utf-8")
    for name in functions_in(text):
        solution = function_source(reference, name)
        if solution is not None:
            text = replace_function(text, name, solution)
    return text


def copy_course(destination: Path) -> Path:
    """A committed git clone-alike of the course's lessons and solutions."""
    for folder in ("lessons", "solutions"):
        shutil.copytree(ROOT / folder, destination / folder)
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    git = ["git", "-C", str(destination), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "pristine"], check=True)
    return destination


def run_in_course(
    root: Path, *arguments: str, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``python *arguments`` in the course copy ``root``, as a learner's terminal runs it."""
    return subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=root,
        env={**os.environ, "GRADLAB_HOME": str(root)},
    )
