"""gradlab.teaching.devices: logical CPUs made before TensorFlow starts, explained after.

Each test here starts a process of its own, so what it sees does not depend on
the CPU split ``conftest.py`` makes for lesson 7's checks in this one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "GRADLAB_HOME"}


@pytest.mark.slow  # a TensorFlow start-up of its own
def test_a_split_made_at_start_up_gives_replicas_and_batches_as_distribute_does():
    """tests/device_split_checks.py, in a pytest process of its own, without conftest.py
    (pytest exits 0 only if tests ran and all passed)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(HERE / "device_split_checks.py"),
            "--noconftest",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE.parent,
        env=_clean_env(),
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


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
    result = subprocess.run(
        [sys.executable, "-c", AFTER_START_UP],
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_env(),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert "devices: ['/device:CPU:0']" in result.stdout
    assert "DeviceWarning" in result.stderr and "restart the kernel" in result.stderr
    assert "✗ 7.3: lesson 7's checks need at least 2 logical CPUs" in result.stdout
