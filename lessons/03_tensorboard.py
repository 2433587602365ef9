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
# # TensorBoard: watching gradients while a model trains
#
# `tape.gradient` shows you one gradient at one moment. Training takes thousands of
# steps, and the interesting question is how the gradients *change*: does a layer stop
# learning, does a norm explode? TensorBoard draws that, from *summaries* your code
# writes to event files. In this lesson you will write gradient summaries correctly
# (the first source article's example did not), log every variable's gradient norm and
# histogram from a custom training loop, a `tf.function` and Keras `fit`, and read the
# logs back to plot and analyse them yourself.
#
# **How to work.** As in lesson 1: read, run, then write each exercise where it says
# `# YOUR CODE HERE`. The cell after it checks what your code *really wrote* to a log
# directory.
#
# ```
# python -m gradlab.lesson 3 check      # check every exercise in this file
# python -m gradlab.lesson 3 hint 2     # a hint for exercise 2
# ```

# %% tags=["setup"]
import gradlab

gradlab.quiet_tensorflow()  # first: keeps TensorFlow's start-up noise out of your output

# isort: split
import keras
import numpy as np
import tensorflow as tf

from gradlab.tensorboard import read_scalars

keras.utils.set_random_seed(0)

# %% [markdown]
# Every log of this lesson goes under `runs/lesson03/` in the course folder. We empty
# it first, so that running the lesson twice gives the same logs, not twice as many
# points.

# %%
import os
import shutil
import subprocess

import matplotlib.pyplot as plt

from gradlab import plots
from gradlab.course import lesson
from gradlab.tensorboard import (
    GradientTensorBoard,
    list_runs,
    log_gradients,
    read_histograms,
)

LOGS = lesson(3).run_dir
shutil.rmtree(LOGS, ignore_errors=True)
print("logs go to", LOGS.relative_to(lesson(3).root).as_posix())

# %% [markdown]
# ## 1. The article's example, and what is wrong with it
#
# The first source article tells you to "create an event folder with
# `tf.summary.FileWriter()`". That is TensorFlow 1. In TensorFlow 2 the name is gone,
# and its `compat.v1` ghost refuses to run eagerly:

# %%
try:
    tf.summary.FileWriter(str(LOGS / "article"))
except AttributeError as error:
    print(f"{type(error).__name__}: {error}")
try:
    tf.compat.v1.summary.FileWriter(str(LOGS / "article"))
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# The article's *code* does use the TF2 writer, `tf.summary.create_file_writer`. Here
# it is, with its folder moved under `runs/`. It logs f(x) = 3x² and its slope at x = 3:

# %%
ARTICLE = LOGS / "article"

x = tf.Variable(3.0)


def f_x(x):
    return 3 * x**2


writer = tf.summary.create_file_writer(str(ARTICLE))
with writer.as_default():
    with tf.GradientTape() as tape:
        y = f_x(x)
    tf.summary.scalar("y", y, step=0)
    grads = tape.gradient(y, x)
    tf.summary.scalar("grads", grads, step=0)

for tag, (steps, values) in read_scalars(ARTICLE).items():
    print(f"{tag:6} steps={steps.tolist()} values={values.tolist()}")

# %% [markdown]
# `read_scalars` (from `gradlab.tensorboard`) reads an event folder back with
# TensorBoard's own reader: the file holds y = 27 and its gradient 18 at step 0.
#
# The article then starts TensorBoard with `tensorboard --logdir=len(logdir)`, "in a
# console", or through `os.system` from Python. Both hand that line to a shell, and no
# shell accepts it:

# %%
shell = shutil.which("bash") or shutil.which("sh")
result = subprocess.run(
    [shell, "-c", "tensorboard --logdir=len(logdir)"], capture_output=True, text=True
)
print(result.stderr.strip())

