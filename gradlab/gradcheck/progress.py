"""How far a full check has got: a line on stderr now and then, and a time budget.

A full check evaluates ``f`` twice per element, and each evaluation costs more
as ``f`` grows, so its time grows like the square of the size (measured on an
MLP without the replay: 10k elements 1.6 s, 30k 5.8 s, 100k projected at 85 s,
1M at 2 h 15 min; with it, 1M take 24 s).
Before the bulk of the work, each evaluator runs a trial of a few batches (see
``differences._trial``), and :meth:`Progress.judge` raises
:class:`~gradlab.gradcheck.BudgetError` if the time they project exceeds the
budget. :class:`Progress` then counts the evaluations as the batches finish;
after :data:`FIRST_REPORT_AFTER` seconds it prints a line to ``sys.stderr``
every :data:`REPORT_EVERY` seconds (``sys.stderr`` as it is at that moment,
so a notebook shows it under the cell), and a last line when done; a check
that finishes sooner prints nothing.
"""

from __future__ import annotations

import sys
import time

from gradlab.gradcheck.errors import BudgetError

DEFAULT_MAX_SECONDS = 60.0
"""The default budget of a full check, in seconds (``max_seconds=None`` lifts it)."""

FIRST_REPORT_AFTER = 5.0
"""Seconds before the first progress line (shorter checks print nothing)."""

REPORT_EVERY = 5.0
"""Seconds between progress lines."""


def duration(seconds: float) -> str:
    """``"42 s"``, ``"3 min 5 s"``, ``"2 h 10 min"``."""
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class Progress:
    """Counts the evaluations of a full check, reports them, and judges the budget.

    Args:
        total: how many evaluations of ``f`` the check makes.
        elements: how many elements it perturbs (for the messages).
        max_seconds: the budget; ``None`` for none.
    """

    def __init__(self, total: int, elements: int, max_seconds: float | None) -> None:
        self.total = total
        self.elements = elements
        self.max_seconds = max_seconds
        self.done = 0
        self.started = time.perf_counter()
        self._last_report: float | None = None

    def judge(self, seconds_left: float) -> None:
        """Raise :class:`BudgetError` if the time so far plus ``seconds_left`` is over budget."""
        if self.max_seconds is None or seconds_left <= 0:
            return
        projected = time.perf_counter() - self.started + seconds_left
        if projected > self.max_seconds:
            raise BudgetError(
                f"the full check of {self.elements:,} elements would take about "
                f"{duration(projected)} ({self.total:,} evaluations of f, timed on a trial of "
                f"the first batches), over the budget of {duration(self.max_seconds)}. "
                "Use mode='fast' (a few evaluations whatever the size), check a subset of "
                "the inputs (fewer tensors, or a smaller model), or raise the budget: "
                "max_seconds=<seconds>, or max_seconds=None for none."
            )

    def advance(self, count: int) -> bool:
        """Record ``count`` more evaluations, printing a line if one is due; True (go on)."""
        self.done += count
        now = time.perf_counter()
        elapsed = now - self.started
        due = self._last_report is None or now - self._last_report >= REPORT_EVERY
        if elapsed >= FIRST_REPORT_AFTER and due and self.done < self.total:
            self._last_report = now
            left = elapsed / self.done * (self.total - self.done)
            self._print(
                f"{self.done:,} of {self.total:,} evaluations of f ({self.done / self.total:.0%})"
                f" after {duration(elapsed)}, about {duration(left)} left"
            )
        return True

    def finish(self) -> None:
        """Print a closing line if any progress line was printed."""
        if self._last_report is not None:
            elapsed = time.perf_counter() - self.started
            self._print(f"{self.total:,} evaluations of f done in {duration(elapsed)}")

    def _print(self, text: str) -> None:
        print(f"gradcheck: {text}", file=sys.stderr, flush=True)
