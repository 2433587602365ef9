"""Seeded Keras models that several lessons' checks share.

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

from gradlab.tfsupport.lazy import keras

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