# %% [markdown]
# Even in Python syntax `len(logdir)` would be the *length* of the folder's name, not
# the folder. The command takes the folder itself:
#
# ```
# tensorboard --logdir runs/lesson03/article
# ```
#
# run from the course folder (section 9 shows the full command for this lesson).
#
# ## 2. Why a summary writes nothing
#
# `tf.summary.scalar` has no `writer` argument. It writes to the **default writer**,
# the one whose `as_default()` block you are in. Outside any such block it does
# nothing at all, and says so only through its return value:

# %%
SILENT = LOGS / "silent"
writer = tf.summary.create_file_writer(str(SILENT))

print("written without a default writer?", bool(tf.summary.scalar("grads", 18.0, step=0)))

# %% [markdown]
# No error, no warning: the classic reason for an empty TensorBoard. The second
# requirement is a **step**, the x-axis of every TensorBoard chart. Forget it, and
# this time TensorFlow does complain:

# %%
with writer.as_default():
    try:
        tf.summary.scalar("grads", 18.0)
    except ValueError as error:
        print(f"{type(error).__name__}: {error}")

# %% [markdown]
# (`tf.summary.experimental.set_step(step)` sets a default step, if you prefer.)
#
# The third trap is **buffering**. A writer keeps events in memory (up to 10, or
# 2 minutes by default) before it writes them to the file. Leaving an `as_default()`
# block flushes it, but inside one, in the middle of training, TensorBoard and any
# reader see nothing yet:

# %%
with writer.as_default():
    for step in range(3):
        tf.summary.scalar("grads", 18.0 + step, step=step)
    print("inside the block:    ", read_scalars(SILENT))
    writer.flush()
    print("after writer.flush():", read_scalars(SILENT))

# %% [markdown]
# So: a writer made default with `with writer.as_default():`, a step on every summary,
# and a flush (or the end of the block) before you look.
#
# ### Exercise 3.1 — log a gradient at each step
#
# Write `log_slopes(f, xs, writer)`: for each point `xs[i]`, compute df/dx there and
# write it with `writer` as the scalar `"slope"` at step `i`. The check gives you a
# writer for a fresh temporary folder, and reads that folder the moment your function
# returns.


# %% tags=["exercise"]
def log_slopes(f, xs, writer):
    """Write df/dx at each point of xs as the scalar "slope", at steps 0, 1, 2, ...

    f: a function of one scalar tensor, e.g. ``lambda x: 3 * x ** 2``.
    xs: a list of Python floats.
    writer: a tf.summary writer to log to.
    Returns nothing; what counts is what the log folder holds when it returns.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 3.1: write log_slopes (hint: python -m gradlab.lesson 3 hint 1)"
    )


# %% tags=["check"]
gradlab.check("3.1", log_slopes)

# %% [markdown]
# ## 3. The second article's linear regression, with its gradients logged
#
# The second source article trains a one-unit `Dense` layer on y = 2x + 1. Fixed for
# Keras 3 (an `Input` instead of `input_shape`, x with shape (100, 1), the loss as an
# object), here is its training step, logging for **each variable** the L2 norm of its
# gradient (a scalar) and the gradient's histogram. The tag is built from
# `variable.path`, which is unique in a model:

# %%
x_train = tf.random.normal((100, 1), seed=1)
y_train = 2 * x_train + 1

linear = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, name="dense")], name="linear")
loss_fn = keras.losses.MeanSquaredError()
optimizer = keras.optimizers.SGD(learning_rate=0.1)
linear_writer = tf.summary.create_file_writer(str(LOGS / "custom_loop" / "linear"))


@tf.function
def train_step(x, y, step):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, linear(x))
    grads = tape.gradient(loss, linear.trainable_variables)
    with linear_writer.as_default():  # made default inside the traced function
        for variable, grad in zip(linear.trainable_variables, grads, strict=True):
            tf.summary.scalar(f"grad_norm/{variable.path}", tf.norm(grad), step=step)
            tf.summary.histogram(f"grad_hist/{variable.path}", grad, step=step)
        tf.summary.scalar("loss", loss, step=step)
    optimizer.apply_gradients(zip(grads, linear.trainable_variables, strict=True))
    return loss


for step in range(40):
    loss = train_step(x_train, y_train, tf.constant(step, tf.int64))

kernel, bias = (float(v.numpy().squeeze()) for v in linear.trainable_variables)
print(f"loss {float(loss):.2e}   kernel {kernel:.4f}   bias {bias:.4f}")
print("traces of train_step:", train_step.experimental_get_tracing_count())

# %% [markdown]
# The line is learned (2 and 1), and `train_step` was traced **once** for 40 steps.
# The logs hold one norm series and one histogram series per variable:

# %%
linear_norms = read_scalars(LOGS / "custom_loop" / "linear")
for tag, (steps, norms) in linear_norms.items():
    print(f"{tag:28} {len(steps)} points, first {norms[0]:.4f}, last {norms[-1]:.2e}")
print(list(read_histograms(LOGS / "custom_loop" / "linear")))

# %% [markdown]
# Both gradient norms shrink towards 0 as the fit converges, as they should at a
# minimum of the loss.
#
# ### Exercise 3.2 — norms and histograms for every variable of a model
#
# Write `log_model_gradients(model, x, y, step, writer)`: compute the gradients of the
# mean squared error of `model(x)` against `y` for every trainable variable, and write
# `grad_norm/<path>` (the gradient's L2 norm) and `grad_hist/<path>` (its histogram) at
# `step`, where `<path>` names the variable uniquely. The models have two `Dense`
# layers.


# %% tags=["exercise"]
def log_model_gradients(model, x, y, step, writer):
    """Write each trainable variable's gradient norm and histogram at one step.

    model: a Keras model with one output unit.
    x: a float32 tensor (N, features); y: a float32 tensor (N, 1).
    step: a Python int.
    writer: a tf.summary writer to log to.
    Writes grad_norm/<path> (a scalar) and grad_hist/<path> (a histogram) per variable.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 3.2: write log_model_gradients (hint: python -m gradlab.lesson 3 hint 2)"
    )


