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
#
# So far TensorFlow has differentiated everything for you. Sometimes you must write the
# backward pass yourself: the automatic one is numerically unstable, or you *want* a
# gradient that is not the derivative of the forward function (clipping it, reversing
# it, passing it straight through a rounding), or you fuse several operations into one
# and know a cheaper formula. `tf.custom_gradient` lets you do that, and lesson 4's
# checker lets you prove the result right, or find exactly where it is wrong.
#
# This lesson covers the contract of `tf.custom_gradient`, gradients that are meant
# to disagree with finite differences (and how to check them anyway), custom gradients
# that touch variables, second derivatives through a custom gradient, the older
# graph-mode mechanism, saving a model that has one, and mixed precision, where the
# gradients themselves need care.
#
# ```
# python -m gradlab.lesson 8 check      # check every exercise in this file
# python -m gradlab.lesson 8 hint 2     # a hint for exercise 2
# ```

# %% tags=["setup"]
import gradlab

gradlab.quiet_tensorflow()  # first: keeps TensorFlow's start-up noise out of your output

# isort: split
import keras
import numpy as np
import tensorflow as tf

from gradlab.gradcheck import check_gradients

keras.utils.set_random_seed(0)

# %% [markdown]
# ## 1. The contract: `(y, grad)` and the upstream gradient
#
# A function decorated with `@tf.custom_gradient` returns two things: its value `y`,
# and a function `grad` that the tape calls during the backward pass. `grad` receives
# the **upstream** gradient, ∂loss/∂y, which has the shape of `y`, and returns
# ∂loss/∂x = upstream × ∂y/∂x, which has the shape of `x`:


# %%
@tf.custom_gradient
def square(x):
    def grad(upstream):
        print("upstream:", upstream.numpy().tolist(), "shape", tuple(upstream.shape))
        return upstream * 2 * x

    return x * x, grad


matrix = tf.constant([[1.0, 2.0], [3.0, 4.0]])
with tf.GradientTape() as tape:
    tape.watch(matrix)
    loss = tf.reduce_sum(tf.constant([10.0, 1.0]) * square(matrix))
print("gradient:", tape.gradient(loss, matrix).numpy().tolist())

# %% [markdown]
# The upstream gradient is not a vector of ones: it is whatever the rest of the
# computation makes of `y`, here the weights 10 and 1 broadcast over the rows. A
# `grad` that forgets to multiply by it is right only when `y` is the very last
# operation, which is why gradient checks weight the output at random.
#
# **Why you would write one.** softplus(x) = log(1 + eˣ) is smooth, and its derivative
# is the sigmoid, always between 0 and 1. Written as `log1p(exp(x))`, the automatic
# derivative is `exp(x) / (1 + exp(x))`, which for large x is inf / inf:

# %%
points = tf.constant([0.0, 10.0, 100.0])
with tf.GradientTape() as tape:
    tape.watch(points)
    naive = tf.math.log1p(tf.exp(points))
print("value:   ", naive.numpy())
print("gradient:", tape.gradient(naive, points).numpy())

# %% [markdown]
# NaN at x = 100 (and the value is inf, since e¹⁰⁰ overflows float32). The fix writes
# the value in a form that cannot overflow, max(x, 0) + log1p(e^-|x|), and the
# gradient by hand, upstream × sigmoid(x), instead of letting autodiff go through the
# two kinks of that form (exercise 6.5 did the same):


# %%
@tf.custom_gradient
def softplus(x):
    value = tf.maximum(x, 0.0) + tf.math.log1p(tf.exp(-tf.abs(x)))

    def grad(upstream):
        return upstream * tf.sigmoid(x)

    return value, grad


with tf.GradientTape() as tape:
    tape.watch(points)
    stable = softplus(points)
print("value:   ", stable.numpy())
print("gradient:", tape.gradient(stable, points).numpy())

# %% [markdown]
# Finite, and right? A hand-written gradient is a claim, so prove it with lesson 4's
# checker. It runs the function in float64 and weights the output at random, so a
# `grad` that ignored `upstream` would fail:

# %%
wide_range = tf.constant([-30.0, -3.0, -0.5, 0.0, 0.5, 3.0, 30.0], tf.float64)
print(check_gradients(softplus, wide_range))

