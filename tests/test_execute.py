"""gradlab.course.execute: a notebook that raises, prints a traceback or TensorFlow's noise
fails its execution (the docs build and the suite's lesson runs both rely on it)."""

from __future__ import annotations

import nbformat
import pytest

from gradlab.course import execute


def test_a_cell_that_raises_fails_execution(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    job = execute.Job("broken", notebook, tmp_path)
    with pytest.raises(execute.ExecutionFailed, match="broken: a cell raised: ZeroDivisionError"):
        execute.execute(job)


def test_printed_tracebacks_and_tensorflow_noise_are_problems():
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="I0000 00:00 cpu_feature_guard.cc"),
        nbformat.v4.new_output("stream", name="stdout", text="Traceback (most recent call last):"),
    ]
    found = execute.problems(nbformat.v4.new_notebook(cells=[cell]))
    assert any("TensorFlow noise" in line for line in found)
    assert any("traceback" in line for line in found)
