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
# # GradientTape: recording a computation to differentiate it
#
# TensorFlow computes gradients by *recording* what you do to some values and then
# playing the recording backwards. The recorder is `tf.GradientTape`. In this lesson you
# will learn what it records, what it ignores, and why a gradient sometimes comes back
# as `None`.
#
# **How to work.** Read a section, run its cells, then write the exercise below it in
# the one place marked `# YOUR CODE HERE`. The cell after each exercise checks it and
# prints ✓ or ✗ with the reason. From a terminal:
#
# ```
# python -m gradlab.lesson 1 check      # check every exercise in this file
# python -m gradlab.lesson 1 hint 2     # a hint for exercise 2
# ```

# %% tags=["setup"]
import gradlab

gradlab.quiet_tensorflow()  # first: keeps TensorFlow's start-up noise out of your output

# isort: split
import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(0)

# %% [markdown]
# ## 1. The first example: f(x) = 3x² at x = 3
#
# This is the example the first source article starts with. Calculus says
# f'(x) = 6x, so the slope at 3 is 18.

# %%
x = tf.Variable(3.0)


def f_x(x):
    return 3 * x**2


with tf.GradientTape() as tape:
    y = f_x(x)

dy_dx = tape.gradient(y, x)
print(dy_dx.numpy())

# %% [markdown]
# The article explains this as the tape "giving the variable x its initial value 3.0
# inside the context". That is not what happens: `x` got its value when
# `tf.Variable(3.0)` ran, before the tape existed. The tape only **records the
# operations** executed inside the `with` block (`x**2`, then `3 * ...`) and, when you
# call `tape.gradient(y, x)`, walks that record backwards from `y` to `x`, applying
# the chain rule.
#
# The tape works on whole tensors. If `x` holds many points and `y` holds f at each,
# `tape.gradient(y, x)` returns the derivative at each point (we will see why in
# section 4). That gives us the whole curve f'(x) in one call:

# %%
import matplotlib.pyplot as plt

from gradlab import plots

xs = tf.Variable(tf.linspace(-2.0, 2.0, 81))
with tf.GradientTape() as tape:
    ys = f_x(xs)
slopes = tape.gradient(ys, xs)

figure = plots.function_and_gradient(xs.numpy(), ys.numpy(), slopes.numpy(), label="f")
plt.show()
print("slope at x = -2, 0, 2:", slopes.numpy()[[0, 40, 80]])

# %% [markdown]
# The dashed line is the straight line 6x, as calculus promised.
#
# ### Exercise 1.1 — the derivative at a point
#
# Write `slope_at(f, x)`: the derivative of `f` at the point `x`, where `x` arrives as a
# plain Python float.