# %% tags=["check"]
gradlab.check("3.2", log_model_gradients)

# %% [markdown]
# ## 4. Summaries inside `tf.function`: the step, and the writer
#
# Two rules made `train_step` above work. First, **the step is an int64 tensor**. A
# `tf.function` is traced again for every new *Python* value of an argument, so a
# Python int step builds a new graph at every step:

# %%
scratch = tf.summary.create_file_writer(str(LOGS / "scratch"))


@tf.function
def log_one(value, step):
    with scratch.as_default():
        tf.summary.scalar("value", value, step=step)


tf.get_logger().setLevel("ERROR")  # TensorFlow would also warn about the retracing
for step in range(5):
    log_one(1.0, step)  # a Python int
print("traces with Python int steps:   ", log_one.experimental_get_tracing_count())

for step in range(5, 10):
    log_one(1.0, tf.constant(step, tf.int64))
print("traces after 5 int64-tensor steps:", log_one.experimental_get_tracing_count())
tf.get_logger().setLevel("WARNING")

# %% [markdown]
# Five traces for five int steps; the five tensor steps added one trace in all.
# (TensorFlow notices too, and logs a warning that the calls "triggered tf.function
# retracing"; the cell above silenced it.)
#
# Second, **make the writer default inside the function**. A summary op is tied to the
# default writer *at trace time*. A function first traced with no default writer has
# no summary ops in its graph, and calling it later inside `as_default()` changes
# nothing:


# %%
@tf.function
def log_outside(step):
    tf.summary.scalar("outside", 1.0, step=step)


log_outside(tf.constant(0, tf.int64))  # traced here, with no default writer
with scratch.as_default():
    for step in range(1, 4):
        log_outside(tf.constant(step, tf.int64))
print("'outside' in the log?", "outside" in read_scalars(LOGS / "scratch"))

