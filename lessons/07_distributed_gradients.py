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
# # Gradients across devices with tf.distribute
#
# When a model is trained on several devices, no device ever computes "the" gradient.
# Each one — each **replica** — holds a copy of the variables, computes a gradient on
# its slice of the batch, and the slices' gradients are combined (**all-reduced**) into
# the one that updates the variables. In this lesson you will look at the per-replica
# gradients, combine them yourself, and prove that the result equals the gradient one
# device computes on the whole batch — and see how a one-line slip in the loss makes
# it several times too large.
#
# You need no GPU: TensorFlow can split one CPU into several **logical devices**, and
# `tf.distribute.MirroredStrategy` mirrors over them exactly as it would over GPUs.
#
# **How to work.** Read a section, run its cells, then write the exercise below it in
# the one place marked `# YOUR CODE HERE`. From a terminal:
#
# ```
# python -m gradlab.lesson 7 check      # check every exercise in this file
# python -m gradlab.lesson 7 hint 2     # a hint for exercise 2
# ```

# %% tags=["setup"]
import gradlab

gradlab.quiet_tensorflow()  # first: keeps TensorFlow's start-up noise out of your output

# isort: split
from gradlab import devices, tensorboard

CPUS = devices.logical_cpus(4)  # before anything else runs TensorFlow: see section 1

import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(0)

# %% [markdown]
# ## 1. Four logical CPUs
#
# The setup cell split the CPU into four logical devices with
# `tf.config.set_logical_device_configuration`, through a small gradlab helper. The
# helper exists because of one rule: **TensorFlow fixes its device list the first time
# it runs anything** — an operation, a variable, even `tf.config.list_logical_devices`.
# After that, the split cannot change:

# %%
print("logical CPUs:", [device.name for device in tf.config.list_logical_devices("CPU")])

cpu = tf.config.list_physical_devices("CPU")[0]
try:
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# `devices.logical_cpus(n)` configures the split when TensorFlow still allows it, and
# otherwise returns the devices that exist with a warning saying why — never a
# traceback. If you run this notebook in a kernel that already ran TensorFlow, that
# warning appears in the setup cell and you get fewer replicas; restart the kernel.

# %%
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("asked for 8, got:", devices.logical_cpus(8))
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")

# %% [markdown]
# ## 2. A strategy and a mirrored model
#
# `MirroredStrategy(devices)` makes one replica per device. Variables created inside
# `strategy.scope()` are **mirrored**: one copy per replica, kept identical.

# %%
strategy = tf.distribute.MirroredStrategy(CPUS)
print("replicas in sync:", strategy.num_replicas_in_sync)

with strategy.scope():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(8, activation="tanh", name="hidden"),
            keras.layers.Dense(1, name="output"),
        ],
        name="regressor",
    )

kernel = model.trainable_variables[0]
print(kernel.path, "is backed by a", type(kernel.value).__name__)
for copy in strategy.experimental_local_results(kernel.value):
    print("  a copy on", copy.device)

# %% [markdown]
# Without a list, `MirroredStrategy()` takes every GPU, or, when there is none, every
# logical CPU — here the same four. The lesson passes `CPUS` anyway, so that it mirrors
# over CPUs even on a machine with a GPU:

# %%
print("MirroredStrategy() on this machine:", tf.distribute.MirroredStrategy().num_replicas_in_sync)

# %% [markdown]
# ## 3. Splitting a batch across replicas
#
# The usual way to feed replicas is a `tf.data.Dataset` batched by the **global**
# batch size and handed to `strategy.experimental_distribute_dataset`. Each element is
# then a `PerReplica` value: one shard per replica.

# %%
rng = np.random.default_rng(0)
true_weights = np.array([[1.5], [-2.0], [0.5]], dtype="float32")
features = rng.normal(size=(160, 3)).astype("float32")
targets = (features @ true_weights + 0.1 * rng.normal(size=(160, 1))).astype("float32")