# %% tags=["exercise"]
def slope_at(f, x):
    """Return df/dx at x.

    f: a function of one scalar tensor, e.g. ``lambda x: 3 * x ** 2``.
    x: a Python float.
    Returns a float32 scalar tensor.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 1.1: write slope_at (hint: python -m gradlab.lesson 1 hint 1)"
    )


# %% tags=["check"]
gradlab.check("1.1", slope_at)

# %% [markdown]
# ## 2. Variables are watched, constants are not
#
# A tape records operations on the tensors it **watches**. It watches every trainable
# `tf.Variable` you touch automatically. A `tf.constant` (or any other tensor) is
# watched only if you say so with `tape.watch`:

# %%
c = tf.constant(3.0)

with tf.GradientTape() as tape:
    y = c**2
print("constant, not watched:", tape.gradient(y, c))

with tf.GradientTape() as tape:
    tape.watch(c)
    y = c**2
print("constant, watched:    ", tape.gradient(y, c))

frozen = tf.Variable(3.0, trainable=False)
with tf.GradientTape() as tape:
    y = frozen**2
print("non-trainable variable:", tape.gradient(y, frozen))

# %% [markdown]
# `None` is not zero: it means "the tape has no record connecting `y` to this
# source". `tape.watch` must come **before** the operations you want recorded, inside
# the `with` block.
#
# Every result computed inside the block from a watched tensor is recorded too, so you
# can also differentiate with respect to an **intermediate** tensor: here h = x² and
# y = sin(h), so dy/dh = cos(9):

# %%
x = tf.Variable(3.0)
with tf.GradientTape() as tape:
    h = x**2
    y = tf.sin(h)
dy_dh, dy_dx = tape.gradient(y, [h, x])  # two sources at once: section 8
print("dy/dh =", dy_dh.numpy(), "  cos(9) =", np.float32(np.cos(9.0)))
print("dy/dx =", dy_dx.numpy(), "  6 cos(9) =", np.float32(6 * np.cos(9.0)))

# %% [markdown]
# ### Exercise 1.2 — the gradient with respect to a constant
#
# Write `gradient_wrt_constant(f, x)`: the gradient of a scalar function `f` with respect
# to a constant tensor `x` of any shape.


# %% tags=["exercise"]
def gradient_wrt_constant(f, x):
    """Return the gradient of f(x) with respect to x.

    f: a function from a tensor to a scalar tensor.
    x: a float32 tf.constant of any shape.
    Returns a tensor with the shape and dtype of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 1.2: write gradient_wrt_constant (hint: python -m gradlab.lesson 1 hint 2)"
    )


# %% tags=["check"]
gradlab.check("1.2", gradient_wrt_constant)

# %% [markdown]
# ## 3. Persistent tapes: more than one gradient from one recording
#
# By default a tape releases its record after the first `gradient()` call, to free
# memory. Asking again raises:

# %%
x = tf.Variable(2.0)
with tf.GradientTape() as tape:
    y = x**2
    z = x**3
print("dy/dx =", tape.gradient(y, x).numpy())
try:
    tape.gradient(z, x)
except RuntimeError as error:
    print("RuntimeError:", error)

# %% [markdown]
# `tf.GradientTape(persistent=True)` keeps the record until the tape object is deleted:

# %%
with tf.GradientTape(persistent=True) as tape:
    y = x**2
    z = x**3
print("dy/dx =", tape.gradient(y, x).numpy(), " dz/dx =", tape.gradient(z, x).numpy())
del tape  # release the recording

# %% [markdown]
# ### Exercise 1.3 — two gradients from one recording
#
# Write `two_gradients(f, g, x)`: the gradients of `f(x)` and of `g(x)` with respect to
# the constant tensor `x`, computing `f(x)` and `g(x)` only once, under one tape.


# %% tags=["exercise"]
def two_gradients(f, g, x):
    """Return (df/dx, dg/dx) from one recording.

    f, g: functions from a tensor to a scalar tensor.
    x: a float32 tf.constant of any shape.
    Returns a pair of tensors, each with the shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 1.3: write two_gradients (hint: python -m gradlab.lesson 1 hint 3)"
    )


# %% tags=["check"]
gradlab.check("1.3", two_gradients)

# %% [markdown]
# ## 4. Non-scalar targets: the gradient of the sum
#
# A gradient is defined for a scalar. Given a tensor target, the tape differentiates
# the **sum** of its elements. A list of targets is summed too:

# %%
x = tf.Variable([1.0, 2.0, 3.0])
with tf.GradientTape(persistent=True) as tape:
    squares = x**2
    total = tf.reduce_sum(squares)
    cubes = x**3
print("gradient of x**2:          ", tape.gradient(squares, x).numpy())
print("gradient of sum(x**2):     ", tape.gradient(total, x).numpy())
print("gradient of [x**2, x**3]:  ", tape.gradient([squares, cubes], x).numpy())
del tape

# %% [markdown]
# Because each `squares[i]` depends only on `x[i]`, the gradient of the sum is the
# element-wise derivative 2x — the trick section 1 used to draw f'(x). When the outputs
# are coupled (a softmax, a matrix product) you need the full Jacobian instead,
# `tape.jacobian`, which lesson 5 covers.
#
# ## 5. Higher derivatives: nested tapes
#
# The first derivative is itself computed with TensorFlow operations. If an outer tape
# is recording while the inner tape computes it, the outer tape can differentiate it
# again:

# %%
x = tf.Variable(1.0)
with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
        y = x**3
    dy_dx = inner.gradient(y, x)  # 3x², computed while `outer` records
d2y_dx2 = outer.gradient(dy_dx, x)  # 6x
print("dy/dx =", dy_dx.numpy(), " d²y/dx² =", d2y_dx2.numpy())

# %% [markdown]
# ### Exercise 1.4 — a second derivative
#
# Write `second_derivative(f, x)`: d²f/dx² at the Python float `x`.


# %% tags=["exercise"]
def second_derivative(f, x):
    """Return the second derivative of f at x.

    f: a function of one scalar tensor.
    x: a Python float.
    Returns a float32 scalar tensor.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 1.4: write second_derivative (hint: python -m gradlab.lesson 1 hint 4)"
    )


