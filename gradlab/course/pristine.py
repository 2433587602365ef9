"""The lesson as the course shipped it: backing up the learner's copy, and resetting."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from gradlab.course.catalogue import Lesson
from gradlab.course.messages import CourseError


def backup(target: Lesson, source: Path | None = None) -> Path:
    """Copy the learner's lesson file (or ``source``, e.g. its notebook) to ``backups/``
    with a time stamp; return the copy."""
    source = source or target.path
    folder = target.root / "backups"
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    copy = folder / f"{source.stem}.{stamp}{source.suffix}"
    counter = 1
    while copy.exists():
        copy = folder / f"{source.stem}.{stamp}-{counter}{source.suffix}"
        counter += 1
    shutil.copy2(source, copy)
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
