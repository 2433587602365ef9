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
# # Finite-difference checking: is this gradient right?
#
# `tf.GradientTape` gives you a gradient, but not a proof that it is the gradient of the
# function you meant. A hand-written `tf.custom_gradient`, a loss that reads the wrong
# tensor, a layer with a slip in its backward pass: all of them return numbers of the
# right shape. The independent witness is the definition of the derivative itself,
#
# $$f'(x) \approx \frac{f(x + h) - f(x - h)}{2h},$$
#
# evaluated with small steps `h`. This lesson shows how to do that well: which formula,
# which step, which precision, how to compare two gradients, and the traps (kinks, and
# a checked function that secretly ignores its arguments).
#
# **How to work.** Read a section, run its cells, then write the exercise below it in
# the one place marked `# YOUR CODE HERE`. The cell after each exercise checks it:
#
# ```
# python -m gradlab.lesson 4 check      # check every exercise in this file
# python -m gradlab.lesson 4 hint 2     # a hint for exercise 2
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
# ## 1. The second article's linear regression, as written
#
# The second source article fits a line with a one-unit `Dense` layer and then checks
# its gradient with a `gradient_checker` module. Run as written on TensorFlow 2.21 /
# Keras 3.15, its first problem is the loss:

# %%
try:
    loss_function = tf.keras.losses.mean_squared_error
except AttributeError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# Keras 3 keeps the function as `keras.losses.mean_squared_error`, but the idiom is a
# loss *object*, `keras.losses.MeanSquaredError()`, which also averages over the batch.
#
# The second problem is the data: `x_train = tf.random.normal(shape=(100,))` is one
# vector of 100 numbers, not 100 examples of one feature. A `Dense` layer wants a
# batch of feature vectors, at least two dimensions:

# %%
x_flat = tf.random.normal(shape=(100,))
try:
    keras.layers.Dense(units=1)(x_flat)
except ValueError as error:
    print(f"{type(error).__name__}: {str(error).splitlines()[0]}")

# %% [markdown]
# (The article's `Dense(units=1, input_shape=(1,))` hides this: Keras 3 warns that
# `input_shape` on a layer is deprecated, and a `Sequential` model with a declared
# input shape quietly adds the missing axis. Say what you mean instead: data of shape
# `(100, 1)` and a `keras.Input((1,))`.)
#
# The article's loss was a third, quieter problem: `mean_squared_error` is a
# *per-sample* loss, one value per example. Given a tensor target, the tape
# differentiates its **sum** (lesson 1, section 4), so every gradient comes out N times
# the gradient of the mean, and SGD's learning rate of 0.01 acts like 1.0:

# %%
slope, intercept = tf.Variable([[0.5]]), tf.Variable([0.0])  # a line, no randomness
x_line = tf.reshape(tf.linspace(-1.0, 1.0, 100), (100, 1))
y_line = 2 * x_line + 1
with tf.GradientTape(persistent=True) as tape:
    prediction = x_line @ slope + intercept
    per_sample = keras.losses.mean_squared_error(y_line, prediction)  # the article's loss
    mean = keras.losses.MeanSquaredError()(y_line, prediction)
ratios = [
    round(float(tf.reduce_mean(a / b)), 2)
    for a, b in zip(
        tape.gradient(per_sample, [slope, intercept]),
        tape.gradient(mean, [slope, intercept]),
        strict=True,
    )
]
del tape
print("per-sample loss shape:", per_sample.shape, " gradient ratio per variable:", ratios)

# %% [markdown]
# Here is the article's program with these fixes. Its training step is unchanged, with
# one addition: the article defines `train_step` but never calls it, so the model it
# checks is the untrained one. Below, the step is called after the check:

# %%
model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(units=1)])
loss_function = keras.losses.MeanSquaredError()
optimizer = keras.optimizers.SGD(learning_rate=0.01)

x_train = tf.random.normal(shape=(100, 1))
y_train = 2 * x_train + 1


@tf.function
def train_step():
    with tf.GradientTape() as tape:
        y_pred = model(x_train)
        loss = loss_function(y_train, y_pred)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return loss


print("loss before training:", round(float(loss_function(y_train, model(x_train))), 4))