# %% tags=["check"]
gradlab.check("1.4", second_derivative)

# %% [markdown]
# ## 6. Control flow is recorded as it runs
#
# The tape records the operations that **actually executed**. Python `if`s and loops are
# not operations; they only decide which operations run. The gradient is therefore the
# derivative of the branch that was taken:


# %%
def piecewise(x):
    if x > 0:
        return x**2
    return -3 * x


for value in (2.0, -2.0):
    x = tf.Variable(value)
    with tf.GradientTape() as tape:
        y = piecewise(x)
    print(f"x = {value:+.0f}: branch derivative = {tape.gradient(y, x).numpy()}")

x = tf.Variable(1.5)
with tf.GradientTape() as tape:
    y = tf.constant(1.0)
    for _ in range(4):
        y = y * x  # x**4, built by a loop
print("d(x**4)/dx at 1.5 =", tape.gradient(y, x).numpy(), "(4 * 1.5**3 = 13.5)")

# %% [markdown]
# Inside a `tf.function` the same Python is traced once, and **AutoGraph** turns an `if`
# on a tensor into `tf.cond` and a `for` over `tf.range` into `tf.while_loop`: graph
# operations that hold *both* branches and the loop body. Their gradients are
# registered, so the tape differentiates whichever branch runs, and the loop as many
# times as it ran, with no retracing:


# %%
import re


@tf.function
def branch_and_loop_gradients(x, n):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        if x > 0:  # noqa: SIM108 (a tensor condition: AutoGraph makes this tf.cond)
            y = x**2
        else:
            y = -3 * x
        power = tf.constant(1.0)
        for _ in tf.range(n):  # a tensor range: AutoGraph makes this tf.while_loop
            power = power * x
    return tape.gradient(y, x), tape.gradient(power, x)


for value in (2.0, -2.0):
    branch, loop = branch_and_loop_gradients(tf.constant(value), tf.constant(4))
    print(f"x = {value:+.0f}: branch derivative = {branch.numpy()}, d(x**4)/dx = {loop.numpy()}")
rewritten = tf.autograph.to_code(branch_and_loop_gradients.python_function)
print("traces:", branch_and_loop_gradients.experimental_get_tracing_count())
print("AutoGraph's rewrite calls:", sorted(set(re.findall(r"ag__\.(\w+_stmt)", rewritten))))

# %% [markdown]
# ## 7. Choosing what is recorded: `stop_recording` and `watch_accessed_variables`
#
# `tape.stop_recording()` pauses the tape — useful for bookkeeping that should not be
# differentiated. `watch_accessed_variables=False` turns off automatic watching, so only
# what you `watch` counts:

# %%
a = tf.Variable(2.0)
b = tf.Variable(5.0)

with tf.GradientTape(persistent=True) as tape:
    y = a * b
    with tape.stop_recording():
        z = y * a  # not recorded
