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
# # Jacobians, Hessians and forward mode
#
# `tape.gradient` answers one question: how does *one number* change when the inputs
# move? Many questions need more. How does *each* output of a layer depend on *each*
# input (the Jacobian)? How does the gradient itself change (the Hessian)? How does
# the output move if the input moves along one direction (a Jacobian-vector product)?
# This lesson computes each of them with TensorFlow, checks each against finite
# differences or a closed form, and measures what each costs.
#
# **How to work.** Read a section, run its cells, then write the exercise below it in
# the one place marked `# YOUR CODE HERE`. The cell after each exercise checks it and
# prints ✓ or ✗ with the reason. From a terminal:
#
# ```
# python -m gradlab.lesson 5 check      # check every exercise in this file
# python -m gradlab.lesson 5 hint 2     # a hint for exercise 2
# ```

# %% tags=["setup"]
import gradlab

gradlab.quiet_tensorflow()  # first: keeps TensorFlow's start-up noise out of your output

# isort: split
import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(0)
# In eager mode every tape.jacobian call builds a new tf.function, and TensorFlow
# prints a retracing warning about it. Section 9 measures that cost instead.
tf.get_logger().setLevel("ERROR")

# %% [markdown]
# ## 1. From one gradient to a whole Jacobian
#
# Take a function from three numbers to four:
# f(x) = (x₀x₁, sin x₂, x₀², x₁ − x₂). Its Jacobian J has one row per output and one
# column per input: J[i, j] = ∂fᵢ/∂xⱼ. `tape.jacobian(y, x)` computes it;
# `tape.gradient(y, x)`, as lesson 1 showed, differentiates the *sum* of the outputs.


# %% tags=["setup"]
def f_vec(x):
    return tf.stack([x[0] * x[1], tf.sin(x[2]), x[0] ** 2, x[1] - x[2]])


# %%
x = tf.constant([1.0, 2.0, 3.0])
with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    y = f_vec(x)
jacobian = tape.jacobian(y, x)
gradient = tape.gradient(y, x)
del tape

print("y:", y.shape, " x:", x.shape, " jacobian:", jacobian.shape)
print(jacobian.numpy())
print("tape.gradient(y, x):     ", gradient.numpy())
print("sum of the Jacobian rows:", tf.reduce_sum(jacobian, axis=0).numpy())

# %% [markdown]
# Row 0 is (x₁, x₀, 0) = (2, 1, 0); row 1 is (0, 0, cos 3). The gradient of the sum is
# the sum of the rows, 1ᵀJ: the per-output detail is gone. That was harmless in lesson 1
# because each output there depended on one input only (a diagonal Jacobian). Here it
# is not: output 0 depends on x₀ and x₁.
#
# **The shape rule:** `tape.jacobian(y, x)` has shape `y.shape + x.shape`. A matrix
# source gives a three-dimensional Jacobian. Here `out = tanh(W u)` has 2 outputs and
# `W` is 2×3:

# %%
w = tf.Variable([[1.0, -1.0, 0.5], [0.0, 2.0, 1.0]])
u = tf.constant([1.0, 2.0, 3.0])
with tf.GradientTape() as tape:
    out = tf.tanh(tf.linalg.matvec(w, u))
dout_dw = tape.jacobian(out, w)

print("out:", out.shape, " w:", w.shape, " jacobian:", dout_dw.shape)
print("d out[0] / d w =\n", dout_dw[0].numpy())
print("closed form (1 - out[0]**2) * u =", ((1 - out[0] ** 2) * u).numpy())

# %% [markdown]
# `out[0]` depends on row 0 of `W` only, so row 1 of its derivative is zero.
#
# Is the Jacobian right? Row i is the gradient of the scalar `f_vec(x)[i]`, which
# `gradlab.gradcheck.numerical_gradient` estimates by central differences (in float64):

# %%
from gradlab.gradcheck import numerical_gradient

rows = [numerical_gradient(lambda x, i=i: f_vec(x)[i], x) for i in range(4)]
difference = np.abs(np.stack(rows) - jacobian.numpy()).max()
print(f"largest |tape.jacobian - central differences| = {difference:.1e}")