# %% [markdown]
# ### Exercise 8.1 — a stable log-cosh with a custom gradient
#
# log(cosh(x)) is a smooth loss that behaves like x²/2 near 0 and like |x| far away.
# Written directly it overflows: cosh(x) is inf above |x| ≈ 89 in float32. It equals
# |x| + softplus(-2|x|) - log 2 exactly, and its derivative is tanh(x). Write
# `log_cosh(x)` with `@tf.custom_gradient`: the stable value, and the gradient
# upstream × tanh(x). The check compares values and gradients (at points up to
# |x| = 800, in float32 and float64), runs `check_gradients` on it, and looks for your
# custom gradient in the traced graph: autodiff through a stable formula is not the
# exercise.


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

# %% [markdown]
# ## 2. Gradients that are *meant* to differ from the derivative
#
# A custom gradient need not be the derivative of the forward pass. Three classic
# cases: clipping the gradient as it flows through a point of the network, reversing
# it, and pretending a step function has slope 1. A finite-difference check measures
# the forward function, so for these it *must* disagree; what you check instead are
# the parts that must still agree.
#
# **Clipping inside the backward pass.** The forward pass is the identity; the
# backward pass clips each element of the upstream gradient to [-1, 1]:


# %% tags=["setup"]
@tf.custom_gradient
def clip_to_one(x):
    def grad(upstream):
        return tf.clip_by_value(upstream, -1.0, 1.0)

    return tf.identity(x), grad


# %%
values = tf.constant([-1.4, -0.3, 0.2, 0.6, 1.7])
weights = tf.constant([3.0, -0.5, 0.8, -4.0, 1.0])
with tf.GradientTape() as tape:
    tape.watch(values)
    total = tf.reduce_sum(weights * clip_to_one(values))
clipped_gradient = tape.gradient(total, values)
print("upstream:", weights.numpy())
print("gradient:", clipped_gradient.numpy())

# %% [markdown]
# Large upstream values (3 and -4) come out clipped; small ones pass unchanged. The
# checker sees the identity, whose derivative is 1. It weights the output at random,
# and wherever a weight is larger than 1 the clipped gradient disagrees (here element
# 3's weight is -1.03: finite differences say -1.03, the clipped gradient -1):

# %%
values64 = tf.cast(values, tf.float64)
clipped_check = check_gradients(clip_to_one, values64)
print("ok:", clipped_check.ok, "|", clipped_check.inputs[0].worst)

# %% [markdown]
# So check the parts that must agree. The forward value is exactly x. Where the
# upstream gradient stays inside the limit the gradient is the identity's: scale the
# output down (`0.01 * f`) and finite differences must agree. And the clipped values
# are what you computed by hand:

# %%
print("value is x:", bool(np.array_equal(clip_to_one(values).numpy(), values.numpy())))
scaled_down = check_gradients(lambda t: 0.01 * clip_to_one(t), values64)
print("below the limit, checker ok:", scaled_down.ok)
by_hand = np.clip(weights.numpy(), -1.0, 1.0)
print("gradient == clip(upstream):", bool(np.array_equal(clipped_gradient.numpy(), by_hand)))

# %% [markdown]
# ### Exercise 8.2 — an identity that clips its gradient
#
# Write `clip_gradient(x, limit)`: it returns x unchanged, and its gradient is the
# upstream gradient clipped to [-limit, limit]. `limit` is a Python float, not
# something to differentiate: decorate an inner function of x alone, which reads
# `limit` from the enclosing function (a decorated function of two arguments must
# return two gradients).


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

# %% [markdown]
# **Gradient reversal.** In domain adaptation (Ganin and Lempitsky, 2015), a feature
# extractor feeds two heads: one predicts the label, the other guesses which domain
# (say, synthetic or real images) the example came from. The features should help the
# first head and *defeat* the second. A gradient-reversal layer between the features
# and the domain head does it in one backward pass: the identity going forward,
# -λ × upstream going back, so the domain head descends its loss while the feature
# extractor ascends it.


# %%
def reverse_with(scale):
    @tf.custom_gradient
    def reverse(x):
        return tf.identity(x), lambda upstream: -scale * upstream

    return reverse


reverse_half = reverse_with(0.5)
with tf.GradientTape() as tape:
    tape.watch(values)
    total = tf.reduce_sum(weights * reverse_half(values))
print("upstream:", weights.numpy())
print("gradient:", tape.gradient(total, values).numpy())

# %% [markdown]
# The checker disagrees everywhere, by a constant ratio of -0.5. The part that must
# agree: the tape's gradient is -λ times the finite-difference gradient of the
# forward function, which `numerical_gradient` computes:

