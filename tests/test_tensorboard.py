"""gradlab.tensorboard: logging gradients, Keras fit, reading event files back."""

from __future__ import annotations

import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from gradlab.tensorboard import (
    GLOBAL_NORM_TAG,
    DamagedLogWarning,
    GradientLoggingWarning,
    GradientTensorBoard,
    TensorBoardError,
    create_writer,
    list_runs,
    log_gradients,
    read_histograms,
    read_scalars,
    unique_variable_names,
)
from tests.gradient_logs import (
    VARIABLE_PATHS,
    log_training,
    make_data,
    make_model,
    numpy_gradients,
)

NORM_TAGS = [f"grad_norm/{path}" for path in VARIABLE_PATHS]
HISTOGRAM_TAGS = [f"grad_hist/{path}" for path in VARIABLE_PATHS]


@pytest.fixture(scope="module")
def training_log(tmp_path_factory):
    """A custom training loop's gradient log and the true gradients, per path and step."""
    logdir = tmp_path_factory.mktemp("custom_loop")
    return logdir, log_training(logdir, steps=3)


def write_eagerly(logdir, grads_and_vars, step=0, **options):
    """Log once, eagerly, to a new writer in ``logdir``; returns the tags written."""
    writer = create_writer(logdir)
    tags = log_gradients(grads_and_vars, step, writer=writer, **options)
    writer.close()
    return tags


# Logging: values ---------------------------------------------------------------------------


def test_logged_norms_equal_true_l2_norms(training_log):
    logdir, expected = training_log
    scalars = read_scalars(logdir)
    for path, gradients in expected.items():
        steps, values = scalars[f"grad_norm/{path}"]
        np.testing.assert_array_equal(steps, [0, 1, 2])
        true_norms = [np.sqrt(np.sum(g**2)) for g in gradients]
        np.testing.assert_allclose(values, true_norms, rtol=1e-5)


def test_global_norm_is_the_norm_of_all_gradients_together(training_log):
    logdir, expected = training_log
    steps, values = read_scalars(logdir)[GLOBAL_NORM_TAG]
    true_norms = [
        np.sqrt(sum(np.sum(expected[path][step] ** 2) for path in VARIABLE_PATHS))
        for step in steps
    ]
    np.testing.assert_allclose(values, true_norms, rtol=1e-5)


def test_histogram_counts_sum_to_the_number_of_elements(training_log):
    logdir, expected = training_log
    histograms = read_histograms(logdir)
    for path, gradients in expected.items():
        snapshots = histograms[f"grad_hist/{path}"]
        assert [snapshot.step for snapshot in snapshots] == [0, 1, 2]
        for snapshot, gradient in zip(snapshots, gradients, strict=True):
            assert snapshot.counts.sum() == gradient.size
            assert len(snapshot.edges) == len(snapshot.counts) + 1