# %% [markdown]
# Now the article's check. There never was an importable `gradient_checker` with these
# three functions. (TensorFlow's own `gradient_checker` module has two others, graph
# only; section 6 runs them.) gradlab provides one that works exactly as the article
# calls it, so the only change is the import line:

# %%
from gradlab import gradient_checker

# 选择参数 (choose a parameter)
variable = model.trainable_variables[0]
# 计算数值梯度 (the numerical gradient)
numerical_gradients = gradient_checker.compute_numerical_gradient(
    model, loss_function, [x_train], [y_train], variables=[variable]
)
# 计算解析梯度 (the analytical gradient)
analytical_gradients = gradient_checker.compute_analytical_gradient(
    model, loss_function, [x_train], [y_train], variables=[variable]
)
# 计算误差 (the error)
error = gradient_checker.compute_gradient_error(numerical_gradients, analytical_gradients)
print("Gradient error:", f"{error:.1e}")

# %% [markdown]
# A relative error around 1e-11: the tape's gradient of the kernel agrees with finite
# differences to about eleven digits. Behind those three calls, gradlab evaluates
# `loss_function(y, model(x))` on a float64 copy of the model, passing the kernel in
# as an argument (section 8 explains why that matters), and leaves the model's own
# variables untouched. The model still trains:

# %%
for _ in range(300):
    loss = train_step()
kernel, bias = (float(v.numpy().squeeze()) for v in model.trainable_variables)
print(f"after 300 steps: loss {float(loss):.4f}, kernel {kernel:.3f}, bias {bias:.3f}")

# %% [markdown]
# The rest of this lesson opens up those three calls: how a numerical gradient is
# computed, how to pick its step, and how to compare it with the tape's.
#
# ## 2. Central differences beat one-sided ones
#
# Taylor's theorem says f(x + h) = f(x) + h f'(x) + h²/2 f''(x) + h³/6 f'''(x) + …
# So the one-sided (forward) difference (f(x + h) - f(x)) / h is off by about
# h/2 · f''(x): halve the step, halve the error. In the central difference the even
# terms cancel, leaving h²/6 · f'''(x): ten times smaller steps, a hundred times
# smaller error. For sin at x = 1, in float64:

# %%
exact = np.cos(1.0)
print("     h    one-sided error    central error")
for h in (1e-1, 1e-2, 1e-3, 1e-4):
    one_sided = (np.sin(1.0 + h) - np.sin(1.0)) / h
    central = (np.sin(1.0 + h) - np.sin(1.0 - h)) / (2 * h)
    print(f"{h:6.0e}   {abs(one_sided - exact):14.1e}   {abs(central - exact):14.1e}")

# %% [markdown]
# For a gradient of N elements, the central difference costs 2N evaluations of f; the
# one-sided one reuses f(x) for every element, N + 1 evaluations, about half. But the
# central one is far more accurate at any step, so gradient checks pay for it.
#
# ### Exercise 4.1 — a central difference
#
# Write `central_difference(f, x, h)`: the central-difference estimate of f'(x), in
# float64. `x` and `h` arrive as Python floats.


