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
# # Debugging gradients: a field guide
#
# A model that does not learn nearly always shows it in its gradients first. This
# lesson is a field guide: find your symptom, reproduce it on a small example, let a
# tool name the cause, and apply the fix.
#
# | Symptom | Section |
# |---|---|
# | `tape.gradient` returns `None` | 1 |
# | Keras: "No gradients provided for any variable" | 2 |
# | NaN or inf in the gradients (the loss turns `nan` a step later) | 3, 4, 5 |
# | The first layers barely learn | 6 |
# | The loss jumps, overflows, or turns `nan` after a few big steps | 7 |
# | A hand-written gradient you need to trust | 8 |
#
# One tool runs through the lesson: `gradlab.diagnose.diagnose(loss, variables)`. It
# differentiates the loss the way a plain `tf.GradientTape` would and reports, for
# every variable, whether its gradient is `None` (and why), not finite, vanishing or
# exploding.
#
# ```
# python -m gradlab.lesson 6 check      # check every exercise in this file
# python -m gradlab.lesson 6 hint 2     # a hint for exercise 2
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
# ## 1. `None` gradients and their five causes
#
# `None` means the tape found **no recorded path** from the loss to that source.
# Lesson 1 listed the reasons; here each one is reproduced, diagnosed and fixed.
#
# **Cause 1: not watched.** A tape watches trainable variables by itself, and
# nothing else. Here we want the gradient with respect to the data `x` too (as for a
# saliency map):

# %%
from gradlab.diagnose import diagnose

x = tf.constant([1.0, 2.0, 3.0])
y = tf.constant([2.0, 4.0, 6.0])
w = tf.Variable(0.5, name="w")


def squared_error(w, x):
    return tf.reduce_sum((w * x - y) ** 2)


with tf.GradientTape() as tape:
    loss = squared_error(w, x)
print("gradients:", tape.gradient(loss, [w, x]))
print(diagnose(squared_error, [w], inputs={"x": x}))

# %% [markdown]
# `diagnose` called `squared_error(w, x)` (a loss may also be a function of no
# arguments that reads its variables), differentiated it with a plain tape, and found
# `x` without a gradient. To name the cause it ran the loss again with
# `tape.watch(x)`: the gradient then exists, so `x` was simply not watched.
#
# The fix is `tape.watch(x)`. `diagnose` can also judge *your* tape's result, passed
# as `gradients=`:

# %%
with tf.GradientTape() as tape:
    tape.watch(x)
    loss = squared_error(w, x)
grads = tape.gradient(loss, [w, x])
print(diagnose(squared_error, [w], inputs={"x": x}, gradients=grads))

# %% [markdown]
# **Cause 2: an integer dtype.** `tf.Variable(1)` is an `int32` variable, and integers
# have no derivative:


# %%
def scaled_error(scale):
    return tf.reduce_sum((tf.cast(scale, tf.float32) * x - y) ** 2)


scale = tf.Variable(1, name="scale")  # meant: 1.0
print(diagnose(scaled_error, [scale])["scale"])
scale = tf.Variable(1.0, name="scale")
print(diagnose(scaled_error, [scale])["scale"])

# %% [markdown]
# **Cause 3: the computation went through NumPy.** `.numpy()`, `np.*` functions and
# `float()` give TensorFlow a plain number back; the tape cannot see what happened to
# it. A common way in: clipping the predictions with NumPy.


# %%
def clipped_error(w):
    prediction = np.clip(w.numpy() * x.numpy(), 0.0, 5.0)  # leaves TensorFlow
    return tf.reduce_sum((prediction - y) ** 2)


print(diagnose(clipped_error, [w])["w"])

# %% [markdown]
# How does `diagnose` know it was NumPy and not an unused variable? It **moves** `w` a
# few times (assigns random nearby values, then restores it) and evaluates the loss
# again. The loss changed, so it depends on `w`, through a path the tape did not
# record. Ops without a gradient (`tf.round`, `tf.stop_gradient`, a cast to an
# integer) cut the path in the same way and are reported under the same cause. The
# fix is to stay in TensorFlow:


# %%
def clipped_error(w):
    prediction = tf.clip_by_value(w * x, 0.0, 5.0)
    return tf.reduce_sum((prediction - y) ** 2)


print(diagnose(clipped_error, [w])["w"])

# %% [markdown]
# **Cause 4: a variable replaced by a tensor.** The classic bug of a hand-written
# training loop. The first step works; the second has no gradient:

# %%
w = tf.Variable(0.5, name="w")
for step in range(2):
    with tf.GradientTape() as tape:
        loss = squared_error(w, x)
    grad = tape.gradient(loss, w)
    print(f"step {step}: type(w) = {type(w).__name__}, gradient = {grad}")
    if grad is not None:
        w = w - 0.01 * grad  # BUG: binds the name w to a new tf.Tensor
print(diagnose(lambda w: squared_error(w, x), {"w": w})["w"])

# %% [markdown]
# `diagnose` sees a `tf.Tensor` where a variable was expected (no `.trainable`, no
# `.assign`). `w.assign_sub(...)` changes the variable in place, so the next tape
# still watches it:

# %%
w = tf.Variable(0.5, name="w")
for step in range(2):
    with tf.GradientTape() as tape:
        loss = squared_error(w, x)
    w.assign_sub(0.01 * tape.gradient(loss, w))
    print(f"step {step}: type(w) = {type(w).__name__}, w = {w.numpy():.4f}")
print(diagnose(lambda w: squared_error(w, x), {"w": w})["w"])

# %% [markdown]
# ### Exercise 6.1 — gradient descent that keeps its variable
#
# Write `descend(loss_fn, w, learning_rate, steps)`: `steps` steps of gradient descent
# on the variable `w`, updated in place, returning the loss before each step.