# %%
from gradlab.gradcheck import numerical_gradient

reversed_check = check_gradients(reverse_half, values64)
print("ok:", reversed_check.ok, "|", reversed_check.inputs[0].worst)


def weighted_sum(t):
    return tf.reduce_sum(tf.cast(weights, tf.float64) * reverse_half(t))


with tf.GradientTape() as tape:
    tape.watch(values64)
    total = weighted_sum(values64)
analytical = tape.gradient(total, values64).numpy()
print(
    "tape == -0.5 × finite differences:",
    np.allclose(analytical, -0.5 * numerical_gradient(weighted_sum, values64)),
)

# %% [markdown]
# ### Exercise 8.3 — gradient reversal with a scale
#
# Write `reverse_gradient(x, scale)`: x unchanged going forward, -scale × upstream
# going back.


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

# %% [markdown]
# **The straight-through estimator.** Quantised networks round their weights or
# activations, and binary networks take their sign. The derivative of `round` is 0
# almost everywhere (TensorFlow gives no gradient at all), and that of `sign` is 0,
# so nothing before them would ever learn:

# %%
grid = tf.constant([-1.4, -0.3, 0.2, 0.6, 1.7])
for name, step_function in (("tf.round", tf.round), ("tf.sign", tf.sign)):
    with tf.GradientTape() as tape:
        tape.watch(grid)
        stepped = step_function(grid)
    print(f"{name}: value {stepped.numpy()}, gradient {tape.gradient(stepped, grid)}")

# %% [markdown]
# The straight-through estimator (Bengio et al., 2013) keeps the step going forward
# and passes the upstream gradient through unchanged going back, as if the step were
# the identity:


# %%
@tf.custom_gradient
def round_straight_through(x):
    return tf.round(x), lambda upstream: upstream


import matplotlib.pyplot as plt

from gradlab import plots

line = tf.constant(np.linspace(-2.0, 2.0, 401), tf.float32)
with tf.GradientTape() as tape:
    tape.watch(line)
    rounded = round_straight_through(line)
straight_through = tape.gradient(rounded, line)
figure = plots.curves(
    line.numpy(),
    {
        "round(x)": rounded.numpy(),
        "its derivative (0 almost everywhere)": np.zeros(401),
        "straight-through gradient": straight_through.numpy(),
    },
    title="the straight-through estimator: a step forward, the identity backward",
)
plt.show()

# %% [markdown]
# What can a check say here? Finite differences of a step are 0 between the jumps (and
# huge across one), so the checker must fail. What must agree is the forward value,
# exactly `tf.round`, and the backward pass, exactly the upstream gradient:

# %%
ste_check = check_gradients(round_straight_through, tf.cast(grid, tf.float64))
print("ok:", ste_check.ok, "|", ste_check.inputs[0].worst)
print("value is round(x):", bool(np.array_equal(round_straight_through(grid), tf.round(grid))))
print("gradient is the upstream:", bool(np.all(straight_through.numpy() == 1.0)))

# %% [markdown]
# ## 3. Custom gradients that read variables
#
# A fused layer reads its weights, and the tape must get their gradients too. When the
# forward pass of a custom gradient reads a `tf.Variable` that is not one of its
# arguments, TensorFlow calls `grad(upstream, variables=[...])` and expects *two*
# things back: the gradients for the arguments, and a list with one gradient per
# variable. A `grad` without that keyword fails at once:

# %%
scale_variable = tf.Variable([2.0, -1.0], dtype=tf.float64, name="scale")


@tf.custom_gradient
def scaled(x):
    return x * scale_variable, lambda upstream: upstream * scale_variable


try:
    scaled(tf.constant([1.0, 1.0], tf.float64))
except TypeError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# Which order is that list in? Not the order your code reads the variables. In a
# graph (inside `tf.function`) TensorFlow sorts them by name; eagerly it builds the
# list from a Python `set`, so the order is not fixed. Here is an elementwise affine
# layer, x · scale + bias, whose `grad` prints the order it is given and returns the
# variables' gradients in reading order, scale then bias:

# %%
bias_variable = tf.Variable([0.5, 0.0], dtype=tf.float64, name="bias")
inputs = tf.constant(np.random.default_rng(1).normal(size=(4, 2)))


def affine_reading_order(x):
    @tf.custom_gradient
    def affine(x):
        def grad(upstream, variables=None):
            print("variables:", [v.name for v in variables])
            grad_scale, grad_bias = tf.reduce_sum(upstream * x, 0), tf.reduce_sum(upstream, 0)
            return upstream * scale_variable, [grad_scale, grad_bias]

        return x * scale_variable + bias_variable, grad

    return affine(x)


