"""Reference solutions for lesson 7, gradients across devices with tf.distribute.

Same function names as the exercises in lessons/07_distributed_gradients.py.
"""

import keras
import tensorflow as tf

from gradlab import tensorboard


def replica_loss(labels, predictions, global_batch_size):
    per_example = keras.losses.MeanSquaredError(reduction=None)(labels, predictions)
    return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)


def per_replica_gradients(strategy, model, x, y, global_batch_size):
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = replica_loss(y, model(x), global_batch_size)
        return tape.gradient(loss, model.trainable_variables)

    grads = strategy.run(step, args=(x, y))
    return [list(replica) for replica in strategy.experimental_local_results(grads)]


def reduce_gradients(strategy, per_replica_grads):
    return [strategy.reduce("SUM", grad, axis=None) for grad in per_replica_grads]


def distributed_gradients(strategy, model, x, y, global_batch_size):
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = replica_loss(y, model(x), global_batch_size)
        return tape.gradient(loss, model.trainable_variables)

    return reduce_gradients(strategy, strategy.run(step, args=(x, y)))


def log_replica_gradient_norms(strategy, per_replica_grads, variables, logdir, step):
    replicas = strategy.experimental_local_results(per_replica_grads)
    for number, grads in enumerate(replicas):
        writer = tensorboard.create_writer(f"{logdir}/replica_{number}")
        tensorboard.log_gradients(zip(grads, variables, strict=True), step, writer=writer)
        writer.flush()