# %% tags=["exercise"]
def central_difference(f, x, h):
    """Return (f(x + h) - f(x - h)) / (2h), computed in float64.

    f: a function of one scalar tensor, e.g. ``tf.sin``; it keeps its argument's dtype.
    x, h: Python floats (the point and the step).
    Returns a float64 scalar tensor (or a Python float).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 4.1: write central_difference (hint: python -m gradlab.lesson 4 hint 1)"
    )


# %% tags=["check"]
gradlab.check("4.1", central_difference)

# %% [markdown]
# ## 3. Choosing the step: truncation against round-off
#
# Smaller `h` shrinks the truncation error, h²/6 · f'''. But f(x + h) and f(x - h) are
# rounded to the precision of the computation, about ε·|f| each, where ε is the machine
# epsilon (2.2e-16 in float64, 1.2e-7 in float32). Dividing their difference by 2h
# turns that rounding into an error of about ε·|f| / h, which *grows* as h shrinks.
# Plot the total error against h, on log-log axes:

# %%
import matplotlib.pyplot as plt

from gradlab import plots
from gradlab.gradcheck import default_step

steps = np.logspace(-13, 0, 53)


def difference_errors(dtype):
    """Errors of the one-sided and central differences of sin at 1, computed in dtype."""
    x, h = tf.constant(1.0, dtype), tf.constant(steps, dtype)
    one_sided = (tf.sin(x + h) - tf.sin(x)) / h
    central = (tf.sin(x + h) - tf.sin(x - h)) / (2 * h)
    return {
        "one-sided": np.abs(one_sided.numpy().astype(np.float64) - exact),
        "central": np.abs(central.numpy().astype(np.float64) - exact),
    }


errors = {
    f"{kind}, {dtype.name}": values
    for dtype in (tf.float32, tf.float64)
    for kind, values in difference_errors(dtype).items()
}
marks = {f"ε^(1/3), {name}": default_step(name) for name in ("float32", "float64")}
figure = plots.error_vs_step(steps, errors, marks=marks)
plt.show()
for label, values in errors.items():
    best = int(np.argmin(values))
    print(f"{label:20} best h ≈ {steps[best]:.1e}, error {values[best]:.1e}")

# %% [markdown]
# Each curve is a V. On the right, truncation: the central lines fall with slope 2, the
# one-sided (dashed) with slope 1. On the left, round-off: every line rises with slope
# 1 as h shrinks, until x ± h rounds back to x and the "derivative" is 0 (the flat
# float32 tail, at an error of cos(1) ≈ 0.54). The bottom of the V is where the two
# errors are equal: for the central difference h²·|f'''| ≈ ε·|f| / h, so
# h ≈ ε^(1/3) (6e-6 in float64, 5e-3 in float32, the dotted lines); for the one-sided
# difference h ≈ √ε.
#
# At that step both errors are about ε^(2/3): typically 4e-11 in float64 and 2e-5 in
# float32. (The minima printed above are the luckiest points of a noisy curve, where
# round-off errors happened to cancel; their neighbours are up to 100 times worse, so
# don't count on them.)
#
# Two lessons follow. **Check in float64**: float32's typical 2e-5 is no better than a
# sloppy gradient. And **don't make h "as small as possible"**: 1e-10 in float64 is
# worse than 1e-5. `gradlab.gradcheck` promotes the
# inputs to float64 when f allows it, and its default step is ε^(1/3) of the precision
# f actually runs in.
#
# ## 4. The gradient of a function of a tensor
#
# For f of a tensor x, the gradient has one partial derivative per element: move one
# element by ±h, keep the others, and take the central difference. That is 2N
# evaluations of f for N elements, which is why checks run on small problems.
# `gradlab.gradcheck.numerical_gradient` does exactly this, with the 2N evaluations
# run in batches rather than one call at a time:

# %%
from gradlab.gradcheck import numerical_gradient


def log_sum_exp(x):
    return tf.reduce_logsumexp(x)


point = tf.constant([0.5, -1.0, 2.0], tf.float64)
with tf.GradientTape() as tape:
    tape.watch(point)
    value = log_sum_exp(point)
print("tape:     ", tape.gradient(value, point).numpy())
print("numerical:", numerical_gradient(log_sum_exp, point))

# %% [markdown]
# ### Exercise 4.2 — a numerical gradient, element by element
#
# Write `numerical_gradient_of(f, x, h)`: the central-difference gradient of a scalar
# function `f` of a float64 tensor `x`, one element at a time. (You may not call
# `gradlab.gradcheck`.)


# %% tags=["exercise"]
def numerical_gradient_of(f, x, h):
    """Return the central-difference gradient of f at x.

    f: a function from a float64 tensor to a float64 scalar tensor.
    x: a float64 tf.constant of any shape.
    h: the step, a Python float.
    Returns a float64 array (or tensor) with the shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 4.2: write numerical_gradient_of (hint: python -m gradlab.lesson 4 hint 2)"
    )


# %% tags=["check"]
gradlab.check("4.2", numerical_gradient_of)

