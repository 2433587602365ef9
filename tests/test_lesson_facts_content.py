"""Facts the lessons and the errata page state after the expert read (issue 18), checked here.

Each test protects one sentence a lesson or an erratum relies on; if TensorFlow or Keras
changes the behaviour, the sentence must change with it.
"""

import keras
import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf

from docs_build import errata
from gradlab.tensorboard import log_gradients, read_histograms, read_scalars


def _tf_logging_quiet():
    """The v1 gradient checker logs a deprecation warning on every call: hide it."""
    tf.get_logger().setLevel("ERROR")


# --- errata: dense-input-shape -------------------------------------------------------


def test_a_model_declared_with_keras_input_accepts_a_flat_batch():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])

    assert tuple(model(tf.zeros((100,))).shape) == (100, 1)


def test_mean_squared_error_lines_flat_targets_up_with_column_predictions():
    targets = tf.constant([1.0, 2.0, 3.0])
    predictions = tf.constant([[1.5], [2.0], [2.0]])

    aligned = tf.reduce_mean((targets[:, None] - predictions) ** 2)
    broadcast = tf.reduce_mean((targets - predictions) ** 2)

    got = keras.losses.MeanSquaredError()(targets, predictions)
    np.testing.assert_allclose(got, aligned, rtol=1e-6)
    assert abs(float(got) - float(broadcast)) > 0.1
    per_sample = keras.losses.mean_squared_error(targets, predictions)
    np.testing.assert_allclose(per_sample, [0.25, 0.0, 1.0], rtol=1e-6)


# --- errata and lesson 4: TensorFlow's v1 gradient checker ---------------------------


def test_tensorflow_still_ships_the_v1_gradient_checker_pair():
    from tensorflow.python.ops import gradient_checker

    assert callable(gradient_checker.compute_gradient)
    assert callable(gradient_checker.compute_gradient_error)
    assert tf.compat.v1.test.compute_gradient_error is gradient_checker.compute_gradient_error
    assert not hasattr(gradient_checker, "compute_numerical_gradient")


def test_the_v1_gradient_checker_fails_eagerly_and_works_in_a_graph():
    _tf_logging_quiet()
    x = tf.constant([1.0, 2.0, 3.0], tf.float64)
    with pytest.raises(AttributeError, match=r"Tensor\.graph is undefined when eager"):
        tf.compat.v1.test.compute_gradient_error(x, [3], x**2, [3])

    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0, 3.0], tf.float64)
        with tf.compat.v1.Session():
            error = tf.compat.v1.test.compute_gradient_error(x, [3], x**2, [3])
    assert error < 1e-8


def test_every_erratum_reproduction_has_one_expected_text():
    for erratum in errata.ERRATA:
        assert len(erratum.expect) == len(erratum.reproduce), erratum.key


def test_an_erratum_that_runs_without_error_is_not_counted_as_one_raised():
    assert errata._kind_of("input (100,) -> prediction (100, 1)") is None
    assert errata._kind_of("AttributeError: no") == "`AttributeError`"


# --- lesson 4 ------------------------------------------------------------------------


def test_bfloat16_stores_seven_mantissa_bits():
    info = ml_dtypes.finfo(ml_dtypes.bfloat16)

    assert info.nmant == 7
    assert info.eps == 2.0**-7  # 8 bits of precision with the implicit leading 1


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_the_typical_central_difference_error_at_the_best_step_is_about_eps_two_thirds(dtype):
    steps = np.logspace(-13, 0, 53)
    x, h = tf.constant(1.0, dtype), tf.constant(steps, dtype)
    central = ((tf.sin(x + h) - tf.sin(x - h)) / (2 * h)).numpy().astype(np.float64)
    errors = np.abs(central - np.cos(1.0))
    best = int(np.argmin(errors))
    typical = np.exp(np.mean(np.log(errors[best - 4 : best + 5])))
    eps = np.finfo(dtype.as_numpy_dtype).eps

    assert eps ** (2 / 3) / 5 < typical < eps ** (2 / 3) * 5
    assert errors[best] < typical / 3  # the printed minimum is a lucky point


