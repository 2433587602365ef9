"""The exception and warning that :mod:`gradlab.tensorboard` raises and emits."""

from __future__ import annotations


class TensorBoardError(RuntimeError):
    """A TensorBoard task cannot go ahead; the message says why and what to do.

    Raised for a log directory that cannot be written, a directory with no event
    files, an unknown run, a port already in use, or a TensorBoard server that
    does not start. Callers can print ``str(error)`` as one line.
    """


class GradientLoggingWarning(UserWarning):
    """Something was left out of, or renamed in, a gradient log.

    Emitted for a variable whose gradient is ``None`` (skipped), for two
    variables with the same path (the later one gets a numbered tag), and when
    there is no summary writer to log to.
    """


class DamagedLogWarning(UserWarning):
    """An event file is truncated or is not an event file, so part of a log could not be read.

    :func:`~gradlab.tensorboard.read_scalars` and
    :func:`~gradlab.tensorboard.read_histograms` emit it naming the file and
    where the damage starts, and return what they could read; with
    ``strict=True`` they raise :class:`TensorBoardError` instead.
    """
