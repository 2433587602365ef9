"""Per-variable gradient logging for Keras ``fit``, added as one callback.

Keras 3's ``TensorBoard`` callback logs weight histograms but no gradients
(``write_grads`` is gone), and a callback never sees gradients: they live
inside the compiled train step. :class:`GradientTensorBoard` therefore hooks
the one place a train step hands its gradients over, the optimizer's
``apply`` (which ``apply_gradients`` calls), for the duration of ``fit``: the
model's own train step (loss, regularisation, metrics, sample weights), or a
custom ``train_step`` that calls ``optimizer.apply`` or
``optimizer.apply_gradients``, runs unchanged.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import keras
import tensorflow as tf

from gradlab.tensorboard.errors import GradientLoggingWarning, TensorBoardError
from gradlab.tensorboard.writing import create_writer, ensure_writable_dir, log_gradients

_NOTHING = object()


class GradientTensorBoard(keras.callbacks.Callback):
    """Log per-variable gradient norms and histograms during ``model.fit``.

    Add it next to (or instead of) Keras's own ``TensorBoard`` callback::

        model.fit(x, y, callbacks=[GradientTensorBoard("runs/03/fit")])

    It writes the tags of :func:`~gradlab.tensorboard.log_gradients`
    (``grad_norm/<path>``, ``grad_hist/<path>``, ``grad_global_norm``) to the
    run ``<log_dir>/<run>``, by default ``gradients``, beside Keras's
    ``train`` and ``validation`` runs. The gradients are the ones the optimizer
    receives, with any loss scaling undone. The step of the first batch of the
    first ``fit`` is 1: step ``n`` is the optimizer's ``n``-th update, the
    step Keras's callback gives batch-level scalars such as ``batch_loss``
    with ``update_freq="batch"`` (in the first ``fit`` call).

    Args:
        log_dir: the log directory; created now, so a directory that cannot
            be written fails here with :class:`TensorBoardError`.
        every_n_steps: log steps 1, 1 + n, 1 + 2n, ...
        run: the subdirectory of ``log_dir`` to write to.
        histograms: also write the histograms (the norms are cheap, the
            histograms less so).
        global_norm: also write ``grad_global_norm``.

    The model must be compiled, and ``fit`` must run the train step in
    TensorFlow (eagerly or as a ``tf.function``): summaries cannot be
    XLA-compiled, so ``jit_compile`` is switched off during ``fit`` with a
    :class:`GradientLoggingWarning` and restored afterwards.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str],
        every_n_steps: int = 1,
        *,
        run: str = "gradients",
        histograms: bool = True,
        global_norm: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(every_n_steps, int) or every_n_steps < 1:
            raise ValueError(f"every_n_steps must be a positive int, got {every_n_steps!r}")
        self.log_dir = ensure_writable_dir(os.path.join(log_dir, run))
        """The directory the gradients are written to, ``<log_dir>/<run>``."""
        self.every_n_steps = every_n_steps
        self.histograms = histograms
        self.global_norm = global_norm
        self._writer: tf.summary.SummaryWriter | None = None
        self._saved_jit_compile: Any = None
        self._replaced: Any = _NOTHING
        self._saw_gradients = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Hook the optimizer and rebuild the train function so it logs."""
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            raise TensorBoardError("GradientTensorBoard: compile the model before fit")
        self._switch_off_jit_compile()
        self._writer = create_writer(self.log_dir)
        self._saw_gradients = False
        self._hook(optimizer)
        self.model.make_train_function(force=True)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After the first batch, warn if the optimizer was never handed gradients."""
        if not self._saw_gradients:
            warnings.warn(
                "GradientTensorBoard: the train step did not pass gradients to "
                "optimizer.apply or optimizer.apply_gradients, so none are logged",
                GradientLoggingWarning,
                stacklevel=2,
            )
            self._saw_gradients = True  # warn once

    def on_train_end(self, logs: dict | None = None) -> None:
        """Unhook the optimizer, restore the model's train function, close the writer."""
        self._unhook(self.model.optimizer)
        if self._saved_jit_compile is not None:
            self.model.jit_compile = self._saved_jit_compile
            self._saved_jit_compile = None
        self.model.make_train_function(force=True)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _switch_off_jit_compile(self) -> None:
        if self.model.jit_compile:
            warnings.warn(
                "GradientTensorBoard: TensorBoard summaries cannot be XLA-compiled; "
                "jit_compile is off during this fit",
                GradientLoggingWarning,
                stacklevel=2,
            )
            self._saved_jit_compile = self.model.jit_compile
            self.model.jit_compile = False

    def _hook(self, optimizer: keras.optimizers.Optimizer) -> None:
        """Make ``optimizer.apply`` log first (once, even after an interrupted fit)."""
        self._unhook(optimizer)
        self._replaced = vars(optimizer).get("apply", _NOTHING)
        optimizer.apply = self._logging_apply(optimizer)

    def _unhook(self, optimizer: keras.optimizers.Optimizer) -> None:
        """Put back what :meth:`_hook` replaced, if the hook is still in place."""
        hook = vars(optimizer).get("apply")
        if getattr(hook, "gradlab_hook", False):
            del optimizer.apply
            if self._replaced is not _NOTHING:
                optimizer.apply = self._replaced
        self._replaced = _NOTHING

    def _logging_apply(self, optimizer: keras.optimizers.Optimizer):
        apply = optimizer.apply

        def apply_and_log(grads, trainable_variables=None):
            grads = list(grads)
            variables = _variables_of(optimizer, trainable_variables)
            if len(variables) == len(grads):  # otherwise apply raises its own clear error
                self._log(optimizer, list(zip(grads, variables, strict=True)))
            return apply(grads, trainable_variables)

        apply_and_log.gradlab_hook = True
        return apply_and_log

    def _log(self, optimizer: keras.optimizers.Optimizer, grads_and_vars: list) -> None:
        self._saw_gradients = True  # at trace time, before the first batch ends
        step = tf.cast(optimizer.iterations, tf.int64) + 1  # this update's number
        with self._writer.as_default(), tf.summary.record_if(self._should_record(step)):
            log_gradients(
                _unscaled(grads_and_vars, optimizer),
                step,
                histograms=self.histograms,
                global_norm=self.global_norm,
            )

    def _should_record(self, step: tf.Tensor) -> bool | tf.Tensor:
        if self.every_n_steps == 1:
            return True
        return tf.equal((step - 1) % self.every_n_steps, 0)