GLOBAL_BATCH = 8
x_batch, y_batch = features[:GLOBAL_BATCH], targets[:GLOBAL_BATCH]


def distributed_batch(x, y):
    """One global batch (x, y) as a pair of PerReplica values."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(len(x))
    return next(iter(strategy.experimental_distribute_dataset(dataset)))


x_shards, y_shards = distributed_batch(x_batch, y_batch)
print(type(x_shards).__name__)
for number, shard in enumerate(strategy.experimental_local_results(x_shards)):
    print(f"replica {number}: {tuple(shard.shape)} on {shard.device}")

# %% [markdown]
# A batch of 8 gives each of the 4 replicas 2 examples, in order. When the batch does
# not divide evenly, each replica gets `ceil(N / replicas)` examples and the last ones
# get what is left — 7 examples split 2, 2, 2, 1:

# %%
uneven_x, uneven_y = distributed_batch(x_batch[:7], y_batch[:7])
print([int(s.shape[0]) for s in strategy.experimental_local_results(uneven_x)])

# %% [markdown]
# ## 4. Scaling the loss: divide by the *global* batch size
#
# On one device the loss is the mean over the batch: the sum of the per-example losses
# divided by N. Split into shards, the same number is the **sum over replicas** of
# each shard's per-example losses divided by the global N. So each replica divides by
# the global batch size, not by its own shard size. `tf.nn.compute_average_loss` does
# exactly that:

# %%
per_example = keras.losses.MeanSquaredError(reduction=None)(y_batch[:2], model(x_batch[:2]))
print("per-example losses:", per_example.numpy())
share = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
print("compute_average_loss:", share.numpy())
print("sum / 8:             ", tf.reduce_sum(per_example).numpy() / GLOBAL_BATCH)

# %% [markdown]
# ### Exercise 7.1 — one replica's share of the loss
#
# Write `replica_loss(labels, predictions, global_batch_size)`: the mean squared error
# of this replica's examples (squared error averaged over the last axis, per example)
# as its share of the global batch's mean.


# %% tags=["exercise"]
def replica_loss(labels, predictions, global_batch_size):
    """Return this replica's share of the batch's mean squared error.

    labels, predictions: float32 tensors of shape (n, outputs), this replica's examples.
    global_batch_size: the number of examples in the whole batch, over all replicas.
    Returns a float32 scalar tensor; the replicas' shares add up to the batch's MSE.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 7.1: write replica_loss (hint: python -m gradlab.lesson 7 hint 1)"
    )


# %% tags=["check"]
gradlab.check("7.1", replica_loss)

# %% [markdown]
# ## 5. A step on every replica: `strategy.run`
#
# `strategy.run(fn, args=...)` calls `fn` once per replica, each with its own shard of
# any `PerReplica` argument, and returns `PerReplica` results. Inside `fn` you write an
# ordinary tape step. Wrapping the whole thing in `tf.function` is the normal way to
# run it (run eagerly, TensorFlow warns that it is slow).


# %%
def replica_gradients(x, y):
    """One replica's gradient of its share of the loss."""
    with tf.GradientTape() as tape:
        per_example = keras.losses.MeanSquaredError(reduction=None)(y, model(x))
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
    return tape.gradient(loss, model.trainable_variables)


@tf.function
def distributed_gradients_step(x, y):
    return strategy.run(replica_gradients, args=(x, y))


per_replica = distributed_gradients_step(x_shards, y_shards)
print(type(per_replica[0]).__name__, "for", model.trainable_variables[0].path)
for number, grads in enumerate(strategy.experimental_local_results(per_replica)):
    norms = ", ".join(f"{np.linalg.norm(g):.4f}" for g in grads)
    print(f"replica {number}: gradient norms {norms}")

