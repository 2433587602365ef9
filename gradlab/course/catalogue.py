"""Where the course lives on disk, and the catalogue of its lessons.

The course root is the folder holding ``lessons/`` and ``solutions/``. It is
found from ``$GRADLAB_HOME``, else from the current folder or one of its
parents, else next to the installed :mod:`gradlab` package (the usual case in
a clone, where the package is installed in editable mode).

A lesson is known from its file in ``lessons/`` or, if the learner deleted
that, from its reference solutions in ``solutions/`` (same file name), so
``reset`` can restore it and the list can say it is missing.
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


def course_root() -> Path:
    """The folder that holds ``lessons/``; raises :class:`CourseError` if there is none."""
    candidates = []
    if os.environ.get("GRADLAB_HOME"):
        candidates.append(Path(os.environ["GRADLAB_HOME"]))
    here = Path.cwd().resolve()
    candidates += [here, *here.parents, Path(__file__).resolve().parent.parent]
    for folder in candidates:
        if (folder / "lessons").is_dir() and (folder / "solutions").is_dir():
            return folder
    raise CourseError(
        "cannot find the course's lessons/ folder: run this from your gradlab clone "
        "or set GRADLAB_HOME to it"
    )


@dataclass(frozen=True)
class Lesson:
    """One lesson: its number, its file in ``lessons/`` and its reference solutions."""

    number: int
    slug: str
    path: Path
    root: Path

    @property
    def solution_path(self) -> Path:
        """The reference solutions, ``solutions/NN_slug.py``."""
        return self.root / "solutions" / self.path.name

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
    """Every lesson in ``lessons/`` (or, if deleted there, in ``solutions/``), by number."""
    root = root or course_root()
    names = {
        path.name for folder in ("lessons", "solutions") for path in (root / folder).glob("*.py")
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
