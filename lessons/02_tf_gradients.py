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
# # tf.gradients: symbolic gradients in graph mode
#
# Lesson 1 recorded a computation on a tape and played it backwards. TensorFlow has an
# older way to differentiate, from the days when every program was a graph:
# `tf.gradients(ys, xs)` reads the graph that produced `ys` and **adds the operations
# that compute the gradient to that same graph**. In this lesson you will see why the
# first source article's call to it fails, the two places where it works, what it
# builds, and the few things it does that a tape does not.
#
# **How to work.** Read a section, run its cells, then write the exercise below it in
# the one place marked `# YOUR CODE HERE`. The cell after each exercise checks it and
# prints ✓ or ✗ with the reason. From a terminal:
#
# ```
# python -m gradlab.lesson 2 check      # check every exercise in this file
# python -m gradlab.lesson 2 hint 3     # a hint for exercise 3
# ```

# %% tags=["setup"]
import gradlab

gradlab.quiet_tensorflow()  # first: keeps TensorFlow's start-up noise out of your output

# isort: split
import numpy as np
import tensorflow as tf

tf.random.set_seed(0)

# %% [markdown]
# ## 1. The article's example, run as the article runs it
#
# The first source article computes the derivative of f(x) = 3x² at x = 3 like this
# and says it prints 18.0:


# %% tags=["setup"]
def f_x(x):
    return 3 * x**2


# %%
x = tf.Variable(3.0)

try:
    dy_dx = tf.gradients(f_x(x), x)
    print(dy_dx[0].numpy())
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# It prints an error instead. TensorFlow 2 runs **eagerly**: `f_x(x)` is computed the
# moment Python reaches it, and the result is a tensor holding 27 — nothing records how
# it was made (unless a tape is recording). `tf.gradients` needs that record in the
# form of a *graph*: it finds the operations that led from `x` to `y` and adds new
# operations that apply the chain rule to them. An eager tensor belongs to no graph, so
# there is nothing to walk backwards. The error message's advice is sound: in eager
# code, use `tf.GradientTape` (lesson 1). But there are two places where the article's
# line works as written.
#
# ## 2. Inside `tf.function`
#
# `tf.function` **traces** a Python function: it runs it once with symbolic tensors,
# which stand for values not yet known, and records every operation into a graph. While
# that graph is being built, `tf.gradients` can read it and extend it:


# %% tags=["setup"]
@tf.function
def gradient_of_f(x):
    return tf.gradients(f_x(x), x)


# %%
result = gradient_of_f(x)
print(type(result).__name__, "of", len(result), "→", result[0].numpy())

# %% [markdown]
# 18.0, as calculus promised (f'(x) = 6x). Notice the **list**: `tf.gradients(ys, xs)`
# returns one gradient per source in `xs`, even when there is only one, which is why the
# article wrote `dy_dx[0]`.
#
# ### Exercise 2.1 — a gradient with `tf.gradients`
#
# Write `graph_gradient(f, x)`: the gradient of the scalar function `f` at the tensor
# `x`, computed with `tf.gradients`.