# %% [markdown]
# Making the writer default inside the function has a price. Leaving an `as_default()`
# block flushes the writer, and inside a `tf.function` that exit is traced too: the
# graph ends with a `FlushSummaryWriter` operation, so **every step writes to disk**.
# Measured on this course's 2-core machine over 300 one-scalar steps, that was one
# extra `write` system call per step (361 against 86, counted with `strace`) and no
# time we could tell from noise (0.4 to 0.6 ms a step either way); where a write is a
# network request (a cloud bucket, a network file system) it is one round trip per
# step. The alternative is to make the writer default **around the loop**, before the
# function's first call, so that the trace sees it; the graph then has no flush, and
# the writer flushes once, when the block ends:


# %%
def flush_ops(function, *args):
    """How many FlushSummaryWriter operations the traced graph of function(*args) holds."""
    graph = function.get_concrete_function(*args).graph
    return sum(op.type == "FlushSummaryWriter" for op in graph.get_operations())


around = tf.summary.create_file_writer(str(LOGS / "around"))


@tf.function
def log_step(value, step):
    tf.summary.scalar("value", value, step=step)  # no as_default() in here


with around.as_default():  # default before the first call, so the trace sees it
    for step in range(5):
        log_step(1.0, tf.constant(step, tf.int64))
    first = tf.constant(0, tf.int64)
    print("flushes per step, writer default inside: ", flush_ops(log_one, 1.0, first))
    print("flushes per step, writer default around: ", flush_ops(log_step, 1.0, first))
print("steps logged around the loop:", read_scalars(LOGS / "around")["value"].steps.tolist())

# %% [markdown]
# The catch is the one shown just above: a function first traced *outside* the block
# logs nothing, ever. Keep its first call inside it.
#
# Logging every step is rarely needed. `tf.summary.record_if(condition)` turns every
# summary inside it on or off; inside a `tf.function` the condition can be a tensor,
# so one trace logs every tenth step:


# %%
@tf.function
def log_every_tenth(value, step):
    with tf.summary.record_if(step % 10 == 0):
        tf.summary.scalar("every_tenth", value, step=step)


with around.as_default():
    for step in range(35):
        log_every_tenth(1.0, tf.constant(step, tf.int64))
print("steps logged:", read_scalars(LOGS / "around")["every_tenth"].steps.tolist())
print("traces:", log_every_tenth.experimental_get_tracing_count())

# %% [markdown]
# ### Exercise 3.3 — a training loop that logs under `tf.function`
#
# Write `train_with_logging(model, x, y, steps, writer)`: train `model` for `steps`
# steps of `keras.optimizers.SGD(learning_rate=0.1)` on the whole batch (mean squared
# error), with the step in a `tf.function`, and log `grad_norm/<path>` for every
# variable at steps 0, 1, ..., `steps - 1` (the gradient used in that step). The check
# counts how many times your step function was traced: it must be once.


