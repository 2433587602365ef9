"""How ``watch`` shows each round: plain lines, or a rustlings-like view on a terminal.

Plain (stdout is not a terminal): every verdict line as ``check`` prints it,
then the tally, each flushed. Terminal: the screen is redrawn each round with
a progress bar of the lesson's exercises, the first exercise not passed with
its full verdict and its hint command, the tally and the keys.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
from collections.abc import Iterator

from gradlab.course.catalogue import Lesson
from gradlab.course.verdict import Verdict, tally_line

_CLEAR = "\x1b[2J\x1b[H"
_BAR_WIDTH = 30
KEYS = "h hint · l list · q quit · Ctrl-C stop"


class Plain:
    """Lines as ``check`` prints them, flushed at once (for pipes, logs and tests)."""

    def __init__(self, target: Lesson) -> None:
        self.target = target

    def starting(self, why: str) -> None:
        """A round begins because of ``why``."""
        _say(f"── {why}")

    def verdict(self, verdict: Verdict, fresh: bool) -> None:
        """One exercise's verdict, as soon as it is known."""
        _say(str(verdict))

    def finished(self, verdicts: list[Verdict]) -> None:
        """The round's tally."""
        _say(f"\n{tally_line(self.target.number, verdicts)}")

    def problem(self, message: str) -> None:
        """The file could not be checked (syntax error, missing file...): one line."""
        _say(f"gradlab: {message}")
        _say("(still watching: save again to check)")

    def hint(self, verdicts: list[Verdict]) -> None:
        """The hint of the first exercise not passed."""
        first = first_unpassed(verdicts)
        if first is not None:
            _say(f"Hint for {first.exercise.id} {first.exercise.function}: {first.exercise.hint}")

    def listing(self, verdicts: list[Verdict]) -> None:
        """One line per exercise: its mark and summary."""
        for verdict in verdicts:
            _say(str(verdict).splitlines()[0])


class Terminal(Plain):
    """The rustlings-like view: redrawn after each round."""

    def __init__(self, target: Lesson) -> None:
        super().__init__(target)
        self.last: list[Verdict] = []

    def starting(self, why: str) -> None:
        _say(f"{_CLEAR}{self.target.path.name}: checking ({why})…")

    def verdict(self, verdict: Verdict, fresh: bool) -> None:
        if fresh:
            _say(f"  {str(verdict).splitlines()[0]}")

    def finished(self, verdicts: list[Verdict]) -> None:
        self.last = verdicts
        lines = [_CLEAR.rstrip("\n"), progress_bar(verdicts), ""]
        first = first_unpassed(verdicts)
        if first is None:
            lines.append(f"Every exercise of lesson {self.target.number} passes. Well done!")
        else:
            lines += [str(first), "", f"hint: {first.exercise.hint_command}"]
        lines += [
            "",
            tally_line(self.target.number, verdicts),
            f"watching {self.target.path.name}: save to check again · {KEYS}",
        ]
        _say("\n".join(lines))

    def problem(self, message: str) -> None:
        _say(f"{_CLEAR}gradlab: {message}\n\n(still watching: save again to check · {KEYS})")


def progress_bar(verdicts: list[Verdict]) -> str:
    """``[██████░░░░░░] 2/4`` with a ✓ or ✗ per exercise."""
    passed = sum(verdict.passed for verdict in verdicts)
    total = max(len(verdicts), 1)
    full = round(_BAR_WIDTH * passed / total)
    marks = " ".join(str(verdict).split(" ", 2)[0] + verdict.exercise.id for verdict in verdicts)
    return f"[{'█' * full}{'░' * (_BAR_WIDTH - full)}] {passed}/{len(verdicts)}   {marks}"


def first_unpassed(verdicts: list[Verdict]) -> Verdict | None:
    """The first verdict that is not a pass, if any."""
    return next((verdict for verdict in verdicts if not verdict.passed), None)


def _say(text: str) -> None:
    print(text, flush=True)


@contextlib.contextmanager
def keyboard() -> Iterator[Keys]:
    """Single key presses from stdin if it is a terminal (cbreak mode, restored on exit)."""
    if not sys.stdin.isatty():
        yield Keys(None)
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)  # keys arrive one by one, unechoed; Ctrl-C still interrupts
        yield Keys(fd)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class Keys:
    """The keys pressed since the last look, without waiting."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    def pressed(self) -> str:
        """Every key waiting on stdin ("" if none, or stdin is not a terminal)."""
        if self.fd is None:
            return ""
        text = ""
        while select.select([self.fd], [], [], 0)[0]:
            data = os.read(self.fd, 64)
            if not data:
                break
            text += data.decode("utf-8", errors="ignore")
        return text