# %% tags=["exercise"]
def graph_gradient(f, x):
    """Return the gradient of f at x, computed with tf.gradients.

    f: a function from a tensor to a scalar tensor, e.g. ``lambda x: 3 * x ** 2``.
    x: a float32 tensor of any shape (an eager tensor: you are not in a graph yet).
    Returns a float32 tensor with the shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 2.1: write graph_gradient (hint: python -m gradlab.lesson 2 hint 1)"
    )


# %% tags=["check"]
gradlab.check("2.1", graph_gradient)

# %% [markdown]
# ## 3. In a `tf.compat.v1` Graph and Session
#
# In TensorFlow 1, graphs were the default: you *built* a graph, then asked a `Session`
# to *run* parts of it. That API still exists under `tf.compat.v1`, and in it
# `tf.gradients` is at home. Everything created inside `with graph.as_default():` goes
# into `graph` instead of running:

# %%
graph = tf.Graph()
with graph.as_default():
    x_v1 = tf.Variable(3.0)
    y_v1 = f_x(x_v1)
    gradients_v1 = tf.gradients(y_v1, x_v1)
    initialise = tf.compat.v1.global_variables_initializer()

print("a graph tensor, no value yet:", gradients_v1[0])

with tf.compat.v1.Session(graph=graph) as session:
    session.run(initialise)  # a v1 variable has no value until its initializer runs
    print("session.run →", session.run(gradients_v1)[0])

# %% [markdown]
# Again 18.0. The graph tensor printed first has a *name*, `gradients/pow_grad/mul_1:0`,
# but no value: only `session.run` computes values. (`:0` means "output 0 of the
# operation named `gradients/pow_grad/mul_1`".)
#
# Where the article's version failed is now clear. `tf.gradients` was written for this
# build-then-run world, and it still lives in it: inside a `tf.function` trace, or inside
# `with graph.as_default():`.
#
# A graph can also take its input when it runs rather than when it is built. A
# `tf.compat.v1.placeholder` is a graph tensor with a dtype and a shape but no value;
# `session.run` receives the value in `feed_dict`, so one graph serves every input:

# %%
fed_graph = tf.Graph()
with fed_graph.as_default():
    point = tf.compat.v1.placeholder(tf.float32, shape=(), name="point")
    slope = tf.gradients(f_x(point), point)[0]
print("a placeholder:", point)

with tf.compat.v1.Session(graph=fed_graph) as session:
    for value in (1.0, 3.0):
        print(f"x = {value}: session.run →", session.run(slope, feed_dict={point: value}))

# %% [markdown]
# ### Exercise 2.2 — a gradient in a Graph and Session
#
# Write `gradient_in_session(f, x)`: the gradient of `f` at the NumPy array `x`, computed
# by building a `tf.Graph` that takes `x` through a `tf.compat.v1.placeholder` and running
# it in a `tf.compat.v1.Session`. (A placeholder is a graph input whose value you give at
# run time: `session.run(tensor, feed_dict={placeholder: value})`.)


# %% tags=["exercise"]
def gradient_in_session(f, x):
    """Return df/dx at x, computed in a tf.compat.v1 Graph and Session.

    f: a function from a tensor to a scalar tensor.
    x: a float32 NumPy array of any shape.
    Returns a float32 NumPy array with the shape of x (what Session.run returns).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 2.2: write gradient_in_session (hint: python -m gradlab.lesson 2 hint 2)"
    )


# %% tags=["check"]
gradlab.check("2.2", gradient_in_session)

# %% [markdown]
# ## 4. What `tf.gradients` builds
#
# `tf.gradients` put its operations into the graph under the name scope `gradients/`.
# `tf.function` keeps the graph it traced; here are all the operations in the graph of
# `gradient_of_f` that came from `tf.gradients`:

# %%
from gradlab import graphs

traced = gradient_of_f.get_concrete_function(x).graph
added = graphs.gradient_ops(traced)
print(f"{len(traced.get_operations())} operations, {len(added)} added by tf.gradients:")
for op in added:
    print(f"  {op.name:52} {op.type}")

# %% [markdown]
# The forward computation had two arithmetic operations, `pow` (x²) and `mul` (3 · x²).
# For each, `tf.gradients` added a block, `pow_grad/` and `mul_grad/`, built by the
# gradient function TensorFlow has registered for that operation type. Which of these
# operations does the result actually need? Follow its inputs backwards and run each one
# in the v1 graph of section 3, which holds the same gradient operations:

# %%
with tf.compat.v1.Session(graph=graph) as session:
    session.run(initialise)
    path = graphs.ops_feeding(gradients_v1[0])
    values = session.run([op.outputs[0] for op in path])