# %% tags=["exercise"]
def train_with_logging(model, x, y, steps, writer):
    """Train with SGD(0.1) for `steps` steps in a tf.function, logging gradient norms.

    model: a Keras model with one output unit.
    x: a float32 tensor (N, features); y: a float32 tensor (N, 1).
    steps: a Python int.
    writer: a tf.summary writer to log to.
    Writes grad_norm/<path> for every trainable variable at steps 0 .. steps - 1.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 3.3: write train_with_logging (hint: python -m gradlab.lesson 3 hint 3)"
    )


# %% tags=["check"]
gradlab.check("3.3", train_with_logging)

# %% [markdown]
# ## 5. One line for every variable: `gradlab.tensorboard.log_gradients`
#
# The loop in section 3 is what `gradlab.tensorboard.log_gradients(grads_and_vars,
# step)` does for you, plus `grad_global_norm`, the norm of all gradients together
# (what `tf.clip_by_global_norm` looks at). It skips a `None` gradient with a warning
# that names the variable, and refuses integer gradients. Here it logs a small MLP
# learning a sine curve, where norms differ from layer to layer:

# %%
x_wave = tf.random.uniform((256, 1), -2.0, 2.0, seed=3)
y_wave = tf.sin(2.0 * x_wave)


def make_mlp():
    return keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(16, activation="tanh", name="hidden1"),
            keras.layers.Dense(16, activation="tanh", name="hidden2"),
            keras.layers.Dense(1, name="output"),
        ],
        name="mlp",
    )


keras.utils.set_random_seed(1)
mlp = make_mlp()
mlp_optimizer = keras.optimizers.SGD(learning_rate=0.1)
mlp_writer = tf.summary.create_file_writer(str(LOGS / "custom_loop" / "mlp"))


@tf.function
def mlp_step(x, y, step):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, mlp(x))
    grads = tape.gradient(loss, mlp.trainable_variables)
    with mlp_writer.as_default():
        log_gradients(zip(grads, mlp.trainable_variables, strict=True), step)
    mlp_optimizer.apply_gradients(zip(grads, mlp.trainable_variables, strict=True))
    return loss


for step in range(200):
    loss = mlp_step(x_wave, y_wave, tf.constant(step, tf.int64))
mlp_writer.flush()
print(
    f"loss after 200 steps: {float(loss):.4f}; traces: {mlp_step.experimental_get_tracing_count()}"
)

# %% [markdown]
# ## 6. Keras `fit`: the stock callback logs weights, not gradients
#
# `keras.callbacks.TensorBoard(histogram_freq=1)` writes *weight* histograms, and a
# callback never sees the gradients: they live inside the compiled train step. (Its
# `write_grads` option had been ignored, with a warning, since TensorFlow 2.0; Keras 3
# removed the argument, so passing it is now a `TypeError`, shown below.)
# `gradlab.tensorboard.GradientTensorBoard` hooks the one place the train step hands
# them over, the optimizer, and writes the same tags as `log_gradients`, in the run
# `<log_dir>/gradients`.
#
# To compare with the custom loop, `fit` should take the same 200 full-batch steps.
# `fit(x_wave, y_wave, batch_size=256, epochs=200)` would, but given arrays, `fit`
# starts a new pass over its input pipeline at every epoch, and for a one-batch epoch
# that costs many times the step itself. A `tf.data` dataset that repeats the one
# batch forever, read `steps_per_epoch=1` at a time, is opened once and feeds the
# same batch in the same order (`shuffle=False`: Keras would warn that it cannot
# shuffle a dataset). Side by side:

# %%
try:
    keras.callbacks.TensorBoard(str(LOGS / "fit"), write_grads=True)
except TypeError as error:
    print(f"TypeError: {error}")

keras.utils.set_random_seed(1)
fitted = make_mlp()
fitted.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=keras.losses.MeanSquaredError()
)
one_batch_forever = tf.data.Dataset.from_tensors((x_wave, y_wave)).repeat()
history = fitted.fit(
    one_batch_forever,
    steps_per_epoch=1,
    epochs=200,
    shuffle=False,
    verbose=0,
    callbacks=[
        keras.callbacks.TensorBoard(str(LOGS / "fit"), histogram_freq=50),
        GradientTensorBoard(LOGS / "fit"),
    ],
)
print(f"loss after 200 epochs: {history.history['loss'][-1]:.4f}")
print("runs:", list_runs(LOGS / "fit"))
print("histograms in 'train':    ", [t for t in read_histograms(LOGS / "fit", run="train")][:2])
print(
    "histograms in 'gradients':", [t for t in read_histograms(LOGS / "fit", run="gradients")][:2]
)

# %% [markdown]
# With one batch per epoch, `fit` takes the same 200 steps as the custom loop from the
# same initial weights, and prints the same loss (`history` keeps each epoch's loss,
# here the loss of its one step). The `train` run holds the weights; only the
# `gradients` run holds gradients. Its steps count optimizer updates from 1.
#
# ## 7. Reading the logs back, and plotting gradient norms per layer
#
# TensorBoard is one way to look at the logs; numpy is another. `read_scalars(logdir)`
# returns `{tag: (steps, values)}` for every run below `logdir` (tags prefixed by the
# run), `read_histograms` the histograms:

# %%
custom = read_scalars(LOGS / "custom_loop" / "mlp")
from_fit = read_scalars(LOGS / "fit", run="gradients")


def kernel_norms(scalars):
    """{layer: (steps, norms)} for the kernel gradients among the grad_norm/ tags."""
    return {
        tag.split("/")[2]: series
        for tag, series in scalars.items()
        if tag.startswith("grad_norm/") and tag.endswith("/kernel")
    }


figure = plots.gradient_norms_per_layer(
    {
        "custom loop, tf.function": kernel_norms(custom),
        "model.fit + GradientTensorBoard": kernel_norms(from_fit),
    }
)
plt.show()
for layer, (steps, norms) in kernel_norms(custom).items():
    peak = 20 + np.argmax(norms[20:])
    print(
        f"{layer:8} kernel gradient norm: step 0 {norms[0]:.3f}, step 20 {norms[20]:.3f}, "
        f"largest after that {norms[peak]:.3f} at step {steps[peak]}, step 199 {norms[-1]:.3f}"
    )

# %% [markdown]
# The two panels agree: the same model, data and optimizer give the same gradients
# whether you write the loop or `fit` does (`fit` counts steps from 1). The norms fall
# fast in the first steps, then, long after, burst: at steps 141 and 142 every layer's
# gradient is 30 to 50 times its size at step 20, and a few steps later training has
# recovered. The per-layer norms show when it happened, and in which layers. Exercise
# 3.5 finds such a moment from the logs alone.
#
# A histogram is a list of buckets; `plt.stairs(counts, edges)` draws one:

# %%
first, last = read_histograms(LOGS / "custom_loop" / "mlp")["grad_hist/mlp/hidden1/kernel"][::199]
for snapshot in (first, last):
    print(
        f"step {snapshot.step:3}: {snapshot.counts.sum():.0f} numbers "
        f"between {snapshot.edges[0]:+.4f} and {snapshot.edges[-1]:+.4f}"
    )

# %% [markdown]
# ### Exercise 3.4 — read logged norms back into arrays
#
# Write `read_norms(logdir, path)`: the steps and the values of the scalar
# `grad_norm/<path>` in the log folder `logdir`, as two numpy arrays. The check writes
# logs the way `GradientTensorBoard(every_n_steps=...)` does: not every step is there.


# %% tags=["exercise"]
def read_norms(logdir, path):
    """Return (steps, norms): the logged grad_norm/<path> scalar of logdir, as arrays.

    logdir: a log folder holding event files (one run).
    path: a variable path, e.g. "mlp/dense/kernel".
    Returns two 1-D numpy arrays of the same length: integer steps, float norms.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 3.4: write read_norms (hint: python -m gradlab.lesson 3 hint 4)"
    )


