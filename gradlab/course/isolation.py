"""Check each exercise in a child process that can be killed.

Whatever the learner's code does — loop inside one TensorFlow C++ op, start
a thread that never ends, call ``os._exit``, patch TensorFlow — it does it
in a child process, and the command still prints one verdict per exercise
and exits. The parent imports TensorFlow and loads the lesson's checks and
reference solutions, running no TensorFlow operation, so every ``fork()``
gets a fresh TensorFlow runtime (lesson 7 can still split the CPU) and
pays none of the import. Each child loads the learner's setup and exercise
cells, runs :func:`~gradlab.course.judge.check_exercise` on one exercise,
and reports over a pipe: each call of the learner's function as it starts
and ends (so the parent can time it), then the verdict. The parent kills a
child whose call outlives the exercise's limit, or that goes silent for
:data:`CHECKER_LIMIT` seconds elsewhere.

Where a fork is not possible or not safe (no ``os.fork``, not the main
thread, or TensorFlow already ran something in this process, as in a
notebook kernel or pytest), checks run in this process, as
:mod:`gradlab.course.judge` does.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradlab.course import judge
from gradlab.course.catalogue import Lesson
from gradlab.course.exercise import Exercise
from gradlab.course.messages import CourseError, one_line, shown
from gradlab.course.time_limit import watch_calls
from gradlab.course.verdict import ERROR, Verdict

CHECKER_LIMIT = 60.0
"""Seconds a child may run without a word outside the learner's function (loading, reference)."""

_MARGIN = 0.2  # the parent hears of a call a moment after it starts: the learner gets the limit


def check_file(target: Lesson, path: Path, only: int | None = None) -> list[Verdict]:
    """Check the exercises of ``target`` as written in ``path``, each in its own child."""
    if not can_fork():
        return judge.check_file(target, path, only)
    return _check_each(target, only, lambda: judge.load_learner(path), path)


def check_solutions(target: Lesson, only: int | None = None) -> list[Verdict]:
    """Check the reference solutions, each exercise in its own child."""
    if not can_fork():
        return judge.check_solutions(target, only)
    load = lambda: judge.reference_functions(target)  # noqa: E731 - the child's loader
    return _check_each(target, only, load, target.solution_path)


def check_in_child(exercise: Exercise, path: Path, reference: dict[str, Any]) -> Verdict:
    """Check one exercise as written in ``path`` in a forked child (the caller checked
    :func:`can_fork`); :class:`CourseError` if the setup and exercise cells cannot run."""
    return _check_in_child(exercise, lambda: judge.load_learner(path), reference, path)


def _check_each(target: Lesson, only: int | None, load, path: Path) -> list[Verdict]:
    exercises = judge.select(target, only)
    reference = judge.reference_functions(target)  # here, so every child inherits it loaded
    return [_check_in_child(item, load, reference, path) for item in exercises]


def can_fork() -> bool:
    """Whether checks can run in forked children: POSIX, main thread, TensorFlow not running."""
    return (
        hasattr(os, "fork")
        and threading.current_thread() is threading.main_thread()
        and not _tensorflow_running()
    )


def _tensorflow_running() -> bool:
    """Whether TensorFlow has created its runtime here (forking it would be unsafe)."""
    if "tensorflow" not in sys.modules:
        return False
    try:
        from tensorflow.python.eager import context

        runtime = context.context_safe()
        return runtime is not None and runtime._context_handle is not None
    except Exception:  # a TensorFlow without these internals: assume the worst
        return True


# ── the child ────────────────────────────────────────────────────────────────


def _check_in_child(
    exercise: Exercise,
    load: Callable[[], dict[str, Any]],
    reference: dict[str, Any],
    path: Path,
) -> Verdict:
    sys.stdout.flush()  # or the child inherits, and prints again, what is still buffered
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        os.close(read_end)
        _child(exercise, load, reference, path, write_end)
    os.close(write_end)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # as the child does: whichever runs first, no gap
    try:
        return _Parent(exercise, path, pid, read_end).verdict()
    finally:
        _kill(pid)
        os.close(read_end)


def _child(exercise, load, reference, path, write_end: int) -> None:
    """Check one exercise and report on ``write_end``; always ends with ``os._exit``."""
    status = 0
    channel = _Channel(write_end)
    try:
        os.setpgid(0, 0)  # a Ctrl-C reaches the parent only; killing the group stops helpers
        _die_with_parent()
        watch_calls(channel)
        try:
            functions = load()
        except CourseError as error:
            channel.send(load_error=str(error))
        else:
            channel.send(loaded=True)
            verdict = judge.check_exercise(
                exercise, functions.get(exercise.function), reference, path
            )
            _flush_learner_output()
            channel.send(verdict=_record(verdict))
    except BaseException as error:  # the checker itself failed: one line, never a traceback
        status = 1
        with contextlib.suppress(BaseException):
            _flush_learner_output()
            channel.send(broken=one_line(error))
    finally:
        os._exit(status)


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this child if the parent dies first."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _flush_learner_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


