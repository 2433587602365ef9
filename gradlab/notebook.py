"""Pair a lesson with a Jupyter notebook (jupytext), and reset a lesson to pristine."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from gradlab.checking import shown
from gradlab.course import CourseError, Lesson


def backup(target: Lesson) -> Path:
    """Copy the learner's lesson file to ``backups/`` with a time stamp; return the copy."""
    folder = target.root / "backups"
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    copy = folder / f"{target.path.stem}.{stamp}.py"
    counter = 1
    while copy.exists():
        copy = folder / f"{target.path.stem}.{stamp}-{counter}.py"
        counter += 1
    shutil.copy2(target.path, copy)
    return copy


def pristine_text(target: Lesson) -> str:
    """The lesson as the course shipped it, from git (upstream branch, else HEAD)."""
    relative = target.path.relative_to(target.root).as_posix()
    for ref in ("@{upstream}", "HEAD"):
        result = subprocess.run(
            ["git", "-C", str(target.root), "show", f"{ref}:{relative}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return result.stdout
    raise CourseError(f"cannot find the pristine {relative}: reset needs the course's git history")


def reset(target: Lesson) -> Path | None:
    """Restore the pristine lesson after backing up the learner's copy (``None`` if unchanged)."""
    pristine = pristine_text(target)
    if target.path.read_text(encoding="utf-8") == pristine:
        return None
    copy = backup(target)
    target.path.write_text(pristine, encoding="utf-8")
    return copy


def sync(target: Lesson) -> tuple[Path, Path | None]:
    """Create or update the lesson's ``.ipynb`` pair; return it and any backup made.

    The newer file wins, as with ``jupytext --sync``: a newer ``.py`` updates
    the notebook's inputs (keeping its outputs); a newer notebook (edited in
    Jupyter without the jupytext extension) rewrites the ``.py``, after the
    old ``.py`` is backed up.
    """
    import jupytext
    from jupytext.combine import combine_inputs_with_outputs

    notebook_path = target.path.with_suffix(".ipynb")
    lesson_notebook = jupytext.read(target.path)
    if notebook_path.exists() and notebook_path.stat().st_mtime > target.path.stat().st_mtime:
        newer = jupytext.writes(jupytext.read(notebook_path), fmt="py:percent")
        if newer == target.path.read_text(encoding="utf-8"):
            return notebook_path, None
        saved = backup(target)
        target.path.write_text(newer, encoding="utf-8")
        return notebook_path, saved
    if notebook_path.exists():
        lesson_notebook = combine_inputs_with_outputs(
            lesson_notebook, jupytext.read(notebook_path)
        )
    jupytext.write(lesson_notebook, notebook_path)
    return notebook_path, None


def open_command(notebook: Path) -> str:
    """The command that opens ``notebook`` in JupyterLab."""
    return f"uv run jupyter lab {shown(notebook)}"