def test_a_per_sample_loss_gives_n_times_the_gradient_of_the_mean():
    slope, intercept = tf.Variable([[0.5]]), tf.Variable([0.0])
    x = tf.reshape(tf.linspace(-1.0, 1.0, 100), (100, 1))
    with tf.GradientTape(persistent=True) as tape:
        prediction = x @ slope + intercept
        per_sample = keras.losses.mean_squared_error(2 * x + 1, prediction)
        mean = keras.losses.MeanSquaredError()(2 * x + 1, prediction)

    for a, b in zip(
        tape.gradient(per_sample, [slope, intercept]),
        tape.gradient(mean, [slope, intercept]),
        strict=True,
    ):
        np.testing.assert_allclose(a, 100 * b, rtol=1e-4)


# --- lesson 1 ------------------------------------------------------------------------


def test_stop_recording_leaves_no_path_to_what_it_computed():
    a, b = tf.Variable(2.0), tf.Variable(5.0)
    with tf.GradientTape(persistent=True) as tape:
        y = a * b
        with tape.stop_recording():
            z = y * a

    assert float(tape.gradient(y, a)) == 5.0
    assert tape.gradient(z, a) is None


def test_reset_forgets_what_was_recorded_before_it():
    a, b = tf.Variable(2.0), tf.Variable(5.0)
    with tf.GradientTape() as tape:
        y = a**2
        tape.reset()
        y = a * b

    assert len(tape.watched_variables()) == 2
    assert [float(g) for g in tape.gradient(y, [a, b])] == [5.0, 2.0]


def test_after_reset_only_variables_read_again_are_watched():
    a, b = tf.Variable(2.0), tf.Variable(5.0)
    with tf.GradientTape() as tape:
        y = a**2
        tape.reset()
        y = 3 * b

    assert [float(v) for v in tape.watched_variables()] == [5.0]
    assert tape.gradient(y, a) is None


def test_a_tape_differentiates_by_an_intermediate_tensor():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        h = x**2
        y = tf.sin(h)

    np.testing.assert_allclose(tape.gradient(y, h), np.cos(9.0), rtol=1e-6)


@pytest.mark.parametrize("detour", ["assign", "tf.data", "strings"])
def test_stateful_ops_datasets_and_strings_cut_the_path(detour):
    x, copy = tf.Variable(2.0), tf.Variable(0.0)
    with tf.GradientTape() as tape:
        if detour == "assign":
            copy.assign(2 * x)
            y = copy**2
        elif detour == "tf.data":
            y = next(iter(tf.data.Dataset.from_tensors(x**2)))
        else:
            y = tf.strings.to_number(tf.strings.as_string(x**2))

    assert tape.gradient(y, x) is None


def test_an_op_without_a_registered_gradient_raises_lookup_error():
    matrix = tf.Variable([[4.0, 1.0], [2.0, 3.0]])
    with tf.GradientTape() as tape:
        factors, _ = tf.linalg.lu(matrix)
        y = tf.reduce_sum(factors)

    with pytest.raises(LookupError, match="no entry for: Lu"):
        tape.gradient(y, matrix)


def test_autograph_control_flow_is_differentiated_inside_tf_function():
    @tf.function
    def gradients(x):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = x**2 if x > 0 else -3 * x
            power = tf.constant(1.0)
            for _ in tf.range(4):
                power = power * x
        return tape.gradient(y, x), tape.gradient(power, x)

    assert [float(g) for g in gradients(tf.constant(2.0))] == [4.0, 32.0]
    assert [float(g) for g in gradients(tf.constant(-2.0))] == [-3.0, -32.0]
    assert gradients.experimental_get_tracing_count() == 1


# --- lesson 3 ------------------------------------------------------------------------


def test_keras_3_refuses_write_grads():
    with pytest.raises(TypeError, match="unexpected keyword argument 'write_grads'"):
        keras.callbacks.TensorBoard("logs", write_grads=True)


def _flush_ops(function, *args) -> int:
    graph = function.get_concrete_function(*args).graph
    return sum(op.type == "FlushSummaryWriter" for op in graph.get_operations())