# %% [markdown]
# The difference is float32 rounding.
#
# ### Exercise 5.1 — the Jacobian of a vector function
#
# Write `jacobian_of(f, x)`: the Jacobian of `f` at the constant vector `x`.


# %% tags=["exercise"]
def jacobian_of(f, x):
    """Return the Jacobian of f at x.

    f: a function from a float32 vector of shape (n,) to a vector of shape (m,).
    x: a float32 tf.constant of shape (n,).
    Returns a float32 tensor of shape (m, n): row i holds the derivatives of f(x)[i].
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 5.1: write jacobian_of (hint: python -m gradlab.lesson 5 hint 1)"
    )


# %% tags=["check"]
gradlab.check("5.1", jacobian_of)

# %% [markdown]
# ## 2. One tape, one answer
#
# `jacobian` counts as a use of the tape, like `gradient`. An ordinary tape answers
# once:

# %%
with tf.GradientTape() as tape:
    tape.watch(x)
    y = f_vec(x)
tape.jacobian(y, x)
try:
    tape.jacobian(y, x)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# `tape.jacobian` normally computes all the rows at once, by vectorising the backward
# pass (TensorFlow's `pfor`). With `experimental_use_pfor=False` it loops instead, one
# backward pass per output, which in eager mode needs a persistent tape:

# %%
with tf.GradientTape() as tape:
    tape.watch(x)
    y = f_vec(x)
try:
    tape.jacobian(y, x, experimental_use_pfor=False)
except RuntimeError as error:
    print(f"{type(error).__name__}: {' '.join(str(error).split())}")

# %% [markdown]
# ## 3. Per-example Jacobians: `batch_jacobian`
#
# A model maps a batch `x` of shape (B, n) to `y` of shape (B, m). The full Jacobian
# has shape (B, m, B, n): every output of every example by every input of every
# example. When the examples do not interact, only the B blocks `[b, :, b, :]` can be
# non-zero. `tape.batch_jacobian(y, x)` returns just those blocks, shape (B, m, n):


# %% tags=["setup"]
def diagonal_blocks(full):
    """The (B, m, n) blocks full[b, :, b, :] of a (B, m, B, n) Jacobian."""
    return np.einsum("bibj->bij", full)


def cross_example_part(full):
    """The largest derivative of one example's output by another example's input."""
    others = full.copy()
    for b in range(full.shape[0]):
        others[b, :, b, :] = 0.0
    return np.abs(others).max()


# %%
model = keras.Sequential(
    [keras.Input((3,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2)]
)
batch = tf.random.normal((4, 3), seed=1)
with tf.GradientTape(persistent=True) as tape:
    tape.watch(batch)
    outputs = model(batch)
full = tape.jacobian(outputs, batch).numpy()
per_example = tape.batch_jacobian(outputs, batch).numpy()
del tape

print("full jacobian:", full.shape, " batch_jacobian:", per_example.shape)
print("largest cross-example derivative:", cross_example_part(full))
print("batch_jacobian == the diagonal blocks:", np.allclose(per_example, diagonal_blocks(full)))

# %% [markdown]
# The full Jacobian holds 4·2·4·3 = 96 numbers; 72 of them are zero by construction.
# `batch_jacobian` computes only the 24 that matter: one backward pass over the batch
# per output unit (2 here) instead of one per output number (8).
#
# ### Exercise 5.2 — per-example Jacobians
#
# Write `per_example_jacobians(model, x)`: for each example b, the Jacobian of
# `model(x)[b]` with respect to `x[b]`. The models in the check mix no examples.


# %% tags=["exercise"]
def per_example_jacobians(model, x):
    """Return the Jacobian of each example's output by its own input.

    model: a Keras model mapping (B, n) to (B, m) that treats examples independently.
    x: a float32 tf.constant of shape (B, n).
    Returns a float32 tensor of shape (B, m, n).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 5.2: write per_example_jacobians (hint: python -m gradlab.lesson 5 hint 2)"
    )


# %% tags=["check"]
gradlab.check("5.2", per_example_jacobians)

