"""See gradients in TensorBoard: log them, read them back, serve them.

- **Log**: :func:`log_gradients` writes, per variable, the gradient's L2 norm
  (``grad_norm/<path>``) and histogram (``grad_hist/<path>``), plus
  ``grad_global_norm``, from eager code or a ``tf.function`` (pass an
  ``int64`` tensor step there). :func:`create_writer` makes a writer with a
  clear error for a directory that cannot be written.
- **Keras fit**: ``callbacks=[GradientTensorBoard(log_dir)]`` logs the same
  tags from inside ``model.fit`` (the stock ``TensorBoard`` callback logs
  weights, not gradients).
- **Read back**: :func:`read_scalars` and :func:`read_histograms` load a log
  directory, with all its runs, into numpy arrays, naming any damaged event
  file (:class:`DamagedLogWarning`, or an error with ``strict=True``).
- **Serve**: :func:`start_tensorboard` starts a real TensorBoard on
  127.0.0.1 and returns a :class:`TensorBoardServer` with its ``url`` and
  ``stop()``.

Failures a caller can act on raise :class:`TensorBoardError` with a one-line
reason. Importing this module does not import TensorFlow; logging does, and
``GradientTensorBoard`` imports Keras when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gradlab.tensorboard.errors import DamagedLogWarning, GradientLoggingWarning, TensorBoardError
from gradlab.tensorboard.reading import (
    HistogramSnapshot,
    ScalarSeries,
    list_runs,
    read_histograms,
    read_scalars,
)
from gradlab.tensorboard.server import TensorBoardServer, start_tensorboard
from gradlab.tensorboard.writing import (
    GLOBAL_NORM_TAG,
    HISTOGRAM_PREFIX,
    NORM_PREFIX,
    create_writer,
    log_gradients,
    unique_variable_names,
    variable_path,
)

if TYPE_CHECKING:
    from gradlab.tensorboard.keras_fit import GradientTensorBoard

__all__ = [
    "GLOBAL_NORM_TAG",
    "HISTOGRAM_PREFIX",
    "NORM_PREFIX",
    "DamagedLogWarning",
    "GradientLoggingWarning",
    "GradientTensorBoard",
    "HistogramSnapshot",
    "ScalarSeries",
    "TensorBoardError",
    "TensorBoardServer",
    "create_writer",
    "list_runs",
    "log_gradients",
    "read_histograms",
    "read_scalars",
    "start_tensorboard",
    "unique_variable_names",
    "variable_path",
]


def __getattr__(name: str) -> Any:
    """Import :class:`GradientTensorBoard` (and with it Keras) on first use."""
    if name == "GradientTensorBoard":
        from gradlab.tensorboard.keras_fit import GradientTensorBoard

        return GradientTensorBoard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