# %% [markdown]
# ## 5. Comparing two gradients: the relative error
#
# How close is close enough? An absolute error of 1e-6 is excellent for a gradient of
# size 1000 and meaningless for one of size 1e-7. Compare *relative* errors,
#
# $$\text{rel} = \frac{|n - a|}{\max(|n|, |a|, \text{floor})},$$
#
# with two details that matter. It is **symmetric**: neither the numerical `n` nor the
# analytical `a` is "the truth", and dividing by |a| alone explodes when the analytical
# gradient is wrongly zero. And it has a **floor**: where both are (nearly) zero, the
# difference is noise, and noise divided by noise is anything.

# %%
from gradlab.gradcheck import relative_errors

numerical = np.array([1.0, 1e-12, 0.0, 3.0])
analytical = np.array([1.0 + 1e-9, -1e-12, 0.0, 0.0])
with np.errstate(divide="ignore", invalid="ignore"):
    print("divided by |a|:   ", np.abs(numerical - analytical) / np.abs(analytical))
print("symmetric + floor:", relative_errors(numerical, analytical, floor=1e-10))

# %% [markdown]
# The usual reading, for a float64 check of a smooth function (the thresholds from
# Stanford's CS231n notes):
#
# | max relative error | verdict |
# |---|---|
# | above 1e-2 | the gradient is almost certainly wrong |
# | 1e-4 to 1e-2 | suspicious: look closer (a kink may explain it) |
# | 1e-7 to 1e-4 | fine where f has kinks; too large for a smooth f |
# | below 1e-7 | the gradients agree |
#
# In float32 every row moves up by orders of magnitude (section 3: a best error of
# 5e-6 against 4e-13), which is why float32 checks cannot tell a subtle bug from
# rounding.
#
# ### Exercise 4.3 — a relative error that behaves near zero
#
# Write `relative_error(numerical, analytical, floor)`: the element-wise symmetric
# relative error above. No NaN and no infinity, whatever the inputs' zeros.