def affine_autodiff(x):
    return x * scale_variable + bias_variable


def variable_gradients(layer):
    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x) ** 2)
        return tape.gradient(loss, [scale_variable, bias_variable])

    return [g.numpy().round(3).tolist() for g in run(inputs)]


print("custom, reading order: [scale, bias] =", variable_gradients(affine_reading_order))
print("autodiff:              [scale, bias] =", variable_gradients(affine_autodiff))

# %% [markdown]
# `bias` sorts before `scale`, so the scale's gradient went to the bias and the other
# way round, and TensorFlow said nothing: the shapes match, the numbers are simply
# wrong. (With different shapes, as in a dense layer, you get gradients of the wrong
# shape, again without an error.) Look each variable up instead of assuming an order:


# %%
def affine_by_lookup(x):
    @tf.custom_gradient
    def affine(x):
        def grad(upstream, variables=None):
            by_variable = {
                scale_variable.ref(): tf.reduce_sum(upstream * x, 0),
                bias_variable.ref(): tf.reduce_sum(upstream, 0),
            }
            return upstream * scale_variable, [by_variable[v.ref()] for v in variables]

        return x * scale_variable + bias_variable, grad

    return affine(x)


print("custom, by lookup:     [scale, bias] =", variable_gradients(affine_by_lookup))
print("x checked:", check_gradients(affine_by_lookup, inputs).ok)

# %% [markdown]
# (`v.ref()` is a hashable handle to a variable; variables themselves cannot be dict
# keys.) Two checks, each on what it can see: the variables' gradients against
# autodiff of the same formula, and the input's gradient against finite differences
# (`check_gradients` moves arguments, not variables).
#
# ### Exercise 8.4 — a dense tanh layer whose custom gradient covers its variables
#
# Write `dense_tanh(x, kernel, bias)`: tanh(x @ kernel + bias), with a custom gradient
# for x and for both variables. The check runs it inside a `tf.function`, compares all
# three gradients with a NumPy back-propagation, and looks for the custom gradient in
# the graph.


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

# %% [markdown]
# ## 4. Second derivatives through a custom gradient
#
# A Hessian, a gradient penalty or a meta-learning step differentiates a gradient.
# Through a custom gradient, that differentiates *your* `grad` function: the outer
# tape records the operations `grad` runs. So `grad` must be written with TensorFlow
# operations on tensors the tape can see. Three versions of x³:


# %%
@tf.custom_gradient
def cube(x):
    return x**3, lambda upstream: upstream * 3 * x * x


@tf.custom_gradient
def cube_through_numpy(x):
    return x**3, lambda upstream: upstream * tf.constant(3 * x.numpy() ** 2)


@tf.custom_gradient
def cube_half_stopped(x):
    return x**3, lambda upstream: upstream * 3 * x * tf.stop_gradient(x)


two = tf.constant(2.0)
for function in (cube, cube_through_numpy, cube_half_stopped):
    with tf.GradientTape() as outer:
        outer.watch(two)
        with tf.GradientTape() as inner:
            inner.watch(two)
            y = function(two)
        first = inner.gradient(y, two)
    second = outer.gradient(first, two)
    shown = None if second is None else float(second)
    print(f"{function.__name__:18} first {float(first):5}  second {shown}")

# %% [markdown]
# All three have the right first derivative, 12. Only `cube` has the right second
# derivative, 6x = 12. The NumPy detour leaves no recorded path (`None`), and the
# `tf.stop_gradient` on one factor of 3·x·x hides half of the product rule (6 instead
# of 12). Nothing about the first derivative warns you. To check a second derivative,
# check the *first* derivative as a function:


# %%
from gradlab.gradcheck import GradcheckError