# %% [markdown]
# ## 4. When `batch_jacobian` gives the wrong answer
#
# `batch_jacobian` does not extract the diagonal blocks of the full Jacobian: it never
# computes the full Jacobian. For each output column j it takes the gradient of
# Σ_b y[b, j] — one backward pass for the whole batch — and reads example b's part of it:
#
#     batch_jacobian[b, j, :] = Σᵢ ∂y[i, j] / ∂x[b, :]
#
# That equals ∂y[b, j]/∂x[b, :] only when the other examples' outputs do not depend on
# x[b]. Layers that mix the batch break that assumption, and `batch_jacobian` then
# returns a wrong answer **without any error**. Two such layers: `BatchNormalization` in
# training mode (it normalises with the batch's own mean and variance) and a softmax
# taken across the batch axis.

# %%
keras.utils.set_random_seed(0)
normalised = keras.Sequential(
    [
        keras.Input((3,)),
        keras.layers.Dense(4),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(2),
    ]
)
layers_to_test = {
    "Dense-tanh-Dense (no mixing)": model,
    "BatchNormalization, training=False": lambda x: normalised(x, training=False),
    "BatchNormalization, training=True": lambda x: normalised(x, training=True),
    "softmax over the batch axis": lambda x: tf.nn.softmax(x, axis=0),
}


def both_jacobians(layer, x):
    """The full (B, m, B, n) Jacobian and the batch_jacobian of layer at x."""
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = layer(x)
    return tape.jacobian(y, x).numpy(), tape.batch_jacobian(y, x).numpy()


print(f"{'layer':36} {'cross-example':>14} {'batch_jacobian error':>21}")
jacobians = {}
for name, layer in layers_to_test.items():
    full, fast = jacobians[name] = both_jacobians(layer, batch)
    error = np.abs(fast - diagonal_blocks(full)).max()
    print(f"{name:36} {cross_example_part(full):14.3f} {error:21.3f}")

# %% [markdown]
# Where no derivative crosses examples, the error is zero. Where they do, it is as large
# as the derivatives themselves. The softmax row is the starkest: each column of
# `softmax(x, axis=0)` sums to 1 whatever x is, so the gradient of Σ_b y[b, j] is zero
# and `batch_jacobian` returns (almost) nothing but zeros:

# %%
softmax_full, softmax_fast = jacobians["softmax over the batch axis"]
true_blocks = diagonal_blocks(softmax_full)
print(f"largest |batch_jacobian| of the batch softmax: {np.abs(softmax_fast).max():.1e}")
print(f"largest |true per-example derivative|:         {np.abs(true_blocks).max():.3f}")
normalised_full, normalised_fast = jacobians["BatchNormalization, training=True"]
summed = np.einsum("ijbk->bjk", normalised_full)
print(
    "BatchNorm (training): batch_jacobian == Σᵢ full[i, :, b, :]:",
    np.allclose(normalised_fast, summed, atol=1e-6),
)

# %% [markdown]
# The picture shows the full Jacobians as (B·m) × (B·n) matrices, one grid cell per
# pair of examples: without mixing they are block-diagonal, and `batch_jacobian` is
# exactly the diagonal blocks; with batch normalisation in training mode every block is
# filled.

# %%
import matplotlib.pyplot as plt

from gradlab import plots


def as_matrix(full):
    batch_size, outputs, _, inputs = full.shape
    return full.reshape(batch_size * outputs, batch_size * inputs)


figure = plots.matrix_images(
    {
        "Dense-tanh-Dense: block-diagonal": as_matrix(
            jacobians["Dense-tanh-Dense (no mixing)"][0]
        ),
        "BatchNormalization (training=True)": as_matrix(normalised_full),
    },
    row_label="output (example, unit)",
    column_label="input (example, feature)",
    block=(2, 3),
)
plt.show()

# %% [markdown]
# The rule: use `batch_jacobian` only when example b's output depends on example b's
# input alone — inference-mode models, per-example losses. Otherwise compute the full
# `jacobian` and take the blocks you need.
#
# ## 5. Hessians: the Jacobian of the gradient
#
# The Hessian of a scalar function is the matrix of second derivatives,
# H[i, j] = ∂²f/∂xᵢ∂xⱼ: the Jacobian of the gradient. Compute the gradient with an
# inner tape *while an outer tape records*, then take the outer tape's `jacobian`:


# %% tags=["setup"]
def g_scalar(x):
    return tf.reduce_sum(x**3) + x[0] * x[1] * x[2]