# %% tags=["exercise"]
def relative_error(numerical, analytical, floor):
    """Return |numerical - analytical| / max(|numerical|, |analytical|, floor), element-wise.

    numerical, analytical: float64 NumPy arrays of the same shape.
    floor: a positive Python float, the smallest denominator.
    Returns a float64 NumPy array of that shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 4.3: write relative_error (hint: python -m gradlab.lesson 4 hint 3)"
    )


# %% tags=["check"]
gradlab.check("4.3", relative_error)

# %% [markdown]
# ## 6. `tf.test.compute_gradient`, and what it does not tell you
#
# TensorFlow 2's finite-difference tool is `tf.test.compute_gradient(f, xs)`. It
# returns two lists of Jacobian matrices, the tape's ("theoretical") and the numerical
# one, and nothing else:

# %%
calls = 0


def sum_of_sines(x):
    global calls
    calls += 1
    return tf.reduce_sum(tf.sin(x))


wave = tf.constant(np.linspace(-1.0, 1.0, 50))
theoretical, numeric = tf.test.compute_gradient(sum_of_sines, [wave])
print("Jacobian shapes:", theoretical[0].shape, numeric[0].shape)
print("f was called", calls, "times for 50 elements")
print("largest difference:", f"{np.abs(theoretical[0] - numeric[0]).max():.1e}")

# %% [markdown]
# Is 1.6e-7 good or bad? It does not say: there is no verdict, no tolerance, and no
# pointer to the element at fault; you write the comparison yourself. It calls f
# eagerly about twice per element, and its default step is 1/1024 whatever the dtype.
# Nor does it upcast: bfloat16 stores 7 mantissa bits (8 bits of precision, with the
# implicit leading 1), so x ± 1/1024 rounds back to x, and the numerical derivative is
# silently zero:

# %%
square_sum = lambda x: tf.reduce_sum(x * x)  # noqa: E731
low = tf.constant([1.0, 2.0, 3.0], tf.bfloat16)
theoretical, numeric = tf.test.compute_gradient(square_sum, [low])
print("bfloat16, theoretical:", theoretical[0].astype(np.float32).ravel())
print("bfloat16, numerical:  ", numeric[0].astype(np.float32).ravel())
print(check_gradients(square_sum, low))

# %% [markdown]
# `check_gradients` runs f on the bfloat16 input promoted to float64 (the `checked in
# float64` above), gives a verdict with its tolerance, and names the worst element.
# In full mode it does not call f 2N times. It traces f once, and for each input runs
# only the operations downstream of that input, on a whole batch of perturbations at
# once. Moving one element of a dense layer's kernel changes one column of the layer's
# product, and the activation after it changes only that column; the checker keeps the
# change in that form, so it computes a column per perturbation, not a matrix, until the
# change spreads. (Functions with operations it has no batched rule for are compiled
# and run in batches instead.)
# `python benchmarks/gradcheck.py` times both modes against `tf.test.compute_gradient`
# on tanh MLPs of 1k to 50k float64 parameters. On the 2-core machine this course was
# written on, at 10,011 parameters, one run gave: `tf.test.compute_gradient` 15.2 s
# (max error 3.3e-7), full mode 0.11 s (7.0e-11), fast mode 9.7 ms.
# `python benchmarks/gradcheck_peers.py` adds PyTorch's `torch.autograd.gradcheck`, which
# perturbs every element and runs the whole function each time: on the same MLP of
# 49,863 parameters one run took 88 s (a second call; the first, 290 s) against 0.33 s
# (0.54 s) for full mode here.
#
# TensorFlow also still ships TensorFlow 1's pair, and that is where the second
# article's one real function name comes from: `tf.compat.v1.test.compute_gradient` and
# `tf.compat.v1.test.compute_gradient_error(x, x_shape, y, y_shape)`, the largest
# difference between the two Jacobians. Deprecated, they take graph tensors and their
# shapes, so they fail eagerly and run only in a `tf.compat.v1` Graph with a Session:

# %%
tf.get_logger().setLevel("ERROR")  # each call also logs a deprecation warning
point = tf.constant([1.0, 2.0, 3.0], tf.float64)
try:
    tf.compat.v1.test.compute_gradient_error(point, [3], tf.sin(point), [3])
except AttributeError as problem:
    print(f"eagerly:    AttributeError: {problem}")
with tf.Graph().as_default():
    point = tf.constant([1.0, 2.0, 3.0], tf.float64)
    with tf.compat.v1.Session():
        v1_error = tf.compat.v1.test.compute_gradient_error(point, [3], tf.sin(point), [3])
tf.get_logger().setLevel("WARNING")
print(f"in a graph: largest difference {v1_error:.1e}")

# %% [markdown]
# ## 7. Kinks: where the derivative does not exist
#
# `relu`, `abs`, `max` have corners. At relu's corner, x = 0, TensorFlow defines the
# derivative as 0; the central difference sees (h - 0) / 2h = 0.5. Neither is wrong,
# and the check fails:

# %%
relu_sum = lambda x: tf.reduce_sum(tf.nn.relu(x))  # noqa: E731
at_the_kink = check_gradients(relu_sum, tf.constant([-1.0, 0.0, 2.0], tf.float64))
print(at_the_kink.ok, at_the_kink.inputs[0].worst)

# %% [markdown]
# (The report's guess, printed with `print(at_the_kink)`, is "the path is cut": it sees
# an analytical zero next to a numerical 0.5. The real cause is the corner.) A point
# *near* the kink fails too, as soon as x ± h straddles it:

# %%
for x0 in (1e-7, 1e-3):
    report = check_gradients(relu_sum, tf.constant([x0], tf.float64))
    print(f"x = {x0:.0e}, step {report.step:.1e}: ok = {report.ok}")

# %% [markdown]
# So check at random points, which almost never land within h of a corner, and when a
# check fails at a few elements, look at their inputs before blaming the gradient.
#
# ## 8. The closure pitfall: checking a function that ignores its arguments
#
# To check a model's gradient you need a function *of the weights*. The tempting way
# reads the model, which reads its own variables:

# %%
net = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
mse = keras.losses.MeanSquaredError()
kernel, bias = (v.value for v in net.trainable_variables)


def loss_reading_the_model(kernel, bias):
    return mse(y_train, net(x_train))  # kernel and bias are never used


theoretical, numeric = tf.test.compute_gradient(loss_reading_the_model, [kernel, bias])
print("theoretical:", [t.ravel() for t in theoretical])
print("numerical:  ", [n.ravel() for n in numeric])
print("allclose:", all(np.allclose(t, n) for t, n in zip(theoretical, numeric, strict=True)))

# %% [markdown]
# Zeros against zeros: the check "passes" and has checked nothing. Moving the
# *arguments* cannot change a loss that reads the variables, so both gradients are
# zero. `check_gradients` notices that f does not depend on its input, and refuses:

# %%
from gradlab.gradcheck import GradcheckError

try:
    check_gradients(loss_reading_the_model, [kernel, bias])
except GradcheckError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# The fix is to compute *from the arguments*. Every Keras 3 model has
# `stateless_call(trainable_values, non_trainable_values, x)`, which runs the model
# with the weights you pass and leaves its variables alone. Build the layer and the
# loss in float64 so the check runs in float64 too:

# %%
net64 = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, dtype="float64")])
mse64 = keras.losses.MeanSquaredError(dtype="float64")
x64, y64 = tf.cast(x_train, tf.float64), tf.cast(y_train, tf.float64)


def loss_of_weights(kernel, bias):
    prediction, _ = net64.stateless_call([kernel, bias], [], x64)
    return mse64(y64, prediction)


report = check_gradients(loss_of_weights, [v.value for v in net64.trainable_variables])
print(report.ok, f"max rel error {report.max_rel_error:.0e}")

# %% [markdown]
# ### Exercise 4.4 — a model's loss as a function of one variable
#
# Write `loss_of_variable(model, x, y, index)`: it returns a *function* of one tensor,
# the mean squared error of the model on `(x, y)` with trainable variable number
# `index` replaced by that tensor. The check calls your function at the variable's
# value and at a moved value, and differentiates it with a tape. Note that `y` has
# shape `(N,)` and the model's output `(N, 1)`.


# %% tags=["exercise"]
def loss_of_variable(model, x, y, index):
    """Return a function loss(value): the MSE of model on (x, y), variable ``index`` set to value.

    model: a built Keras model with one output unit.
    x: a float32 tensor (N, features); y: a float32 tensor (N,).
    index: which of model.trainable_variables the function's argument replaces.
    The others keep their current values; the model's variables must not change.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 4.4: write loss_of_variable (hint: python -m gradlab.lesson 4 hint 4)"
    )


