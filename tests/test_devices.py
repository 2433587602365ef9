"""gradlab.teaching.devices: logical CPUs made before TensorFlow starts, explained after."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

from gradlab.course.checks.lesson07 import shard_sizes, shards
from gradlab.teaching import devices


def test_conftest_split_the_cpu_into_four_logical_devices():
    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    assert names == [f"/device:CPU:{n}" for n in range(4)]


def test_asking_for_fewer_than_exist_returns_the_first_ones_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert devices.logical_cpus(2) == ["/device:CPU:0", "/device:CPU:1"]


def test_asking_for_more_than_exist_after_start_up_warns_and_returns_what_exists():
    with pytest.warns(devices.DeviceWarning, match="restart the kernel"):
        names = devices.logical_cpus(8)
    assert len(names) == 4


def test_a_count_below_one_is_a_value_error():
    with pytest.raises(ValueError, match="at least 1"):
        devices.logical_cpus(0)


def test_mirrored_strategy_has_one_replica_per_logical_cpu_and_is_reused():
    strategy = devices.mirrored_strategy(3)
    assert strategy.num_replicas_in_sync == 3
    assert devices.mirrored_strategy(3) is strategy


@pytest.mark.parametrize("total", [7, 10])
def test_checks_split_a_batch_as_distribute_dataset_does(total):
    strategy = devices.mirrored_strategy(4)
    rows = np.arange(total, dtype="float32")
    dataset = tf.data.Dataset.from_tensor_slices(rows).batch(total)
    batch = next(iter(strategy.experimental_distribute_dataset(dataset)))
    got = [part.numpy().tolist() for part in strategy.experimental_local_results(batch)]
    assert got == [part.tolist() for part in shards(rows, 4)]
    assert [len(part) for part in got] == shard_sizes(total, 4)


AFTER_START_UP = """
import gradlab
import tensorflow as tf
from gradlab.teaching import devices

tf.constant(1.0) + 1  # TensorFlow fixes its devices here: one CPU
print("devices:", devices.logical_cpus(2))
gradlab.check("7.3", lambda strategy, grads: grads)
"""


@pytest.mark.slow
def test_after_tensorflow_started_the_split_and_the_checks_explain_without_traceback():
    env = {k: v for k, v in os.environ.items() if k != "GRADLAB_HOME"}
    result = subprocess.run(
        [sys.executable, "-c", AFTER_START_UP],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert "devices: ['/device:CPU:0']" in result.stdout
    assert "DeviceWarning" in result.stderr and "restart the kernel" in result.stderr
    assert "✗ 7.3: lesson 7's checks need at least 2 logical CPUs" in result.stdout