def test_histogram_edges_span_the_gradient_values(training_log):
    logdir, expected = training_log
    snapshot = read_histograms(logdir)["grad_hist/linear/hidden/kernel"][0]
    gradient = expected["linear/hidden/kernel"][0]
    np.testing.assert_allclose(
        snapshot.edges[[0, -1]], [gradient.min(), gradient.max()], rtol=1e-5
    )
    assert np.all(np.diff(snapshot.edges) > 0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_norms_of_non_float32_gradients_are_logged_accurately(tmp_path, dtype):
    values = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    variable = tf.Variable(tf.zeros((3, 4), dtype), name="w")
    write_eagerly(tmp_path, [(tf.constant(values, dtype), variable)])
    _, logged = read_scalars(tmp_path)["grad_norm/w"]
    rounded = tf.cast(tf.constant(values, dtype), tf.float64).numpy()
    np.testing.assert_allclose(logged, [np.sqrt(np.sum(rounded**2))], rtol=1e-6)


def test_sparse_gradients_are_logged_as_their_dense_norm(tmp_path):
    table = keras.layers.Embedding(5, 2, name="embedding")
    table.build((None,))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(table(tf.constant([1, 1, 3])) * [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (gradient,) = tape.gradient(loss, table.trainable_variables)
    assert isinstance(gradient, tf.IndexedSlices)
    write_eagerly(tmp_path, [(gradient, table.embeddings)])
    dense = np.zeros((5, 2))
    dense[1], dense[3] = [4.0, 6.0], [5.0, 6.0]  # rows 1 and 3 of the upstream gradient
    _, logged = read_scalars(tmp_path)["grad_norm/embedding/embeddings"]
    np.testing.assert_allclose(logged, [np.linalg.norm(dense)], rtol=1e-6)


# Logging: tags ----------------------------------------------------------------------------


def test_tags_are_the_variable_paths_under_fixed_prefixes(training_log):
    logdir, _ = training_log
    assert sorted(read_scalars(logdir)) == sorted([*NORM_TAGS, GLOBAL_NORM_TAG])
    assert sorted(read_histograms(logdir)) == sorted(HISTOGRAM_TAGS)


def test_tags_ignore_the_callers_name_scope_eagerly_and_in_tf_function(tmp_path):
    model = make_model()
    grads = [tf.ones_like(v) for v in model.trainable_variables]
    writer = create_writer(tmp_path)

    @tf.function
    def log_in_graph(step):
        with tf.name_scope("train"):
            log_gradients(zip(grads, model.trainable_variables, strict=True), step, writer=writer)

    with tf.name_scope("train"):
        eager_tags = log_gradients(
            zip(grads, model.trainable_variables, strict=True), 0, writer=writer
        )
    log_in_graph(tf.constant(1, tf.int64))
    writer.close()
    scalars = read_scalars(tmp_path)
    assert eager_tags[0] == "grad_norm/linear/hidden/kernel"
    assert sorted(scalars) == sorted([*NORM_TAGS, GLOBAL_NORM_TAG])
    assert all(list(series.steps) == [0, 1] for series in scalars.values())


def test_variables_sharing_a_path_get_numbered_unique_tags_with_a_warning(tmp_path):
    first, second, third = (tf.Variable(1.0) for _ in range(3))  # all named "Variable"
    explicit = tf.Variable(1.0, name="Variable_1")
    with pytest.warns(GradientLoggingWarning, match="share the path 'Variable'"):
        names = unique_variable_names([first, second, explicit, third])
    assert names == ["Variable", "Variable_2", "Variable_1", "Variable_3"]
    with pytest.warns(GradientLoggingWarning):
        write_eagerly(
            tmp_path, [(tf.constant(float(i)), v) for i, v in enumerate([first, second])]
        )
    scalars = read_scalars(tmp_path)
    assert scalars["grad_norm/Variable"].values[0] == 0.0
    assert scalars["grad_norm/Variable_1"].values[0] == 1.0


def test_log_gradients_returns_the_tags_it_wrote(tmp_path):
    variable = tf.Variable([1.0, 2.0], name="w")
    tags = write_eagerly(tmp_path, [(tf.constant([3.0, 4.0]), variable)])
    assert tags == ["grad_norm/w", "grad_hist/w", GLOBAL_NORM_TAG]
    only_norms = write_eagerly(
        tmp_path / "norms",
        [(tf.constant([3.0, 4.0]), variable)],
        histograms=False,
        global_norm=False,
    )
    assert only_norms == ["grad_norm/w"]


# Logging: tf.function, writers, steps ----------------------------------------------------------


def test_logging_in_tf_function_with_tensor_step_traces_once(tmp_path):
    model = make_model()
    x, y = make_data(8)
    writer = create_writer(tmp_path)
    traces = []

    @tf.function
    def step_fn(step):
        traces.append(step)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        log_gradients(zip(grads, model.trainable_variables, strict=True), step, writer=writer)

    for step in range(5):
        step_fn(tf.constant(step, tf.int64))
    writer.close()
    assert len(traces) == 1
    steps, _ = read_scalars(tmp_path)[NORM_TAGS[0]]
    np.testing.assert_array_equal(steps, range(5))


def test_python_int_step_inside_tf_function_warns_about_retracing(tmp_path):
    variable = tf.Variable(1.0, name="w")
    writer = create_writer(tmp_path)

    @tf.function
    def step_fn(step):
        log_gradients([(tf.constant(2.0), variable)], step, writer=writer)

    with pytest.warns(GradientLoggingWarning, match="retraces"):
        step_fn(3)


def test_default_writer_is_used_when_none_is_passed(tmp_path):
    variable = tf.Variable([3.0, 4.0], name="w")
    writer = create_writer(tmp_path)
    with writer.as_default(step=7):
        log_gradients([(tf.constant([3.0, 4.0]), variable)])  # step from the writer's default
    writer.close()
    steps, values = read_scalars(tmp_path)["grad_norm/w"]
    assert (list(steps), list(values)) == ([7], [5.0])


def test_without_any_writer_nothing_is_logged_and_a_warning_says_so():
    variable = tf.Variable(1.0, name="w")
    with pytest.warns(GradientLoggingWarning, match="no summary writer"):
        assert log_gradients([(tf.constant(1.0), variable)], 0) == []


def test_record_if_false_writes_nothing_and_does_not_warn(tmp_path):
    variable = tf.Variable(1.0, name="w")
    writer = create_writer(tmp_path)
    with warnings.catch_warnings(), tf.summary.record_if(False):
        warnings.simplefilter("error")
        log_gradients([(tf.constant(1.0), variable)], 0, writer=writer)
    writer.close()
    assert read_scalars(tmp_path) == {}


def test_missing_step_is_a_clear_error(tmp_path):
    variable = tf.Variable(1.0, name="w")
    with pytest.raises(ValueError, match="needs a step"):
        log_gradients([(tf.constant(1.0), variable)], writer=create_writer(tmp_path))


# Logging: bad input ------------------------------------------------------------------------


def test_none_gradient_is_skipped_with_a_warning_naming_the_variable(tmp_path):
    model = make_model()
    kernel, bias = model.layers[0].kernel, model.layers[0].bias
    with pytest.warns(GradientLoggingWarning, match="'linear/hidden/bias'"):
        tags = write_eagerly(tmp_path, [(tf.ones_like(kernel), kernel), (None, bias)])
    assert "grad_norm/linear/hidden/bias" not in tags
    assert sorted(read_scalars(tmp_path)) == [GLOBAL_NORM_TAG, "grad_norm/linear/hidden/kernel"]


def test_integer_gradient_is_rejected_naming_the_variable_and_dtype(tmp_path):
    variable = tf.Variable([1, 2], name="counts")
    with pytest.raises(TypeError, match=r"'counts' has dtype int32.*floating point"):
        write_eagerly(tmp_path, [(tf.constant([1, 2]), variable)])


def test_a_list_of_bare_gradients_is_rejected_with_the_expected_form(tmp_path):
    with pytest.raises(TypeError, match=r"\(gradient, variable\) pairs"):
        write_eagerly(tmp_path, [tf.constant(1.0)])


def test_unwritable_log_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(TensorBoardError, match="cannot create log directory"):
        create_writer(blocker / "logs")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any directory")
def test_read_only_log_directory_is_a_clear_error(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(TensorBoardError, match="not writable"):
            create_writer(tmp_path)
    finally:
        tmp_path.chmod(0o700)


# Reading --------------------------------------------------------------------------------


def test_runs_in_subdirectories_are_read_with_run_qualified_tags(tmp_path):
    variable = tf.Variable([1.0], name="w")
    write_eagerly(tmp_path, [(tf.constant([1.0]), variable)], histograms=False)
    write_eagerly(tmp_path / "train", [(tf.constant([2.0]), variable)], histograms=False)
    write_eagerly(tmp_path / "deep" / "validation", [(tf.constant([3.0]), variable)])
    assert list_runs(tmp_path) == [".", "deep/validation", "train"]
    scalars = read_scalars(tmp_path)
    assert scalars["grad_norm/w"].values[0] == 1.0
    assert scalars["train/grad_norm/w"].values[0] == 2.0
    assert scalars["deep/validation/grad_norm/w"].values[0] == 3.0
    assert list(read_histograms(tmp_path)) == ["deep/validation/grad_hist/w"]
    assert sorted(read_scalars(tmp_path, run="train")) == [GLOBAL_NORM_TAG, "grad_norm/w"]


def test_reading_a_directory_without_event_files_is_a_clear_error(tmp_path):
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(TensorBoardError, match="no TensorBoard event files"):
        read_scalars(tmp_path)


def test_reading_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(TensorBoardError, match="does not exist"):
        read_histograms(tmp_path / "nowhere")


def test_reading_an_unknown_run_lists_the_runs_there(training_log):
    logdir, _ = training_log
    with pytest.raises(TensorBoardError, match=r"no run 'train'.*runs are: \."):
        read_scalars(logdir, run="train")


def damaged_copy(training_log, tmp_path, damage):
    """A copy of the training log whose event file ``damage(data)`` rewrote; and its path."""
    logdir, _ = training_log
    (original,) = [name for name in os.listdir(logdir) if "tfevents" in name]
    copy = tmp_path / original
    copy.write_bytes(damage((logdir / original).read_bytes()))
    return copy


def cut_in_the_last_record(data):
    return data[:-7]


def garbage(data):
    return b"this is not an event file\n" * 40


def test_an_intact_log_is_read_without_a_warning(training_log):
    logdir, _ = training_log
    with warnings.catch_warnings():
        warnings.simplefilter("error", DamagedLogWarning)
        assert read_scalars(logdir, strict=True)
        assert read_histograms(logdir, strict=True)


@pytest.mark.parametrize("read", [read_scalars, read_histograms])
def test_a_truncated_event_file_is_named_in_a_warning_and_what_precedes_it_is_read(
    training_log, tmp_path, read
):
    damaged = damaged_copy(training_log, tmp_path, cut_in_the_last_record)

    with pytest.warns(DamagedLogWarning, match=rf"event file {damaged} is damaged: .*truncated"):
        result = read(tmp_path)

    assert 0 < points(result) <= points(read(training_log[0]))  # what precedes the cut


def points(result):
    """How many points (scalars) or snapshots (histograms) a read gave."""
    return sum(
        len(item.steps) if isinstance(item, tuple) else len(item) for item in result.values()
    )


@pytest.mark.parametrize("read", [read_scalars, read_histograms])
@pytest.mark.parametrize("damage", [cut_in_the_last_record, garbage])
def test_a_damaged_event_file_is_an_error_with_strict(training_log, tmp_path, read, damage):
    damaged = damaged_copy(training_log, tmp_path, damage)

    with pytest.raises(TensorBoardError, match=rf"event file {damaged} is damaged"):
        read(tmp_path, strict=True)


def test_a_file_that_is_not_an_event_file_is_named_instead_of_reading_as_empty(tmp_path):
    damaged = tmp_path / "events.out.tfevents.1.host"
    damaged.write_bytes(garbage(b""))

    with pytest.warns(DamagedLogWarning, match=rf"{damaged} is damaged: .*no valid record"):
        assert read_scalars(tmp_path) == {}


# Keras fit --------------------------------------------------------------------------------


def fit(model, logdir, epochs=1, batch=8, count=32, **callback_options):
    """Fit the linear network (compiled with plain SGD if not yet), in order, with the callback."""
    x, y = make_data(count, seed=1)
    if not model.compiled:
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss=keras.losses.MeanSquaredError())
    callback = GradientTensorBoard(logdir, **callback_options)
    model.fit(
        x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0, callbacks=[callback]
    )
    return x, y


def test_fit_logs_the_true_gradients_of_the_first_step(tmp_path):
    model = make_model()
    initial_weights = model.get_weights()
    x, y = fit(model, tmp_path)
    truth = numpy_gradients(initial_weights, x[:8], y[:8])
    scalars = read_scalars(tmp_path, run="gradients")
    histograms = read_histograms(tmp_path, run="gradients")
    for path, gradient in zip(VARIABLE_PATHS, truth, strict=True):
        steps, values = scalars[f"grad_norm/{path}"]
        np.testing.assert_array_equal(steps, [1, 2, 3, 4])
        np.testing.assert_allclose(values[0], np.sqrt(np.sum(gradient**2)), rtol=1e-5)
        assert histograms[f"grad_hist/{path}"][0].counts.sum() == gradient.size


def test_fit_logs_every_nth_step_starting_with_the_first(tmp_path):
    fit(make_model(), tmp_path, epochs=2, every_n_steps=3, histograms=False)
    steps, _ = read_scalars(tmp_path, run="gradients")[GLOBAL_NORM_TAG]
    np.testing.assert_array_equal(steps, [1, 4, 7])
    assert read_histograms(tmp_path) == {}


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: keras.optimizers.SGD(0.05, loss_scale_factor=64.0),
        lambda: keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.05)),
    ],
    ids=["loss_scale_factor", "LossScaleOptimizer"],
)
def test_fit_logs_unscaled_gradients_when_the_loss_is_scaled(tmp_path, make_optimizer):
    model = make_model()
    initial_weights = model.get_weights()
    model.compile(optimizer=make_optimizer(), loss=keras.losses.MeanSquaredError())
    x, y = fit(model, tmp_path)
    truth = numpy_gradients(initial_weights, x[:8], y[:8])
    _, values = read_scalars(tmp_path, run="gradients")["grad_norm/linear/output/kernel"]
    np.testing.assert_allclose(values[0], np.sqrt(np.sum(truth[2] ** 2)), rtol=1e-5)