# %% tags=["check"]
gradlab.check("4.4", loss_of_variable)

# %% [markdown]
# ## 9. A fast check: derivatives along random directions
#
# A full check costs 2N evaluations of f. When N is large, check fewer things: pick a
# random unit direction v, and compare the numerical slope of f along it,
# (f(x + hv) - f(x - hv)) / 2h, with the tape's prediction ∇f · v. That is two
# evaluations per direction, whatever N. A wrong gradient almost never agrees with the
# truth along a random direction, and a few directions make a miss vanishingly
# unlikely. This is `mode="fast"`:

# %%
wide = keras.Sequential(
    [
        keras.Input((8,)),
        keras.layers.Dense(32, activation="tanh", dtype="float64"),
        keras.layers.Dense(32, activation="tanh", dtype="float64"),
        keras.layers.Dense(1, dtype="float64"),
    ]
)
features = tf.random.normal((32, 8), dtype=tf.float64, seed=1)
targets = tf.random.normal((32, 1), dtype=tf.float64, seed=2)


def wide_loss(*weights):
    prediction, _ = wide.stateless_call(list(weights), [], features)
    return mse64(targets, prediction)


weights = [v.value for v in wide.trainable_variables]
print(f"{wide.count_params():,} parameters in {len(weights)} variables")
for mode in ("full", "fast"):
    report = check_gradients(wide_loss, weights, mode=mode)
    print(f"{mode}: ok = {report.ok}; {report.cost}")

# %% [markdown]
# The fast check passes with a handful of evaluations instead of thousands. When it
# fails, it re-checks each input alone, so it still tells you *which* variable is
# wrong; then a full check of that variable finds the element.
#
# ## 10. Catching a wrong `tf.custom_gradient`
#
# The gradients most worth checking are the ones you wrote. Here is x² with a classic
# slip in its hand-written backward pass:


