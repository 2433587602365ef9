"""``gradlab init [DIR]``: a learner's workspace made from the installed course.

A workspace holds the lesson files, a README that says what to run next, and
the :data:`~gradlab.course.catalogue.MARKER` file, which tells the engine this
is a course root and records the hash of each lesson file as it was copied.
The reference solutions stay in the installed package. ``gradlab init
--update`` brings in lessons the installed course has and the workspace
lacks, and refreshes lessons the learner never edited; an edited file is
never overwritten.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gradlab import __version__
from gradlab.course.catalogue import MARKER, course_root, is_workspace, shipped_course
from gradlab.course.messages import CourseError, shown

DEFAULT_FOLDER = "gradlab-course"

README = """\
# My gradlab course

This folder is your gradlab workspace: the lessons are in `lessons/`, and you
edit them as you go. Start with

    python -m gradlab.lesson 1          # run lesson 1 top to bottom
    python -m gradlab.lesson 1 check    # check your exercises

and list every lesson with `python -m gradlab.lesson` (`gradlab` is the same
command). `python -m gradlab.lesson 1 reset` restores a lesson as it shipped
(your copy goes to `backups/`); `gradlab init --update` brings in new lessons
after you upgrade gradlab and never overwrites a lesson you edited.
"""


@dataclass
class Update:
    """What ``gradlab init --update`` did, by lesson file name."""

    added: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def digest(data: bytes) -> str:
    """The SHA-256 of ``data``, as the marker records it."""
    return hashlib.sha256(data).hexdigest()


def shipped_lessons() -> dict[str, bytes]:
    """Every lesson file of the installed course: its name and its bytes."""
    folder = shipped_course() / "lessons"
    return {path.name: path.read_bytes() for path in sorted(folder.glob("[0-9][0-9]_*.py"))}


def create(folder: Path) -> list[str]:
    """Make a workspace in ``folder`` (new or empty); return the lesson files copied.

    Raises :class:`CourseError` (one line) if ``folder`` is a file, is not
    empty, or cannot be written.
    """
    if folder.exists() and not folder.is_dir():
        raise CourseError(f"{shown(folder)} is a file: choose a new folder for the workspace")
    if is_workspace(folder):
        raise CourseError(
            f"{shown(folder)} is already a gradlab workspace: "
            f"bring in new lessons with `gradlab init --update {shown(folder)}`"
        )
    if folder.is_dir() and any(folder.iterdir()):
        raise CourseError(
            f"{shown(folder)} already exists and is not empty: choose a new folder "
            "(e.g. `gradlab init my-course`)"
        )
    lessons = shipped_lessons()
    _write(folder / "lessons", lessons)
    _write(folder, {"README.md": README.encode()})
    _save_marker(folder, {name: digest(data) for name, data in lessons.items()})
    return list(lessons)


def update(folder: Path) -> Update:
    """Bring the installed course's lessons into the workspace ``folder``.

    A lesson the workspace lacks and never had is added; one whose file is
    still as it was copied (or already equals the new one) is refreshed; one
    the learner edited is skipped. A lesson the learner deleted stays deleted
    (``reset`` brings it back).
    """
    if not is_workspace(folder):
        raise CourseError(
            f"{shown(folder)} is not a gradlab workspace: make one with `gradlab init`"
        )
    recorded = _load_marker(folder)
    result = Update()
    for name, data in shipped_lessons().items():
        path = folder / "lessons" / name
        if not path.exists():
            if name not in recorded:
                _write(path.parent, {name: data})
                result.added.append(name)
            continue
        current = digest(_read(path))
        if current not in (digest(data), recorded.get(name)):
            result.skipped.append(name)
            continue
        if current != digest(data):
            _write(path.parent, {name: data})
            result.refreshed.append(name)
        recorded[name] = digest(data)
    _save_marker(folder, recorded)
    return result


def _write(folder: Path, files: dict[str, bytes]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    except OSError as error:
        raise CourseError(f"cannot write in {shown(folder)} ({error.strerror})") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CourseError(f"{shown(path)}: cannot read it ({error.strerror})") from None


def _save_marker(folder: Path, pristine: dict[str, str]) -> None:
    text = json.dumps({"gradlab": __version__, "pristine": pristine}, indent=2) + "\n"
    _write(folder, {MARKER: text.encode()})


def _load_marker(folder: Path) -> dict[str, str]:
    try:
        pristine = json.loads(_read(folder / MARKER))["pristine"]
    except (ValueError, KeyError, TypeError):
        raise CourseError(
            f"{shown(folder / MARKER)} is damaged: restore it from a backup, or make a new "
            "workspace with `gradlab init` and copy your lessons into it"
        ) from None
    return {str(name): str(value) for name, value in dict(pristine).items()}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise CourseError(f"{message} (see gradlab init --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradlab init",
        description="Make a gradlab workspace (the lessons, a README, a marker file).",
    )
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        help=f"where (default: {DEFAULT_FOLDER}/, or with --update the workspace you are in)",
    )
    parser.add_argument(
        "--update", action="store_true", help="bring new lessons into an existing workspace"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """``gradlab init [DIR] [--update]``; return the exit status (2 on a usage error)."""
    try:
        options = _parser().parse_args(argv)
        if options.update:
            return _report_update(options.folder or course_root())
        folder = options.folder or Path(DEFAULT_FOLDER)
        copied = create(folder)
    except CourseError as error:
        print(f"gradlab: {error}", file=sys.stderr)
        return 2
    print(f"Made a gradlab workspace in {shown(folder)}/ with {len(copied)} lessons.")
    print(f"Next:  cd {shown(folder)} && python -m gradlab.lesson 1")
    return 0


def _report_update(folder: Path) -> int:
    result = update(folder)
    for verb, names in (("added", result.added), ("refreshed", result.refreshed)):
        for name in names:
            print(f"{verb} lessons/{name}")
    for name in result.skipped:
        print(f"skipped lessons/{name}: you edited it (reset it to get the new version)")
    if not (result.added or result.refreshed or result.skipped):
        print("the workspace already has every lesson of this gradlab")
    return 0