class HandWrittenTrainStep(keras.Sequential):
    """A model whose ``train_step`` is the one in Keras's "customizing fit" guide."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return {"loss": loss}


class NoOptimizerTrainStep(keras.Sequential):
    """A model whose ``train_step`` updates its variables without the optimizer."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
        for variable, gradient in zip(
            self.trainable_variables, tape.gradient(loss, self.trainable_variables), strict=True
        ):
            variable.assign_sub(0.05 * gradient)
        return {"loss": loss}


def test_fit_logs_a_custom_train_step_that_calls_optimizer_apply(tmp_path):
    model = HandWrittenTrainStep(make_model().layers, name="linear")
    initial_weights = model.get_weights()
    x, y = fit(model, tmp_path)
    truth = numpy_gradients(initial_weights, x[:8], y[:8])
    steps, values = read_scalars(tmp_path, run="gradients")["grad_norm/linear/hidden/kernel"]
    np.testing.assert_array_equal(steps, [1, 2, 3, 4])
    np.testing.assert_allclose(values[0], np.sqrt(np.sum(truth[0] ** 2)), rtol=1e-5)


def test_fit_warns_when_the_train_step_bypasses_the_optimizer(tmp_path):
    model = NoOptimizerTrainStep(make_model().layers, name="linear")
    with pytest.warns(GradientLoggingWarning, match="did not pass gradients"):
        fit(model, tmp_path)