for op, value in zip(path, values, strict=True):
    print(f"  {op.name:30} {op.type:6} = {value}")

# %% [markdown]
# This is the chain rule, one operation at a time. Write f = 3·p with p = x²:
#
# | operation | computes | value |
# |---|---|---|
# | `gradients/grad_ys_0` (Fill) | the seed df/df | 1 |
# | `gradients/mul_grad/Mul_1` | seed · ∂(3p)/∂p = 1 · 3 | 3 |
# | `gradients/pow_grad/mul` | that · the exponent 2 | 6 |
# | `gradients/pow_grad/Pow` | x^(2−1) | 3 |
# | `gradients/pow_grad/mul_1` | 6 · 3 = df/dx | 18 |
#
# The `Const` and `Sub` lines are the inputs those steps need: the shape to fill, the
# seed's value 1, and 2 − 1. The other operations compute derivatives nobody asked for:
# with respect to the constant 3 and the exponent 2 (that is where `Log` comes from:
# d(x^n)/dn = xⁿ·log x). A Session runs only what the fetched tensors need, so they
# are built but never run:

# %%
unused = graphs.unused_gradient_ops(gradients_v1[0])
print(len(unused), "unused:", ", ".join(op.name.removeprefix("gradients/") for op in unused))

# %% [markdown]
# Remember the seed, `grad_ys_0`: a tensor of ones shaped like y. The next section
# replaces it. (To browse a traced graph like this one in TensorBoard's *Graphs* tab,
# lesson 3 writes it with `tf.summary.trace_on` and `trace_export`.)
#
# ## 5. `grad_ys`: weighting the outputs
#
# When `ys` is not a scalar, `tf.gradients` — like a tape — differentiates the **sum** of
# its elements: the seed is all ones. `grad_ys` sets the seed yourself, one weight per
# element of `ys`. The result is Σᵢ wᵢ ∂yᵢ/∂x: the weights times the Jacobian, a
# *vector–Jacobian product* (VJP), which is exactly what back-propagation passes from a
# layer to the one before it.


# %%
def running_sum_of_squares(x):
    return tf.math.cumsum(x**2)  # y_i = x_1² + ... + x_i²


@tf.function
def gradients_with_and_without_weights(x, weights):
    y = running_sum_of_squares(x)
    return tf.gradients(y, x)[0], tf.gradients(y, x, grad_ys=weights)[0]


points = tf.constant([1.0, 2.0, 3.0])
weights = tf.constant([1.0, 0.0, -1.0])
plain, weighted = gradients_with_and_without_weights(points, weights)
print("seed of ones (gradient of the sum):", plain.numpy())
print("seed = weights [1, 0, -1]:         ", weighted.numpy())

# %% [markdown]
# Check by hand: yᵢ sums x_j² for j ≤ i, so ∂yᵢ/∂x_j = 2x_j when j ≤ i. With all weights
# 1, x_j collects 2x_j once for each i ≥ j: [2·1·3, 2·2·2, 2·3·1] = [6, 8, 6]. With weights
# [1, 0, −1]: x₁ gets 2(1 + 0 − 1) = 0, x₂ gets 4(0 − 1) = −4, x₃ gets 6(−1) = −6.
#
# A one-hot seed picks out one output: its VJP is **one row of the Jacobian**. Three
# seeds give the whole matrix, the same one `tape.jacobian` computes:


# %%
@tf.function
def jacobian_by_rows(x):
    y = running_sum_of_squares(x)
    rows = [tf.gradients(y, x, grad_ys=tf.one_hot(i, 3))[0] for i in range(3)]
    return tf.stack(rows)


with tf.GradientTape() as tape:
    tape.watch(points)
    y = running_sum_of_squares(points)
print("rows from one-hot grad_ys:\n", jacobian_by_rows(points).numpy())
print("tape.jacobian:\n", tape.jacobian(y, points).numpy())