def gradient_and_hessian(f, x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            value = f(x)
        gradient = inner.gradient(value, x)  # recorded by `outer`
    return gradient, outer.jacobian(gradient, x)


# %%
x = tf.constant([1.0, 2.0, 3.0])
gradient, hessian = gradient_and_hessian(g_scalar, x)
print("gradient:", gradient.numpy())
print("Hessian:\n", hessian.numpy())
print("largest |H - Hᵀ|:", tf.reduce_max(tf.abs(hessian - tf.transpose(hessian))).numpy())

# %% [markdown]
# By hand: H = diag(6x) + [[0, x₂, x₁], [x₂, 0, x₀], [x₁, x₀, 0]] = [[6, 3, 2],
# [3, 12, 1], [2, 1, 18]]. A Hessian of a smooth function is symmetric (the order of
# differentiation does not matter), and this one is exactly symmetric. Its rows are
# the gradients of the gradient's components, so finite differences can check them too
# (here exactly: the gradient of a cubic is quadratic, and central differences are exact
# for quadratics):


# %%
def g_gradient(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = g_scalar(x)
    return tape.gradient(value, x)


rows = [numerical_gradient(lambda x, i=i: g_gradient(x)[i], x) for i in range(3)]
print(f"largest |Hessian - central differences| = {np.abs(np.stack(rows) - hessian).max():.1e}")

# %% [markdown]
# ### Exercise 5.3 — a Hessian with nested tapes
#
# Write `hessian_of(f, x)`: the Hessian of the scalar function `f` at the constant
# vector `x`.


# %% tags=["exercise"]
def hessian_of(f, x):
    """Return the Hessian of f at x.

    f: a function from a float32 vector of shape (n,) to a scalar.
    x: a float32 tf.constant of shape (n,).
    Returns a float32 tensor of shape (n, n).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 5.3: write hessian_of (hint: python -m gradlab.lesson 5 hint 3)"
    )


# %% tags=["check"]
gradlab.check("5.3", hessian_of)

# %% [markdown]
# ## 6. What a Hessian is for: Newton's method, and curvature
#
# Near x, f looks like the quadratic f(x) + gᵀd + ½ dᵀHd. Its minimum is at
# d = −H⁻¹g, so **Newton's step** is x ← x − H⁻¹g (solve H d = g; never invert H).
# Gradient descent, x ← x − ηg, ignores the curvature and must take a step η small
# enough for the *most* curved direction.
#
# Here is a logistic regression on synthetic data whose features have very different
# scales, so its loss is curved very differently along different directions:

# %%
rng = np.random.default_rng(0)
scales = np.array([4.0, 2.0, 1.0, 0.5, 0.25, 0.1], dtype=np.float32)
features = (rng.normal(size=(200, 6)) * scales).astype(np.float32)
true_weights = 0.5 * rng.normal(size=6).astype(np.float32)
labels = (features @ true_weights + 2 * rng.normal(size=200) > 0).astype(np.float32)


def logistic_loss(weights):
    logits = tf.linalg.matvec(features, weights)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))


# Compiled once, because the loop below calls it again and again (section 9 says why).
logistic_gradient_and_hessian = tf.function(lambda w: gradient_and_hessian(logistic_loss, w))
start = tf.zeros(6)
_, start_hessian = logistic_gradient_and_hessian(start)
eigenvalues = np.linalg.eigvalsh(start_hessian.numpy())
print("Hessian eigenvalues at the start:", np.round(eigenvalues, 4))
print(f"condition number λmax/λmin = {eigenvalues.max() / eigenvalues.min():.0f}")

figure = plots.eigenvalue_spectrum(eigenvalues, title="Logistic loss: Hessian eigenvalues at 0")
plt.show()

# %% [markdown]
# All eigenvalues are positive (the loss is convex), but they span a factor of more
# than a thousand. Gradient descent with a safe step, η = 1/λmax, crawls along the
# flat directions; Newton's step rescales each direction by its own curvature:

# %%
newton, descent = start, start
step_size = 1.0 / eigenvalues.max()
print(f"{'step':>4} {'|g| Newton':>12} {'|g| gradient descent':>22}")
for step in range(7):
    newton_gradient, newton_hessian = logistic_gradient_and_hessian(newton)
    descent_gradient, _ = logistic_gradient_and_hessian(descent)
    print(f"{step:4d} {tf.norm(newton_gradient):12.2e} {tf.norm(descent_gradient):22.2e}")
    newton = newton - tf.linalg.solve(newton_hessian, newton_gradient[:, None])[:, 0]
    descent = descent - step_size * descent_gradient

# %% [markdown]
# Newton's gradient norm falls to float32 rounding within six steps: once close, each
# step roughly squares the error (quadratic convergence). Gradient descent's shrinks by
# a smaller factor at each step, and is still above 5e-2 after six. The price is the
# Hessian: n² numbers and, as section 9 measures, far more work than a gradient. For a
# model with millions of weights that is impossible, which is why the next two
# sections matter.
#
# ### Exercise 5.4 — one Newton step
#
# Write `newton_step(f, x)`: x − H⁻¹g for the scalar function `f` at `x`.


# %% tags=["exercise"]
def newton_step(f, x):
    """Return the point one Newton step from x: x - H⁻¹ g.

    f: a function from a float32 vector of shape (n,) to a scalar.
    x: a float32 tf.constant of shape (n,).
    Returns a float32 tensor of shape (n,).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 5.4: write newton_step (hint: python -m gradlab.lesson 5 hint 4)"
    )


# %% tags=["check"]
gradlab.check("5.4", newton_step)

# %% [markdown]
# ## 7. Forward mode: Jacobian-vector products
#
# A backward pass (reverse mode) starts from the outputs: with `output_gradients=u`,
# `tape.gradient` returns uᵀJ, a **vector-Jacobian product** (VJP) — a weighted sum of
# the Jacobian's rows. Forward mode starts from the inputs: push a direction v through
# the computation alongside the values, and out comes J v, a **Jacobian-vector product**
# (JVP) — the rate of change of every output as x moves along v. TensorFlow's forward
# mode is `tf.autodiff.ForwardAccumulator`:

# %%
x = tf.constant([1.0, 2.0, 3.0])
v = tf.constant([1.0, 0.0, 0.0])
with tf.autodiff.ForwardAccumulator(primals=x, tangents=v) as accumulator:
    y = f_vec(x)
print("J v (forward mode):   ", accumulator.jvp(y).numpy())

with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    y = f_vec(x)
jacobian = tape.jacobian(y, x)
print("J v (from J):         ", tf.linalg.matvec(jacobian, v).numpy())

output_weights = tf.constant([1.0, 0.0, 0.0, 0.0])
print("uᵀJ (reverse mode):   ", tape.gradient(y, x, output_gradients=output_weights).numpy())
print(
    "uᵀJ (from J):         ", tf.linalg.matvec(jacobian, output_weights, transpose_a=True).numpy()
)
del tape

# %% [markdown]
# With v = e₀ the JVP is column 0 of J; with u = e₀ the VJP is row 0. One forward pass
# gives one column, one backward pass gives one row. So a full Jacobian of f: ℝⁿ → ℝᵐ
# costs n forward passes or m backward passes: reverse mode wins for losses (m = 1,
# n = millions of weights), forward mode for functions with few inputs and many outputs.
# A JVP never forms J; it costs a small multiple of one evaluation of f.
#
# ### Exercise 5.5 — a Jacobian-vector product
#
# Write `jacobian_vector_product(f, x, v)`: J v for the Jacobian J of `f` at `x`,
# computed in forward mode, without forming J.


# %% tags=["exercise"]
def jacobian_vector_product(f, x, v):
    """Return J v, where J is the Jacobian of f at x.

    f: a function from a float32 vector of shape (n,) to a vector of shape (m,).
    x, v: float32 tf.constants of shape (n,).
    Returns a float32 tensor of shape (m,).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 5.5: write jacobian_vector_product (hint: python -m gradlab.lesson 5 hint 5)"
    )


# %% tags=["check"]
gradlab.check("5.5", jacobian_vector_product)

# %% [markdown]
# ## 8. Hessian-vector products without the Hessian
#
# Many second-order methods (conjugate gradients, Lanczos for the top eigenvalues,
# influence functions) need only products H v. Because H is symmetric, H v = vᵀH is the
# gradient of gᵀv, the gradient g dotted with v: two reverse passes give it
# (**backward-over-backward**):


# %% tags=["setup"]
def hvp_backward_over_backward(f, x, v):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            value = f(x)
        gradient = inner.gradient(value, x)
        gradient_along_v = tf.reduce_sum(gradient * v)
    return outer.gradient(gradient_along_v, x)


# %%
x = tf.constant([1.0, 2.0, 3.0])
v = tf.constant([1.0, -1.0, 0.5])
_, hessian = gradient_and_hessian(g_scalar, x)
print("H v from the full Hessian:", tf.linalg.matvec(hessian, v).numpy())
print("backward-over-backward:   ", hvp_backward_over_backward(g_scalar, x, v).numpy())

# %% [markdown]
# Both agree, but only the first stores n² numbers; an HVP costs a small constant times
# one gradient, whatever n is.
#
# There is a second way, the other way round. H is the Jacobian of the gradient, so
# H v is a Jacobian-vector product *of the gradient*: a forward pass over a backward pass
# (**forward-over-backward**). The gradient must be computed while a `ForwardAccumulator`
# is open: a gradient taken after its `with` block ends carries no tangent.
#
# ### Exercise 5.6 — a Hessian-vector product, forward over backward
#
# Write `hessian_vector_product(f, x, v)`: H v for the Hessian H of the scalar function
# `f` at `x`, without forming H, as a JVP of the gradient.


# %% tags=["exercise"]
def hessian_vector_product(f, x, v):
    """Return H v, where H is the Hessian of f at x, without computing H itself.

    f: a function from a float32 vector of shape (n,) to a scalar.
    x, v: float32 tf.constants of shape (n,).
    Returns a float32 tensor of shape (n,).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 5.6: write hessian_vector_product (hint: python -m gradlab.lesson 5 hint 6)"
    )


