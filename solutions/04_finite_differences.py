"""Reference solutions for lesson 4, finite-difference checking.

Same function names as the exercises in lessons/04_finite_differences.py.
"""

import keras
import numpy as np
import tensorflow as tf

from gradlab.gradcheck import check_gradients


def central_difference(f, x, h):
    x = tf.constant(x, tf.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient_of(f, x, h):
    base = x.numpy()
    gradient = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        step = np.zeros_like(base)
        step[index] = h
        rise = f(tf.constant(base + step)) - f(tf.constant(base - step))
        gradient[index] = float(rise) / (2 * h)
    return gradient


def relative_error(numerical, analytical, floor):
    scale = np.maximum(np.maximum(np.abs(numerical), np.abs(analytical)), floor)
    return np.abs(numerical - analytical) / scale


def loss_of_variable(model, x, y, index):
    values = [v.value for v in model.trainable_variables]
    mse = keras.losses.MeanSquaredError()

    def loss(value):
        weights = list(values)
        weights[index] = value
        prediction, _ = model.stateless_call(weights, model.non_trainable_variables, x)
        return mse(y, prediction)

    return loss


def gradient_is_correct(functions, x):
    return {name: check_gradients(f, x).ok for name, f in functions.items()}
