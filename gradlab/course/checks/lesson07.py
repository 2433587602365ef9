"""Exercises of lesson 7, gradients across devices: cases, hints and known mistakes.

The cases mirror over up to four logical CPUs (:mod:`gradlab.teaching.devices`) and
split every global batch as ``strategy.experimental_distribute_dataset``
does: each replica, in order, gets ``ceil(N / replicas)`` examples and the
last ones get what is left. The independent truths are NumPy: the gradient of
a linear model's squared error, shard by shard.
"""

from __future__ import annotations

import itertools
import math
import tempfile

import numpy as np

from gradlab.course.exercise import Case, Exercise, Mistake, numbered
from gradlab.course.messages import CourseError
from gradlab.teaching import devices
from gradlab.tfsupport.lazy import keras, tf

REPLICAS = 4
"""How many replicas the checks mirror over (at least two must exist)."""


# ── the strategy and the data ────────────────────────────────────────────────


def strategy():
    """The checks' MirroredStrategy; a clear error if fewer than two replicas exist."""
    mirrored = devices.mirrored_strategy(REPLICAS)
    if mirrored.num_replicas_in_sync < 2:
        raise CourseError(
            "lesson 7's checks need at least 2 logical CPUs, but TensorFlow initialised its "
            "devices with 1 before they could be split. Restart the kernel (or process) and "
            "run the lesson's setup cell, which calls gradlab.devices.logical_cpus, first."
        )
    return mirrored


def shard_sizes(total: int, replicas: int) -> list[int]:
    """How ``experimental_distribute_dataset`` splits a batch of ``total`` examples."""
    per_replica = math.ceil(total / replicas)
    return [max(0, min(per_replica, total - per_replica * r)) for r in range(replicas)]


def shards(array: np.ndarray, replicas: int) -> list[np.ndarray]:
    """``array`` cut along its first axis as the replicas receive it."""
    edges = np.cumsum([0, *shard_sizes(len(array), replicas)])
    return [array[start:stop] for start, stop in itertools.pairwise(edges)]


def distribute(mirrored, arrays: list[np.ndarray]):
    """A PerReplica value per replica: ``arrays[r]`` on replica ``r``."""
    return mirrored.experimental_distribute_values_from_function(
        lambda context: tf.constant(arrays[context.replica_id_in_sync_group])
    )


# ── a linear model and a batch, with the gradient in NumPy ───────────────────

_MODELS: dict[tuple, object] = {}


def _model(mirrored, features: int):
    """A linear regressor whose variables are mirrored on every replica (built once)."""
    key = (id(mirrored), features)
    if key not in _MODELS:
        with mirrored.scope():
            _MODELS[key] = keras.Sequential(
                [keras.Input((features,)), keras.layers.Dense(1, name="output")],
                name="regressor",
            )
    return _MODELS[key]


def _regression_case(seed: int, total: int, features: int) -> dict:
    mirrored = strategy()
    rng = np.random.default_rng(seed)
    model = _model(mirrored, features)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    x = rng.normal(size=(total, features)).astype("float32")
    y = rng.normal(size=(total, 1)).astype("float32")
    replicas = mirrored.num_replicas_in_sync
    return {
        "strategy": mirrored,
        "model": model,
        "x": distribute(mirrored, shards(x, replicas)),
        "y": distribute(mirrored, shards(y, replicas)),
        "global_batch_size": total,
    }


def _regression_cases() -> list[Case]:
    # 7 examples split unevenly (2, 2, 2, 1 on four replicas) come first: only uneven
    # shards tell a mean of per-replica means from the mean of the batch.
    return [
        Case(lambda s=seed, n=total, f=features: _regression_case(s, n, f))
        for seed, total, features in ((0, 7, 3), (1, 8, 2), (2, 12, 4))
    ]


def _local_arrays(mirrored, value) -> list[np.ndarray]:
    return [np.asarray(part, np.float64) for part in mirrored.experimental_local_results(value)]


def _squared_error_gradient(model, x, y, divisor: float) -> list[np.ndarray]:
    """d/d(kernel, bias) of sum((x @ kernel + bias - y)²) / divisor, in float64."""
    kernel, bias = (np.asarray(w, np.float64) for w in model.get_weights())
    residual = x @ kernel + bias - y
    return [2 * x.T @ residual / divisor, 2 * residual.sum(0) / divisor]