def test_a_writer_made_default_inside_tf_function_flushes_every_call(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))

    @tf.function
    def inside(step):
        with writer.as_default():
            tf.summary.scalar("v", 1.0, step=step)

    @tf.function
    def around(step):
        tf.summary.scalar("v", 1.0, step=step)

    step = tf.constant(0, tf.int64)
    with writer.as_default():
        assert _flush_ops(inside, step) == 1
        assert _flush_ops(around, step) == 0


def test_record_if_with_a_tensor_condition_logs_every_tenth_step(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))

    @tf.function
    def log(step):
        with tf.summary.record_if(step % 10 == 0):
            tf.summary.scalar("v", 1.0, step=step)

    with writer.as_default():
        for step in range(25):
            log(tf.constant(step, tf.int64))

    assert read_scalars(tmp_path, run=".")["v"].steps.tolist() == [0, 10, 20]
    assert log.experimental_get_tracing_count() == 1


def test_an_embedding_gradient_is_indexed_slices_that_log_gradients_densifies(tmp_path):
    embedding = keras.layers.Embedding(100, 4, name="table")
    embedding.build((None,))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(embedding(tf.constant([3, 3, 7])) * tf.constant([1.0, 2, 3, 4]))
    sparse = tape.gradient(loss, embedding.embeddings)
    dense = tf.convert_to_tensor(sparse)

    assert isinstance(sparse, tf.IndexedSlices)
    assert float(tf.norm(sparse.values)) < float(tf.norm(dense))  # row 3 repeats
    writer = tf.summary.create_file_writer(str(tmp_path))
    log_gradients([(sparse, embedding.embeddings)], step=0, writer=writer)
    writer.flush()
    norm = read_scalars(tmp_path, run=".")["grad_norm/table/embeddings"].values[0]
    np.testing.assert_allclose(norm, tf.norm(dense), rtol=1e-6)
    counts = read_histograms(tmp_path, run=".")["grad_hist/table/embeddings"][0].counts
    assert counts.sum() == 400 and counts.max() >= 392  # the unread rows' zeros


def test_trace_export_writes_the_graph_the_graphs_dashboard_reads(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    @tf.function
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = 3 * x**2
        return tape.gradient(y, x)

    writer = tf.summary.create_file_writer(str(tmp_path))
    tf.summary.trace_on(graph=True)
    gradient(tf.constant(3.0))
    with writer.as_default():
        tf.summary.trace_export("gradient", step=0)
    writer.flush()

    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert events.SummaryMetadata("gradient").plugin_data.plugin_name == (
        "graph_run_metadata_graph"
    )


# --- the errata page, reproduced in this process -------------------------------------


def _run_errata() -> dict[tuple[str, str], str]:
    """What every erratum cell prints, run here in order (the docs build runs it in a kernel)."""
    import contextlib
    import io
    import logging

    namespace: dict = {"__name__": "__errata__"}
    printed = {}
    level = logging.getLogger("tensorflow").level
    try:
        for cell in errata.notebook().cells:
            output = io.StringIO()
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                exec(cell.source, namespace)
            tag = cell.metadata.get("erratum")
            if tag:
                printed[(tag["key"], tag["part"])] = output.getvalue().rstrip()
    finally:
        logging.getLogger("tensorflow").setLevel(level)
    return printed


def test_the_errata_page_shows_what_is_true_about_dense_input_and_the_gradient_checker(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the errata write their logs to the working directory

    page = errata.render(_run_errata(), lambda number: f"lesson {number}")

    for text in (
        "input (100,) -> prediction (100, 1)",  # an Input-declared model accepts (100,)
        "Only a model that declares no input at all refuses it",
        "AttributeError: Tensor.graph is undefined when eager execution is enabled.",
        "largest error of d(x**2)/dx: ",  # the graph-mode call that works
        "tag 'grads': steps [0, 0, 1, 1]",  # one tag, two variables named x: mixed
    ):
        assert text in page
    assert "never had" not in page
    assert "refuses the input" not in page
