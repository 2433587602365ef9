"""Where the course lives on disk, and the catalogue of its lessons.

The course root is either a clone (a folder holding ``lessons/`` and
``solutions/``) or a workspace that ``gradlab init`` made (a folder holding the
:data:`MARKER` file and ``lessons/``; its reference solutions stay inside the
installed package). It is found from ``$GRADLAB_HOME``, else from the current
folder or one of its parents, else next to the installed :mod:`gradlab`
package (the usual case in a clone, where the package is installed in editable
mode).

A lesson is known from its file in ``lessons/`` or, if the learner deleted
that, from its reference solutions (same file name), so ``reset`` can restore
it and the list can say it is missing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from gradlab.course.cells import Cell, parse_cells, title_of
from gradlab.course.messages import CourseError, shown
from gradlab.course.source import read_source

_LESSON_FILE = re.compile(r"^(?P<number>[0-9]{2})_(?P<slug>\w+)\.py$", re.ASCII)

MARKER = "gradlab-workspace.json"
"""The file that makes a folder a learner's workspace (written by ``gradlab init``)."""

_PACKAGE = Path(__file__).resolve().parent.parent  # the gradlab package
_CONTENT = Path(__file__).resolve().parent / "content"  # the wheel's copy of the course


def _is_clone(folder: Path) -> bool:
    return (folder / "lessons").is_dir() and (folder / "solutions").is_dir()


def is_workspace(folder: Path) -> bool:
    """Whether ``folder`` is a workspace made by ``gradlab init``."""
    return (folder / MARKER).is_file()


def course_root() -> Path:
    """The clone or workspace to work in; raises :class:`CourseError` if there is none."""
    candidates = []
    if os.environ.get("GRADLAB_HOME"):
        candidates.append(Path(os.environ["GRADLAB_HOME"]))
    here = Path.cwd().resolve()
    candidates += [here, *here.parents, _PACKAGE.parent]
    for folder in candidates:
        if is_workspace(folder) or _is_clone(folder):
            return folder
    raise CourseError(
        "this folder is not in a gradlab workspace: make one with `gradlab init` and cd "
        "into it, or cd into the one you made (a clone of the course works too)"
    )


def shipped_course() -> Path:
    """The course as installed: ``lessons/`` and ``solutions/`` inside the wheel, or the clone.

    Raises :class:`CourseError` if this installation carries no lessons.
    """
    for folder in (_CONTENT, _PACKAGE.parent):
        if _is_clone(folder):
            return folder
    raise CourseError(
        f"this gradlab installation ({shown(_PACKAGE)}) carries no lessons: "
        "reinstall it from its wheel"
    )


def solutions_folder(root: Path) -> Path:
    """The reference solutions of the course at ``root`` (a workspace's are in the package)."""
    return shipped_course() / "solutions" if is_workspace(root) else root / "solutions"


@dataclass(frozen=True)
class Lesson:
    """One lesson: its number, its file in ``lessons/`` and its reference solutions."""

    number: int
    slug: str
    path: Path
    root: Path

    @property
    def solution_path(self) -> Path:
        """The reference solutions, ``solutions/NN_slug.py`` (in the package for a workspace)."""
        return solutions_folder(self.root) / self.path.name

    @property
    def run_dir(self) -> Path:
        """Where this lesson's figures and logs go: ``runs/lessonNN``."""
        return self.root / "runs" / f"lesson{self.number:02d}"

    @property
    def exists(self) -> bool:
        """Whether the lesson file is there (a learner may have deleted it)."""
        return self.path.is_file()

    @property
    def restore_command(self) -> str:
        """The command that brings back the pristine lesson file."""
        return f"python -m gradlab.lesson {self.number} reset"

    @property
    def text(self) -> str:
        """The lesson file's text; :class:`CourseError` if it is missing or unreadable."""
        if not self.path.exists():
            raise CourseError(
                f"{shown(self.path)} is missing: restore it with {self.restore_command}"
            )
        return read_source(self.path)

    def require_readable(self) -> None:
        """Raise :class:`CourseError` (one line) if the lesson file is missing or unreadable."""
        self.text  # noqa: B018 - reading it is the test

    @cached_property
    def cells(self) -> list[Cell]:
        """The cells of the pristine-or-edited lesson file in ``lessons/``."""
        return parse_cells(self.text)

    @property
    def title(self) -> str:
        """The lesson's first Markdown heading (its slug if it has none or is missing)."""
        heading = title_of(self.cells) if self.exists else None
        return heading or self.slug.replace("_", " ")


def lessons(root: Path | None = None) -> list[Lesson]:
    """Every lesson in ``lessons/`` (or, if deleted there, in the solutions), by number."""
    root = root or course_root()
    names = {
        path.name
        for folder in (root / "lessons", solutions_folder(root))
        for path in folder.glob("*.py")
    }
    found = []
    for name in sorted(names):
        match = _LESSON_FILE.match(name)
        if match:
            found.append(
                Lesson(int(match["number"]), match["slug"], root / "lessons" / name, root)
            )
    return found


def lesson(number: int | str, root: Path | None = None) -> Lesson:
    """The lesson with this number; :class:`CourseError` names the valid ones if absent.

    Only ASCII digits make a number (``"²"`` and ``"٣"`` are not lesson numbers).
    """
    catalogue = lessons(root)
    text = str(number).strip()
    if re.fullmatch(r"[0-9]+", text, re.ASCII):
        for candidate in catalogue:
            if candidate.number == int(text):
                return candidate
    valid = ", ".join(str(item.number) for item in catalogue) or "none"
    raise CourseError(f"there is no lesson {text!r}: the lessons are {valid}")