# %% [markdown]
# (The tape's equivalent of `grad_ys` is `tape.gradient(y, x, output_gradients=...)`.)
#
# ### Exercise 2.3 — a weighted gradient
#
# Write `weighted_gradient(f, x, weights)`: Σᵢ weightsᵢ · ∂fᵢ/∂x for a function `f` from
# a vector to a vector, with `tf.gradients`. Careful: `f(x)` may be shorter than `x`.


# %% tags=["exercise"]
def weighted_gradient(f, x, weights):
    """Return the vector–Jacobian product weights · ∂f/∂x.

    f: a function from a float32 vector of length n to a float32 vector of length m.
    x: a float32 tensor of shape (n,).
    weights: a float32 tensor of shape (m,), one weight per output of f.
    Returns a float32 tensor of shape (n,).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 2.3: write weighted_gradient (hint: python -m gradlab.lesson 2 hint 3)"
    )


# %% tags=["check"]
gradlab.check("2.3", weighted_gradient)

# %% [markdown]
# ## 6. `stop_gradients`: partial derivatives
#
# Many functions are written in two steps: an intermediate u = u(x), then y = y(x, u).
# Here u = sin x and y = x·u + u². Its **total** derivative follows every path from x to
# y, including the one through u:
#
#   dy/dx = ∂y/∂x + ∂y/∂u · du/dx = u + (x + 2u) · cos x
#
# The **partial** derivative ∂y/∂x holds u fixed: it is just u. `stop_gradients=[u]`
# tells `tf.gradients` to treat u as a constant for this one call — without changing
# the function:


# %%
def two_step(x):
    u = tf.sin(x)
    return x * u + u**2, u


@tf.function
def derivatives(x):
    y, u = two_step(x)
    total = tf.gradients(y, x)[0]
    partial_x, partial_u = tf.gradients(y, [x, u], stop_gradients=[u])
    return total, partial_x, partial_u


total, partial_x, partial_u = (t.numpy() for t in derivatives(tf.constant(1.0)))
print(f"dy/dx = {total:.6f}   ∂y/∂x (u fixed) = {partial_x:.6f}   ∂y/∂u = {partial_u:.6f}")
print(f"chain rule, ∂y/∂x + ∂y/∂u · cos(1) = {partial_x + partial_u * np.cos(1.0):.6f}")
print(f"closed forms: u = sin(1) = {np.sin(1.0):.6f},  x + 2u = {1 + 2 * np.sin(1.0):.6f}")

# %% [markdown]
# The partials put back together by the chain rule give the total derivative again.
# Here are the function, its total derivative and the partial derivative across a range
# of x (the functions are element-wise, so the gradient of the sum gives the derivative
# at every point at once, as in lesson 1):

# %%
import matplotlib.pyplot as plt

from gradlab import plots

grid = tf.linspace(-3.0, 3.0, 121)
totals, partials, _ = derivatives(grid)
figure = plots.curves(
    grid.numpy(),
    {
        "y = x·sin x + sin² x": two_step(grid)[0].numpy(),
        "dy/dx (total)": totals.numpy(),
        "∂y/∂x holding u = sin x fixed": partials.numpy(),
    },
    title="Total and partial derivatives from one graph",
)
plt.show()

# %% [markdown]
# ### `tf.stop_gradient` is something else
#
# `tf.stop_gradient(u)` is an *operation*: it returns a new tensor with u's value
# through which no gradient flows. It changes the function for every later
# differentiation, and only affects what is built **from** it. Two ways people reach for
# it, side by side with `stop_gradients`:


# %% tags=["setup"]
def shown(values):
    return [None if v is None else round(float(v), 6) for v in values]


# %%
@tf.function
def stop_gradient_after_building(x):
    y, u = two_step(x)
    held = tf.stop_gradient(u)  # a new tensor; y was already built from u
    return tf.gradients(y, [x, held])


@tf.function
def stop_gradient_inside(x):
    held = tf.stop_gradient(tf.sin(x))
    y = x * held + held**2  # y built from the held copy
    return tf.gradients(y, [x, held]) + tf.gradients(y, x)


one = tf.constant(1.0)
print("stop_gradients=[u]:           [∂y/∂x, ∂y/∂u] =", shown(derivatives(one)[1:]))
print("tf.stop_gradient after y:     [∂y/∂x, ∂y/∂u] =", shown(stop_gradient_after_building(one)))
print("tf.stop_gradient inside y:    [∂y/∂x, ∂y/∂u, dy/dx] =", shown(stop_gradient_inside(one)))

# %% [markdown]
# Applied after y exists, `tf.stop_gradient` changes nothing for y: ∂y/∂x comes back as
# the *total* derivative, and y does not depend on the new tensor at all (`None`). Built
# into y, it gives the right partials — but now the function itself is different: its
# "total" derivative is the partial one, and the true dy/dx ≈ 2.29107 cannot be had
# from this graph any more. `stop_gradients` leaves the function alone and decides per call,
# which also works on a y whose code you cannot change.
#
# ### Exercise 2.4 — partial derivatives
#
# `model(x)` returns `(y, u)`: a scalar `y` and the intermediate `u` it was computed from.
# Write `partial_derivatives(model, x)`: the pair (∂y/∂x holding u fixed, ∂y/∂u).


# %% tags=["exercise"]
def partial_derivatives(model, x):
    """Return (∂y/∂x with u held fixed, ∂y/∂u), where (y, u) = model(x).

    model: a function from a tensor x to (y, u): a scalar y and a tensor u shaped like x.
    x: a float32 tensor of any shape.
    Returns a pair of float32 tensors, each shaped like x.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 2.4: write partial_derivatives (hint: python -m gradlab.lesson 2 hint 4)"
    )


