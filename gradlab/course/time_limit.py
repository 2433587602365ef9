"""Stop an exercise that runs too long.

On POSIX, in the main thread (a terminal, pytest, a Jupyter kernel), a
``SIGALRM`` timer interrupts the learner's code even inside ``time.sleep``.
Elsewhere (Windows, worker threads) a watchdog thread raises
:class:`ExerciseTimeout` asynchronously in the checked thread; that takes
effect at the next Python bytecode. Neither can stop one long-running C++
TensorFlow op, but a runaway Python loop is stopped by both.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import threading
from collections.abc import Iterator


class ExerciseTimeout(Exception):
    """Raised inside an exercise that ran longer than its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`ExerciseTimeout` in the block if it runs longer than ``seconds``."""
    use_alarm = (
        hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    limiter = _alarm if use_alarm else _watchdog
    with limiter(seconds):
        yield


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