def _per_replica_truth(strategy, model, x, y, global_batch_size):
    pairs = zip(_local_arrays(strategy, x), _local_arrays(strategy, y), strict=True)
    return [_squared_error_gradient(model, xs, ys, global_batch_size) for xs, ys in pairs]


def _full_batch_truth(strategy, model, x, y, global_batch_size):
    x_all = np.concatenate(_local_arrays(strategy, x))
    y_all = np.concatenate(_local_arrays(strategy, y))
    return _squared_error_gradient(model, x_all, y_all, len(x_all))


# ── known mistakes, reproduced ───────────────────────────────────────────────


def _mean_loss(labels, predictions, global_batch_size):
    return tf.reduce_mean(keras.losses.MeanSquaredError(reduction=None)(labels, predictions))


def _keras_loss(labels, predictions, global_batch_size):
    return keras.losses.MeanSquaredError()(labels, predictions)


def _summed_loss(labels, predictions, global_batch_size):
    return tf.reduce_sum(keras.losses.MeanSquaredError(reduction=None)(labels, predictions))


def _scaled_loss(labels, predictions, global_batch_size):
    per_example = keras.losses.MeanSquaredError(reduction=None)(labels, predictions)
    return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)


def _replica_grads(strategy, model, x, y, global_batch_size, loss):
    def step(x, y):
        with tf.GradientTape() as tape:
            value = loss(y, model(x), global_batch_size)
        return tape.gradient(value, model.trainable_variables)

    return strategy.run(step, args=(x, y))


def _local_lists(loss):
    def answer(strategy, model, x, y, global_batch_size):
        grads = _replica_grads(strategy, model, x, y, global_batch_size, loss)
        return [list(replica) for replica in strategy.experimental_local_results(grads)]

    return answer


def _reduced(loss, reduction):
    def answer(strategy, model, x, y, global_batch_size):
        grads = _replica_grads(strategy, model, x, y, global_batch_size, loss)
        return [strategy.reduce(reduction, grad, axis=None) for grad in grads]

    return answer


MEAN_PER_REPLICA = "averaged over the replica's own batch"
MEAN_PER_REPLICA_ADVICE = (
    "each replica sees only its shard, so its mean (tf.reduce_mean, or "
    "keras.losses.MeanSquaredError()) divides by the shard size; divide the summed "
    "per-example losses by the GLOBAL batch size: "
    "tf.nn.compute_average_loss(per_example, global_batch_size=...)."
)
KERAS_LOSS = "used keras.losses.MeanSquaredError() in the replica"
KERAS_LOSS_ADVICE = (
    "inside a strategy, Keras 3 divides each replica's MEAN by the number of replicas: right "
    "only when every shard has the same size. Use the per-example losses "
    "(reduction=None) and tf.nn.compute_average_loss(..., global_batch_size=...)."
)


# ── 7.1: one replica's share of the loss ─────────────────────────────────────


def _loss_case(seed: int, local: int, outputs: int, global_batch_size: int) -> dict:
    strategy()  # split the CPU before these tensors make TensorFlow fix its devices
    rng = np.random.default_rng(seed)
    return {
        "labels": tf.constant(rng.normal(size=(local, outputs)).astype("float32")),
        "predictions": tf.constant(rng.normal(size=(local, outputs)).astype("float32")),
        "global_batch_size": global_batch_size,
    }


def _loss_cases() -> list[Case]:
    return [
        Case(lambda s=s, n=n, k=k, g=g: _loss_case(s, n, k, g))
        for s, n, k, g in ((0, 4, 1, 16), (1, 3, 2, 7), (2, 5, 3, 20))
    ]


def _loss_truth(labels, predictions, global_batch_size):
    errors = (np.asarray(labels, np.float64) - np.asarray(predictions, np.float64)) ** 2
    return errors.mean(axis=-1).sum() / global_batch_size


# ── 7.3: reducing per-replica gradients ──────────────────────────────────────

_GRADIENT_SHAPES = (((3, 1), (1,)), ((2, 4), (4,), (4, 1), (1,)))


def _replica_arrays(seed: int, shapes) -> list[list[np.ndarray]]:
    """``[replica][variable]`` arrays, seeded, for every replica that exists."""
    rng = np.random.default_rng(seed)
    replicas = strategy().num_replicas_in_sync
    return [[rng.normal(size=s).astype("float32") for s in shapes] for _ in range(replicas)]