# %% tags=["exercise"]
def descend(loss_fn, w, learning_rate, steps):
    """Run gradient descent on w in place; return the loss before each step.

    loss_fn: a function of w returning a scalar tensor.
    w: a float32 tf.Variable; after the call it holds the trained value.
    learning_rate: a Python float.  steps: a Python int.
    Returns a float32 tensor of shape (steps,) (tf.stack the losses).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 6.1: write descend (hint: python -m gradlab.lesson 6 hint 1)"
    )


# %% tags=["check"]
gradlab.check("6.1", descend)

# %% [markdown]
# **Cause 5: the source is unused.** Not always a bug. A model with two heads trained
# on one of them leaves the other head out of the loss:

# %%
inputs = keras.Input((3,))
shared = keras.layers.Dense(4, activation="tanh", name="shared")(inputs)
price = keras.layers.Dense(1, name="price")(shared)
volume = keras.layers.Dense(1, name="volume")(shared)
two_heads = keras.Model(inputs, [price, volume], name="two_heads")

batch = tf.random.normal((8, 3), seed=1)
price_target = tf.random.normal((8, 1), seed=2)
mse = keras.losses.MeanSquaredError()


def price_loss():
    predicted_price, _ = two_heads(batch)
    return mse(price_target, predicted_price)


print(diagnose(price_loss, two_heads.trainable_variables))

# %% [markdown]
# Moving `volume/kernel` leaves the loss exactly as it was, so it is unused. If the
# volume head should learn, its loss belongs in the total:

# %%
volume_target = tf.random.normal((8, 1), seed=3)


def both_losses():
    predicted_price, predicted_volume = two_heads(batch)
    return mse(price_target, predicted_price) + mse(volume_target, predicted_volume)


print("both heads in the loss, every gradient healthy:", diagnose(both_losses).ok)

# %% [markdown]
# (Called without variables, `diagnose` takes the trainable variables the loss reads.)
# If the head is not meant to learn now, leave its variables out of the sources.
#
# | `diagnose` says | What happened | Fix |
# |---|---|---|
# | not watched | a tensor (or a non-trainable variable) the tape ignored | `tape.watch(x)` |
# | integer dtype | `tf.Variable(2)` | `tf.Variable(2.0)` |
# | went through NumPy | `.numpy()`, `np.*`, `float()`, `tf.round`, ... | TensorFlow ops only |
# | replaced by a tensor | `w = w - lr * g` | `w.assign_sub(lr * g)` |
# | unused | the loss does not depend on it | drop it, or add its loss |
#
# ## 2. Keras: "No gradients provided for any variable"
#
# `model.fit` takes the gradient of the loss with respect to
# `model.trainable_variables` and hands the pairs to the optimizer. When **every**
# gradient is `None`, the optimizer refuses. A loss written in NumPy does it; in a
# compiled `fit` it fails even earlier, so people add `run_eagerly=True`...

# %%
features = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
targets = features @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")


def numpy_mse(y_true, y_pred):  # a loss written in NumPy
    return tf.constant(np.mean((y_true.numpy() - y_pred.numpy()) ** 2))


regressor = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)], name="regressor")
regressor.compile(optimizer="sgd", loss=numpy_mse)
try:
    regressor.fit(features, targets, epochs=1, verbose=0)
except AttributeError as error:
    print(f"compiled:   {type(error).__name__}: {error}")

regressor.compile(optimizer="sgd", loss=numpy_mse, run_eagerly=True)
try:
    regressor.fit(features, targets, epochs=1, verbose=0)
except ValueError as error:
    print(f"run_eagerly: {type(error).__name__}: {error}")

# %% [markdown]
# ...and meet the message. It means: *every* gradient was `None`. The cause is one of
# the five above, for all variables at once. `diagnose` says which:

# %%
print(
    diagnose(
        lambda: numpy_mse(tf.constant(targets), regressor(features)), regressor.trainable_variables
    )
)

# %% [markdown]
# With a TensorFlow loss, `fit` trains:

# %%
regressor.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.MeanSquaredError())
history = regressor.fit(features, targets, epochs=5, verbose=0)
print("loss per epoch:", np.round(history.history["loss"], 3))

# %% [markdown]
# When only **some** gradients are `None`, Keras does not raise; it warns and skips
# those variables. Hand the optimizer the two-headed model's gradients from section 1:

# %%
import warnings

optimizer = keras.optimizers.SGD(0.1)
with tf.GradientTape() as tape:
    loss = price_loss()
grads = tape.gradient(loss, two_heads.trainable_variables)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    optimizer.apply_gradients(zip(grads, two_heads.trainable_variables, strict=True))
print(f"{caught[0].category.__name__}: {caught[0].message}")

# %% [markdown]
# ## 3. NaN and inf gradients: the `tf.where` trap and `tf.norm` at 0
#
# A common way to "protect" a log or a division is `tf.where`: use `log(p)` where
# `p > 0`, else 0. The values are fine. The gradients are not:

# %%
p = tf.constant([0.0, 0.5, 1.0])


def log_or_zero(p):
    return tf.where(p > 0, tf.math.log(p), 0.0)


def reciprocal_or_zero(p):
    return tf.where(p > 0, 1.0 / p, 0.0)


for function in (log_or_zero, reciprocal_or_zero):
    with tf.GradientTape() as tape:
        tape.watch(p)
        value = function(p)
    gradient = tape.gradient(value, p)
    print(f"{function.__name__:18} value {value.numpy()}  gradient {gradient.numpy()}")
print(diagnose(log_or_zero, inputs={"p": p}, watch_inputs=True)["p"])

# %% [markdown]
# Both branches are computed for every element, and backpropagation goes through
# both. `tf.where` sends a gradient of 0 into the `log` branch at `p = 0`, and `log`
# multiplies it by its derivative there, 1/0 = inf: 0 × inf = NaN. Any branch whose
# value or derivative is infinite where it is *not* selected does this (`log`, `1/x`,
# `sqrt` at 0, ...).
#
# The fix is a **second `tf.where`, on the input**: give `log` a harmless value where
# its result is thrown away, so nothing infinite is ever computed.


# %%
def log_or_zero(p):
    safe_p = tf.where(p > 0, p, 1.0)  # log(1) = 0: finite, and never used
    return tf.where(p > 0, tf.math.log(safe_p), 0.0)


with tf.GradientTape() as tape:
    tape.watch(p)
    value = log_or_zero(p)
print(f"{'double where':18} value {value.numpy()}  gradient {tape.gradient(value, p).numpy()}")
print(diagnose(log_or_zero, inputs={"p": p}, watch_inputs=True)["p"])

# %% [markdown]
# The same trap hides in `tf.norm`: the derivative of ‖v‖ is v / ‖v‖, which is 0/0
# at v = 0. A zero vector is not rare: an all-zero embedding, a padded row.

# %%
v = tf.Variable([0.0, 0.0], name="v")
print(diagnose(lambda: tf.norm(v), [v])["v"])

# %% [markdown]
# Section 8 fixes it with a custom gradient.
#
# ### Exercise 6.2 — a finite gradient for p·log(p), without changing its value
#
# Entropy needs p·log(p), defined as 0 at p = 0. Write `x_log_x(p)`: that value, with
# a finite gradient everywhere (0 at p = 0). The check compares the value and the
# gradient of its sum with the reference.


# %% tags=["exercise"]
def x_log_x(p):
    """Return p * log(p) elementwise, 0 where p == 0, with a finite gradient.

    p: a float32 tensor of values >= 0, some exactly 0.
    Returns a float32 tensor shaped like p.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 6.2: write x_log_x (hint: python -m gradlab.lesson 6 hint 2)"
    )