# %% tags=["check"]
gradlab.check("3.4", read_norms)

# %% [markdown]
# ### Exercise 3.5 — when did a gradient explode? From the logs alone
#
# Write `first_step_above(logdir, threshold)`: the first logged step at which the
# gradient norm of **any one variable** (a `grad_norm/...` tag) is greater than
# `threshold`, or `None` if none ever is. The logs also hold `grad_global_norm` and
# histograms.


# %% tags=["exercise"]
def first_step_above(logdir, threshold):
    """Return the first step at which some grad_norm/<path> scalar exceeds threshold.

    logdir: a log folder holding event files (one run).
    threshold: a Python float.
    Returns a Python int (a logged step), or None if no variable's norm ever exceeds it.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 3.5: write first_step_above (hint: python -m gradlab.lesson 3 hint 5)"
    )


# %% tags=["check"]
gradlab.check("3.5", first_step_above)

# %% [markdown]
# ## 8. Tags: unique and stable
#
# The article ends with the advice "make sure all variable names are unique", or two
# curves land in one chart. What must be unique is the summary's **tag**: TensorBoard
# never sees a variable's name, and two variables may share one (the errata page logs
# two both named `x`). But tags are built from names, and in Keras 3 a variable's
# `name` is *not* unique; its `path` is:

# %%
for variable in mlp.trainable_variables[:4]:
    print(f"name={variable.name:7} path={variable.path}")

# %% [markdown]
# Tags built from `name` would put three layers' kernels in one `grad_norm/kernel`
# chart. `log_gradients` uses the path, ignores any `tf.name_scope` you are in (so the
# same variable gets the same tag eagerly, in a `tf.function` and in `fit`), and
# numbers plain `tf.Variable`s that share a name, with a warning.
#
# ## 9. Opening TensorBoard
#
# The logs are ready. From a terminal in the course folder:

# %%
print("tensorboard --logdir", LOGS.relative_to(lesson(3).root).as_posix())

# %% [markdown]
# then open the address it prints (http://localhost:6006/). In a notebook, TensorBoard
# runs inside the page; the folder is relative to the notebook's own folder:

# %%
print("%load_ext tensorboard")
print("%tensorboard --logdir", os.path.relpath(LOGS).replace(os.sep, "/"))

# %% [markdown]
# The *Scalars* tab shows `grad_norm/...` per variable for the runs `custom_loop/linear`,
# `custom_loop/mlp` and `fit/gradients`; the *Histograms* and *Distributions* tabs
# show `grad_hist/...`; the *Graphs* tab shows the graph written below. From Python,
# `gradlab.tensorboard.start_tensorboard(logdir)` starts a server on 127.0.0.1 on a
# free port and returns its `url` and `stop()`.
#
# ### The Graphs dashboard: `tf.summary.trace_on` / `trace_export`
#
# TensorBoard can also draw the graph a `tf.function` traced, with the operations the
# tape added for the gradient. Turn tracing on, call the function (its first call
# traces it), and export what was recorded while a writer is default:

# %%
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorflow.core.protobuf import config_pb2


@tf.function
def gradient_of_square(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = 3 * x**2
    return tape.gradient(y, x)


graph_writer = tf.summary.create_file_writer(str(LOGS / "graph"))
tf.summary.trace_on(graph=True)
print("gradient at 3:", gradient_of_square(tf.constant(3.0)).numpy())
with graph_writer.as_default():
    tf.summary.trace_export("gradient_of_square", step=0)
graph_writer.flush()

events = EventAccumulator(str(LOGS / "graph"))
events.Reload()
print("plugin:", events.SummaryMetadata("gradient_of_square").plugin_data.plugin_name)
metadata = config_pb2.RunMetadata.FromString(
    tf.make_ndarray(events.Tensors("gradient_of_square")[0].tensor_proto).item()
)
nodes = metadata.function_graphs[0].pre_optimization_graph.node
print(
    len(nodes), "nodes, among them:", sorted({node.op for node in nodes} & {"Pow", "Mul", "Sub"})
)

# %% [markdown]
# The event holds the traced graph (the plugin the *Graphs* tab reads): the forward
# `Pow` and `Mul`, and the gradient's `Mul`s and `Sub` (the exponent 2 − 1) that the
# tape added. `trace_on(graph=True, profiler=False)` records graphs only; with
# `profiler=True` it also records timings, at a cost, so keep it to a step or two.
#
# ## 10. Sparse gradients: `tf.IndexedSlices`
#
# An `Embedding` layer (or `tf.gather`) reads a few rows of a big table, so the tape
# does not return a dense gradient for the table. It returns a `tf.IndexedSlices`: the
# `indices` of the rows that were read, one row of `values` per read, and the
# `dense_shape` of the table. A row read twice appears twice:

# %%
embedding = keras.layers.Embedding(100, 4, name="embedding")
embedding.build((None,))
ids = tf.constant([3, 3, 7])  # row 3 is read twice
with tf.GradientTape() as tape:
    loss = tf.reduce_sum(embedding(ids) * tf.constant([1.0, 2.0, 3.0, 4.0]))
sparse = tape.gradient(loss, embedding.embeddings)
dense = tf.convert_to_tensor(sparse)  # sums the repeated rows into one
print(
    type(sparse).__name__,
    "indices",
    sparse.indices.numpy().tolist(),
    "values",
    sparse.values.shape,
)
print("dense shape", sparse.dense_shape.numpy().tolist(), "→ dense gradient", dense.shape)
print(f"norm of .values: {float(tf.norm(sparse.values)):.3f}   norm of the gradient: ", end="")
print(f"{float(tf.norm(dense)):.3f}")
print("zeros in the dense gradient:", int(tf.reduce_sum(tf.cast(dense == 0, tf.int32))), "of 400")

# %% [markdown]
# So two cautions. The norm of `.values` is **not** the gradient's norm when a row
# repeats (row 3's two contributions add up before squaring); densify first, or sum the
# repeated rows (`tf.math.unsorted_segment_sum`). And a histogram of the dense
# gradient is mostly the 392 rows nobody read, a spike at zero that hides the rows that
# were. `log_gradients` densifies an `IndexedSlices` (`tf.convert_to_tensor`), so its
# norm is right, but its histogram includes those zeros. To see the rows that were
# trained, log a histogram of those rows only:

# %%
rows, position = tf.unique(sparse.indices)
touched = tf.math.unsorted_segment_sum(sparse.values, position, tf.size(rows))
sparse_writer = tf.summary.create_file_writer(str(LOGS / "sparse"))
with sparse_writer.as_default():
    log_gradients([(sparse, embedding.embeddings)], step=0)
    tf.summary.histogram("grad_rows/embedding", touched, step=0)
sparse_writer.flush()
histograms = read_histograms(LOGS / "sparse")
for tag in ("grad_hist/embedding/embeddings", "grad_rows/embedding"):
    counts = histograms[tag][0].counts
    print(f"{tag:32} {int(counts.sum()):3} values, {int(counts.max()):3} in the fullest bucket")
logged = read_scalars(LOGS / "sparse")["grad_norm/embedding/embeddings"]
print(f"logged norm: {float(logged.values[0]):.3f}")

# %% [markdown]
# ### Exercise 3.6 — the norm of a sparse gradient
#
# Write `sparse_gradient_norm(gradient)`: the L2 norm of the gradient that the
# `tf.IndexedSlices` `gradient` stands for, where an index may repeat.


# %% tags=["exercise"]
def sparse_gradient_norm(gradient):
    """Return the L2 norm of the dense gradient an IndexedSlices stands for.

    gradient: a tf.IndexedSlices of float32 rows (values of shape (K, width)); the
        same index may appear more than once.
    Returns a float32 scalar tensor.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 3.6: write sparse_gradient_norm (hint: python -m gradlab.lesson 3 hint 6)"
    )