def _gradients_case(seed: int, shapes) -> dict:
    mirrored = strategy()
    arrays = _replica_arrays(seed, shapes)
    per_replica = mirrored.experimental_distribute_values_from_function(
        lambda context: [tf.constant(a) for a in arrays[context.replica_id_in_sync_group]]
    )
    return {"strategy": mirrored, "per_replica_grads": per_replica}


def _gradients_cases() -> list[Case]:
    return [
        Case(lambda s=seed, shapes=shapes: _gradients_case(s, shapes))
        for seed, shapes in enumerate(_GRADIENT_SHAPES)
    ]


def _sum_truth(strategy, per_replica_grads):
    replicas = strategy.experimental_local_results(per_replica_grads)
    return [
        np.sum([np.asarray(g, np.float64) for g in grads], axis=0)
        for grads in zip(*replicas, strict=True)
    ]


# ── 7.5: per-replica gradient norms in TensorBoard ───────────────────────────

_LOG_STEP = 3


def _logging_case(seed: int, features: int) -> dict:
    mirrored = strategy()
    model = _model(mirrored, features)
    shapes = [tuple(v.shape) for v in model.trainable_variables]
    arguments = _gradients_case(seed, shapes)
    return {
        **arguments,
        "variables": model.trainable_variables,
        "logdir": "<a temporary directory>",
        "step": _LOG_STEP,
    }


def _logging_cases() -> list[Case]:
    return [Case(lambda s=seed, f=f: _logging_case(s, f)) for seed, f in ((0, 3), (1, 2))]


def _logged_norms(function, arguments) -> dict:
    """Run ``function`` into a fresh log directory and read its gradient norms back."""
    from gradlab import tensorboard

    with tempfile.TemporaryDirectory() as logdir:
        function(*{**arguments, "logdir": logdir}.values())
        scalars = tensorboard.read_scalars(logdir)
    return {
        tag: {"steps": series.steps, "values": series.values}
        for tag, series in scalars.items()
        if f"{tensorboard.NORM_PREFIX}/" in tag
    }


def _norms_truth(strategy, per_replica_grads, variables, logdir, step):
    from gradlab.tensorboard import NORM_PREFIX, variable_path

    replicas = strategy.experimental_local_results(per_replica_grads)
    return {
        f"replica_{r}/{NORM_PREFIX}/{variable_path(v)}": {
            "steps": np.array([step]),
            "values": np.array([np.linalg.norm(np.asarray(g, np.float64))]),
        }
        for r, grads in enumerate(replicas)
        for g, v in zip(grads, variables, strict=True)
    }


def _log_all_in_one_run(strategy, per_replica_grads, variables, logdir, step):
    from gradlab import tensorboard

    writer = tensorboard.create_writer(logdir)
    for grads in strategy.experimental_local_results(per_replica_grads):
        tensorboard.log_gradients(zip(grads, variables, strict=True), step, writer=writer)
    writer.flush()


def _log_reduced_per_replica(strategy, per_replica_grads, variables, logdir, step):
    from gradlab import tensorboard

    reduced = [strategy.reduce("SUM", g, axis=None) for g in per_replica_grads]
    for number in range(strategy.num_replicas_in_sync):
        writer = tensorboard.create_writer(f"{logdir}/replica_{number}")
        tensorboard.log_gradients(zip(reduced, variables, strict=True), step, writer=writer)
        writer.flush()


