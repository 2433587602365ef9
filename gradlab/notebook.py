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

    jupytext keeps the two files in step: the newer one wins. If that rewrites
    the learner's ``.py``, the old version is backed up first.
    """
    from jupytext.cli import jupytext

    before = target.path.read_text(encoding="utf-8")
    saved = backup(target)
    jupytext(["--quiet", "--sync", str(target.path)])
    if target.path.read_text(encoding="utf-8") == before:
        saved.unlink()
        saved = None
    return target.path.with_suffix(".ipynb"), saved


def open_command(notebook: Path) -> str:
    """The command that opens ``notebook`` in JupyterLab."""
    return f"uv run jupyter lab {shown(notebook)}"