# %% tags=["check"]
gradlab.check("5.6", hessian_vector_product)

# %% [markdown]
# ## 9. What each costs, measured
#
# Three comparisons, timed on this machine now. Each time is the best of a few calls
# after a first call; the first call is listed separately, because for a `tf.function`
# it includes tracing. Times depend on the machine and its load, so the conclusions
# below are computed from the numbers in the table rather than written in advance.

# %%
import time


def first_and_best(function, repeats=3):
    """Seconds for the first call, and the best of `repeats` later calls."""
    start = time.perf_counter()
    np.asarray(function())
    first = time.perf_counter() - start
    later = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(function())
        later.append(time.perf_counter() - start)
    return first, min(later)


def compare(context, first_name, first, second_name, second):
    """A sentence comparing two measured times; within a factor 1.5 counts as a tie."""
    if second > 1.5 * first:
        verdict = f"{first_name} was {second / first:.0f}× faster than {second_name}"
    elif first > 1.5 * second:
        verdict = f"{second_name} was {first / second:.0f}× faster than {first_name}"
    else:
        verdict = f"{first_name} and {second_name} took about the same time"
    return f"{context}: {verdict}."


keras.utils.set_random_seed(1)
mlp = keras.Sequential(
    [keras.Input((8,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(8)]
)
inputs = tf.random.normal((4, 8), seed=2)


def mlp_jacobian(x, use_pfor=True):
    with tf.GradientTape(persistent=not use_pfor) as tape:
        tape.watch(x)
        y = mlp(x)
    return tape.jacobian(y, x, experimental_use_pfor=use_pfor)


def mlp_batch_jacobian(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = mlp(x)
    return tape.batch_jacobian(y, x)


compiled_jacobian = tf.function(mlp_jacobian)
compiled_loop_jacobian = tf.function(lambda x: mlp_jacobian(x, use_pfor=False))
compiled_batch_jacobian = tf.function(mlp_batch_jacobian)
jacobian_timings = {
    "jacobian, eager, pfor": first_and_best(lambda: mlp_jacobian(inputs)),
    "jacobian, tf.function, pfor": first_and_best(lambda: compiled_jacobian(inputs)),
    "jacobian, eager, loop": first_and_best(lambda: mlp_jacobian(inputs, False), repeats=1),
    "jacobian, tf.function, loop": first_and_best(lambda: compiled_loop_jacobian(inputs)),
    "batch_jacobian, eager": first_and_best(lambda: mlp_batch_jacobian(inputs)),
    "batch_jacobian, tf.function": first_and_best(lambda: compiled_batch_jacobian(inputs)),
}
print("Jacobian of an 8-16-8 MLP on a batch of 4 (32 outputs × 32 inputs)")
print(f"{'method':30} {'first call':>11} {'later calls':>12}")
for name, (first, best) in jacobian_timings.items():
    print(f"{name:30} {first * 1e3:9.1f} ms {best * 1e3:9.1f} ms")

# %% [markdown]
# Read it in pairs. First, eager `tape.jacobian` against the same call inside
# `tf.function`. In eager mode `pfor` wraps its loop in a *new* `tf.function` on every
# call, so every eager call traces again: its later calls are not much cheaper than its
# first. A `tf.function` traces once, and its later calls skip all that:

# %%
eager_first, eager_best = jacobian_timings["jacobian, eager, pfor"]
compiled_first, compiled_best = jacobian_timings["jacobian, tf.function, pfor"]
print(f"eager: later calls cost {eager_best / eager_first:.0%} of the first call;")
print(f"tf.function: later calls cost {compiled_best / compiled_first:.1%} of the first call.")
print(compare("tape.jacobian", "tf.function", compiled_best, "eager", eager_best))
loop_eager = jacobian_timings["jacobian, eager, loop"][1]
loop_compiled = jacobian_timings["jacobian, tf.function, loop"][1]
print(compare("In eager mode", "pfor", eager_best, "the loop", loop_eager))
print(compare("Inside tf.function", "pfor", compiled_best, "the loop", loop_compiled))
batch_best = jacobian_timings["batch_jacobian, tf.function"][1]
print(compare("Inside tf.function", "batch_jacobian", batch_best, "jacobian", compiled_best))

# %% [markdown]
# The eager loop runs one backward pass per output (32 here), driven from Python, so its
# time grows with the number of outputs; eager `pfor` instead pays a tracing cost on
# every call. Which of the two wins in eager mode depends on the size, and the sentence
# above says which won here. Inside `tf.function` both become graphs that run without
# Python and are no longer traced on every call. The practical rule: compute Jacobians
# inside `tf.function`; pfor or loop matters far less than eager or compiled.
#
# And `batch_jacobian`, which section 3 said computes only the blocks that matter? At
# this size it saves nothing you can measure: with `pfor` both run all their backward
# passes as one vectorised computation, and a full Jacobian of 4 × 8 × 4 × 8 = 1024
# numbers is tiny, so the 4 times more work `jacobian` does is lost in the fixed
# per-call costs, which `batch_jacobian`'s extra reshaping only adds to. The full
# Jacobian's size and work grow as B², `batch_jacobian`'s as B. With a bigger batch the
# difference shows:

# %%
wide_inputs = tf.random.normal((256, 8), seed=4)
wide_timings = {
    "jacobian, tf.function": first_and_best(lambda: compiled_jacobian(wide_inputs)),
    "batch_jacobian, tf.function": first_and_best(lambda: compiled_batch_jacobian(wide_inputs)),
}
print("The same MLP on a batch of 256")
print(f"{'method':30} {'first call':>11} {'later calls':>12}")
for name, (first, best) in wide_timings.items():
    print(f"{name:30} {first * 1e3:9.1f} ms {best * 1e3:9.1f} ms")
wide_full = wide_timings["jacobian, tf.function"][1]
wide_batch = wide_timings["batch_jacobian, tf.function"][1]
print(compare("B = 256", "batch_jacobian", wide_batch, "jacobian", wide_full))

# %% [markdown]
# The full Jacobian here holds 256 × 8 × 256 × 8 = 4.2 million numbers, 255 of every
# 256 of them zero; `batch_jacobian` computes the 16 384 others. It pays off once the
# batch is large enough for the full Jacobian's B² to dominate: for this MLP, when this
# lesson was written, somewhere between 32 examples (`jacobian` still faster) and 128
# (`batch_jacobian` 8× faster).
#
# Second, the full Hessian against one Hessian-vector product, for the loss of a
# least-squares-like problem (log cosh of the residuals) with n weights, all compiled:

# %%
rng = np.random.default_rng(3)
design = tf.constant(rng.normal(size=(256, 400)).astype(np.float32))
targets = tf.constant(rng.normal(size=256).astype(np.float32))


def robust_loss(weights):
    residuals = tf.linalg.matvec(design, weights) - targets
    return tf.reduce_mean(tf.math.log(tf.cosh(residuals)))


point = tf.constant(rng.normal(size=400).astype(np.float32) * 0.05)
direction = tf.constant(rng.normal(size=400).astype(np.float32))


# Forward-over-backward is exercise 5.6's answer, so it is loaded from the reference
# solutions rather than printed here (`python -m gradlab.lesson 5 solution 6` shows it).
from gradlab.course import lesson
from gradlab.course.loading import load_module_file

hvp_forward_over_backward = load_module_file(lesson(5).solution_path)["hessian_vector_product"]


full_hessian = tf.function(lambda x: gradient_and_hessian(robust_loss, x)[1])
hvp_forward = tf.function(lambda x, v: hvp_forward_over_backward(robust_loss, x, v))
hvp_backward = tf.function(lambda x, v: hvp_backward_over_backward(robust_loss, x, v))
hessian_timings = {
    "full Hessian (400 × 400)": first_and_best(lambda: full_hessian(point)),
    "HVP, forward-over-backward": first_and_best(lambda: hvp_forward(point, direction)),
    "HVP, backward-over-backward": first_and_best(lambda: hvp_backward(point, direction)),
}
print(f"{'method':30} {'first call':>11} {'later calls':>12}")
for name, (first, best) in hessian_timings.items():
    print(f"{name:30} {first * 1e3:9.1f} ms {best * 1e3:9.1f} ms")
agreement = np.abs(
    tf.linalg.matvec(full_hessian(point), direction) - hvp_forward(point, direction)
).max()
print(f"largest |H v - HVP| = {agreement:.1e}")

# %%
hessian_best = hessian_timings["full Hessian (400 × 400)"][1]
forward_best = hessian_timings["HVP, forward-over-backward"][1]
backward_best = hessian_timings["HVP, backward-over-backward"][1]
print(compare("n = 400", "one HVP", min(forward_best, backward_best), "the Hessian", hessian_best))
print(
    compare("HVP", "forward-over-backward", forward_best, "backward-over-backward", backward_best)
)

# %% [markdown]
# The full Hessian is n = 400 Hessian-vector products done at once, plus 160 000 numbers
# to store. Vectorised by `pfor`, those 400 products cost far less than 400 separate
# calls would (400 matrix-vector products become one matrix-matrix product), which is
# why the gap in the table is much smaller than 400×. But the Hessian's work and memory
# grow as n², an HVP's as n: with a million weights the Hessian would need 4 TB in
# float32, while an HVP still costs about two gradients. Which
# HVP variant is faster depends on the function; `ForwardAccumulator`'s documentation
# presents forward-over-backward as the memory-efficient one (the inner tape does not keep
# the tangents), so prefer it, and measure if speed matters.
#
# ## Summary
#
# - `tape.jacobian(y, x)` has shape `y.shape + x.shape`; `tape.gradient(y, x)` is the sum
#   of its rows. Check a Jacobian row by row with `numerical_gradient`.
# - `tape.batch_jacobian(y, x)` gives per-example Jacobians (B, m, n) without the
#   (B, m, B, n) full one, which pays off for large batches, **only if** no layer mixes
#   the batch. With BatchNormalization in training mode or a softmax across
#   the batch it silently returns Σᵢ ∂yᵢ/∂x_b instead.
# - A Hessian is the Jacobian of the gradient: nested tapes, the inner gradient computed
#   while the outer tape records. It is symmetric; Newton's step solves H d = g.
# - `tf.autodiff.ForwardAccumulator` gives J v in one forward pass; `output_gradients`
#   gives uᵀJ in one backward pass.
# - H v needs no Hessian: forward-over-backward or backward-over-backward.
# - Cost: eager `tape.jacobian` retraces on every call; inside `tf.function` it is fast.
#   A full Hessian costs n HVPs and n² memory.
#
# Next: lesson 6 debugs gradients that are None, NaN, vanishing or exploding.
