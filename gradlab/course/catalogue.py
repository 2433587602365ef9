"""Where the course lives on disk, and the catalogue of its lessons.

The course root is the folder holding ``lessons/`` and ``solutions/``. It is
found from ``$GRADLAB_HOME``, else from the current folder or one of its
parents, else next to the installed :mod:`gradlab` package (the usual case in
a clone, where the package is installed in editable mode).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from gradlab.course.cells import Cell, parse_cells, title_of
from gradlab.course.messages import CourseError

_LESSON_FILE = re.compile(r"^(?P<number>\d{2})_(?P<slug>\w+)\.py$")


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

    @cached_property
    def cells(self) -> list[Cell]:
        """The cells of the pristine-or-edited lesson file in ``lessons/``."""
        return parse_cells(self.path.read_text(encoding="utf-8"))

    @property
    def title(self) -> str:
        """The lesson's first Markdown heading (its slug if it has none)."""
        return title_of(self.cells) or self.slug.replace("_", " ")


def lessons(root: Path | None = None) -> list[Lesson]:
    """Every lesson in ``lessons/``, by number."""
    root = root or course_root()
    found = []
    for path in sorted((root / "lessons").glob("[0-9][0-9]_*.py")):
        match = _LESSON_FILE.match(path.name)
        if match:
            found.append(Lesson(int(match["number"]), match["slug"], path, root))
    return found


def lesson(number: int | str, root: Path | None = None) -> Lesson:
    """The lesson with this number; :class:`CourseError` names the valid ones if absent."""
    catalogue = lessons(root)
    text = str(number).strip()
    if text.isdigit():
        for candidate in catalogue:
            if candidate.number == int(text):
                return candidate
    valid = ", ".join(str(item.number) for item in catalogue) or "none"
    raise CourseError(f"there is no lesson {text!r}: the lessons are {valid}")