# %% tags=["check"]
gradlab.check("6.2", x_log_x)

# %% [markdown]
# (TensorFlow has this one built in: `tf.math.xlogy(p, p)` gives 0 and a gradient of
# 0 at p = 0. The double `where` works for any function.)
#
# ## 4. Finding the op that made the NaN: `check_numerics`
#
# In a real model the NaN appears far from where it was made. To check one tensor,
# `tf.debugging.check_numerics` raises if it holds a NaN or an inf:

# %%
with_nan = tf.math.log(tf.constant([-1.0, 1.0]))
try:
    tf.debugging.check_numerics(with_nan, message="log of the inputs")
except tf.errors.InvalidArgumentError as error:
    print(f"{type(error).__name__}: {error.message.split('}}')[-1].strip()}")

# %% [markdown]
# To check **every** op, `tf.debugging.enable_check_numerics()` makes each op check
# its outputs; the first NaN or inf raises and names the op. It is a global switch
# that slows everything down, so it must be turned off again with
# `tf.debugging.disable_check_numerics()`. `gradlab.diagnose.check_numerics()` is a
# `with` block that does both, even when the block raises:

# %%
from gradlab.diagnose import check_numerics

p = tf.constant([0.0, 0.5, 1.0])
try:
    with check_numerics():
        with tf.GradientTape() as tape:
            tape.watch(p)
            value = tf.where(p > 0, tf.math.log(p), 0.0)
        tape.gradient(value, p)
except tf.errors.InvalidArgumentError as error:
    print(next(line for line in error.message.splitlines() if "!!!" in line))
print("after the block, log(-1) =", tf.math.log(tf.constant(-1.0)).numpy(), "(no error)")

# %% [markdown]
# It stopped in the *forward* pass, at `Log`, which made a -inf that `tf.where` hid.
# That -inf is the origin of the NaN gradient, and the place to fix.
#
# ## 5. A Debugger V2 dump: every op, read back
#
# `check_numerics` stops at the first bad value. To see the whole story, dump it:
# `tf.debugging.experimental.enable_dump_debug_info(folder, tensor_debug_mode=
# "FULL_HEALTH")` records, for every op output, how many elements are NaN, -inf and
# +inf. `gradlab.diagnose.dump_debug_info(folder)` switches it on for a `with` block
# and off again after (it is global too). It also works around a trap: TensorFlow
# 2.21 crashes (a segmentation fault) when one process dumps into the same folder
# twice, as re-running a notebook cell would, so each block gets a fresh subfolder.
# Here is the same gradient inside a `tf.function`:

