"""gradlab.teaching.devices in a process of its own: the CPU split into four at start-up.

Not collected by the main session (whose ``conftest.py`` splits the CPU for
lesson 7's checks): ``test_devices.py`` runs this file in its own pytest
process, without that conftest, so these tests depend on no split made elsewhere.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import gradlab

gradlab.quiet_tensorflow()  # before anything imports TensorFlow

# isort: split
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from gradlab.course.checks.lesson07 import shard_sizes, shards  # noqa: E402
from gradlab.teaching import devices  # noqa: E402

# Before TensorFlow runs anything: afterwards its devices are fixed.
devices.logical_cpus(4)


def test_the_split_made_four_logical_devices():
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