def first_derivative_of(function):
    def first_derivative(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = function(x)
        return tape.gradient(y, x)

    return first_derivative


grid64 = tf.constant([-1.5, 0.5, 2.0], tf.float64)
print("cube:", check_gradients(first_derivative_of(cube), grid64).ok)
half_stopped = check_gradients(first_derivative_of(cube_half_stopped), grid64)
print("cube_half_stopped:", half_stopped.ok, "|", half_stopped.inputs[0].worst)
try:
    check_gradients(first_derivative_of(cube_through_numpy), grid64)
except GradcheckError as error:
    print(f"cube_through_numpy: {type(error).__name__}: {error}")

# %% [markdown]
# The checker compares the tape's second derivative with finite differences of the
# first: off by a factor of 2 at every element. For the NumPy version it refuses to
# compare at all: the first derivative changes when x changes, yet the tape finds no
# path from one to the other.
#
# When a check fails, the report names the worst element. A custom gradient wrong at
# a single position (an off-by-one in an index, a boundary case) is invisible in a
# printout of numbers but not to a full check:


# %%
@tf.custom_gradient
def softsign(x):
    factor = np.ones(x.shape)
    factor[1, 2] = 1.2  # a planted bug in one element

    def grad(upstream):
        return upstream / (1 + tf.abs(x)) ** 2 * factor

    return x / (1 + tf.abs(x)), grad


square_input = tf.constant(np.random.default_rng(2).uniform(0.2, 1.5, size=(3, 4)))
report = check_gradients(softsign, square_input)
print(report.ok, report.values_failed, "failing;", report.inputs[0].worst)

# %% [markdown]
# ### Exercise 8.5 — find the wrong element of a custom gradient
#
# Write `wrong_element(f, x)`: the index (a tuple, one integer per dimension) of the
# element of x where f's custom gradient is wrong. Each f the check passes has one
# planted bug.


# %% tags=["exercise"]
def wrong_element(f, x):
    """Return the index of the element of x where f's custom gradient is most wrong.

    f: a function of one float64 tensor with a tf.custom_gradient that is wrong at one
    element. x: a float64 tensor (2-D). Returns a tuple of ints, e.g. (2, 1).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 8.5: write wrong_element (hint: python -m gradlab.lesson 8 hint 5)"
    )


# %% tags=["check"]
gradlab.check("8.5", wrong_element)

# %% [markdown]
# ## 5. The graph-mode way: `tf.RegisterGradient` and `gradient_override_map`
#
# Before `tf.custom_gradient`, TensorFlow 1 code replaced an op's gradient in two
# steps: register a gradient function under a name, then, in a `tf.Graph`, map an op
# type to that name for the ops created inside a scope. Lesson 2 built graphs and
# sessions with `tf.compat.v1`; the same machinery does this:

# %%
import contextlib

OVERRIDE = "Lesson8ClipToOne"


def clip_backward(op, upstream):
    return tf.clip_by_value(upstream, -1.0, 1.0)


with contextlib.suppress(KeyError):  # registered already: this cell ran before
    tf.RegisterGradient(OVERRIDE)(clip_backward)

graph = tf.Graph()
with graph.as_default():
    start = tf.constant([-1.4, 0.2, 1.7])
    plain = tf.identity(start)
    with graph.gradient_override_map({"Identity": OVERRIDE}):
        overridden = tf.identity(start)
    gradients = tf.gradients(5.0 * plain, start) + tf.gradients(5.0 * overridden, start)
with tf.compat.v1.Session(graph=graph) as session:
    plain_gradient, overridden_gradient = session.run(gradients)
print("plain Identity:     ", plain_gradient)
print("overridden Identity:", overridden_gradient)

# %% [markdown]
# Why TensorFlow 2 code prefers `tf.custom_gradient`:
#
# - **Eager mode ignores the override map.** It is an attribute of graph building; a
#   tape in eager mode uses the op's registered gradient:

# %%
with tf.GradientTape() as tape:
    tape.watch(start_eager := tf.constant([-1.4, 0.2, 1.7]))
    with tf.compat.v1.get_default_graph().gradient_override_map({"Identity": OVERRIDE}):
        eager_identity = tf.identity(start_eager)
    total = tf.reduce_sum(5.0 * eager_identity)
print("eager, with the override map:", tape.gradient(total, start_eager).numpy())

# %% [markdown]
# - **Names are global and registered once per process.** A second registration under
#   the same name raises, so a library and its user (or two runs of a notebook cell)
#   collide:

# %%
try:
    tf.RegisterGradient(OVERRIDE)(clip_backward)
except KeyError as error:
    print(f"{type(error).__name__}: {error.args[0].split(' (Previous')[0]}")

# %% [markdown]
# - **It overrides every op of that type in the scope**, and the gradient function sees
#   only the op and its upstream gradient, so a parameter like the clipping limit must
#   be baked into the registered function. `tf.custom_gradient` applies to one call,
#   closes over any Python value, works eagerly, in `tf.function` and (as section 6
#   shows) in a SavedModel.
#
# ## 6. Saving a model whose layer has a custom gradient
#
# A SavedModel stores traced graphs, not Python. For a custom gradient to survive, the
# gradient function must be traced and stored too. Here is a small Keras model whose
# last layer clips its gradient, wrapped in a `tf.Module` with a traced `__call__`:

# %%
from gradlab.course import lesson

SAVED = lesson(8).run_dir / "saved"


class ClipToOne(keras.layers.Layer):
    """The identity, with the gradient clipped to [-1, 1] (section 2)."""

    def call(self, x):
        return clip_to_one(x)


class Exported(tf.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def __call__(self, x):
        return self.model(x)


keras.utils.set_random_seed(3)
clipping_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), ClipToOne()])
examples = tf.constant(np.random.default_rng(3).normal(size=(4, 3)), tf.float32)


def input_gradient(model):
    with tf.GradientTape() as tape:
        tape.watch(examples)
        total = tf.reduce_sum(5.0 * model(examples))  # an upstream of 5: clipped to 1
    return tape.gradient(total, examples).numpy()


before = input_gradient(Exported(clipping_model))
for keep in (True, False):
    options = tf.saved_model.SaveOptions(experimental_custom_gradients=keep)
    tf.saved_model.save(Exported(clipping_model), str(SAVED / str(keep)), options=options)
print("saved under", SAVED.relative_to(lesson(8).root).as_posix())
print(
    "experimental_custom_gradients by default:",
    tf.saved_model.SaveOptions().experimental_custom_gradients,
)

# %% [markdown]
# What is in the files? A SavedModel's function library lists the gradient functions it
# stores, keyed by the op they belong to:

# %%
from tensorflow.core.protobuf import saved_model_pb2


def stored_gradients(folder):
    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((folder / "saved_model.pb").read_bytes())
    library = saved.meta_graphs[0].graph_def.library
    return sorted(
        {entry.registered_op_type.split("-")[0] for entry in library.registered_gradients}
    )


for keep in (True, False):
    stored = stored_gradients(SAVED / str(keep))
    print(f"experimental_custom_gradients={keep}: stored gradients {stored}")

# %% [markdown]
# Load both and differentiate. Loading the second one warns (TensorFlow logs it; here
# it is collected and printed):

# %%
import logging


class Collected(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


absl_logger, collected = logging.getLogger("absl"), Collected()
absl_logger.addHandler(collected)
absl_logger.propagate = False
try:
    reloaded = {keep: tf.saved_model.load(str(SAVED / str(keep))) for keep in (True, False)}
finally:
    absl_logger.removeHandler(collected)
    absl_logger.propagate = True
print("warning:", *{m.split(" (__inference")[0] + m.split(")", 1)[1] for m in collected.messages})
for keep, loaded in reloaded.items():
    print(f"{keep}: gradient equal to before saving:", np.allclose(input_gradient(loaded), before))

# %% [markdown]
# Both gradients are right *in this process*, and only one of them is to be trusted.
# The `False` model's graph still names the custom gradient this process registered
# when it traced `clip_to_one`, so the lookup succeeds here. The honest test is a
# fresh Python process that knows nothing but the folder (it costs one more
# TensorFlow import):

# %%
import json
import subprocess
import sys

FRESH_PROCESS = """
import json, sys
import gradlab
gradlab.quiet_tensorflow()
import numpy as np
import tensorflow as tf
examples = tf.constant(np.load(sys.argv[1]))
for keep in ("True", "False"):
    loaded = tf.saved_model.load(f"{sys.argv[2]}/{keep}")
    try:
        with tf.GradientTape() as tape:
            tape.watch(examples)
            total = tf.reduce_sum(5.0 * loaded(examples))
        print(keep, json.dumps(tape.gradient(total, examples).numpy().tolist()))
    except LookupError as error:
        print(keep, f"{type(error).__name__}: {str(error).split(' In general')[0]}")
"""
np.save(SAVED / "examples.npy", examples.numpy())
fresh = subprocess.run(
    [sys.executable, "-c", FRESH_PROCESS, str(SAVED / "examples.npy"), str(SAVED)],
    capture_output=True,
    text=True,
    check=True,
)
for line in fresh.stdout.splitlines():
    keep, _, said = line.partition(" ")
    if said.startswith("["):
        said = f"gradient equal to before saving: {np.allclose(json.loads(said), before)}"
    print(f"fresh process, {keep}: {said}")

# %% [markdown]
# With the default, `experimental_custom_gradients=True`, the gradient function is in
# the file and a fresh process gets the clipped gradient. Without it, the graph names
# a gradient that nothing in the new process defines, and differentiating fails. Keep
# the default unless the model will never be trained or differentiated again.
#
# ## 7. Mixed precision: gradients that vanish in float16
#
# Mixed precision computes in float16 (or bfloat16) and keeps the variables in
# float32: faster on GPUs and TPUs with 16-bit units, and half the memory for
# activations. The catch is float16's range: its smallest positive value is 6e-8, so
# a small gradient rounds to zero. A small model with a small loss (late in training,
# or a term with a small weight) shows it:

# %%
features = tf.constant(np.random.default_rng(4).normal(size=(8, 3)), tf.float32)
targets = tf.constant(np.random.default_rng(5).normal(size=(8, 1)), tf.float32)


def small_model(policy):
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)]
    )
    keras.mixed_precision.set_global_policy("float32")
    return model


def scaled_gradients(model, scale=1.0):
    with tf.GradientTape() as tape:
        residual = tf.cast(model(features), tf.float32) - targets
        loss = 1e-7 * tf.reduce_mean(residual**2)
    # Starting the backward pass from scale instead of 1 differentiates scale × loss.
    seed = tf.constant(scale, tf.float32)
    scaled = tape.gradient(loss, model.trainable_variables, output_gradients=seed)
    return [g / scale for g in scaled]


def zeros_and_error(gradients, reference):
    zeros = sum(int(np.sum(g.numpy() == 0)) for g in gradients)
    error = max(
        float(np.max(np.abs(g - r) / np.maximum(np.abs(r), 1e-12)))
        for g, r in zip(gradients, reference, strict=True)
    )
    return f"{zeros:2} zero gradients of 21, worst relative error {error:.1e}"


reference = scaled_gradients(small_model("float32"))
print("float32:                      ", zeros_and_error(reference, reference))
half = small_model("mixed_float16")
print("mixed_float16:                ", zeros_and_error(scaled_gradients(half), reference))
print(
    "mixed_float16, scaled by 2^15:", zeros_and_error(scaled_gradients(half, 2.0**15), reference)
)
brain = small_model("mixed_bfloat16")
print("mixed_bfloat16:               ", zeros_and_error(scaled_gradients(brain), reference))
print("global policy now:", keras.mixed_precision.global_policy().name)

# %% [markdown]
# Without scaling, float16 loses every gradient: all 21 are exactly 0. **Loss
# scaling** multiplies the loss by a large factor S before the backward pass, so every
# intermediate gradient is S times larger and stays in float16's range, then divides
# the float32 gradients by S. (The demo starts the backward pass from S with
# `output_gradients`, which is the same as differentiating S × loss.) All 21 come
# back, within a few percent: float16 keeps about 3 decimal digits, and the worst
# element is one of the smallest. bfloat16 has float32's exponent range with even
# fewer digits, so it needs no scaling at all.
# (The demo sets the global policy only to build each model and resets it to float32
# right after, so nothing else in this process computes in float16 by accident.)
#
# **Dynamic loss scaling.** Too large an S makes gradients overflow to inf. Keras's
# `LossScaleOptimizer` adapts S: it doubles after `dynamic_growth_steps` steps with
# finite gradients, and when a step's gradients are not finite it halves S and skips
# the update. Here it grows every 2 steps, and step 5 has an infinite loss:

# %%
optimizer = keras.mixed_precision.LossScaleOptimizer(
    keras.optimizers.SGD(0.01), initial_scale=2.0**10, dynamic_growth_steps=2
)
weight = tf.Variable([1.0, 2.0], name="weight")
optimizer.build([weight])
scales = []
for step in range(1, 11):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(weight**2) * (np.inf if step == 5 else 1.0)
        scaled_loss = optimizer.scale_loss(loss)
    optimizer.apply(tape.gradient(scaled_loss, [weight]), [weight])
    scales.append(float(optimizer.dynamic_scale))
    print(f"step {step:2}: scale {scales[-1]:6.0f}, weight {weight.numpy().round(4)}")

figure = plots.curves(
    np.arange(1, 11), {"loss scale": np.array(scales)}, xlabel="step", title="dynamic loss scale"
)
plt.show()

# %% [markdown]
# The scale doubles after every two finite steps, halves at step 5, and the weight
# does not move on that step: the update was skipped. `optimizer.scale_loss` did the
# multiplication; `apply` divided the gradients by the scale before updating.
#
# **Checking the gradients of a mixed-precision model.** `check_gradients` promotes
# its inputs to float64, but a float16 layer casts them back down, so the check runs
# at low precision, warns, and fails on rounding alone:

# %%
import warnings

half_loss_model = small_model("mixed_float16")


def half_loss(*weights):
    prediction, _ = half_loss_model.stateless_call(list(weights), [], features)
    return tf.reduce_mean((tf.cast(prediction, tf.float32) - targets) ** 2)


with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    half_report = check_gradients(
        half_loss, [v.value for v in half_loss_model.trainable_variables]
    )
print(*{f"{w.category.__name__}: {w.message}" for w in caught})
print(
    "ok:",
    half_report.ok,
    f"| precision {half_report.precision}, max rel error {half_report.max_rel_error:.1e}",
)

# %% [markdown]
# Mixed precision changes how precisely the model computes, not what it computes. So
# check the formula on a float64 twin with the same weights, where the checker can
# prove it, and check the mixed-precision gradients against the twin's with a
# tolerance that fits float16:

# %%
twin = small_model("float64")
twin.set_weights(half_loss_model.get_weights())
features64, targets64 = tf.cast(features, tf.float64), tf.cast(targets, tf.float64)


def twin_loss(*weights):
    prediction, _ = twin.stateless_call(list(weights), [], features64)
    return tf.reduce_mean((prediction - targets64) ** 2)


twin_weights = [v.value for v in twin.trainable_variables]
print("float64 twin checked:", check_gradients(twin_loss, twin_weights).ok)


def gradients_at(loss_function, weights):
    with tf.GradientTape() as tape:
        tape.watch(weights)
        value = loss_function(*weights)
    return tape.gradient(value, weights)


half_gradients = gradients_at(half_loss, [v.value for v in half_loss_model.trainable_variables])
twin_gradients = gradients_at(twin_loss, twin_weights)
close = [
    np.allclose(h, t, rtol=2e-2, atol=1e-3)
    for h, t in zip(half_gradients, twin_gradients, strict=True)
]
print("mixed precision within float16 tolerance of the twin:", all(close))

# %% [markdown]
# ### Exercise 8.6 — loss scaling by hand
#
# Write `unscaled_gradients(loss_fn, variables, scale)`: the gradients of `loss_fn()`
# for `variables`, computed the way `LossScaleOptimizer` does: scale the loss inside
# the tape, take the gradients, unscale them. `loss_fn` computes with float16 layers
# and returns a tiny float32 loss, so without scaling its gradients underflow.


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
        "exercise 8.6: write unscaled_gradients (hint: python -m gradlab.lesson 8 hint 6)"
    )


# %% tags=["check"]
gradlab.check("8.6", unscaled_gradients)

# %% [markdown]
# ## Summary
#
# - `@tf.custom_gradient` functions return `(y, grad)`; `grad(upstream)` gets ∂loss/∂y
#   (shaped like y) and returns upstream × ∂y/∂x (shaped like x), one gradient per
#   argument. Forgetting `upstream` is right only when y is the last operation.
# - Use it to make an unstable gradient stable (softplus, log-cosh), and prove it with
#   `check_gradients`, which weights the output at random.
# - Clipping, reversal and straight-through gradients *must* fail a finite-difference
#   check. Check what must agree instead: the forward value, the gradient by hand, the
#   identity below the clipping limit, -λ × finite differences.
# - A forward pass that reads variables gets `grad(upstream, variables=...)` and
#   returns `(grad_xs, grad_vars)`; follow the order of `variables` (sorted by name in
#   a graph, a set eagerly), looking each one up with `v.ref()`.
# - Second derivatives differentiate `grad` itself: write it with TensorFlow ops, no
#   NumPy, no `stop_gradient`; check the first derivative as a function.
# - `tf.RegisterGradient` + `gradient_override_map` work only while building a graph,
#   register global names once, and override every op of a type in a scope.
# - `tf.saved_model.save` stores custom gradients by default
#   (`experimental_custom_gradients=True`); without them a fresh process finds no
#   gradient for the `IdentityN` op.
# - float16 gradients underflow: scale the loss, unscale the gradients
#   (`LossScaleOptimizer` adapts the scale); bfloat16 needs no scaling. Check a
#   mixed-precision model's formula on a float64 twin.
#
# This is the last lesson: you can now see, check, debug, distribute and write
# gradients.