# %%
from gradlab.course import lesson
from gradlab.diagnose import dump_debug_info, nonfinite_ops

dump_root = lesson(6).run_dir / "debugger"


@tf.function
def where_trap_gradient(p):
    with tf.GradientTape() as tape:
        tape.watch(p)
        loss = tf.reduce_sum(tf.where(p > 0, tf.math.log(p), 0.0))
    return tape.gradient(loss, p)


with dump_debug_info(dump_root) as dump_folder:
    gradient = where_trap_gradient(tf.constant([0.0, 0.5, 1.0]))
print("gradient:", gradient.numpy())
print("dump:", dump_folder.relative_to(lesson(6).root))
for op in nonfinite_ops(dump_folder):
    print(" ", op)

# %% [markdown]
# In the order they ran: `Log` made the -inf, the gradient of `log` (a `Reciprocal`)
# turned it into +inf, and the multiplication by the zero from `tf.where` made the
# first NaN. `nonfinite_ops` reads the dump with TensorFlow's own reader,
# `DebugDataReader` (in `tensorflow/python/debug/lib/debug_events_reader.py`); this is
# what it does underneath:

# %%
from tensorflow.python.debug.lib.debug_events_reader import DebugDataReader

with DebugDataReader(str(dump_folder)) as reader:
    reader.update()
    traces = reader.graph_execution_traces()
first = traces[0]
print(f"{len(traces)} op outputs recorded; the first: {first.op_type}")
print("its FULL_HEALTH record:", first.debug_tensor_value)

# %% [markdown]
# The record is `[tensor id, device, dtype, rank, elements, -inf, +inf, NaN, negative,
# zero, positive]`. TensorBoard shows the same dump interactively in its Debugger V2
# tab: `tensorboard --logdir` followed by the dump's folder.
#
# ## 6. Vanishing gradients, layer by layer
#
# Backpropagation multiplies by each layer's derivative on the way back. The
# sigmoid's derivative is at most 1/4, so through ten sigmoid layers the gradient
# shrinks by orders of magnitude before it reaches the first layer. ReLU's derivative
# is 1 where it is active, and He initialisation keeps the signal's scale constant
# from layer to layer.


# %% tags=["setup"]
def deep_network(activation, initializer, depth=10, width=32):
    layers = [keras.Input((width,))]
    layers += [
        keras.layers.Dense(
            width, activation=activation, kernel_initializer=initializer, name=f"dense_{i}"
        )
        for i in range(1, depth + 1)
    ]
    return keras.Sequential([*layers, keras.layers.Dense(1, name="output")], name=activation)


# %%
keras.utils.set_random_seed(0)
inputs_batch = tf.random.normal((64, 32), seed=1)
targets_batch = tf.random.normal((64, 1), seed=2)
sigmoid_net = deep_network("sigmoid", "glorot_uniform")
relu_net = deep_network("relu", "he_normal")


def mse_of(model):
    return lambda: mse(targets_batch, model(inputs_batch))


sigmoid_report = diagnose(mse_of(sigmoid_net), sigmoid_net.trainable_variables)
relu_report = diagnose(mse_of(relu_net), relu_net.trainable_variables)
sigmoid_norms = {k.split("/")[1]: n for k, n in sigmoid_report.layer_norms().items()}
relu_norms = {k.split("/")[1]: n for k, n in relu_report.layer_norms().items()}
print("layer      sigmoid    ReLU + He")
for layer in sigmoid_norms:
    print(f"{layer:9} {sigmoid_norms[layer]:9.2e}  {relu_norms[layer]:9.2e}")

