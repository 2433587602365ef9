# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---


# %% [markdown]
# # Writing your own gradients, and proving them right

# %% tags=["setup"]
import gradlab

gradlab.quiet_tensorflow()  # first: keeps TensorFlow's start-up noise out of your output

# isort: split
import keras
import numpy as np
import tensorflow as tf

from gradlab.gradcheck import check_gradients

keras.utils.set_random_seed(0)

# %% tags=["exercise"]
@tf.custom_gradient
def log_cosh(x):
    """Return log(cosh(x)), stable for large |x|, and its gradient function.

    x: a float32 or float64 tensor.
    Returns (value, grad): value shaped like x, grad(upstream) -> upstream * tanh(x).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 8.1: write log_cosh (hint: python -m gradlab.lesson 8 hint 1)"
    )


# %% tags=["check"]
gradlab.check("8.1", log_cosh)

# %% tags=["exercise"]
def clip_gradient(x, limit):
    """Return x unchanged; its gradient is the upstream gradient clipped to [-limit, limit].

    x: a float32 tensor. limit: a positive Python float (not differentiated).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 8.2: write clip_gradient (hint: python -m gradlab.lesson 8 hint 2)"
    )


# %% tags=["check"]
gradlab.check("8.2", clip_gradient)

# %% tags=["exercise"]
def reverse_gradient(x, scale):
    """Return x unchanged; its gradient is -scale times the upstream gradient.

    x: a float32 tensor. scale: a positive Python float (not differentiated).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 8.3: write reverse_gradient (hint: python -m gradlab.lesson 8 hint 3)"
    )


# %% tags=["check"]
gradlab.check("8.3", reverse_gradient)

# %% tags=["exercise"]
def dense_tanh(x, kernel, bias):
    """Return tanh(x @ kernel + bias), its gradient written with @tf.custom_gradient.

    x: a (batch, inputs) tensor. kernel: a tf.Variable (inputs, units); bias: (units,).
    The backward pass returns the gradient for x and, for the variables the forward
    pass reads, one gradient per variable in the order of `variables`.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 8.4: write dense_tanh (hint: python -m gradlab.lesson 8 hint 4)"
    )


# %% tags=["check"]
gradlab.check("8.4", dense_tanh)

# %% tags=["exercise"]
def unscaled_gradients(loss_fn, variables, scale):
    """Return the gradients of loss_fn() for variables, computed with loss scaling.

    loss_fn: a function of no arguments returning a float32 scalar loss computed by
    float16 layers. variables: a list of float32 variables. scale: a Python float.
    Returns a list of float32 tensors, one per variable: the gradients of the loss
    itself (not of the scaled loss).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 8.5: write unscaled_gradients (hint: python -m gradlab.lesson 8 hint 5)"
    )


# %% tags=["check"]
gradlab.check("8.5", unscaled_gradients)

# %% tags=["exercise"]
def wrong_element(f, x):
    """Return the index of the element of x where f's custom gradient is most wrong.

    f: a function of one float64 tensor with a tf.custom_gradient that is wrong at one
    element. x: a float64 tensor (2-D). Returns a tuple of ints, e.g. (2, 1).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 8.6: write wrong_element (hint: python -m gradlab.lesson 8 hint 6)"
    )


# %% tags=["check"]
gradlab.check("8.6", wrong_element)