print("dy/da =", tape.gradient(y, a).numpy(), "  dz/da =", tape.gradient(z, a))
del tape

with tf.GradientTape(watch_accessed_variables=False) as tape:
    tape.watch(a)
    y = a * b
grad_a, grad_b = tape.gradient(y, [a, b])
print("dy/da =", grad_a.numpy(), " dy/db =", grad_b)

# %% [markdown]
# `dz/da` is `None`: the tape holds no record of `z` at all. Two more tools.
# `tape.watched_variables()` lists what the tape is watching, a quick answer to "why
# is this gradient `None`?". `tape.reset()` throws away everything recorded so far and
# keeps recording, for when only the end of a block should count:

# %%
with tf.GradientTape() as tape:
    y = a**2  # recorded, then forgotten
    tape.reset()
    y = a * b
print("watched:", [v.numpy() for v in tape.watched_variables()])
print("dy/da, dy/db after reset:", [g.numpy() for g in tape.gradient(y, [a, b])])

# %% [markdown]
# Both variables are watched again, because the operations after `reset()` read them,
# and the gradients are those of `a * b` alone (5 and 2), not of `a**2 + ...`.
#
# `tf.stop_gradient(t)` works at a finer grain: the tape records the operation, but its
# gradient is zero, so `t` counts as a constant in everything downstream. Here
# y = a · stop(a · b): the tape sees a times a constant 10:

# %%
with tf.GradientTape() as tape:
    y = a * tf.stop_gradient(a * b)
grad_a, grad_b = tape.gradient(y, [a, b])
print("dy/da =", grad_a.numpy(), "(not 2ab = 20)   dy/db =", grad_b)

# %% [markdown]
# ## 8. Several sources at once
#
# `tape.gradient(target, sources)` accepts any nest of sources — a list, a dict — and
# returns the gradients in the same structure.

# %%
w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
b = tf.Variable([0.5, -0.5], name="b")
inputs = tf.constant([[1.0, -1.0]])

with tf.GradientTape() as tape:
    loss = tf.reduce_sum((inputs @ w + b) ** 2)

as_list = tape.gradient(loss, [w, b])
print("list:", [g.numpy().tolist() for g in as_list])

with tf.GradientTape() as tape:
    loss = tf.reduce_sum((inputs @ w + b) ** 2)
as_dict = tape.gradient(loss, {"weights": w, "bias": b})
print("dict keys:", sorted(as_dict), "bias gradient:", as_dict["bias"].numpy())

# %% [markdown]
# Each gradient has the shape of its source: a 2×2 gradient for `w`, a length-2 one
# for `b`.
#
# ## 9. A model's variables
#
# A Keras model is a container of variables. Its `trainable_variables` are exactly
# the sources you differentiate a loss by, and each variable's `path` names it
# uniquely:

# %%
model = keras.Sequential(
    [keras.Input((3,)), keras.layers.Dense(2, name="hidden"), keras.layers.Dense(1, name="out")],
    name="tiny",
)
features = tf.random.normal((4, 3), seed=1)
targets = tf.random.normal((4, 1), seed=2)

with tf.GradientTape() as tape:
    loss = keras.losses.MeanSquaredError()(targets, model(features))
grads = tape.gradient(loss, model.trainable_variables)

for variable, grad in zip(model.trainable_variables, grads, strict=True):
    print(f"{variable.path:18} name={variable.name:7} gradient shape={tuple(grad.shape)}")

# %% [markdown]
# Note the `name` column: two layers both have a `kernel` and a `bias`. Only `path` is
# unique — remember that when you store gradients by name.
#
# ### Exercise 1.5 — a Keras model's gradients, by variable
#
# Write `loss_gradients_by_name(model, x, y)`: the gradients of the mean squared error
# between `y` and `model(x)`, in a dict keyed by each variable's `path` (its unique
# name: `name` is not unique, as section 9 showed). Careful:
# `y` has shape `(N,)`, like the data in the second source article, while `model(x)`
# has shape `(N, 1)`.


