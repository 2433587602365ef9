"""How far a full check has got: a line on stderr now and then, and a time budget.

A full check evaluates ``f`` twice per element, and each evaluation costs more
as ``f`` grows, so its time grows like the square of the size (measured on an
MLP: 10k elements 1.1 s, 30k 8.7 s, 100k 94 s). :class:`Progress` counts the
evaluations as the batches finish. Once the check has run for
:data:`ESTIMATE_AFTER` seconds it projects the total time from the rate so far
(the first batch, which traces and warms up, left out) and raises
:class:`~gradlab.gradcheck.BudgetError` if that exceeds the budget. After
:data:`FIRST_REPORT_AFTER` seconds it prints a line to ``sys.stderr`` every
:data:`REPORT_EVERY` seconds (``sys.stderr`` as it is at that moment, so a
notebook shows it under the cell), and a last line when done; a check that
finishes sooner prints nothing.
"""

from __future__ import annotations

import sys
import time

from gradlab.gradcheck.errors import BudgetError

DEFAULT_MAX_SECONDS = 60.0
"""The default budget of a full check, in seconds (``max_seconds=None`` lifts it)."""

ESTIMATE_AFTER = 1.0
"""Seconds into the evaluations at which the total time is projected and judged."""

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
    """Counts the evaluations of a full check, reports them, and enforces the budget.

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
        self._warm: tuple[float, int] | None = None  # (time, done) after the first batch
        self._judged = False
        self._last_report: float | None = None

    def advance(self, count: int) -> None:
        """Record ``count`` more evaluations; may print a line or raise BudgetError."""
        self.done += count
        now = time.perf_counter()
        if self._warm is None:
            self._warm = (now, self.done)
            return
        elapsed = now - self.started
        if not self._judged and elapsed >= ESTIMATE_AFTER:
            self._judged = True
            self._judge(now, elapsed)
        due = self._last_report is None or now - self._last_report >= REPORT_EVERY
        if elapsed >= FIRST_REPORT_AFTER and due and self.done < self.total:
            self._last_report = now
            self._print(
                f"{self.done:,} of {self.total:,} evaluations of f ({self.done / self.total:.0%})"
                f" after {duration(elapsed)}, about {duration(self._left(now))} left"
            )

    def finish(self) -> None:
        """Print a closing line if any progress line was printed."""
        if self._last_report is not None:
            elapsed = time.perf_counter() - self.started
            self._print(f"{self.total:,} evaluations of f done in {duration(elapsed)}")

    def _left(self, now: float) -> float:
        assert self._warm is not None
        since, done_then = self._warm
        rate = (self.done - done_then) / max(now - since, 1e-9)
        return (self.total - self.done) / max(rate, 1e-9)

    def _judge(self, now: float, elapsed: float) -> None:
        if self.max_seconds is None:
            return
        projected = elapsed + self._left(now)
        if projected > self.max_seconds:
            raise BudgetError(
                f"the full check of {self.elements:,} elements would take about "
                f"{duration(projected)} ({self.total:,} evaluations of f at the rate measured in "
                f"its first {duration(elapsed)}), over the budget of "
                f"{duration(self.max_seconds)}. Use mode='fast' (a few evaluations whatever "
                "the size), check a subset of the inputs (fewer tensors, or a smaller model), "
                "or raise the budget: max_seconds=<seconds>, or max_seconds=None for none."
            )

    def _print(self, text: str) -> None:
        print(f"gradcheck: {text}", file=sys.stderr, flush=True)
