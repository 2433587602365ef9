"""Reference solutions for lesson 3, TensorBoard.

Same function names as the exercises in lessons/03_tensorboard.py.
"""

import keras
import numpy as np
import tensorflow as tf

from gradlab.tensorboard import read_scalars


def log_slopes(f, xs, writer):
    with writer.as_default():
        for step, x in enumerate(xs):
            x = tf.Variable(x, dtype=tf.float32)
            with tf.GradientTape() as tape:
                y = f(x)
            tf.summary.scalar("slope", tape.gradient(y, x), step=step)


def log_model_gradients(model, x, y, step, writer):
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x))
    grads = tape.gradient(loss, model.trainable_variables)
    with writer.as_default():
        for variable, gradient in zip(model.trainable_variables, grads, strict=True):
            tf.summary.scalar(f"grad_norm/{variable.path}", tf.norm(gradient), step=step)
            tf.summary.histogram(f"grad_hist/{variable.path}", gradient, step=step)


def train_with_logging(model, x, y, steps, writer):
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    loss_fn = keras.losses.MeanSquaredError()

    @tf.function
    def train_step(x, y, step):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        grads = tape.gradient(loss, model.trainable_variables)
        with writer.as_default():
            for variable, gradient in zip(model.trainable_variables, grads, strict=True):
                tf.summary.scalar(f"grad_norm/{variable.path}", tf.norm(gradient), step=step)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    for step in range(steps):
        train_step(x, y, tf.constant(step, tf.int64))


def read_norms(logdir, path):
    steps, norms = read_scalars(logdir)[f"grad_norm/{path}"]
    return steps, norms


def first_step_above(logdir, threshold):
    firsts = []
    for tag, (steps, norms) in read_scalars(logdir).items():
        above = np.flatnonzero(norms > threshold)
        if tag.startswith("grad_norm/") and above.size:
            firsts.append(int(steps[above[0]]))
    return min(firsts) if firsts else None


def sparse_gradient_norm(gradient):
    rows, position = tf.unique(gradient.indices)
    summed = tf.math.unsorted_segment_sum(gradient.values, position, tf.size(rows))
    return tf.norm(summed)