# %% [markdown]
# The sigmoid network's first layer gets a gradient about a million times smaller
# than its last: it will barely move. The ReLU network's norms stay within a factor of
# ten. `diagnose` flags the vanishing layers (below 1e-4 × the largest norm, a
# threshold you can change with `vanishing=`):

# %%
print("vanishing:", sorted({item.layer.split("/")[1] for item in sigmoid_report.problems}))
print("ReLU + He healthy:", relu_report.ok)

# %%
import matplotlib.pyplot as plt

from gradlab import plots

plots.gradient_flow(
    {"sigmoid, Glorot init": sigmoid_norms, "ReLU, He init": relu_norms},
    title="gradient flow: norm of each layer's gradient",
)
plt.show()

# %% [markdown]
# To watch this during training rather than once, log the same norms to TensorBoard
# with `gradlab.tensorboard.log_gradients` (lesson 3) and read them back:

# %%
import shutil

from gradlab import tensorboard

log_dir = lesson(6).run_dir / "vanishing"
shutil.rmtree(log_dir, ignore_errors=True)
writer = tensorboard.create_writer(log_dir)
sgd = keras.optimizers.SGD(0.1)
for step in range(5):
    with tf.GradientTape() as tape:
        loss = mse_of(sigmoid_net)()
    grads = tape.gradient(loss, sigmoid_net.trainable_variables)
    tensorboard.log_gradients(
        zip(grads, sigmoid_net.trainable_variables, strict=True),
        step,
        writer=writer,
        histograms=False,
    )
    sgd.apply_gradients(zip(grads, sigmoid_net.trainable_variables, strict=True))
writer.flush()
scalars = tensorboard.read_scalars(log_dir, run=".")
for tag in ("grad_norm/sigmoid/dense_1/kernel", "grad_norm/sigmoid/output/kernel"):
    print(f"{tag:34}", np.array2string(scalars[tag].values, precision=2))

# %% [markdown]
# Five steps of SGD later the first layer's gradient is still around 10⁻⁶, while the
# output layer's is in the units: training does not rescue a network whose gradients
# vanish. Change the architecture instead.

# %% [markdown]
# ### Exercise 6.3 — the gradient norm of each layer
#
# Write `layer_gradient_norms(model, x, y)`: for the mean squared error of `model(x)`
# against `y`, the L2 norm of each layer's gradient, **kernel and bias together**, as
# a dict keyed by `layer.name`.