# %% [markdown]
# Four different gradients: each replica saw different examples.
# `strategy.experimental_local_results` turns a `PerReplica` value (or a list of them)
# into a tuple with one entry per replica.
#
# ### Exercise 7.2 — per-replica gradients
#
# Write `per_replica_gradients(strategy, model, x, y, global_batch_size)`: run a step
# on every replica and return, for each replica, the gradients of its share of the
# mean squared error (use your `replica_loss`) with respect to
# `model.trainable_variables`. `x` and `y` are already distributed (`PerReplica`).


# %% tags=["exercise"]
def per_replica_gradients(strategy, model, x, y, global_batch_size):
    """Return each replica's gradients of its share of the loss.

    strategy: a tf.distribute.MirroredStrategy; model: built in its scope.
    x, y: PerReplica shards of a global batch of global_batch_size examples.
    Returns a list with one entry per replica, each a list of gradients
    in the order of model.trainable_variables.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 7.2: write per_replica_gradients (hint: python -m gradlab.lesson 7 hint 2)"
    )


# %% tags=["check"]
gradlab.check("7.2", per_replica_gradients)

# %% [markdown]
# ## 6. The all-reduce
#
# Each replica's gradient is the gradient of its **share** of the loss, so the
# batch's gradient is their **sum**. Outside `strategy.run` (in *cross-replica*
# context), `strategy.reduce` combines a `PerReplica` value; `axis=None` means "across
# replicas only". Inside the step (in *replica* context),
# `tf.distribute.get_replica_context().all_reduce` does the same and hands every
# replica the result — that is what an optimizer's `apply_gradients` does inside
# `strategy.run`.

# %%
reduced = [strategy.reduce("SUM", grad, axis=None) for grad in per_replica]


@tf.function
def all_reduced_step(x, y):
    def replica_step(x, y):
        grads = replica_gradients(x, y)
        return tf.distribute.get_replica_context().all_reduce("SUM", grads)

    return strategy.run(replica_step, args=(x, y))


in_replica = all_reduced_step(x_shards, y_shards)
for variable, a, b in zip(model.trainable_variables, reduced, in_replica, strict=True):
    every = strategy.experimental_local_results(b)
    same = all(np.array_equal(copy, every[0]) for copy in every)
    gap = np.abs(a.numpy() - every[0].numpy()).max()
    print(f"{variable.path:24} reduce vs all_reduce: {gap:.1e}   same on every replica: {same}")

# %% [markdown]
# ### Exercise 7.3 — reduce the gradients
#
# Write `reduce_gradients(strategy, per_replica_grads)`: combine the per-replica
# gradients that `strategy.run` returned (a list of `PerReplica` values, one per
# variable) into the batch's gradient, one tensor per variable.


# %% tags=["exercise"]
def reduce_gradients(strategy, per_replica_grads):
    """Return the all-reduced gradients.

    strategy: a tf.distribute.MirroredStrategy.
    per_replica_grads: a list of PerReplica gradients, each replica's already divided
        by the global batch size.
    Returns a list of tensors, one per variable, each with that variable's shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 7.3: write reduce_gradients (hint: python -m gradlab.lesson 7 hint 3)"
    )


# %% tags=["check"]
gradlab.check("7.3", reduce_gradients)

# %% [markdown]
# ## 7. The proof: one device, whole batch, same gradient
#
# The reduced gradient must be the gradient one device computes on the whole batch
# with the ordinary mean squared error. Compute that with a plain tape — no strategy
# involved — and compare:

# %%
with tf.GradientTape() as tape:
    loss = keras.losses.MeanSquaredError()(y_batch, model(x_batch))
single_device = tape.gradient(loss, model.trainable_variables)

for variable, a, b in zip(model.trainable_variables, reduced, single_device, strict=True):
    error = np.abs(a.numpy() - b.numpy()).max()
    print(f"{variable.path:24} largest difference: {error:.1e}")
print(
    "equal to float32 precision:",
    all(
        np.allclose(a, b, rtol=1e-5, atol=1e-7)
        for a, b in zip(reduced, single_device, strict=True)
    ),
)

