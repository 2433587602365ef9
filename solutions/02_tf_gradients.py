"""Reference solutions for lesson 2, tf.gradients in graph mode.

Same function names as the exercises in lessons/02_tf_gradients.py.
"""

import tensorflow as tf


def graph_gradient(f, x):
    @tf.function
    def gradient(x):
        return tf.gradients(f(x), x)[0]

    return gradient(x)


def weighted_gradient(f, x, weights):
    @tf.function
    def vector_jacobian_product(x, weights):
        return tf.gradients(f(x), x, grad_ys=weights)[0]

    return vector_jacobian_product(x, weights)


def partial_derivatives(model, x):
    @tf.function
    def partials(x):
        y, u = model(x)
        dy_dx, dy_du = tf.gradients(y, [x, u], stop_gradients=[u])
        return dy_dx, dy_du

    return partials(x)


def gradient_in_session(f, x):
    graph = tf.Graph()
    with graph.as_default():
        x_in = tf.compat.v1.placeholder(tf.float32, shape=x.shape)
        gradient = tf.gradients(f(x_in), x_in)[0]
    with tf.compat.v1.Session(graph=graph) as session:
        return session.run(gradient, feed_dict={x_in: x})


def hessian_matrix(f, x):
    @tf.function
    def hessian(x):
        return tf.hessians(f(x), x)[0]

    return hessian(x)


def gradient_function(f):
    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float32)])
    def gradient(x):
        return tf.gradients(f(x), x)[0]

    return gradient