# %% tags=["check"]
gradlab.check("2.4", partial_derivatives)

# %% [markdown]
# ## 7. `unconnected_gradients`: `None` or zero?
#
# As with a tape, a source that `ys` does not depend on gets `None`, unless you ask for
# zeros:


# %%
@tf.function
def with_an_unused_source(x, unused):
    y = x**2
    return (
        tf.gradients(y, [x, unused]),
        tf.gradients(y, [x, unused], unconnected_gradients=tf.UnconnectedGradients.ZERO),
    )


default, zeros = with_an_unused_source(tf.constant(2.0), tf.constant([7.0, 8.0]))
print("default:", [*shown(default[:1]), default[1]])
print("ZERO:   ", [*shown(zeros[:1]), zeros[1].numpy().tolist()])

# %% [markdown]
# The zeros have the unused source's shape. Lesson 1's warning stands: `ZERO` also turns
# a real bug (a source that *should* be connected) into silent zeros.
#
# ## 8. `tf.hessians`: the matrix of second derivatives
#
# For a scalar y and a vector x, the Hessian H holds ∂²y/∂xᵢ∂x_j. `tf.hessians(y, x)`
# builds it. Differentiating the gradient again with `tf.gradients` does **not**: the
# gradient is a vector, so you get the gradient of its sum — the row sums of H.


# %%
def cubic(x):
    return tf.reduce_sum(x**3) + x[0] * x[1]


@tf.function
def hessian_and_gradient_of_gradient(x):
    y = cubic(x)
    gradient = tf.gradients(y, x)[0]
    return tf.hessians(y, x)[0], tf.gradients(gradient, x)[0]


hessian, twice = hessian_and_gradient_of_gradient(tf.constant([1.0, 2.0]))
print("tf.hessians:\n", hessian.numpy())
print("tf.gradients of the gradient:", twice.numpy(), "= the row sums", hessian.numpy().sum(1))

