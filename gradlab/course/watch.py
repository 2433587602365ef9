"""``python -m gradlab.lesson N watch``: the verdict on screen within a second of each save.

This process loads TensorFlow, the lesson's checks and its reference solutions
once (:class:`~gradlab.course.recheck.Rechecker`), then watches the lesson's
folder with :mod:`watchfiles` (the folder, not the file: editors that save by
writing a new file and renaming it replace the file watched) and keeps only
events on the lesson file. A burst of saves is one round: watchfiles groups
events until the folder has been quiet for :data:`QUIET_MS`, and the round
reads the file as it is then. Each exercise whose code changed is checked in a
fresh forked child with the time limit ``check`` uses; a syntax error, a missing
or half-written file is one line, and the watch goes on. Ctrl-C or ``q`` ends
it with exit status 0 and the tally.

If the engine or the reference solutions change under a running watch, the
warm process is stale, so it starts itself again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import watchfiles

from gradlab.course import progress
from gradlab.course.catalogue import Lesson, lessons
from gradlab.course.exercise import exercises_of
from gradlab.course.messages import CourseError, shown
from gradlab.course.recheck import Rechecker
from gradlab.course.verdict import Verdict, tally_line
from gradlab.course.watch_view import Plain, Terminal, keyboard

QUIET_MS = 50
"""A save's events are grouped until the folder is quiet this long."""

_LOOK_MS = 100  # how often the loop looks at the keyboard while no file changes

_ENGINE = Path(__file__).resolve().parent


def watch_lesson(target: Lesson) -> int:
    """Check ``target`` now and after every save until Ctrl-C or ``q``; return 0."""
    target.require_readable()
    rounds = _Rounds(target)
    stamp = _engine_stamp(target)
    try:
        rounds.checker = Rechecker(target)
        with keyboard() as keys:
            saves = _saves(target)
            next(saves)  # watching from now: a save during the first check is not missed
            rounds.check("first check")
            for changes in saves:
                pressed = keys.pressed()
                if "q" in pressed:
                    break
                rounds.keys(pressed)
                if not changes:
                    continue
                if _engine_stamp(target) != stamp:
                    raise _Restart
                rounds.check(f"{shown(target.path)} saved")
    except KeyboardInterrupt:
        pass
    except _Restart:  # outside the keyboard block: the terminal is restored
        _restart()
    print(f"\n{rounds.tally()}", flush=True)
    return 0


def _saves(target: Lesson):
    """Sets of changes to the lesson file; an empty set every :data:`_LOOK_MS` otherwise."""
    name = target.path.name
    return watchfiles.watch(
        target.path.parent,
        watch_filter=lambda change, path: Path(path).name == name,
        step=QUIET_MS,
        rust_timeout=_LOOK_MS,
        yield_on_timeout=True,
        recursive=False,
    )


class _Rounds:
    """The latest verdicts, kept before they are shown: a Ctrl-C ends with the tally shown."""

    def __init__(self, target: Lesson) -> None:
        self.target = target
        self.view = Terminal(target) if sys.stdout.isatty() else Plain(target)
        self.checker: Rechecker | None = None
        self.verdicts: list[Verdict] = []

    def check(self, why: str) -> None:
        """One re-check; if the file could not be checked, the last verdicts stay."""
        self.view.starting(why)
        try:
            verdicts = self.checker.round(self.view.verdict)
        except CourseError as error:
            self.view.problem(str(error))
            return
        progress.record(self.target, verdicts)  # first: once the tally shows, list agrees
        self.verdicts = verdicts
        self.view.finished(verdicts)

    def keys(self, pressed: str) -> None:
        """``h``: the hint of the first exercise not passed; ``l``: the list."""
        if "h" in pressed:
            self.view.hint(self.verdicts)
        if "l" in pressed:
            self.view.listing(self.verdicts)

    def tally(self) -> str:
        """The last tally shown (or that there was none)."""
        if not self.verdicts:
            return f"lesson {self.target.number}: not checked"
        return tally_line(self.target.number, self.verdicts)


def first_unfinished() -> Lesson:
    """The first lesson not fully passed (checking, in forked children, any not known)."""
    from gradlab.course.isolation import check_file

    catalogue = lessons()
    if not catalogue:
        raise CourseError("the lessons/ folder has no lessons")
    for item in catalogue:
        if not item.exists:
            continue
        known = progress.passed(item)
        if known is None:
            try:
                verdicts = check_file(item, item.path)
            except CourseError:
                return item
            progress.record(item, verdicts)
            known = {verdict.exercise.number for verdict in verdicts if verdict.passed}
        if len(known) < len(exercises_of(item.number)):
            return item
    return catalogue[-1]


def _engine_stamp(target: Lesson) -> tuple[tuple[str, int], ...]:
    """When the engine (checks included) and the reference solutions last changed."""
    paths = [*sorted(_ENGINE.rglob("*.py")), target.solution_path]
    return tuple((str(path), _modified(path)) for path in paths)


def _modified(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


class _Restart(Exception):
    """The checks loaded in this process are out of date."""


def _restart() -> None:
    """Start this command again: the checks loaded in this process are out of date."""
    print("gradlab: the checks or the engine changed: starting watch again", flush=True)
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