_DECLARED = [
    Exercise(
        function="replica_loss",
        title="One replica's share of the loss",
        hint="A replica sees a few examples of a batch of global_batch_size. What must its "
        "loss be divided by, so that the replicas' losses ADD UP to the batch's mean?",
        cases=_loss_cases,
        truth=_loss_truth,
        mistakes=(
            Mistake(MEAN_PER_REPLICA, MEAN_PER_REPLICA_ADVICE, _mean_loss),
            Mistake(
                "summed without dividing by the global batch size",
                "the sum of per-example losses grows with the batch; divide it by "
                "global_batch_size (tf.nn.compute_average_loss does).",
                _summed_loss,
            ),
        ),
    ),
    Exercise(
        function="per_replica_gradients",
        title="Per-replica gradients",
        hint="Which Strategy method runs your step once on every replica, and which one "
        "turns its PerReplica result into one value per replica?",
        cases=_regression_cases,
        truth=_per_replica_truth,
        rtol=1e-4,
        atol=1e-6,
        time_limit=60.0,
        mistakes=(
            Mistake(MEAN_PER_REPLICA, MEAN_PER_REPLICA_ADVICE, _local_lists(_mean_loss)),
            Mistake(KERAS_LOSS, KERAS_LOSS_ADVICE, _local_lists(_keras_loss)),
            Mistake(
                "summed without dividing by the global batch size",
                "scale each replica's summed loss by 1 / global_batch_size "
                "(tf.nn.compute_average_loss).",
                _local_lists(_summed_loss),
            ),
        ),
    ),
    Exercise(
        function="reduce_gradients",
        title="All-reduce the gradients",
        hint="Each replica's gradient is already divided by the global batch size. Which "
        "tf.distribute.ReduceOp combines them into the batch's gradient, and should "
        "strategy.reduce also reduce along an axis of the tensor?",
        cases=_gradients_cases,
        truth=_sum_truth,
        time_limit=60.0,
        mistakes=(
            Mistake(
                "MEAN instead of SUM",
                "the losses were already divided by the global batch size, so the "
                "replicas' gradients must be added: strategy.reduce('SUM', g, axis=None). "
                "MEAN divides by the replica count a second time.",
                lambda strategy, per_replica_grads: [
                    strategy.reduce("MEAN", g, axis=None) for g in per_replica_grads
                ],
            ),
            Mistake(
                "reduced over axis 0 as well",
                "axis=0 also sums the rows of each gradient; axis=None reduces across "
                "replicas only and keeps the variable's shape.",
                lambda strategy, per_replica_grads: [
                    strategy.reduce("SUM", g, axis=0) for g in per_replica_grads
                ],
            ),
            Mistake(
                "kept only the first replica's gradient",
                "experimental_local_results(g)[0] is replica 0's share alone; reduce "
                "across all replicas.",
                lambda strategy, per_replica_grads: [
                    strategy.experimental_local_results(g)[0] for g in per_replica_grads
                ],
            ),
        ),
    ),
    Exercise(
        function="distributed_gradients",
        title="The distributed gradient equals the single-device one",
        hint="Two choices must agree: how each replica scales its loss, and how the "
        "replicas' gradients are combined. Which pair gives the mean over the whole batch, "
        "even when the shards have different sizes?",
        cases=_regression_cases,
        truth=_full_batch_truth,
        rtol=1e-4,
        atol=1e-6,
        time_limit=60.0,
        mistakes=(
            Mistake(
                f"{MEAN_PER_REPLICA}, then summed",
                MEAN_PER_REPLICA_ADVICE + " With SUM the gradient is about replicas times "
                "too large.",
                _reduced(_mean_loss, "SUM"),
            ),
            Mistake(
                "a mean of per-replica means",
                "averaging each replica's mean (reduce_mean, then MEAN; or Keras's "
                "MeanSquaredError(), which divides by the replica count, then SUM) is right "
                "only when every shard has the same size; scale by the global batch size "
                "and SUM.",
                _reduced(_mean_loss, "MEAN"),
            ),
            Mistake(
                "MEAN instead of SUM",
                "the loss is already divided by the global batch size; MEAN divides by the "
                "replica count again. Reduce with SUM.",
                _reduced(_scaled_loss, "MEAN"),
            ),
        ),
    ),
    Exercise(
        function="log_replica_gradient_norms",
        title="Per-replica gradient norms in TensorBoard",
        hint="TensorBoard tells curves apart by run (a sub-directory) and by tag. Which of "
        "the two should differ between replicas, given that their tags are the same?",
        cases=_logging_cases,
        truth=_norms_truth,
        run=_logged_norms,
        time_limit=60.0,
        mistakes=(
            Mistake(
                "all replicas in one run",
                "one writer for every replica writes the same tags at the same step, so "
                "TensorBoard shows one jumbled curve; give each replica its own run, "
                "f'{logdir}/replica_{number}'.",
                _log_all_in_one_run,
            ),
            Mistake(
                "logged the reduced gradient",
                "strategy.reduce combines the replicas; log "
                "strategy.experimental_local_results(...) to see each replica's own gradient.",
                _log_reduced_per_replica,
            ),
        ),
    ),
]
EXERCISES = numbered(__name__, _DECLARED)