def _variables_of(optimizer: keras.optimizers.Optimizer, trainable_variables: Any) -> list:
    """The variables ``optimizer.apply(grads, trainable_variables)`` will update."""
    if trainable_variables is not None:
        return list(trainable_variables)
    # apply(grads) alone updates the variables the optimizer was built on (none if unbuilt)
    return list(getattr(optimizer, "_trainable_variables", []))


def _unscaled(grads_and_vars: list, optimizer: keras.optimizers.Optimizer) -> list:
    """Undo the loss scaling (``loss_scale_factor``, ``LossScaleOptimizer``) of the gradients."""
    scale = optimizer.scale_loss(tf.constant(1.0))
    if tf.get_static_value(scale) == 1.0:
        return grads_and_vars
    return [(_divide(gradient, scale), variable) for gradient, variable in grads_and_vars]


def _divide(gradient: Any, scale: tf.Tensor) -> Any:
    if gradient is None or not gradient.dtype.is_floating:
        return gradient  # log_gradients skips or rejects it with a clear message
    if isinstance(gradient, tf.IndexedSlices):
        values = gradient.values / tf.cast(scale, gradient.dtype)
        return tf.IndexedSlices(values, gradient.indices, gradient.dense_shape)
    return gradient / tf.cast(scale, gradient.dtype)
