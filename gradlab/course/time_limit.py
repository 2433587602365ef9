"""Stop an exercise that runs too long, and tell a real Ctrl-C from the learner's own.

In a child process checked by :mod:`gradlab.course.isolation`, a *watcher*
is told when each call of the learner's function starts and ends, and the
parent kills the child when a call outlives its limit: that stops anything,
even one long C++ TensorFlow op. Without a watcher (a notebook, pytest,
Windows), on POSIX in the main thread a ``SIGALRM`` timer interrupts the
learner's code even inside ``time.sleep``; elsewhere a watchdog thread
raises :class:`ExerciseTimeout` asynchronously in the checked thread, which
takes effect at the next Python bytecode. Neither can stop one long-running
C++ op, but a runaway Python loop is stopped by both.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import threading
from collections.abc import Iterator
from typing import Protocol


class ExerciseTimeout(Exception):
    """Raised inside an exercise that ran longer than its time limit."""


class UserInterrupt(KeyboardInterrupt):
    """A real Ctrl-C (SIGINT) during the learner's code, not a ``raise KeyboardInterrupt``."""


class Watcher(Protocol):
    """Told when a timed call starts and ends (a parent process enforces the limit)."""

    def started(self, seconds: float, call: str) -> None:
        """A call described as ``call`` starts and may run ``seconds``."""

    def finished(self) -> None:
        """The call started last has returned or raised."""


_watcher: Watcher | None = None


def watch_calls(watcher: Watcher | None) -> None:
    """Report every timed call to ``watcher`` instead of limiting it here (``None``: stop)."""
    global _watcher
    _watcher = watcher


@contextlib.contextmanager
def time_limit(seconds: float, call: str = "") -> Iterator[None]:
    """Raise :class:`ExerciseTimeout` in the block if it runs longer than ``seconds``.

    ``call`` says what runs, for a watcher; a real Ctrl-C inside the block
    raises :class:`UserInterrupt`.
    """
    with user_interrupts_marked():
        if _watcher is not None:
            _watcher.started(seconds, call)
            try:
                yield
            finally:
                _watcher.finished()
            return
        use_alarm = hasattr(signal, "setitimer") and _in_main_thread()
        limiter = _alarm if use_alarm else _watchdog
        with limiter(seconds):
            yield


@contextlib.contextmanager
def user_interrupts_marked() -> Iterator[None]:
    """Make a real SIGINT raise :class:`UserInterrupt` in the block (main thread only)."""
    if not _in_main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous not in (signal.default_int_handler, signal.SIG_DFL):
        yield  # someone else handles Ctrl-C here (or ignores it): leave it to them
        return

    def on_interrupt(signum, frame):
        raise UserInterrupt

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def on_alarm(signum, frame):
        raise ExerciseTimeout(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    target = threading.get_ident()
    lock = threading.Lock()
    finished = False

    def interrupt() -> None:
        with lock:
            if not finished:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(target), ctypes.py_object(ExerciseTimeout)
                )

    timer = threading.Timer(seconds, interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            finished = True
        timer.cancel()