# %% [markdown]
# ## 8. The mis-scaled loss: averaged per replica
#
# The slip is natural: write the loss as on one device, `tf.reduce_mean` of the squared
# errors, and run it per replica. Each replica now divides by its shard size, 2,
# instead of 8 — and the SUM all-reduce adds four such gradients:


# %%
def gradients_with(loss_of, reduction, x, y):
    """The reduced gradient when every replica uses loss_of(y, prediction)."""

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_of(y, model(x))
        return tape.gradient(loss, model.trainable_variables)

    per_replica = strategy.run(tf.function(replica_step), args=(x, y))
    return [strategy.reduce(reduction, grad, axis=None) for grad in per_replica]


def mean_loss(y, prediction):
    return tf.reduce_mean(tf.square(y - prediction))


def ratios(grads, reference):
    return [
        float(np.linalg.norm(g) / np.linalg.norm(r)) for g, r in zip(grads, reference, strict=True)
    ]


averaged_per_replica = gradients_with(mean_loss, "SUM", x_shards, y_shards)
print(
    "norm ratio to one device, per variable:",
    np.round(ratios(averaged_per_replica, single_device), 4),
)
print("output kernel, one device:          ", np.round(single_device[2].numpy().ravel()[:4], 4))
print(
    "output kernel, averaged per replica:",
    np.round(averaged_per_replica[2].numpy().ravel()[:4], 4),
)

# %% [markdown]
# Every gradient is exactly **4×** too large — the number of replicas. Nothing fails:
# training just runs with a learning rate four times what you chose, and behaves
# differently when you change the number of devices.
#
# "Then reduce with MEAN" repairs it only when every shard has the same size. On the
# 7-example batch, split 2, 2, 2, 1, a mean of per-replica means weighs the lonely last
# example twice as much as the others. Keras's own losses fall in the same trap in a
# subtler way: inside a strategy, `keras.losses.MeanSquaredError()` divides each
# replica's mean by the number of replicas (Keras 3 does this for you), so with SUM it
# is right for equal shards — and a mean of means for the last, smaller batch of an
# epoch:

# %%
with tf.GradientTape() as tape:
    loss = keras.losses.MeanSquaredError()(y_batch[:7], model(x_batch[:7]))
single_device_7 = tape.gradient(loss, model.trainable_variables)


def global_loss_7(y, prediction):
    per_example = keras.losses.MeanSquaredError(reduction=None)(y, prediction)
    return tf.nn.compute_average_loss(per_example, global_batch_size=7)


variants = {
    "reduce_mean + MEAN": (mean_loss, "MEAN"),
    "Keras MSE + SUM": (keras.losses.MeanSquaredError(), "SUM"),
    "compute_average_loss + SUM": (global_loss_7, "SUM"),
}
for name, (loss_of, reduction) in variants.items():
    grads = gradients_with(loss_of, reduction, uneven_x, uneven_y)
    error = max(float(np.abs(g - r).max()) for g, r in zip(grads, single_device_7, strict=True))
    print(f"{name:27} largest difference from one device: {error:.1e}")

with strategy.scope():
    inside_scope = keras.losses.MeanSquaredError()(y_batch[:7], model(x_batch[:7]))
print(f"Keras MSE inside strategy.scope() / outside: {inside_scope.numpy() / loss.numpy():.4f}")

# %% [markdown]
# Only the loss divided by the global batch size, summed across replicas, gives the
# single-device gradient whatever the shards. The last line is a warning for your own
# checks: compute the single-device reference **outside** `strategy.scope()`, or Keras
# divides it by the replica count too.
#
# ### Exercise 7.4 — the distributed gradient, equal to the single-device one
#
# Write `distributed_gradients(strategy, model, x, y, global_batch_size)`: the batch's
# gradient of the mean squared error, computed on the replicas and reduced. The check
# compares it with the single-device gradient (in NumPy), on shards of equal and of
# unequal size. You may call your `replica_loss` and `reduce_gradients`.