# %% [markdown]
# By hand: y = x₁³ + x₂³ + x₁x₂, so H = [[6x₁, 1], [1, 6x₂]] = [[6, 1], [1, 12]] at
# (1, 2). Like `tf.gradients`, `tf.hessians` needs a graph (eagerly it raises the same
# `RuntimeError`), and it returns a list, one Hessian per source.
#
# ### Exercise 2.5 — a Hessian
#
# Write `hessian_matrix(f, x)`: the n × n Hessian of the scalar function `f` at the
# vector `x`.


# %% tags=["exercise"]
def hessian_matrix(f, x):
    """Return the Hessian of f at x.

    f: a function from a float32 vector of length n to a scalar tensor.
    x: a float32 tensor of shape (n,).
    Returns a float32 tensor of shape (n, n).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 2.5: write hessian_matrix (hint: python -m gradlab.lesson 2 hint 5)"
    )


# %% tags=["check"]
gradlab.check("2.5", hessian_matrix)

# %% [markdown]
# ## 9. Tape or `tf.gradients`?
#
# Both give the same numbers, up to float32 rounding. Here is one function
# differentiated three ways: with a tape eagerly, with a tape inside `tf.function`, and
# with `tf.gradients` inside `tf.function`:


# %%
def wave(x):
    return tf.reduce_sum(tf.sin(x) * x**2)


def tape_gradient(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = wave(x)
    return tape.gradient(y, x)


traced_tape_gradient = tf.function(tape_gradient)


@tf.function
def traced_tf_gradients(x):
    return tf.gradients(wave(x), x)[0]


samples = tf.linspace(-2.0, 2.0, 1000)
answers = {
    "tape, eager": tape_gradient(samples),
    "tape in tf.function": traced_tape_gradient(samples),
    "tf.gradients in tf.function": traced_tf_gradients(samples),
}
reference = answers["tape, eager"].numpy()
for name, answer in answers.items():
    difference = np.abs(answer - reference).max()
    print(f"{name:28} largest difference from the eager tape: {difference:.1e}")

# %% [markdown]
# They do not build the same graph, though. For the article's f, a tape inside
# `tf.function` skips the gradients with respect to the constants 3 and 2, which no one
# asked for; `tf.gradients` builds them (the unused operations of section 4):


# %%
def tape_gradient_of_f(x):
    with tf.GradientTape() as tape:
        y = f_x(x)
    return tape.gradient(y, x)


tape_graph = tf.function(tape_gradient_of_f).get_concrete_function(x).graph
for name, built in (("tape", tape_graph), ("tf.gradients", traced)):
    types = sorted({op.type for op in built.get_operations()})
    print(f"{name:13} {len(built.get_operations()):3} operations; types: {', '.join(types)}")

# %% [markdown]
# ### The cost of tracing
#
# A `tf.function` traces once per new *input signature* — a new shape or dtype of a
# tensor argument, or a new value of a Python argument — and then reuses the graph.
# Tracing runs your Python code and builds the graph (and, for `tf.gradients`, its
# gradient part), so it costs far more than a call. Let us time a call of each version
# on the 1000 samples, and calls that must retrace because every call brings a new
# length:

# %%
import timeit


def seconds_per_call(call, number=50):
    """The best of three timings of ``number`` calls, divided by ``number``."""
    return min(timeit.repeat(call, number=number, repeat=3)) / number


traced_tf_gradients(samples)  # trace it before timing it
traced_tape_gradient(samples)
timings = {
    "tape, eager": seconds_per_call(lambda: tape_gradient(samples)),
    "tape in tf.function": seconds_per_call(lambda: traced_tape_gradient(samples)),
    "tf.gradients in tf.function": seconds_per_call(lambda: traced_tf_gradients(samples)),
}
new_lengths = iter(range(1001, 1100))
timings["tf.gradients, retraced every call"] = seconds_per_call(
    lambda: traced_tf_gradients(tf.ones(next(new_lengths))), number=1
)
for name, seconds in timings.items():
    print(f"{name:34} {seconds * 1e3:8.3f} ms per call")
print(
    "traces of traced_tf_gradients so far:", traced_tf_gradients.experimental_get_tracing_count()
)
ratio = timings["tf.gradients, retraced every call"] / timings["tf.gradients in tf.function"]
print(f"one retraced call costs about as much as {ratio:.0f} traced calls")

figure = plots.seconds_per_call(timings, title="Gradient of sum(sin(x)·x²), 1000 points")
plt.show()

# %% [markdown]
# Read your own numbers (they depend on the machine), but the pattern is robust: a
# traced call beats the eager tape, whose Python bookkeeping is paid at every
# operation; the two traced versions are within a small factor of each other; and a call
# that retraces costs as much as dozens of traced calls or more. A `tf.function` that retraces on
# every call is slower than no `tf.function` at all. (TensorFlow logs a warning once a
# function has retraced five times among its recent calls; we stopped short of it.) The
# cure is an
# `input_signature`, which fixes what the function accepts — `shape=[None]` means "a
# vector of any length" — so it traces once, up front:


# %%
@tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float32)])
def traced_once(x):
    return tf.gradients(wave(x), x)[0]


for length in (3, 30, 300):
    traced_once(tf.ones(length))
print("traces after three lengths:", traced_once.experimental_get_tracing_count())

# %% [markdown]
# **When to use which.** Use a **tape** in eager code, for debugging, and in ordinary
# training loops: it works eagerly and inside `tf.function`, and it is what Keras uses.
# Use **`tf.gradients`** when you are already building a graph — inside `tf.function`,
# or in TF1-style code with a Graph and Session — and want what it offers there:
# `stop_gradients` (partial derivatives without rewriting the function), `grad_ys` (the
# tape has it too, as `output_gradients`), and `tf.hessians`. Either way, inside
# `tf.function` the speed is the graph's, provided it does not retrace.
#
# ### Exercise 2.6 — a gradient function traced once
#
# Write `gradient_function(f)`: it returns a `tf.function` that, given a float32 vector
# `x` of any length, returns the gradient of `f` at `x` using `tf.gradients` — and that
# traces only once, however many lengths it is called with. The check calls it on
# vectors of three lengths and then asks it how many times it traced.


# %% tags=["exercise"]
def gradient_function(f):
    """Return a tf.function computing the gradient of f at a float32 vector of any length.

    f: a function from a float32 vector to a scalar tensor.
    Returns a tf.function g with g(x) = df/dx, which traces once for all lengths of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 2.6: write gradient_function (hint: python -m gradlab.lesson 2 hint 6)"
    )


# %% tags=["check"]
gradlab.check("2.6", gradient_function)

# %% [markdown]
# ## Summary
#
# - `tf.gradients(ys, xs)` extends a **graph** with the operations that compute the
#   gradient. Eagerly there is no graph, so it raises `RuntimeError`; it works inside
#   `tf.function` and inside `with tf.Graph().as_default():` (run with a v1 `Session`).
# - It returns a list, one gradient per source. Its operations live under `gradients/`:
#   a seed of ones (`grad_ys`), then one block per forward operation — the chain rule,
#   spelled out as operations.
# - `grad_ys` replaces the seed: a weighted gradient, a vector–Jacobian product; one-hot
#   seeds give rows of the Jacobian.
# - `stop_gradients` holds tensors fixed for one call: partial derivatives.
#   `tf.stop_gradient` instead changes the function, and only for what is built from it.
# - `unconnected_gradients=ZERO` turns `None` into zeros; `tf.hessians` builds the Hessian
#   (differentiating a gradient again gives its row sums).
# - Tape and `tf.gradients` agree, and inside `tf.function` both run at graph speed.
#   Retracing costs far more than a call: give a `tf.function` an `input_signature`.
#
# Next: lesson 3 logs gradients to TensorBoard.
