"""Reference solutions for lesson 1, GradientTape.

Same function names as the exercises in lessons/01_gradient_tape.py.
"""

import keras
import tensorflow as tf


def slope_at(f, x):
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x)


def gradient_wrt_constant(f, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


def two_gradients(f, g, x):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y, z = f(x), g(x)
    return tape.gradient(y, x), tape.gradient(z, x)


def second_derivative(f, x):
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = f(x)
        dy_dx = inner.gradient(y, x)
    return outer.gradient(dy_dx, x)


def loss_gradients_by_name(model, x, y):
    loss = keras.losses.MeanSquaredError()
    with tf.GradientTape() as tape:
        value = loss(tf.reshape(y, (-1, 1)), model(x))
    grads = tape.gradient(value, model.trainable_variables)
    return {v.path: g for v, g in zip(model.trainable_variables, grads, strict=True)}


def mse(w, b, x, y):
    prediction = w * x + b
    return tf.reduce_mean((prediction - y) ** 2)
