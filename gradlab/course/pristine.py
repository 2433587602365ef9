"""The lesson as the course shipped it: backing up the learner's copy, and resetting."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from gradlab.course.catalogue import Lesson, is_workspace, shipped_course
from gradlab.course.messages import CourseError, shown


def backup(target: Lesson, source: Path | None = None) -> Path:
    """Copy the learner's lesson file (or ``source``, e.g. its notebook) to ``backups/``
    with a time stamp; return the copy.

    Raises :class:`CourseError` if the copy cannot be made (the file is untouched).
    """
    source = source or target.path
    folder = target.root / "backups"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    copy = folder / f"{source.stem}.{stamp}{source.suffix}"
    counter = 1
    while copy.exists():
        copy = folder / f"{source.stem}.{stamp}-{counter}{source.suffix}"
        counter += 1
    try:
        folder.mkdir(exist_ok=True)
        shutil.copy2(source, copy)
    except OSError as error:
        raise CourseError(
            f"cannot save a backup of {shown(source)} in {shown(folder)}/ "
            f"({error.strerror}), so the file was left as it is"
        ) from None
    return copy


def pristine_text(target: Lesson) -> str:
    """The lesson as the course shipped it: for a workspace, the installed package's copy;
    for a clone, git's (upstream branch, else HEAD)."""
    relative = target.path.relative_to(target.root).as_posix()
    if is_workspace(target.root):
        return _shipped_text(relative)
    for ref in ("@{upstream}", "HEAD"):
        try:
            result = subprocess.run(
                ["git", "-C", str(target.root), "show", f"{ref}:{relative}"],
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError:
            break  # no git on this machine
        if result.returncode == 0:
            return result.stdout
    raise CourseError(f"cannot find the pristine {relative}: reset needs the course's git history")


def _shipped_text(relative: str) -> str:
    path = shipped_course() / relative
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise CourseError(
            f"cannot read the pristine {relative} in the installed gradlab ({error.strerror}): "
            "reinstall gradlab, then reset again"
        ) from None


def reset(target: Lesson) -> Path | None:
    """Restore the pristine lesson after backing up the learner's copy.

    Returns the backup, or ``None`` if there was nothing to back up (the file
    was pristine, or deleted: then it is restored). Works on a file that is
    not valid UTF-8 (its bytes are backed up as they are); raises
    :class:`CourseError` if the lesson or the backup cannot be written.
    """
    pristine = pristine_text(target).encode("utf-8")
    copy = None
    if target.exists:
        if _read_bytes(target.path) == pristine:
            return None
        copy = backup(target)
    try:
        target.path.write_bytes(pristine)
    except OSError as error:
        saved = f"; your copy is saved as {shown(copy)}" if copy else ""
        raise CourseError(f"cannot write {shown(target.path)} ({error.strerror}){saved}") from None
    return copy


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CourseError(f"{shown(path)}: cannot read it ({error.strerror})") from None