# %% tags=["exercise"]
def distributed_gradients(strategy, model, x, y, global_batch_size):
    """Return the gradient of the global batch's MSE, computed across replicas.

    strategy: a tf.distribute.MirroredStrategy; model: built in its scope.
    x, y: PerReplica shards of a global batch of global_batch_size examples.
    Returns a list of tensors in the order of model.trainable_variables, equal to the
    gradient of keras.losses.MeanSquaredError() on the whole batch on one device.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 7.4: write distributed_gradients (hint: python -m gradlab.lesson 7 hint 4)"
    )


# %% tags=["check"]
gradlab.check("7.4", distributed_gradients)

# %% [markdown]
# ## 9. Per-replica gradient norms in TensorBoard
#
# To watch replicas during training, log each replica's gradients to its own **run**
# (a sub-directory of the log directory) with `gradlab.tensorboard.log_gradients`,
# and the reduced gradient to another. TensorBoard draws runs with the same tag on one
# chart. Here are 20 steps of plain gradient descent on the 160 examples, batches of
# 8, updating the mirrored variables with the reduced gradient:

# %%
import shutil
from pathlib import Path

LOGDIR = Path("runs/lesson07/replicas")
shutil.rmtree(LOGDIR, ignore_errors=True)
run_names = [f"replica_{n}" for n in range(strategy.num_replicas_in_sync)] + ["reduced"]
writers = {name: tensorboard.create_writer(LOGDIR / name) for name in run_names}

dataset = tf.data.Dataset.from_tensor_slices((features, targets)).batch(GLOBAL_BATCH)
for step, (x, y) in enumerate(strategy.experimental_distribute_dataset(dataset)):
    per_replica = distributed_gradients_step(x, y)
    reduced = [strategy.reduce("SUM", grad, axis=None) for grad in per_replica]
    local = strategy.experimental_local_results(per_replica)
    for name, grads in zip(run_names, [*local, reduced], strict=True):
        pairs = zip(grads, model.trainable_variables, strict=True)
        tensorboard.log_gradients(pairs, step, writer=writers[name], histograms=False)
    for variable, grad in zip(model.trainable_variables, reduced, strict=True):
        variable.assign_sub(0.1 * grad)
for writer in writers.values():
    writer.flush()
print("runs:", tensorboard.list_runs(LOGDIR))

# %% [markdown]
# Read the norms back and plot them: thin lines are the replicas, the thick one is the
# all-reduced gradient that updated the model.

# %%
import matplotlib.pyplot as plt

from gradlab import plots

tag = f"{tensorboard.NORM_PREFIX}/regressor/hidden/kernel"
scalars = tensorboard.read_scalars(LOGDIR)
replica_curves = {name: scalars[f"{name}/{tag}"].values for name in run_names[:-1]}
reduced_curve = scalars[f"reduced/{tag}"]
figure = plots.replica_gradient_norms(
    reduced_curve.steps, replica_curves, reduced_curve.values, variable="hidden/kernel"
)
plt.show()
shares = np.array(list(replica_curves.values()))
for column in (0, -1):
    replicas = np.round(shares[:, column], 3)
    print(
        f"step {reduced_curve.steps[column]:2}: replicas {replicas}, their sum "
        f"{shares[:, column].sum():.3f}, all-reduced {reduced_curve.values[column]:.3f}"
    )

# %% [markdown]
# Each replica's gradient is only its *share*, and the shares differ a lot: each shard
# has its own examples. The all-reduced norm is at most the sum of the replicas' norms,
# and equal to it only when they all point the same way; as the model fits, the
# replicas' gradients disagree more and partly cancel. To see the runs live:
# `tensorboard --logdir runs/lesson07/replicas`.
#
# ### Exercise 7.5 — log per-replica gradient norms
#
# Write `log_replica_gradient_norms(strategy, per_replica_grads, variables, logdir,
# step)`: write each replica's gradients with `gradlab.tensorboard.log_gradients` to
# the run `replica_<number>` under `logdir` (`logdir/replica_0`, `logdir/replica_1`,
# ...), at `step`, and flush. The check reads the norms back.


# %% tags=["exercise"]
def log_replica_gradient_norms(strategy, per_replica_grads, variables, logdir, step):
    """Log each replica's gradient norms to its own TensorBoard run.

    strategy: a tf.distribute.MirroredStrategy.
    per_replica_grads: a list of PerReplica gradients, one per variable.
    variables: the variables, in the same order.
    logdir: a directory; replica r logs to the run logdir/replica_r.
    step: the summary step (a Python int).
    Returns nothing; the check reads the event files.
    """
    # YOUR CODE HERE
    raise NotImplementedError(
        "exercise 7.5: write log_replica_gradient_norms (hint: python -m gradlab.lesson 7 hint 5)"
    )


# %% tags=["check"]
gradlab.check("7.5", log_replica_gradient_norms)

# %% [markdown]
# ## 10. Beyond one machine: multi-worker and TPU
#
# Nothing above is specific to logical CPUs; what changes on real hardware is where
# the replicas live and who runs your Python.
#
# - **`MirroredStrategy` on GPUs**: the same code with `MirroredStrategy()` (all GPUs)
#   or a list of GPU names; the all-reduce uses NCCL. Floating-point sums in a
#   different order make results agree to a tolerance (as here), not bit for bit.
# - **`MultiWorkerMirroredStrategy`**: one Python process per machine (a *worker*),
#   configured by the `TF_CONFIG` environment variable; replicas on all workers, and
#   collective all-reduces over the network. The global batch size counts the examples
#   of **all** workers (`per-replica batch × strategy.num_replicas_in_sync`), so
#   `compute_average_loss` still divides by it. Checks like this lesson's run on every
#   worker: `experimental_local_results` shows only the **local** replicas, so compare
#   the *reduced* gradient (identical on every worker) with a single-device gradient
#   of the whole global batch, computed on the chief from the same data; log per-replica
#   norms from each worker into its own run.
# - **`TPUStrategy`**: replicas are TPU cores; `strategy.run` may be called eagerly,
#   but the per-replica function is always compiled (TPUStrategy wraps it in a
#   `tf.function` itself), so it cannot run eager-only code such as `.numpy()`; wrap
#   the whole step in a `tf.function` anyway, so that the input handling and the
#   reduction around `strategy.run` are compiled too. Shapes must be static (usually
#   `drop_remainder=True`, so uneven shards never happen), and summaries are best
#   written outside the step, from values returned by `strategy.run`. The proof is the
#   same: return the reduced gradients from the step and compare them, on the host,
#   with a CPU gradient of the same batch — with a looser tolerance, since TPU matrix
#   units multiply float32 at reduced (bfloat16-based) precision by default.
#
# ## Summary
#
# - Split the CPU with `tf.config.set_logical_device_configuration` **before**
#   TensorFlow runs anything (`gradlab.devices.logical_cpus` does it, or explains).
# - `MirroredStrategy(devices)` runs `strategy.run(step)` once per replica; results
#   are `PerReplica`, unpacked with `strategy.experimental_local_results`.
# - Divide each replica's summed loss by the **global** batch size
#   (`tf.nn.compute_average_loss`) and all-reduce with **SUM** (`strategy.reduce`,
#   `ReplicaContext.all_reduce`, or an optimizer's `apply_gradients`): the result is
#   the single-device gradient of the whole batch, to float32 precision.
# - A per-replica mean with SUM is off by the number of replicas; a mean of means is
#   off whenever shards differ in size.
# - Log each replica to its own TensorBoard run to watch them side by side.
