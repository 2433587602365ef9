"""The ``gradient_checker`` API the second source article promised, working as it calls it.

The article imports a ``gradient_checker`` module that TensorFlow never had.
This one provides its three functions, built on :mod:`gradlab.gradcheck`::

    from gradlab import gradient_checker

    numerical = gradient_checker.compute_numerical_gradient(
        model, loss_function, [x_train], [y_train], variables=[variable]
    )
    analytical = gradient_checker.compute_analytical_gradient(
        model, loss_function, [x_train], [y_train], variables=[variable]
    )
    error = gradient_checker.compute_gradient_error(numerical, analytical)

Both gradients are of ``loss_function(y, model(x))`` with respect to the
chosen variables. They are computed in float64 on a float64 copy of the model
(its layers and a Keras loss rebuilt with ``dtype="float64"``) through
``model.stateless_call``, so the model's variables are read but never
changed. When the model cannot be copied (a subclassed model), it is used as
it is and a :class:`~gradlab.gradcheck.PrecisionWarning` says the check runs
in its own precision.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradlab.gradcheck import PrecisionWarning, numerical_gradient, relative_errors
from gradlab.gradcheck.problem import split_structure
from gradlab.tfsupport.lazy import keras, tf

__all__ = [
    "compute_analytical_gradient",
    "compute_gradient_error",
    "compute_numerical_gradient",
]

_FLOAT64_COPIES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def compute_numerical_gradient(
    model: Any,
    loss_function: Callable[..., Any],
    inputs: Sequence[Any],
    targets: Sequence[Any],
    variables: Sequence[Any] | None = None,
    *,
    delta: float | None = None,
) -> list[np.ndarray]:
    """The gradient of the loss with respect to ``variables``, by central differences.

    Args:
        model: a built Keras model.
        loss_function: called as ``loss_function(y, model(x))``: a Keras loss
            object (``keras.losses.MeanSquaredError()``) or function. A loss
            that returns one value per example is summed, as
            ``tape.gradient`` does.
        inputs: the model's inputs, a list (one tensor per model input).
        targets: the targets, a list (one tensor per model output).
        variables: which of ``model.trainable_variables`` to differentiate
            with respect to (default: all of them).
        delta: the finite-difference step (default: 6.1e-06 in float64).

    Returns:
        One float64 NumPy array per variable, in the variable's shape.
    """
    loss, values = _loss_of_variables(model, loss_function, inputs, targets, variables)
    return list(numerical_gradient(loss, values, delta=delta))


def compute_analytical_gradient(
    model: Any,
    loss_function: Callable[..., Any],
    inputs: Sequence[Any],
    targets: Sequence[Any],
    variables: Sequence[Any] | None = None,
) -> list[np.ndarray]:
    """The gradient of the loss with respect to ``variables``, by ``tf.GradientTape``.

    Takes the same arguments as :func:`compute_numerical_gradient` and
    differentiates the same float64 computation.

    Returns:
        One float64 NumPy array per variable, in the variable's shape.
    """
    loss, values = _loss_of_variables(model, loss_function, inputs, targets, variables)
    with tf.GradientTape() as tape:
        tape.watch(values)
        value = tf.reduce_sum(loss(*values))
    gradients = tape.gradient(value, values, unconnected_gradients="zero")
    return [np.asarray(tf.convert_to_tensor(g).numpy(), dtype=np.float64) for g in gradients]


def compute_gradient_error(
    numerical: Sequence[Any] | Any, analytical: Sequence[Any] | Any, *, floor: float = 1e-10
) -> float:
    """The largest relative error between two gradients, over all their elements.

    The relative error of an element is
    ``|numerical - analytical| / max(|numerical|, |analytical|, floor)``;
    ``floor`` keeps elements that are both (nearly) zero from dividing noise
    by noise. Below about 1e-7 the gradients agree (in float64); above 1e-2
    the analytical gradient is almost certainly wrong.

    Args:
        numerical: a gradient (array or tensor) or a list of them.
        analytical: the same structure.
        floor: the smallest magnitude used as a denominator.
    """
    numerical_parts = _as_arrays(numerical)
    analytical_parts = _as_arrays(analytical)
    if len(numerical_parts) != len(analytical_parts):
        raise ValueError(
            f"numerical has {len(numerical_parts)} gradients but analytical has "
            f"{len(analytical_parts)}"
        )
    worst = 0.0
    for position, (n, a) in enumerate(zip(numerical_parts, analytical_parts, strict=True)):
        if n.shape != a.shape:
            raise ValueError(
                f"gradient {position}: numerical has shape {n.shape}, analytical {a.shape}"
            )
        if n.size:
            worst = max(worst, float(np.max(relative_errors(n, a, floor=floor))))
    return worst


def _as_arrays(gradients: Sequence[Any] | Any) -> list[np.ndarray]:
    _, items = split_structure(gradients)
    return [np.asarray(tf.convert_to_tensor(item), dtype=np.float64) for item in items]


def _loss_of_variables(
    model: Any,
    loss_function: Callable[..., Any],
    inputs: Sequence[Any],
    targets: Sequence[Any],
    variables: Sequence[Any] | None,
) -> tuple[Callable[..., Any], list[Any]]:
    """A function of the chosen variables' values giving the loss, and those values.

    The function runs ``stateless_call`` on a float64 copy of the model when
    one can be made: it computes from its arguments, never from the
    variables themselves (the closure pitfall cannot happen).
    """
    trainable = list(model.trainable_variables)
    chosen = list(trainable if variables is None else variables)
    positions = [_position_of(variable, trainable) for variable in chosen]
    runner, dtype = _float64_copy(model)
    loss = _float64_loss(loss_function) if dtype == tf.float64 else loss_function
    xs = [_in_dtype(x, dtype) for x in _as_list(inputs, "inputs")]
    ys = [_in_dtype(y, dtype) for y in _as_list(targets, "targets")]
    trainable_values = [_in_dtype(v, dtype) for v in trainable]
    non_trainable = [_in_dtype(v, dtype) for v in model.non_trainable_variables]

    def loss_of(*values: Any) -> Any:
        weights = list(trainable_values)
        for position, value in zip(positions, values, strict=True):
            weights[position] = value
        predictions, _ = runner.stateless_call(weights, non_trainable, _unwrap(xs))
        return loss(_unwrap(ys), predictions)

    return loss_of, [trainable_values[p] for p in positions]


def _in_dtype(item: Any, dtype: Any) -> Any:
    """A tensor (or a variable's current value), cast to ``dtype`` if it is floating-point.

    Integer data (class labels, token ids) keeps its dtype.
    """
    value = tf.convert_to_tensor(item)
    return tf.cast(value, dtype) if value.dtype.is_floating else value


def _as_list(items: Sequence[Any] | Any, what: str) -> list[Any]:
    if isinstance(items, (list, tuple)):
        if not items:
            raise ValueError(f"{what} is empty")
        return list(items)
    return [items]


def _unwrap(items: list[Any]) -> Any:
    """One tensor for a single-input (or single-output) model, else the list."""
    return items[0] if len(items) == 1 else items


def _position_of(variable: Any, trainable: list[Any]) -> int:
    for position, candidate in enumerate(trainable):
        if candidate is variable:
            return position
    name = getattr(variable, "path", None) or getattr(variable, "name", repr(variable))
    raise ValueError(
        f"variable {name!r} is not one of the model's trainable variables "
        f"({', '.join(v.path for v in trainable)})"
    )


def _float64_copy(model: Any) -> tuple[Any, Any]:
    """A float64 copy of ``model`` for ``stateless_call`` (cached), and its dtype.

    Falls back to the model itself, with a warning, when it cannot be cloned.
    """
    if model in _FLOAT64_COPIES:
        return _FLOAT64_COPIES[model], tf.float64
    try:
        copy = keras.models.clone_model(model, clone_function=_float64_layer)
        if not copy.built:
            raise ValueError("the copy could not be built")
        if len(copy.trainable_variables) != len(model.trainable_variables):
            raise ValueError("the copy has different variables")
    except (TypeError, ValueError, NotImplementedError) as error:
        warnings.warn(
            f"could not make a float64 copy of the model ({error}); computing in the model's "
            "own dtype, so expect errors of that precision",
            PrecisionWarning,
            stacklevel=4,
        )
        return model, tf.as_dtype(model.trainable_variables[0].dtype)
    _FLOAT64_COPIES[model] = copy
    return copy, tf.float64


def _float64_layer(layer: Any) -> Any:
    config = dict(layer.get_config())
    config["dtype"] = "float64"
    return layer.__class__.from_config(config)


def _float64_loss(loss_function: Callable[..., Any]) -> Callable[..., Any]:
    """A Keras loss object rebuilt to compute in float64 (other losses as they are)."""
    if not isinstance(loss_function, keras.losses.Loss):
        return loss_function
    try:
        return type(loss_function).from_config({**loss_function.get_config(), "dtype": "float64"})
    except (TypeError, ValueError):
        return loss_function
