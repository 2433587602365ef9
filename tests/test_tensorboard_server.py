"""End to end: log gradients, serve them with a real TensorBoard, read them over HTTP.

Everything runs on 127.0.0.1 only. One server is shared by the module; the
stop test starts its own.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.parse
import urllib.request

import numpy as np
import pytest

from gradlab.tensorboard import (
    GLOBAL_NORM_TAG,
    TensorBoardError,
    read_histograms,
    read_scalars,
    start_tensorboard,
)
from tests.gradient_logs import VARIABLE_PATHS, log_training

RUN = "custom_loop"
NORM_TAGS = [f"grad_norm/{path}" for path in VARIABLE_PATHS]
HISTOGRAM_TAGS = [f"grad_hist/{path}" for path in VARIABLE_PATHS]


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A log directory holding one run of logged gradients, and the true gradients."""
    logdir = tmp_path_factory.mktemp("logs")
    return logdir, log_training(logdir / RUN, steps=3)


@pytest.fixture(scope="module")
def server(logged):
    """A TensorBoard serving ``logged``'s directory, stopped after the module."""
    logdir, _ = logged
    with start_tensorboard(logdir, timeout=90) as board:
        yield board


def get_json(board, route, **params):
    """GET ``route`` from ``board`` with query ``params`` and decode the JSON answer."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{board.url}{route}{query}", timeout=10) as response:
        return json.load(response)


def port_accepts_connections(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
        client.settimeout(2)
        return client.connect_ex(("127.0.0.1", port)) == 0


def test_server_listens_on_loopback_and_lists_the_run(server):
    assert server.url == f"http://127.0.0.1:{server.port}/"
    assert get_json(server, "data/runs") == [RUN]


def test_scalar_tags_over_http_are_the_gradient_norm_tags(server):
    tags = get_json(server, "data/plugin/scalars/tags")
    assert sorted(tags[RUN]) == sorted([*NORM_TAGS, GLOBAL_NORM_TAG])


def test_scalars_over_http_are_the_true_norms_and_what_read_scalars_gives(server, logged):
    logdir, expected = logged
    local = read_scalars(logdir, run=RUN)
    for path, gradients in expected.items():
        tag = f"grad_norm/{path}"
        points = get_json(server, "data/plugin/scalars/scalars", run=RUN, tag=tag)
        steps = [step for _wall_time, step, _value in points]
        values = [value for _wall_time, _step, value in points]
        assert steps == [0, 1, 2]
        np.testing.assert_allclose(values, [np.linalg.norm(g) for g in gradients], rtol=1e-5)
        np.testing.assert_array_equal(values, local[tag].values)


def test_histogram_tags_over_http_are_the_gradient_histogram_tags(server):
    tags = get_json(server, "data/plugin/histograms/tags")
    assert sorted(tags[RUN]) == sorted(HISTOGRAM_TAGS)


def test_histograms_over_http_span_and_count_the_true_gradients_and_match_read_histograms(
    server, logged
):
    logdir, expected = logged
    local = read_histograms(logdir, run=RUN)
    for path, gradients in expected.items():
        tag = f"grad_hist/{path}"
        events = get_json(server, "data/plugin/histograms/histograms", run=RUN, tag=tag)
        assert [step for _wall_time, step, _buckets in events] == [0, 1, 2]
        for (_wall_time, _step, buckets), gradient, snapshot in zip(
            events, gradients, local[tag], strict=True
        ):
            left, right, counts = np.array(buckets).T
            assert counts.sum() == gradient.size
            np.testing.assert_allclose(
                [left[0], right[-1]], [gradient.min(), gradient.max()], rtol=1e-5
            )
            np.testing.assert_array_equal(counts, snapshot.counts)
            np.testing.assert_array_equal(np.append(left, right[-1]), snapshot.edges)


def test_requesting_a_port_in_use_is_a_clear_error(server, logged):
    logdir, _ = logged
    with pytest.raises(TensorBoardError, match=f"port {server.port} .* already in use"):
        start_tensorboard(logdir, port=server.port)


@pytest.mark.parametrize("port", [70000, 65536, -1, "6006", 6006.0, True])
def test_a_port_that_is_not_a_port_number_is_a_clear_error(logged, port):
    logdir, _ = logged
    with pytest.raises(TensorBoardError, match=r"port must be an int from 1 to 65535") as raised:
        start_tensorboard(logdir, port=port)

    assert "\n" not in str(raised.value)


def test_port_zero_like_none_listens_on_a_free_port(logged):
    logdir, _ = logged
    with start_tensorboard(logdir, port=np.int64(0), timeout=90) as board:
        assert board.port > 0
        assert get_json(board, "data/runs") == [RUN]


def test_serving_a_directory_without_events_is_a_clear_error(tmp_path):
    with pytest.raises(TensorBoardError, match="no TensorBoard event files"):
        start_tensorboard(tmp_path)


def test_stopping_ends_the_process_and_closes_the_port(logged):
    logdir, _ = logged
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with start_tensorboard(logdir, port=port, timeout=90) as board:
        assert board.port == port
        assert board.running
        assert get_json(board, "data/runs") == [RUN]
    assert not board.running
    with pytest.raises(ProcessLookupError):
        os.kill(board.pid, 0)  # reaped: no such process
    assert not port_accepts_connections(port)
    board.stop()  # stopping twice is harmless