class _Channel:
    """The child's end of the pipe: one JSON message a line; a :class:`Watcher` too."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def send(self, **message: Any) -> None:
        data = (json.dumps(message) + "\n").encode("utf-8")
        while data:
            data = data[os.write(self._fd, data) :]

    def started(self, seconds: float, call: str) -> None:
        self.send(call=call, seconds=seconds)

    def finished(self) -> None:
        self.send(returned=True)


def _record(verdict: Verdict) -> dict[str, Any]:
    """A verdict as plain data (the Exercise holds lambdas; the parent has its own copy)."""
    return {
        "status": verdict.status,
        "summary": verdict.summary,
        "details": [list(pair) for pair in verdict.details],
        "mistake": verdict.mistake.name if verdict.mistake else None,
    }


def _verdict(exercise: Exercise, record: dict[str, Any]) -> Verdict:
    mistakes = {mistake.name: mistake for mistake in exercise.mistakes}
    return Verdict(
        exercise,
        record["status"],
        record["summary"],
        tuple((label, text) for label, text in record["details"]),
        mistakes.get(record["mistake"]),
    )


# ── the parent ───────────────────────────────────────────────────────────────


@dataclass
class _Call:
    text: str
    deadline: float


class _Parent:
    """Reads one child's messages, enforces the time limits, and turns them into a verdict."""

    def __init__(self, exercise: Exercise, path: Path, pid: int, fd: int) -> None:
        self.exercise, self.path, self.pid, self.fd = exercise, path, pid, fd
        self.call: _Call | None = None
        self.loaded = False
        self._buffer = b""

    def verdict(self) -> Verdict:
        """Wait for the child's verdict, or decide one if it overruns or dies."""
        quiet_until = time.monotonic() + CHECKER_LIMIT
        while True:
            deadline = self.call.deadline if self.call else quiet_until
            line = self._next_line(deadline)
            if line is None:
                return self._overran()
            if line == b"":
                return self._ended(_exit_status(self.pid))
            quiet_until = time.monotonic() + CHECKER_LIMIT
            verdict = self._take(line)
            if verdict is not None:
                return verdict

    def _take(self, line: bytes) -> Verdict | None:
        try:
            message = json.loads(line)
        except ValueError:
            return None  # something else wrote to our pipe; the deadlines still hold
        if "call" in message:
            limit = float(message["seconds"])
            self.call = _Call(str(message["call"]), time.monotonic() + limit + _MARGIN)
        elif "returned" in message:
            self.call = None
        elif "loaded" in message:
            self.loaded = True
        elif "load_error" in message:
            raise CourseError(message["load_error"])
        elif "verdict" in message:
            return _verdict(self.exercise, message["verdict"])
        elif "broken" in message:
            return _could_not_judge(
                self.exercise, f"the checker itself failed: {message['broken']}"
            )
        return None

    def _next_line(self, deadline: float) -> bytes | None:
        """The child's next line; ``b""`` once it closed the pipe; ``None`` at the deadline."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return b""
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _overran(self) -> Verdict:
        _kill(self.pid)
        if self.call is not None:
            return judge.timeout_verdict(self.exercise, self.call.text)
        if not self.loaded:
            raise CourseError(
                f"{shown(self.path)}: its setup and exercise cells were still running after "
                f"{CHECKER_LIMIT:g} s, so they were stopped"
            )
        return _could_not_judge(
            self.exercise,
            f"the check was still running after {CHECKER_LIMIT:g} s, so it was stopped",
        )

    def _ended(self, how: str) -> Verdict:
        if not self.loaded:
            raise CourseError(
                f"{shown(self.path)}: running its setup and exercise cells ended the process "
                f"({how})"
            )
        if self.call is None:
            return _could_not_judge(
                self.exercise, f"the check's process ended ({how}) before a verdict"
            )
        return Verdict(
            self.exercise,
            ERROR,
            f"ended the process ({how}) instead of returning, so it could not be judged",
            (
                ("call", self.call.text),
                ("try", "return the answer: os._exit or a crash ends the checker too"),
                ("hint", self.exercise.hint_command),
            ),
        )


def _could_not_judge(exercise: Exercise, why: str) -> Verdict:
    return Verdict(
        exercise, ERROR, f"could not be judged: {why}", (("hint", exercise.hint_command),)
    )


def _exit_status(pid: int) -> str:
    """How the child ended: ``"exit status 0"`` or ``"killed by SIGSEGV"``.

    Kills what is left of its process group first: a helper it started may
    hold the pipe, but the child itself has ended (or is about to).
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exit status {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def _kill(pid: int) -> None:
    """Kill the child and its process group, and reap it (nothing if already reaped)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return  # reaped already: the pid may belong to someone else by now
    if done:
        return
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