def test_fit_restores_the_optimizer_and_later_fits_log_nothing(tmp_path):
    model = make_model()
    fit(model, tmp_path)
    assert "apply" not in vars(model.optimizer)
    x, y = make_data(16, seed=2)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    steps, _ = read_scalars(tmp_path, run="gradients")[GLOBAL_NORM_TAG]
    np.testing.assert_array_equal(steps, [1, 2, 3, 4])


def test_fit_continues_step_numbers_across_fit_calls(tmp_path):
    model = make_model()
    fit(model, tmp_path, count=16)
    fit(model, tmp_path, count=16)
    steps, _ = read_scalars(tmp_path, run="gradients")[GLOBAL_NORM_TAG]
    np.testing.assert_array_equal(steps, [1, 2, 3, 4])


def test_fit_with_jit_compile_logs_without_xla_and_restores_the_setting(tmp_path):
    model = make_model()
    x, y = make_data(16, seed=1)
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    with pytest.warns(GradientLoggingWarning, match="jit_compile is off"):
        model.fit(x, y, batch_size=8, verbose=0, callbacks=[GradientTensorBoard(tmp_path)])
    assert model.jit_compile is True
    assert list(read_scalars(tmp_path, run="gradients")[GLOBAL_NORM_TAG].steps) == [1, 2]


def test_callback_with_unwritable_log_directory_fails_when_created(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(TensorBoardError, match="cannot create log directory"):
        GradientTensorBoard(blocker)


def test_callback_rejects_a_non_positive_logging_interval(tmp_path):
    with pytest.raises(ValueError, match="every_n_steps"):
        GradientTensorBoard(tmp_path, every_n_steps=0)
