"""gradlab.teaching.graphs: the operations tf.gradients adds, and the ones a result depends on."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gradlab.teaching import graphs


def _article_graph():
    """The first article's f(x) = 3x² and its gradient, in a v1 graph."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, shape=(), name="x")
        y = 3 * x**2
        (gradient,) = tf.gradients(y, x)
    return graph, x, y, gradient


def test_gradient_ops_are_exactly_those_under_the_gradients_scope():
    graph, *_ = _article_graph()
    names = [op.name for op in graphs.gradient_ops(graph)]
    assert names and all(name.startswith("gradients/") for name in names)
    forward = {op.name for op in graph.get_operations()} - set(names)
    assert forward == {"x", "pow/y", "pow", "mul/x", "mul"}


def test_ops_feeding_follows_inputs_back_to_the_seed_and_keeps_graph_order():
    graph, *_, gradient = _article_graph()
    path = graphs.ops_feeding(gradient)
    names = [op.name for op in path]
    assert names[-1] == gradient.op.name
    assert "gradients/grad_ys_0" in names  # the seed of ones
    order = [op.name for op in graph.get_operations()]
    assert names == sorted(names, key=order.index)


def test_ops_feeding_computes_the_gradient_and_leaves_out_the_exponent_gradient():
    graph, x, _, gradient = _article_graph()
    path = graphs.ops_feeding(gradient)
    assert "Log" not in {op.type for op in path}  # d(x**n)/dn is built but not needed
    with tf.compat.v1.Session(graph=graph) as session:
        assert session.run(gradient, {x: 3.0}) == np.float32(18.0)


def test_used_and_unused_gradient_ops_partition_the_gradient_ops():
    graph, *_, gradient = _article_graph()
    used = {op.name for op in graphs.ops_feeding(gradient)}
    unused = {op.name for op in graphs.unused_gradient_ops(gradient)}
    assert used and unused and not used & unused
    assert used | unused == {op.name for op in graphs.gradient_ops(graph)}


def test_in_scope_matches_a_nested_scope_but_not_a_prefix_of_a_name():
    class Op:
        def __init__(self, name):
            self.name = name

    assert graphs.in_scope(Op("outer/gradients/mul_grad/Mul"))
    assert not graphs.in_scope(Op("gradients_of_something/Mul"))
    assert not graphs.in_scope(Op("mul"))


def test_gradient_ops_of_a_traced_function_graph():
    @tf.function
    def gradient(x):
        return tf.gradients(tf.sin(x), x)[0]

    traced = gradient.get_concrete_function(tf.TensorSpec([3], tf.float32)).graph
    types = {op.type for op in graphs.gradient_ops(traced)}
    assert "Cos" in types  # d sin / dx