# %% tags=["exercise"]
def loss_gradients_by_name(model, x, y):
    """Return {variable path: gradient} of the mean squared error of model(x) against y.

    model: a Keras model with one output unit.
    x: a float32 tensor of shape (N, features).
    y: a float32 tensor of shape (N,).
    Returns a dict with one entry per trainable variable.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 1.5: write loss_gradients_by_name (hint: python -m gradlab.lesson 1 hint 5)"
    )


# %% tags=["check"]
gradlab.check("1.5", loss_gradients_by_name)

# %% [markdown]
# ## 10. Why a gradient is `None`
#
# When `tape.gradient` returns `None`, the tape found no recorded path from the target
# to that source. There are four usual reasons.
#
# **1. The source was not watched** — a constant without `tape.watch` (section 2).
#
# **2. The source is not a floating-point tensor.** Integers have no derivative:

# %%
n = tf.Variable(3)  # int32
with tf.GradientTape() as tape:
    y = tf.cast(n, tf.float32) ** 2
print("integer variable:", tape.gradient(y, n))

# %% [markdown]
# **3. The computation left TensorFlow.** `.numpy()` (or NumPy functions, or Python's
# `float`) turn a tensor into a plain number; the tape cannot see past it:

# %%
x = tf.Variable(2.0)
with tf.GradientTape() as tape:
    y = tf.constant(np.square(x.numpy()))
print("through NumPy:", tape.gradient(y, x))

# %% [markdown]
# **4. A variable was replaced by a tensor.** `w = w - 0.1 * grad` does not update a
# variable in place; it binds the name `w` to a new plain tensor, which the next tape
# does not watch. This is the classic bug in a hand-written training loop:

# %%
w = tf.Variable(2.0)
with tf.GradientTape() as tape:
    loss = w**2
w = w - 0.1 * tape.gradient(loss, w)  # BUG: w is now a tf.Tensor, not the variable

with tf.GradientTape() as tape:
    loss = w**2
print("w is now a", type(w).__name__, "and its next gradient is", tape.gradient(loss, w))

# %% [markdown]
# Use `w.assign_sub(0.1 * grad)` to change a variable in place.
#
# **Three less common ways to cut the path.** A variable's `assign` is a *stateful*
# operation with no gradient: what was assigned is cut off from what it was computed
# from. Pulling a value through a `tf.data` pipeline cuts it the same way (the tape
# does not record inside the dataset), and so does a detour through strings:

# %%
source, copy = tf.Variable(3.0), tf.Variable(0.0)
with tf.GradientTape() as tape:
    copy.assign(2 * source)  # stateful: the tape keeps no path back to `source`
    y = copy**2
print("through assign:", tape.gradient(y, source))

x = tf.Variable(2.0)
with tf.GradientTape() as tape:
    y = next(iter(tf.data.Dataset.from_tensors(x**2)))
print("through tf.data:", tape.gradient(y, x))

with tf.GradientTape() as tape:
    y = tf.strings.to_number(tf.strings.as_string(x**2))
print("through strings:", tape.gradient(y, x), " (the value is right:", y.numpy(), ")")

# %% [markdown]
# **An operation with no gradient at all** is different: instead of `None`, the tape
# raises `LookupError` naming the operation. `tf.linalg.lu` is one; here it computes
# log |det A| from the diagonal of the LU factors:

# %%
matrix = tf.Variable([[4.0, 1.0], [2.0, 3.0]])
with tf.GradientTape() as tape:
    factors, _ = tf.linalg.lu(matrix)
    log_det = tf.reduce_sum(tf.math.log(tf.abs(tf.linalg.diag_part(factors))))
try:
    tape.gradient(log_det, matrix)
except LookupError as error:
    print(f"LookupError: {error}")

# %% [markdown]
# What to do: find a differentiable operation that computes the same thing
# (`tf.linalg.slogdet` here, whose gradient is the inverse transpose), wrap the
# operation in `tf.stop_gradient` if you do not need its gradient, or give it one with
# `tf.custom_gradient` (lesson 8):

# %%
with tf.GradientTape() as tape:
    log_det = tf.linalg.slogdet(matrix)[1]
print("log|det A| =", log_det.numpy())
print("gradient:     ", tape.gradient(log_det, matrix).numpy().astype(float).round(4).tolist())
print(
    "inverse of Aᵀ:", tf.linalg.inv(tf.transpose(matrix)).numpy().astype(float).round(4).tolist()
)

# %% [markdown]
# And one more case that is not a bug: a source that simply is not used by the target.
#
# ## 11. `unconnected_gradients`: `None` or zero?
#
# For an unused source `None` is the honest answer, but code that adds gradients
# together may prefer zeros. Ask for them:

# %%
x = tf.Variable(2.0)
unused = tf.Variable(7.0)
with tf.GradientTape(persistent=True) as tape:
    y = x**2
print("default:", tape.gradient(y, [x, unused]))
print(
    "ZERO:   ", tape.gradient(y, [x, unused], unconnected_gradients=tf.UnconnectedGradients.ZERO)
)
del tape

# %% [markdown]
# Use `ZERO` only when you *know* the source is unused: it also turns the four bugs
# above into silent zeros.
#
# ### Exercise 1.6 — repair a loss whose gradients are `None`
#
# Here is the mean squared error of a line `w * x + b`. Its value is right, but its
# gradients come back `None`:


# %%
def broken_mse(w, b, x, y):
    prediction = w.numpy() * x + b.numpy()
    return tf.reduce_mean((prediction - y) ** 2)


w, b = tf.Variable(0.5), tf.Variable(-1.0)
line_x = tf.constant([0.0, 1.0, 2.0])
line_y = tf.constant([1.0, 3.0, 5.0])
with tf.GradientTape() as tape:
    loss = broken_mse(w, b, line_x, line_y)
print("loss:", loss.numpy(), " gradients:", tape.gradient(loss, [w, b]))

# %% [markdown]
# Write `mse(w, b, x, y)`: the same loss, whose gradients with respect to `w` and `b`
# the tape can compute. The check calls it under a tape and compares the value and both
# gradients with the reference.


# %% tags=["exercise"]
def mse(w, b, x, y):
    """Return the mean squared error of w * x + b against y, differentiable in w and b.

    w, b: float32 scalar tf.Variables.
    x, y: float32 tensors of shape (N,).
    Returns a float32 scalar tensor.
    """
    # YOUR CODE HERE
    raise NotImplementedError("exercise 1.6: write mse (hint: python -m gradlab.lesson 1 hint 6)")


# %% tags=["check"]
gradlab.check("1.6", mse)

# %% [markdown]
# ## Summary
#
# - `tf.GradientTape` records operations executed inside its `with` block, then
#   `tape.gradient(target, sources)` applies the chain rule backwards.
# - Trainable variables are watched automatically; anything else needs `tape.watch`.
# - Sources may be any nest (list, dict); a Keras model's `trainable_variables` are the
#   usual sources, and `variable.path` names them uniquely.
# - One `gradient()` call per tape unless `persistent=True`; nest tapes for higher
#   derivatives.
# - A tensor target means "the gradient of its sum"; control flow is recorded as it ran,
#   and inside `tf.function` AutoGraph's `tf.cond` / `tf.while_loop` differentiate too.
# - `tape.watched_variables()`, `tape.reset()`, `stop_recording()` and `tf.stop_gradient`
#   choose what counts; any recorded intermediate tensor can be a source.
# - `None` means "no recorded path": not watched, not a float, left TensorFlow, or a
#   variable replaced by a tensor (or through `assign`, `tf.data`, strings); an op with
#   no gradient raises `LookupError` instead. `unconnected_gradients=ZERO` hides that — use it
#   knowingly.
#
# Next: lesson 2 shows the same computations in graph mode with `tf.gradients`.
