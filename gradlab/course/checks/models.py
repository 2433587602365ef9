"""What several lessons' checks share: seeded models and tensors, functions with their facts.

A check calls each case many times (the reference, the learner's answer, every
known mistake), and an answer may train the model it is given. So a model is
built once per recipe and seed, and its weights are set back to the same
seeded values every time a case asks for it. Nothing here runs, or imports
Keras, until a check does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.course.exercise import Labelled
from gradlab.tfsupport.lazy import keras, tf

_BUILT: dict[tuple, tuple[Any, list[np.ndarray]]] = {}


def seeded_model(build: Callable[..., Any], seed: int, *arguments: Any) -> Any:
    """``build(*arguments)``'s model, built once; its weights reset to normal(seed) draws."""
    key = (build, seed, arguments)
    if key not in _BUILT:
        model = build(*arguments)
        rng = np.random.default_rng(seed)
        weights = [rng.normal(size=w.shape).astype("float32") for w in model.get_weights()]
        _BUILT[key] = (model, weights)
    model, weights = _BUILT[key]
    model.set_weights(weights)
    return model


def regressor(*first_layers: Any) -> Any:
    """3 features → 4 tanh units ("hidden") → 1 output ("output"), named "regressor".

    ``first_layers`` go between the input and the hidden layer (a lesson may
    add a layer that counts traces, say).
    """
    return keras.Sequential(
        [
            keras.Input((3,)),
            *first_layers,
            keras.layers.Dense(4, activation="tanh", name="hidden"),
            keras.layers.Dense(1, name="output"),
        ],
        name="regressor",
    )


def normal_data(seed: int, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Float32 arrays of standard normal draws, one per shape, from a seed of their own."""
    rng = np.random.default_rng([seed, 1])
    return [rng.normal(size=shape).astype("float32") for shape in shapes]


def uniform(
    shape: tuple[int, ...], seed: int, low: float = -1.5, high: float = 1.5, dtype: str = "float32"
) -> np.ndarray:
    """Uniform draws in [low, high) from ``seed``, as ``dtype``."""
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def uniform_tensor(
    shape: tuple[int, ...], seed: int, low: float = -1.5, high: float = 1.5, dtype: str = "float32"
) -> Any:
    """:func:`uniform`'s draws as a ``tf.constant``."""
    return tf.constant(uniform(shape, seed, low, high, dtype))


def regression_case(seed: int, batch: int, build: Callable[..., Any] = regressor) -> dict:
    """A seeded model from ``build``, an input (batch, 3) and targets (batch,), by name."""
    x, y = normal_data(seed, (batch, 3), (batch,))
    return {"model": seeded_model(build, seed), "x": tf.constant(x), "y": tf.constant(y)}


def known_function(name: str, *facts: str) -> type[Labelled]:
    """A class of functions shown by their source, each carrying ``facts`` about itself.

    ``Curve = known_function("Curve", "first", "second")`` makes
    ``Curve("tf.sin", tf.sin, np.cos, lambda x: -np.sin(x))``, whose ``.first``
    and ``.second`` derivatives give a check an independent truth.
    """

    def __init__(self: Labelled, label: str, function: Callable[..., Any], *values: Any) -> None:
        if len(values) != len(facts):
            raise TypeError(f"{name} takes a label, a function and {', '.join(facts)}")
        Labelled.__init__(self, label, function)
        for fact, value in zip(facts, values, strict=True):
            setattr(self, fact, value)

    doc = f"A function shown as its source, with its {', '.join(facts)}."
    return type(name, (Labelled,), {"__init__": __init__, "__doc__": doc})