# %% tags=["check"]
gradlab.check("3.6", sparse_gradient_norm)

# %% [markdown]
# ## Summary
#
# - TF2 writes summaries with `tf.summary.create_file_writer`; `tf.summary.FileWriter`
#   is TF1. Start TensorBoard with `tensorboard --logdir FOLDER`.
# - A summary needs a default writer (`with writer.as_default():`, else it silently
#   writes nothing), a step (else `ValueError`), and a flush before anyone reads it.
# - Log each variable's gradient norm (scalar) and histogram under a tag built from
#   `variable.path`.
# - In a `tf.function`, pass the step as an int64 tensor (a Python int retraces every
#   step) and make the writer default inside the function, or around the loop before
#   its first call (no flush every step). `tf.summary.record_if` logs every Nth step.
# - A gradient from `Embedding` / `tf.gather` is a `tf.IndexedSlices`: densify before
#   taking a norm, and histogram the rows that were read.
# - `tf.summary.trace_on` / `trace_export` put a traced graph in the *Graphs* tab.
# - Keras `fit` logs weights, not gradients; `GradientTensorBoard` adds gradients.
# - `read_scalars` / `read_histograms` turn logs into numpy arrays: plot them, or
#   search them (when did a norm explode?).
#
# Next: lesson 4 checks gradients against finite differences.