# %%
@tf.custom_gradient
def square(x):
    def backward(upstream):
        return upstream * x  # BUG: d(x²)/dx is 2x

    return x * x, backward


print(check_gradients(square, tf.constant([1.0, 2.0, 3.0], tf.float64)))

# %% [markdown]
# The report shows the worst element, the numerical and analytical values side by
# side, and the constant ratio between them. Note the `output` line: `square` returns a
# vector, and the check differentiates a fixed random combination of its elements, so a
# backward pass that ignores its upstream gradient fails too.
#
# With several inputs, a fast check that fails re-checks each input alone and names the
# one at fault:


# %%
def scaled_square_plus(w, b):
    return tf.reduce_sum(3.0 * square(w) + b)


rng = np.random.default_rng(1)
inputs = {"w": tf.constant(rng.normal(size=(4, 3))), "b": tf.constant(rng.normal(size=(3,)))}
fast = check_gradients(scaled_square_plus, inputs, mode="fast")
print("ok:", fast.ok, " failing:", [item.label for item in fast.failed_inputs])
print(fast.cost)

# %% [markdown]
#
# A bug confined to one element is the hardest to see by eye. The forward differences
# `x[1:] - x[:-1]` have a gradient that a hand-written backward pass can easily clip
# at one end:


# %%
@tf.custom_gradient
def differences(x):
    def backward(upstream):
        padded = tf.pad(upstream, [[1, 1]])
        gradient = padded[:-1] - padded[1:]
        return tf.concat([gradient[:-1], [0.0]], axis=0)  # BUG: drops the last element

    return x[1:] - x[:-1], backward


series = tf.constant(np.random.default_rng(0).normal(size=200))
report = check_gradients(differences, series)
print(report.ok, report.values_failed, "failing;", report.inputs[0].worst)
print("fast mode ok:", check_gradients(differences, series, mode="fast").ok)

# %% [markdown]
# Full mode names the one element out of 200; fast mode, a few evaluations, still sees
# that something is wrong.
#
# ### Exercise 4.5 — which custom gradient is wrong?
#
# Write `gradient_is_correct(functions, x)`: for each named function, whether its
# gradient agrees with finite differences at `x`. Some are right; some have the slips
# of this section. Use `check_gradients`.


# %% tags=["exercise"]
def gradient_is_correct(functions, x):
    """Return {name: True if the gradient of that function is right at x, else False}.

    functions: a dict from names to functions of one tensor (several return a tensor).
    x: a float64 tensor, away from any kink.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 4.5: write gradient_is_correct (hint: python -m gradlab.lesson 4 hint 5)"
    )


# %% tags=["check"]
gradlab.check("4.5", gradient_is_correct)

# %% [markdown]
# ## Summary
#
# - A finite-difference check compares the tape's gradient with (f(x + h) - f(x - h)) / 2h,
#   one element at a time: 2N evaluations of f (N + 1 for the less accurate one-sided).
# - Central differences have error ∝ h², one-sided ones ∝ h. Round-off grows like ε / h,
#   so the best step is about ε^(1/3) (6e-6 in float64), where the typical error is
#   about ε^(2/3). Check in float64.
# - Compare with a symmetric relative error that has a floor. In float64, below 1e-7
#   agrees; above 1e-2 is wrong.
# - `tf.test.compute_gradient` returns Jacobians only: no verdict, no upcast (bfloat16
#   gives a numerical derivative of 0), one eager call per perturbation. TensorFlow 1's
#   `tf.compat.v1.test.compute_gradient_error` runs only in a graph.
# - Kinks make correct gradients fail; check at random points.
# - The checked function must compute from its arguments. A loss that reads the model's
#   variables compares zeros with zeros; use `model.stateless_call`.
# - `check_gradients(f, xs)` gives a verdict and the worst element; `mode="fast"` checks
#   random directions at a cost independent of size.
# - `from gradlab import gradient_checker` runs the second article's calls. Its loss was
#   per-sample: the tape differentiates the sum, N times the mean's gradient.
#
# Next: lesson 5, Jacobians, Hessians and forward mode.