# %% tags=["exercise"]
def layer_gradient_norms(model, x, y):
    """Return {layer.name: norm of that layer's whole gradient} for the MSE loss.

    model: a Keras Sequential model of Dense layers.
    x: a float32 tensor (N, features); y: a float32 tensor (N, 1).
    Returns a dict with one float32 scalar per layer that has variables.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 6.3: write layer_gradient_norms (hint: python -m gradlab.lesson 6 hint 3)"
    )


# %% tags=["check"]
gradlab.check("6.3", layer_gradient_norms)

# %% [markdown]
# ## 7. Exploding gradients and clipping
#
# The opposite failure: weights initialised too large make every layer amplify the
# signal, and both the loss and the gradients grow enormous.

# %%
keras.utils.set_random_seed(0)
exploding_net = deep_network("relu", keras.initializers.RandomNormal(stddev=0.5))
initial_weights = exploding_net.get_weights()
report = diagnose(mse_of(exploding_net), exploding_net.trainable_variables)
print(f"loss {report.loss:.4g}")
print("largest layer norm:", f"{max(report.layer_norms().values()):.3g}")
print(
    "exploding:",
    sum(item.status == "exploding" for item in report.sources),
    "of",
    len(report.sources),
)

# %% [markdown]
# One plain SGD step with such a gradient throws the weights far away. Clipping
# rescales the gradient before the step. `tf.clip_by_global_norm(grads, max_norm)`
# scales **all** gradients by one factor, min(1, max_norm / global norm), so the
# update keeps its direction:


# %%
def losses_after_steps(clip, steps=4, learning_rate=0.01):
    exploding_net.set_weights(initial_weights)
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = mse_of(exploding_net)()
        grads = tape.gradient(loss, exploding_net.trainable_variables)
        if clip:
            grads, _ = tf.clip_by_global_norm(grads, 1.0)
        for variable, grad in zip(exploding_net.trainable_variables, grads, strict=True):
            variable.assign_sub(learning_rate * grad)
        losses.append(float(loss))
    losses.append(float(mse_of(exploding_net)()))
    return np.array(losses)


print("plain SGD:   ", np.array2string(losses_after_steps(clip=False), precision=4))
print("clipped to 1:", np.array2string(losses_after_steps(clip=True), precision=4))

# %% [markdown]
# The clipped gradient points the same way as the original, with norm 1:

# %%
exploding_net.set_weights(initial_weights)
with tf.GradientTape() as tape:
    loss = mse_of(exploding_net)()
grads = tape.gradient(loss, exploding_net.trainable_variables)
clipped, global_norm = tf.clip_by_global_norm(grads, 1.0)
flat = tf.concat([tf.reshape(g, [-1]) for g in grads], axis=0)
flat_clipped = tf.concat([tf.reshape(g, [-1]) for g in clipped], axis=0)
cosine = tf.reduce_sum(flat * flat_clipped) / (tf.norm(flat) * tf.norm(flat_clipped))
print(f"global norm {global_norm:.4g} -> {tf.linalg.global_norm(clipped):.4g}")
print(f"cosine between the two directions: {cosine:.4f}")

# %% [markdown]
# Keras optimizers clip for you, but read the option names carefully: `clipnorm=`
# clips **each variable's** gradient on its own, `global_clipnorm=` clips them
# together. Two gradients of norms 5 and 12 (global norm 13), clipped to 1:

# %%
gradient_pair = [tf.constant([3.0, 4.0]), tf.constant([12.0])]
for option in ({"clipnorm": 1.0}, {"global_clipnorm": 1.0}):
    pair = [tf.Variable([0.0, 0.0]), tf.Variable([0.0])]
    keras.optimizers.SGD(learning_rate=1.0, **option).apply_gradients(
        zip(gradient_pair, pair, strict=True)
    )
    first, second = (-variable.numpy() for variable in pair)
    print(f"{next(iter(option)):16} steps {first} and {second}")

# %% [markdown]
# With `clipnorm` both parts are cut to norm 1, so the update is no longer parallel to
# the gradient (and its total norm is √2). With `global_clipnorm` the step is the
# gradient × 1/13.
#
# ### Exercise 6.4 — clip gradients by their global norm
#
# Write `clip_gradients(grads, max_norm)`: the list of gradients, scaled together so
# that their global norm is at most `max_norm` (unchanged if it already is).


# %% tags=["exercise"]
def clip_gradients(grads, max_norm):
    """Return grads scaled by min(1, max_norm / global_norm(grads)).

    grads: a list of float32 tensors of any shapes.
    max_norm: a positive Python float.
    Returns a list of tensors with the same shapes.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 6.4: write clip_gradients (hint: python -m gradlab.lesson 6 hint 4)"
    )


# %% tags=["check"]
gradlab.check("6.4", clip_gradients)

# %% [markdown]
# ## 8. Custom gradients that fix unstable ones
#
# When the automatic derivative is numerically wrong, you can supply your own with
# `tf.custom_gradient`: the function returns its value and a `grad(upstream)` that
# returns upstream × the local derivative. Here is a norm whose gradient is 0 (a
# valid subgradient) instead of NaN at the zero vector:


# %%
@tf.custom_gradient
def safe_norm(v):
    norm = tf.norm(v, axis=-1)

    def grad(upstream):
        nonzero = norm[..., None] > 0
        safe = tf.where(nonzero, norm[..., None], 1.0)
        return upstream[..., None] * tf.where(nonzero, v / safe, 0.0)

    return norm, grad


