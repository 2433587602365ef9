"""How the course words a problem: one line, the learner's file and line, no traceback."""

from __future__ import annotations

import traceback
from pathlib import Path

_MESSAGE_LIMIT = 300


class CourseError(Exception):
    """A problem with the learner's input: shown as one line, exit status 2."""


def shown(path: Path) -> str:
    """``path`` relative to the current folder when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (empty if it has none)."""
    text = str(error).strip().splitlines()
    return text[0] if text else ""


def one_line(error: BaseException) -> str:
    """``"TypeError: first line of the message"``, cut to a readable length."""
    message = first_line(error)
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 1] + "…"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def line_in(error: BaseException, path: Path | None, prefix: str = ", line") -> str:
    """``, line N`` of the last traceback frame inside ``path`` (empty if none)."""
    if path is None:
        return ""
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == str(path)
    ]
    if not frames:
        return ""
    if prefix == ", line":
        return f", line {frames[-1].lineno}"
    return f"{prefix} {shown(path)}, line {frames[-1].lineno}"