rows = tf.constant([[0.0, 0.0], [3.0, 4.0]])
with tf.GradientTape() as tape:
    tape.watch(rows)
    norms = safe_norm(rows)
print(
    "norms:",
    norms.numpy(),
    " gradient:",
    tape.gradient(norms, rows).numpy().astype(float).round(4).tolist(),
)
rows_variable = tf.Variable(rows, name="rows")
for name, norm_of in (("tf.norm", lambda r: tf.norm(r, axis=-1)), ("safe_norm", safe_norm)):
    found = diagnose(lambda f=norm_of: tf.reduce_sum(f(rows_variable)), [rows_variable])
    print(f"diagnose, {name:9}: {found['rows'].verdict}")

# %% [markdown]
# A hand-written gradient is a claim; check it against finite differences with
# `gradlab.gradcheck` (lesson 4). The check also multiplies the output by random
# weights, so a `grad` that forgot `upstream` would fail:

# %%
from gradlab.gradcheck import check_gradients

report = check_gradients(safe_norm, [tf.constant([[1.0, -2.0], [0.0, 0.0], [3.0, 4.0]])])
print("ok:", report.ok, f" max rel error {report.max_rel_error:.1e}")

# %% [markdown]
# ### Exercise 6.5 — a stable softplus with a custom gradient
#
# softplus(x) = log(1 + eˣ) is smooth and its derivative is the sigmoid. Written
# naively it overflows: e¹⁰⁰ is inf in float32. The stable formula
# max(x, 0) + log1p(e^-|x|) has the right value, but autodiff through its two kinks at
# 0 gives the wrong derivative there (1 instead of 0.5):

# %%
points = tf.constant([-100.0, 0.0, 100.0])
for name, formula in (
    ("log(1 + exp(x))", lambda t: tf.math.log(1.0 + tf.exp(t))),
    (
        "max(x,0) + log1p(exp(-|x|))",
        lambda t: tf.maximum(t, 0.0) + tf.math.log1p(tf.exp(-tf.abs(t))),
    ),
):
    with tf.GradientTape() as tape:
        tape.watch(points)
        values = formula(points)
    print(f"{name:28} value {values.numpy()}  gradient {tape.gradient(values, points).numpy()}")

# %% [markdown]
# Write `softplus(x)` with `@tf.custom_gradient`: the stable value, and the gradient
# upstream × sigmoid(x). The check compares values and gradients at 0, ±1, 30, ±89,
# ±100 and random points.


# %% tags=["exercise"]
@tf.custom_gradient
def softplus(x):
    """Return log(1 + exp(x)), stable for large |x|, and its gradient function.

    x: a float32 tensor.
    Returns (value, grad): value shaped like x, grad(upstream) -> upstream * sigmoid(x).
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 6.5: write softplus (hint: python -m gradlab.lesson 6 hint 5)"
    )


# %% tags=["check"]
gradlab.check("6.5", softplus)

# %% [markdown]
# ## Summary
#
# - **`None`**: not watched, integer dtype, went through NumPy, replaced by a tensor,
#   or unused. `gradlab.diagnose.diagnose` names which by watching, inspecting and
#   moving each source. Keras's "No gradients provided for any variable" means all of
#   them were `None`; a partial `None` only warns.
# - **NaN/inf**: `tf.where` does not stop gradients from an infinite branch: mask the
#   input too (double `where`). `tf.norm` has a NaN gradient at 0. Find the first bad
#   op with `check_numerics` or a Debugger V2 dump, and always switch them off again.
# - **Vanishing**: compare per-layer gradient norms; deep sigmoid stacks vanish, ReLU
#   with He initialisation does not.
# - **Exploding**: clip by the *global* norm (`tf.clip_by_global_norm`,
#   `global_clipnorm=`); `clipnorm=` clips each variable separately.
# - **Custom gradients** fix unstable derivatives without changing the value; verify
#   them with `gradlab.gradcheck`.
#
# Next: lesson 7 computes gradients across devices.
